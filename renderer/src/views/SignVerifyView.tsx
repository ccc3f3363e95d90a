// Sign & verify: a message (text, a base64 Digest, or a file streamed to the host's digest
// session with progress and Cancel), signed with a chosen key version (AsymmetricSign), and a
// signature checked against it (AsymmetricVerify) with a plain VALID / INVALID verdict. Or, in a
// release format (SSH, OpenPGP, sigstore, JWS), the message streamed to the host's signature
// session (Sign.*) and the signature file saved under the name its ecosystem expects.
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { describeError, kms } from '../api/bridge.ts';
import { ErrorLine, ProgressBar } from '../components/common.tsx';
import { base64Param, compactBase64, parseBase64, utf8 } from '../components/crypto/bytes.ts';
import { Base64FileZone } from '../components/crypto/FileDropZone.tsx';
import { KeyStateProblem } from '../components/crypto/KeyStateProblem.tsx';
import { keyStateProblem } from '../components/crypto/key-state-problem.ts';
import { EMPTY_MESSAGE, MessageInput, messageReady, type MessageValue } from '../components/crypto/MessageInput.tsx';
import { OutputBox } from '../components/crypto/OutputBox.tsx';
import { DEFAULT_FORMAT, FORMAT_LABELS, FORMATS_WITH_RSA_ALGORITHM, FormatChoice, namespaceProblem, type FormatValue } from '../components/crypto/FormatChoice.tsx';
import { KeyVersionPicker, type KeyVersionChoice } from '../components/KeyVersionPicker.tsx';
import { digestOf, signatureFileOf, type DigestProgress, type PickedFile } from '../lib/digest.ts';
import type { AppParams, SignatureFileView } from '../../../core/contract/app-api.ts';
import { encodeBase64 } from '../../../core/contract/base64.ts';
import { KEY_SPEC_TABLE, type SigningAlgorithm } from '../../../core/contract/specs.ts';

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
  readonly file: File | PickedFile;
  readonly target: string;
  readonly digest: string;
}

type Busy = 'sign' | 'verify' | undefined;

/** A signature file's bytes as text when they are printable (every format but raw), else base64. */
function asText(bytes: Uint8Array): string {
  const printable = bytes.every((b) => b === 0x0a || b === 0x0d || b === 0x09 || (b >= 0x20 && b < 0x7f));
  return printable ? new TextDecoder().decode(bytes) : encodeBase64(bytes);
}

/** The most of a signature file the page shows (an attached JWS carries the whole file); Save keeps it all. */
const PREVIEW_CHARS = 64 * 1024;

function preview(text: string): string | undefined {
  return text.length <= PREVIEW_CHARS ? undefined : `${text.slice(0, PREVIEW_CHARS)}\n… ${text.length - PREVIEW_CHARS} more characters: Save keeps the whole file`;
}

