// The message to sign or verify, given three ways: text (UTF-8), a precomputed Digest (base64 of
// 32 bytes), or a file (picker or drag-and-drop) that lib/digest.ts streams to the host.
import { useId } from 'react';
import { DIGEST_LENGTH } from '../../../../core/contract/specs.ts';
import { hostPicksFiles } from '../../api/bridge.ts';
import { pickFile, type PickedFile } from '../../lib/digest.ts';
import { compactBase64, parseBase64 } from './bytes.ts';
import { FileDropZone } from './FileDropZone.tsx';
import { SharedFolderPicker, useSharedFolder } from './SharedFolderPicker.tsx';

export type MessageMode = 'text' | 'digest' | 'file';

export interface MessageValue {
  readonly mode: MessageMode;
  readonly text: string;
  readonly digest: string;
  /** A File the page holds (picked in the page or dropped), or a file the host reads itself (Electron's dialog, the browser host's shared folder). */
  readonly file: File | PickedFile | undefined;
}

export const EMPTY_MESSAGE: MessageValue = { mode: 'text', text: '', digest: '', file: undefined };

/** Why the Digest field cannot be used, or undefined when it holds base64 of 32 bytes. */
export function digestProblem(text: string): string | undefined {
  if (!compactBase64(text)) return 'Enter the Digest as base64';
  let bytes: Uint8Array;
  try {
    bytes = parseBase64(text, 'Digest');
  } catch (error) {
    return (error as Error).message;
  }
  return bytes.length === DIGEST_LENGTH ? undefined : `Digest must be ${DIGEST_LENGTH} bytes (SHA-256 or SM3); this one is ${bytes.length}`;
}

/** Whether the message is complete enough to hash. */
export function messageReady(m: MessageValue): boolean {
  if (m.mode === 'text') return m.text.length > 0;
  if (m.mode === 'digest') return digestProblem(m.digest) === undefined;
  return m.file !== undefined;
}

const MODES: readonly { mode: MessageMode; label: string }[] = [
  { mode: 'text', label: 'Text' },
  { mode: 'digest', label: 'Digest (base64)' },
  { mode: 'file', label: 'File' },
];

export function MessageInput({ value, onChange, disabled }: { value: MessageValue; onChange: (next: MessageValue) => void; disabled?: boolean }) {
  const textId = useId();
  const digestId = useId();
  const problem = value.mode === 'digest' && value.digest ? digestProblem(value.digest) : undefined;
  const sharedFolder = useSharedFolder();
  return (
    <fieldset className="message-input">
      <legend>Message</legend>
      <div className="row" role="radiogroup" aria-label="Message input">
        {MODES.map((m) => (
          <label key={m.mode} className="choice">
            <input
              type="radio"
              name="message-mode"
              value={m.mode}
              checked={value.mode === m.mode}
              disabled={disabled}
              onChange={() => onChange({ ...value, mode: m.mode })}
            />
            <span>{m.label}</span>
          </label>
        ))}
      </div>
      {value.mode === 'text' ? (
        <>
          <label htmlFor={textId}>Message text</label>
          <textarea id={textId} value={value.text} disabled={disabled} onChange={(e) => onChange({ ...value, text: e.target.value })} />
          <p className="muted">Signed as its UTF-8 bytes; the host hashes them for the chosen algorithm.</p>
        </>
      ) : value.mode === 'digest' ? (
        <>
          <label htmlFor={digestId}>Digest (base64, 32 bytes)</label>
          <input
            id={digestId}
            className="mono"
            value={value.digest}
            disabled={disabled}
            aria-invalid={problem !== undefined}
            aria-describedby={problem ? `${digestId}-problem` : undefined}
            onChange={(e) => onChange({ ...value, digest: e.target.value })}
          />
          {problem ? (
            <p className="error" id={`${digestId}-problem`}>
              {problem}
            </p>
          ) : (
            <p className="muted">SHA-256(message) for RSA and ECDSA; SM3(Z_A ‖ message) for SM2DSA.</p>
          )}
        </>
      ) : (
        <FileDropZone
          label="Message file"
          file={value.file}
          disabled={disabled}
          onFile={(file) => onChange({ ...value, file })}
          // Electron: Choose file… opens the host's own dialog, and the host reads the file itself.
          {...(hostPicksFiles() ? { pick: async () => onChange({ ...value, file: (await pickFile()) ?? value.file }) } : {})}
          // The browser host with `--files DIR`: a file in DIR, which the host reads itself.
          also={sharedFolder ? <SharedFolderPicker root={sharedFolder} disabled={disabled} onPicked={(file) => onChange({ ...value, file })} /> : undefined}
          hint="or drop the file here — the host hashes it as it streams there, never loaded whole"
        />
      )}
    </fieldset>
  );
}
