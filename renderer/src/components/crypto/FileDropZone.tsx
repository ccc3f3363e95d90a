// A file chooser that also takes a file dropped on it. The native <input type="file"> stays in
// the tab order (keyboard users open the picker with Enter/Space; Playwright's setInputFiles
// finds it by its label); the surrounding zone accepts drag-and-drop. Base64FileZone fills a
// base64 field (a signature, a ciphertext) from the file it is given.
import { useId, useState, type DragEvent, type ReactNode } from 'react';
import { describeError } from '../../api/bridge.ts';
import { FileInput, type Failure } from '../common.tsx';
import { fileAsBase64 } from './bytes.ts';

export function FileDropZone({
  label,
  file,
  onFile,
  pick,
  disabled,
  hint,
  also,
}: {
  label: string;
  file: { readonly name: string; readonly size: number } | undefined;
  onFile: (file: File | undefined) => void;
  /** Where the host has its own file dialog (Electron): Choose file… opens it instead of the page's. */
  pick?: () => Promise<void>;
  disabled?: boolean;
  hint?: string;
  /** Another way to choose the file, beside Choose file… (the browser host's shared folder). */
  also?: ReactNode;
}) {
  const id = useId();
  const [over, setOver] = useState(false);
  const [pickError, setPickError] = useState<string | undefined>();

  function onDrop(event: DragEvent<HTMLDivElement>) {
    event.preventDefault();
    setOver(false);
    if (disabled) return;
    const dropped = event.dataTransfer.files[0];
    if (dropped) onFile(dropped);
  }

  return (
    <div
      className={over ? 'dropzone over' : 'dropzone'}
      data-testid="dropzone"
      onDragOver={(e) => {
        e.preventDefault();
        if (!disabled) setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      <label htmlFor={id} className="dropzone-label">
        {label}
      </label>
      <p className="dropzone-file">
        <FileInput
          id={id}
          disabled={disabled}
          onFile={onFile}
          chosen={file ?? null}
          {...(pick
            ? {
                pick: () => {
                  setPickError(undefined);
                  pick().catch((e: unknown) => {
                    const { code, message } = describeError(e);
                    setPickError(`${code}: ${message}`);
                  });
                },
              }
            : {})}
        />
      </p>
      {also}
      {pickError ? (
        <p className="error" role="alert">
          {pickError}
        </p>
      ) : null}
      <p className="muted dropzone-hint">{hint ?? 'or drop a file here'}</p>
    </div>
  );
}

/** A FileDropZone whose file (binary, or base64 text) becomes base64 handed to `onText`. */
export function Base64FileZone({ label, hint, onText, onError }: { label: string; hint: string; onText: (base64: string) => void; onError: (error: Failure) => void }) {
  const [file, setFile] = useState<File | undefined>();

  async function load(chosen: File | undefined) {
    setFile(chosen);
    if (!chosen) return;
    try {
      onText(await fileAsBase64(chosen));
    } catch (e) {
      onError(describeError(e));
    }
  }

  return <FileDropZone label={label} file={file} onFile={(f) => void load(f)} hint={hint} />;
}