export function SignVerifyView() {
  const [choice, setChoice] = useState<KeyVersionChoice | undefined>();
  const [message, setMessage] = useState<MessageValue>(EMPTY_MESSAGE);
  const [busy, setBusy] = useState<Busy>();
  const [progress, setProgress] = useState<(DigestProgress & { finished: boolean; name: string }) | undefined>();
  const [error, setError] = useState<{ code: string; message: string } | undefined>();
  const [signature, setSignature] = useState<Signature | undefined>();
  const [format, setFormat] = useState<FormatValue>(DEFAULT_FORMAT);
  const [signatureFile, setSignatureFile] = useState<(SignatureFileView & { bytes: Uint8Array; text: string }) | undefined>();
  const [candidate, setCandidate] = useState('');
  const [verdict, setVerdict] = useState<Verdict | undefined>();
  const abort = useRef<AbortController | undefined>(undefined);
  const cache = useRef<CachedDigest | undefined>(undefined);
  const candidateId = useId();

  // A verdict belongs to the message, key and signature it was given for.
  useEffect(() => setVerdict(undefined), [choice, message, candidate]);
  // A signature shown is the one for the current key version, algorithm, message and format.
  useEffect(() => {
    setSignature(undefined);
    setSignatureFile(undefined);
  }, [choice, message, format]);
  const onFormat = useCallback((next: FormatValue) => setFormat(next), []);
  // Leaving the view cancels a hash in progress.
  useEffect(() => () => abort.current?.abort(), []);

  async function digestFor(target: KeyVersionChoice): Promise<string> {
    const t = { KeyId: target.KeyId, KeyVersionId: target.KeyVersionId, Algorithm: target.Algorithm as SigningAlgorithm };
    if (message.mode === 'digest') return compactBase64(message.digest);
    if (message.mode === 'text') return digestOf(t, utf8(message.text));
    const file = message.file!;
    const key = `${t.KeyId}/${t.KeyVersionId}/${t.Algorithm}`;
    if (cache.current && cache.current.file === file && cache.current.target === key) return cache.current.digest;
    const digest = await streamed(file, (onProgress, signal) => digestOf(t, file, onProgress, signal));
    cache.current = { file, target: key, digest };
    return digest;
  }

  /** Streams a file to the host with the progress bar and Cancel shown. */
  async function streamed<T>(file: File | PickedFile, send: (onProgress: (p: DigestProgress) => void, signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    abort.current = controller;
    setProgress({ done: 0, total: file.size, finished: false, name: file.name });
    try {
      const result = await send((p) => setProgress({ ...p, finished: false, name: file.name }), controller.signal);
      setProgress({ done: file.size, total: file.size, finished: true, name: file.name });
      return result;
    } catch (e) {
      setProgress(undefined);
      throw e;
    } finally {
      abort.current = undefined;
    }
  }

  async function run(kind: 'sign' | 'verify', step: (target: KeyVersionChoice, digest: string) => Promise<void>) {
    await guarded(kind, async (target) => step(target, await digestFor(target)));
  }

  /** Runs one operation on the current choice with the busy state, and shows its refusal with its Code. */
  async function guarded(kind: 'sign' | 'verify', step: (target: KeyVersionChoice) => Promise<void>) {
    if (!choice) return;
    setBusy(kind);
    setError(undefined);
    try {
      await step(choice);
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

  /** A release-format signature: the message streamed to Sign.*, the file named as its ecosystem names it. */
  const signInFormat = () =>
    guarded('sign', async (target) => {
      const spec = target.key.KeySpec;
      const request: AppParams<'Sign.Begin'> = {
        KeyId: target.KeyId,
        KeyVersionId: target.KeyVersionId,
        Format: format.format,
        FileName: message.mode === 'file' && message.file ? message.file.name : 'message',
        ...(format.format === 'ssh' ? { Namespace: format.namespace } : {}),
        ...(format.format === 'jws' ? { Detached: format.detached } : {}),
        ...(KEY_SPEC_TABLE[spec].family === 'RSA' && FORMATS_WITH_RSA_ALGORITHM.has(format.format) ? { Algorithm: target.Algorithm as SigningAlgorithm } : {}),
      };
      const file = message.mode === 'file' ? message.file : undefined;
      const done = file ? await streamed(file, (onProgress, signal) => signatureFileOf(request, file, onProgress, signal)) : await signatureFileOf(request, utf8(message.text));
      const bytes = parseBase64(done.Signature, 'Signature');
      setSignatureFile({ ...done, bytes, text: asText(bytes) });
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

  // Only an Enabled key signs or verifies: said next to the buttons, which stay disabled meanwhile.
  const stateProblem = keyStateProblem(choice?.key);
  const ready = choice !== undefined && stateProblem === undefined && messageReady(message) && busy === undefined;
  const raw = format.format === 'raw';
  // A release format signs the message itself, hashed its own way: a Digest alone cannot be used.
  const formatProblem = raw
    ? undefined
    : message.mode === 'digest'
      ? `A ${FORMAT_LABELS[format.format]} signs the message itself: give it as Text or File, not a Digest.`
      : format.format === 'ssh'
        ? namespaceProblem(format.namespace)
        : undefined;

  return (
    <section className="stack crypto-view" aria-labelledby="sign-title">
      <h1 id="sign-title">Sign &amp; verify</h1>
      <div className="panel stack">
        <KeyVersionPicker purpose="sign" onChange={setChoice} disabled={busy !== undefined} />
        <FormatChoice
          spec={choice?.key.KeySpec}
          rsa={choice !== undefined && KEY_SPEC_TABLE[choice.key.KeySpec].family === 'RSA'}
          value={format}
          onChange={onFormat}
          disabled={busy !== undefined}
        />
        <MessageInput value={message} onChange={setMessage} disabled={busy !== undefined} />
        {formatProblem && message.mode === 'digest' ? (
          <p className="error" data-testid="format-problem">
            {formatProblem}
          </p>
        ) : null}
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
          <button type="button" className="primary" disabled={!ready || formatProblem !== undefined} onClick={() => void (raw ? sign() : signInFormat())}>
            {busy === 'sign' ? 'Signing…' : 'Sign'}
          </button>
          <KeyStateProblem problem={stateProblem} />
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

      {signatureFile ? (
        <div className="panel stack" data-testid="signature-file-panel">
          <h2>{FORMAT_LABELS[signatureFile.Format]}</h2>
          <p className="muted">
            <code data-testid="signature-file-name">{signatureFile.FileName}</code> · {signatureFile.BytesSigned} bytes signed · key <code>{signatureFile.KeyId}</code> · version{' '}
            <code>{signatureFile.KeyVersionId}</code>
          </p>
          <OutputBox
            label="Signature file contents"
            value={signatureFile.text}
            {...(preview(signatureFile.text) !== undefined ? { shown: preview(signatureFile.text) } : {})}
            testId="signature-file"
            saves={[{ label: `Save ${signatureFile.FileName}`, fileName: signatureFile.FileName, content: () => signatureFile.bytes, type: signatureFile.MediaType }]}
          />
        </div>
      ) : null}

      {!raw ? (
        <p className="muted panel" data-testid="format-verify-note">
          A {FORMAT_LABELS[format.format]} is checked by its own verifier (ssh-keygen -Y verify, gpg --verify or sq verify, cosign or @sigstore/verify, a JWS
          library), or with <code>deskkms verify --format {format.format}</code>. The Verify panel checks raw signatures.
        </p>
      ) : (
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
      )}
    </section>
  );
}
