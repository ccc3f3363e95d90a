// Small shared pieces: progress bar, error line with its Code, and a modal dialog on the native
// <dialog> element (focus moves in, Escape closes, focus returns to the opener).
import { useEffect, useReducer, useRef, type ReactNode } from 'react';

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

export function ErrorLine({ error }: { error: { code: string; message: string } | undefined }) {
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
