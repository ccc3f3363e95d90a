// Sign & verify: a message (text, a base64 Digest, or a file streamed to the host's digest
// session with progress and Cancel), signed with a chosen key version (AsymmetricSign), and a
// signature checked against it (AsymmetricVerify) with a plain VALID / INVALID verdict.
import { useEffect, useId, useRef, useState } from 'react';
import { describeError, kms } from '../api/bridge.ts';
import { ErrorLine, ProgressBar } from '../components/common.tsx';
import { base64Param, compactBase64, parseBase64, utf8 } from '../components/crypto/bytes.ts';
import { Base64FileZone } from '../components/crypto/FileDropZone.tsx';
import { EMPTY_MESSAGE, MessageInput, messageReady, type MessageValue } from '../components/crypto/MessageInput.tsx';
import { OutputBox } from '../components/crypto/OutputBox.tsx';
import { KeyVersionPicker, type KeyVersionChoice } from '../components/KeyVersionPicker.tsx';
import { digestOf, type DigestProgress } from '../lib/digest.ts';
import type { SigningAlgorithm } from '../../../core/contract/specs.ts';

interface Signature {
  readonly value: string;
  readonly KeyId: string;
  readonly KeyVersionId: string;
  readonly Algorithm: string;
  readonly baseName: string;
}

interface Verdict {
  readonly valid: boolean;
  readonly KeyVersionId: string;
  readonly Algorithm: string;
}

/** The last file digest, so Sign then Verify of the same file hashes it once. */
interface CachedDigest {
  readonly file: File;
  readonly target: string;
  readonly digest: string;
}

type Busy = 'sign' | 'verify' | undefined;

