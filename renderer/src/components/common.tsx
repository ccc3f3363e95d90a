// Small shared pieces: progress bar, error line with its Code, a modal dialog on the native
// <dialog> element (focus moves in, Escape closes, focus returns to the opener), the end of a
// dialog's form (submit, Cancel, progress, error), the Save…/Done row of a result, a file chooser
// and the busy/error state of one call.
import { useCallback, useEffect, useReducer, useRef, useState, type ReactNode } from 'react';
import { describeError } from '../api/bridge.ts';
import { saveFile } from '../lib/save.ts';
import { formatBytes } from './crypto/bytes.ts';
import '../gate.css';

/** A refused call as shown to the user: its Code and readable message. */
export type Failure = { code: string; message: string } | undefined;

export function ProgressBar({ label, done, total }: { label: string; done?: number; total?: number }) {
  const determinate = done !== undefined && total !== undefined && total > 0;
  const percent = determinate ? Math.min(100, Math.round((done / total) * 100)) : undefined;
  return (
    <div className="progress" role="status" aria-live="polite">
      <span className="progress-label">
        {label}
        {percent !== undefined ? ` — ${percent}%` : '…'}
      </span>
      {determinate ? (
        <progress aria-label={label} max={total} value={done} />
      ) : (
        <progress aria-label={label} />
      )}
    </div>
  );
}

export function ErrorLine({ error }: { error: Failure }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      <code className="error-code">{error.code}</code> {error.message}
    </p>
  );
}

export function Dialog({
  title,
  open,
  onClose,
  children,
  testId,
}: {
  title: string;
  open: boolean;
  onClose: () => void;
  children: ReactNode;
  testId?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} className="dialog" aria-label={title} onClose={onClose} data-testid={testId}>
      {open ? (
        <>
          <header className="dialog-header">
            <h2>{title}</h2>
            <button type="button" className="icon" aria-label="Close" onClick={onClose}>
              ×
            </button>
          </header>
          {children}
        </>
      ) : null}
    </dialog>
  );
}

/** Elapsed seconds while `active`, for operations with no measurable progress (RSA_4096 keygen). */
export function useElapsed(active: boolean): number {
  const start = useRef<number>(0);
  const [, force] = useReducerTick();
  useEffect(() => {
    if (!active) return;
    start.current = performance.now();
    const timer = setInterval(force, 250);
    return () => clearInterval(timer);
  }, [active, force]);
  return active ? (performance.now() - start.current) / 1000 : 0;
}

function useReducerTick(): [number, () => void] {
  return useReducer((n: number) => n + 1, 0);
}

export interface Task {
  readonly busy: boolean;
  readonly error: Failure;
  /** Runs `step` with busy set and the last error cleared; a throw becomes `error`. True when it succeeded. */
  readonly run: (step: () => Promise<void>) => Promise<boolean>;
  readonly setError: (error: Failure) => void;
}

/** The busy flag and error of one call a form makes (no store: the caller keeps the result). */
export function useTask(): Task {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Failure>(undefined);
  const run = useCallback(async (step: () => Promise<void>): Promise<boolean> => {
    setBusy(true);
    setError(undefined);
    try {
      await step();
      return true;
    } catch (err) {
      setError(describeError(err));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, setError };
}

/**
 * The end of a dialog's form: the submit button (disabled while busy or while the form has a
 * problem) and Cancel, then, while busy, a progress bar (when `progress` names the work), and the
 * error with its Code.
 */
export function FormEnd({
  submit,
  problem,
  onCancel,
  cancelDisabled,
  busy,
  progress,
  error,
}: {
  submit: string;
  /** What keeps the form from being sent, "" when nothing does. */
  problem: string;
  onCancel: () => void;
  /** Whether Cancel waits for the call (true where closing would drop something the user typed). */
  cancelDisabled?: boolean;
  busy: boolean;
  progress?: string;
  error: Failure;
}) {
  return (
    <>
      <div className="row">
        <button type="submit" className="primary" disabled={busy || problem !== ''}>
          {submit}
        </button>
        <button type="button" onClick={onCancel} disabled={cancelDisabled}>
          Cancel
        </button>
      </div>
      {busy && progress !== undefined ? <ProgressBar label={progress} /> : null}
      <ErrorLine error={error} />
    </>
  );
}

export interface SaveChoice {
  readonly fileName: string;
  readonly content: string;
  readonly type: string;
}

/** The buttons under a result: `children` (e.g. Copy), one "Save <file>" per file (the first primary), Done. */
export function SaveAndDone({ saves, onDone, children }: { saves: readonly SaveChoice[]; onDone: () => void; children?: ReactNode }) {
  return (
    <div className="row">
      {children}
      {saves.map((s, i) => (
        <button key={s.fileName} type="button" className={i === 0 ? 'primary' : undefined} onClick={() => saveFile(s.fileName, s.content, s.type)}>
          Save {s.fileName}
        </button>
      ))}
      <button type="button" onClick={onDone}>
        Done
      </button>
    </div>
  );
}

/**
 * A file chooser that hands over the chosen file and then forgets it, so choosing the same file
 * again still fires. The native <input type="file"> stays the control (focusable, labelled: label
 * it with <label htmlFor={id}> or by wrapping it in a <label>; Playwright's setInputFiles finds it)
 * but is not drawn: its own "No file chosen" would contradict the file the form holds. A "Choose
 * file…" button opens it. With `chosen` (the form's file, or null), one line says which file that
 * is with its size, or "No file chosen"; without it the caller says what it loaded.
 */
export function FileInput({
  id,
  accept,
  disabled,
  onFile,
  pick,
  chosen,
}: {
  id?: string;
  accept?: string;
  disabled?: boolean;
  onFile: (file: File | undefined) => void;
  /** The host's own file dialog (Electron), opened by the button instead of the page's picker. */
  pick?: () => void;
  chosen?: { readonly name: string; readonly size: number } | null;
}) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <span className="file-input">
      <input
        ref={input}
        id={id}
        type="file"
        className="visually-hidden"
        accept={accept}
        disabled={disabled}
        onChange={(e) => {
          onFile(e.target.files?.[0]);
          e.target.value = '';
        }}
      />
      {/* The input above is the control for keyboards and screen readers; this is its face. Where
          the host has its own dialog, this button opens that one and is the control itself. */}
      {pick ? (
        <button type="button" className="file-button" disabled={disabled} onClick={pick}>
          Choose file…
        </button>
      ) : (
        <button type="button" className="file-button" aria-hidden="true" tabIndex={-1} disabled={disabled} onClick={() => input.current?.click()}>
          Choose file…
        </button>
      )}
      {chosen === undefined ? null : chosen ? (
        <span className="file-chosen" data-testid="chosen-file" aria-live="polite">
          <strong>{chosen.name}</strong> <span className="muted">({formatBytes(chosen.size)})</span>
        </span>
      ) : (
        <span className="file-chosen muted" aria-live="polite">
          No file chosen
        </span>
      )}
    </span>
  );
}
