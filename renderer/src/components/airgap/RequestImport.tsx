// Bringing a signing request to the station: its file (from a USB stick), its text pasted (the
// JSON, or the QR codes' text a USB scanner typed: one UR part per line), or its QR codes shown to
// a camera. Each ends in Request.Review; nothing is signed here.
import { useCallback, useId, useState } from 'react';
import { REQUEST_TEXT_MAX } from '../../../../core/contract/app-api.ts';
import { ErrorLine, FileInput, ProgressBar, type Failure } from '../common.tsx';
import { CameraScan, useHasCamera } from './CameraScan.tsx';

export function RequestImport({ busy, error, onText }: { busy: boolean; error: Failure; onText: (text: string) => Promise<boolean> }) {
  const id = useId();
  const [text, setText] = useState('');
  const [fileError, setFileError] = useState<Failure>(undefined);
  const [scanning, setScanning] = useState(false);
  const hasCamera = useHasCamera();

  async function readFile(file: File | undefined): Promise<void> {
    setFileError(undefined);
    if (!file) return;
    if (file.size > REQUEST_TEXT_MAX) {
      setFileError({ code: 'Request.Malformed', message: `${file.name}: ${file.size} bytes is larger than a signing request can be` });
      return;
    }
    const content = await file.text();
    setText(content);
    await onText(content);
  }

  const scanned = useCallback(
    (scannedText: string) => {
      setScanning(false);
      setText(scannedText);
      void onText(scannedText);
    },
    [onText],
  );
  const stopScan = useCallback(() => setScanning(false), []);

  const problem = text.trim() === '' ? 'empty' : text.length > REQUEST_TEXT_MAX ? 'too long' : '';

  return (
    <section className="panel stack airgap-import" aria-labelledby={`${id}-title`}>
      <h1 id={`${id}-title`}>Air gap: review a signing request</h1>
      <p className="muted hint">
        This vault is the station: a request made on an online machine (<code>deskkms request create</code>) lists the files to sign by name, size and SHA-256; you
        review it here, and approve or reject it. Nothing is signed before you approve, and the files themselves never come here.
      </p>
      <div className="airgap-import-grid">
        <label htmlFor={`${id}-file`}>
          Request file
          <FileInput id={`${id}-file`} accept=".json,.txt,application/json,text/plain" disabled={busy} onFile={(f) => void readFile(f)} />
        </label>
        {hasCamera ? (
          <div>
            <button type="button" disabled={busy || scanning} onClick={() => setScanning(true)}>
              Scan with camera
            </button>
          </div>
        ) : null}
      </div>
      {scanning ? <CameraScan onText={scanned} onClose={stopScan} /> : null}
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          if (problem === '') void onText(text);
        }}
      >
        <label htmlFor={`${id}-text`}>
          Or paste the request (its JSON, or its QR codes&apos; text: one UR:BYTES/… line per code)
          <textarea
            id={`${id}-text`}
            className="mono airgap-paste"
            value={text}
            spellCheck={false}
            disabled={busy}
            onChange={(e) => setText(e.target.value)}
            aria-invalid={problem === 'too long'}
          />
        </label>
        <div className="row">
          <button type="submit" className="primary" disabled={busy || problem !== ''}>
            Review request
          </button>
          {problem === 'too long' ? <span className="error">longer than a signing request can be ({REQUEST_TEXT_MAX} characters)</span> : null}
        </div>
      </form>
      {busy ? <ProgressBar label="Reading the request" /> : null}
      <ErrorLine error={fileError ?? error} />
    </section>
  );
}