export function SignVerifyView() {
  const [choice, setChoice] = useState<KeyVersionChoice | undefined>();
  const [message, setMessage] = useState<MessageValue>(EMPTY_MESSAGE);
  const [busy, setBusy] = useState<Busy>();
  const [progress, setProgress] = useState<(DigestProgress & { finished: boolean; name: string }) | undefined>();
  const [error, setError] = useState<{ code: string; message: string } | undefined>();
  const [signature, setSignature] = useState<Signature | undefined>();
  const [candidate, setCandidate] = useState('');
  const [verdict, setVerdict] = useState<Verdict | undefined>();
  const abort = useRef<AbortController | undefined>(undefined);
  const cache = useRef<CachedDigest | undefined>(undefined);
  const candidateId = useId();

  // A verdict belongs to the message, key and signature it was given for.
  useEffect(() => setVerdict(undefined), [choice, message, candidate]);
  // A signature shown is the one for the current key version, algorithm and message.
  useEffect(() => setSignature(undefined), [choice, message]);
  // Leaving the view cancels a hash in progress.
  useEffect(() => () => abort.current?.abort(), []);

  async function digestFor(target: KeyVersionChoice): Promise<string> {
    const t = { KeyId: target.KeyId, KeyVersionId: target.KeyVersionId, Algorithm: target.Algorithm as SigningAlgorithm };
    if (message.mode === 'digest') return compactBase64(message.digest);
    if (message.mode === 'text') return digestOf(t, utf8(message.text));
    const file = message.file!;
    const key = `${t.KeyId}/${t.KeyVersionId}/${t.Algorithm}`;
    if (cache.current && cache.current.file === file && cache.current.target === key) return cache.current.digest;
    const controller = new AbortController();
    abort.current = controller;
    setProgress({ done: 0, total: file.size, finished: false, name: file.name });
    try {
      const digest = await digestOf(t, file, (p) => setProgress({ ...p, finished: false, name: file.name }), controller.signal);
      setProgress({ done: file.size, total: file.size, finished: true, name: file.name });
      cache.current = { file, target: key, digest };
      return digest;
    } catch (e) {
      setProgress(undefined);
      throw e;
    } finally {
      abort.current = undefined;
    }
  }

  async function run(kind: 'sign' | 'verify', step: (target: KeyVersionChoice, digest: string) => Promise<void>) {
    if (!choice) return;
    setBusy(kind);
    setError(undefined);
    try {
      const digest = await digestFor(choice);
      await step(choice, digest);
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') setError({ code: 'Cancelled', message: 'Hashing was cancelled; nothing was signed or verified.' });
      else setError(describeError(e));
    } finally {
      setBusy(undefined);
    }
  }

  const sign = () =>
    run('sign', async (target, Digest) => {
      const r = await kms('AsymmetricSign', {
        KeyId: target.KeyId,
        KeyVersionId: target.KeyVersionId,
        Algorithm: target.Algorithm,
        Digest,
      });
      const baseName = message.mode === 'file' && message.file ? message.file.name : 'message';
      setSignature({ value: r.Value, KeyId: r.KeyId, KeyVersionId: r.KeyVersionId, Algorithm: target.Algorithm, baseName });
    });

  const verify = () =>
    run('verify', async (target, Digest) => {
      const Value = base64Param(candidate, 'Signature');
      const r = await kms('AsymmetricVerify', {
        KeyId: target.KeyId,
        KeyVersionId: target.KeyVersionId,
        Algorithm: target.Algorithm,
        Digest,
        Value,
      });
      setVerdict({ valid: r.Value, KeyVersionId: target.KeyVersionId, Algorithm: target.Algorithm });
    });

  const ready = choice !== undefined && messageReady(message) && busy === undefined;

  return (
    <section className="stack crypto-view" aria-labelledby="sign-title">
      <h1 id="sign-title">Sign &amp; verify</h1>
      <div className="panel stack">
        <KeyVersionPicker purpose="sign" onChange={setChoice} disabled={busy !== undefined} />
        <MessageInput value={message} onChange={setMessage} disabled={busy !== undefined} />
        {progress ? (
          <div className="row hash-progress">
            <div className="grow">
              <ProgressBar label={progress.finished ? `Hashed ${progress.name}` : `Hashing ${progress.name}`} done={progress.done} total={progress.total} />
            </div>
            {!progress.finished ? (
              <button type="button" onClick={() => abort.current?.abort()}>
                Cancel
              </button>
            ) : null}
          </div>
        ) : null}
        <div className="row">
          <button type="button" className="primary" disabled={!ready} onClick={() => void sign()}>
            {busy === 'sign' ? 'Signing…' : 'Sign'}
          </button>
        </div>
        <ErrorLine error={error} />
      </div>

      {signature ? (
        <div className="panel stack" data-testid="signature-panel">
          <h2>Signature</h2>
          <p className="muted">
            {signature.Algorithm} · key <code>{signature.KeyId}</code> · version <code>{signature.KeyVersionId}</code>
          </p>
          <OutputBox
            label="Signature (base64)"
            value={signature.value}
            testId="signature"
            saves={[
              { label: 'Save .sig (binary)', fileName: `${signature.baseName}.sig`, content: () => parseBase64(signature.value, 'Signature') },
              { label: 'Save base64', fileName: `${signature.baseName}.sig.b64`, content: () => `${signature.value}\n`, type: 'text/plain' },
            ]}
          >
            <div className="row">
              <button type="button" onClick={() => setCandidate(signature.value)}>
                Verify this signature
              </button>
            </div>
          </OutputBox>
        </div>
      ) : null}

      <div className="panel stack">
        <h2>Verify</h2>
        <p className="muted">Checks a signature against the message above with the chosen key version and algorithm.</p>
        <label htmlFor={candidateId}>Signature to verify (base64)</label>
        <textarea id={candidateId} className="mono" value={candidate} onChange={(e) => setCandidate(e.target.value)} rows={3} />
        <Base64FileZone label="Signature file" hint="or drop a .sig file (binary or base64) here" onText={setCandidate} onError={setError} />
        <div className="row">
          <button type="button" className="primary" disabled={!ready || compactBase64(candidate).length === 0} onClick={() => void verify()}>
            {busy === 'verify' ? 'Verifying…' : 'Verify'}
          </button>
        </div>
        {verdict ? (
          <p className={verdict.valid ? 'verdict valid' : 'verdict invalid'} role="status" data-testid="verdict">
            {verdict.valid ? 'VALID' : 'INVALID'}
            <span className="verdict-detail">
              {verdict.valid
                ? ` — the signature matches this message for version ${verdict.KeyVersionId} (${verdict.Algorithm}).`
                : ` — the signature does not match this message, key version ${verdict.KeyVersionId} and ${verdict.Algorithm}.`}
            </span>
          </p>
        ) : null}
      </div>
    </section>
  );
}
