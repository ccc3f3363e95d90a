// Encrypt & decrypt: symmetric keys (SymmetricPanel: Encrypt and Decrypt with a context), and a short text (UTF-8) or small file encrypted with a key version's public key
// (AsymmetricEncrypt), within the plaintext limit of its spec and algorithm, checked here before
// anything is sent; a base64 CiphertextBlob (pasted or from a file) decrypted (AsymmetricDecrypt).
import { useEffect, useId, useState } from 'react';
import { AppError, kms } from '../api/bridge.ts';
import { ErrorLine, useTask } from '../components/common.tsx';
import { base64Param, compactBase64, encodeBase64, formatBytes, parseBase64, utf8, utf8OrUndefined } from '../components/crypto/bytes.ts';
import { Base64FileZone, FileDropZone } from '../components/crypto/FileDropZone.tsx';
import { KeyStateProblem } from '../components/crypto/KeyStateProblem.tsx';
import { keyStateProblem } from '../components/crypto/key-state-problem.ts';
import { OutputBox } from '../components/crypto/OutputBox.tsx';
import { KeyVersionPicker, type KeyVersionChoice } from '../components/KeyVersionPicker.tsx';
import { SymmetricPanel } from '../components/crypto/SymmetricPanel.tsx';

export function CryptoView() {
  const [choice, setChoice] = useState<KeyVersionChoice | undefined>();
  // The Decrypt panel's input lives here so "Decrypt this ciphertext" can fill it.
  const [blob, setBlob] = useState('');
  return (
    <section className="stack crypto-view" aria-labelledby="crypto-title">
      <h1 id="crypto-title">Encrypt &amp; decrypt</h1>
      <SymmetricPanel />
      <h2 className="section-title">Asymmetric keys</h2>
      <div className="panel">
        <KeyVersionPicker purpose="encrypt" onChange={setChoice} />
      </div>
      <EncryptPanel choice={choice} onDecrypt={setBlob} />
      <DecryptPanel choice={choice} blob={blob} setBlob={setBlob} />
    </section>
  );
}

function EncryptPanel({ choice, onDecrypt }: { choice: KeyVersionChoice | undefined; onDecrypt: (value: string) => void }) {
  const [mode, setMode] = useState<'text' | 'file'>('text');
  const [text, setText] = useState('');
  const [file, setFile] = useState<File | undefined>();
  const { busy, error, run } = useTask();
  const [ciphertext, setCiphertext] = useState<{ value: string; KeyVersionId: string; Algorithm: string } | undefined>();
  const textId = useId();
  // A ciphertext belongs to the plaintext, key version and algorithm that made it: any change drops it.
  useEffect(() => setCiphertext(undefined), [choice, mode, text, file]);
  const stateProblem = keyStateProblem(choice?.key);

  const size = mode === 'text' ? utf8(text).length : (file?.size ?? 0);
  const limit = choice?.maxPlaintextBytes;
  const over = limit !== undefined && size > limit;
  const empty = mode === 'text' ? text.length === 0 : file === undefined;

  async function encrypt() {
    if (!choice || limit === undefined) return;
    await run(async () => {
      const bytes = mode === 'text' ? utf8(text) : new Uint8Array(await file!.arrayBuffer());
      // Checked again on the bytes actually sent (a file may have changed since it was chosen).
      if (bytes.length > limit) throw new AppError('InvalidParameter', `Plaintext is ${bytes.length} bytes; ${choice.Algorithm} on ${choice.key.KeySpec} takes at most ${limit}`);
      const r = await kms('AsymmetricEncrypt', {
        KeyId: choice.KeyId,
        KeyVersionId: choice.KeyVersionId,
        Algorithm: choice.Algorithm,
        Plaintext: encodeBase64(bytes),
      });
      setCiphertext({ value: r.CiphertextBlob, KeyVersionId: r.KeyVersionId, Algorithm: choice.Algorithm });
    });
  }

  return (
    <div className="panel stack">
      <h2>Encrypt</h2>
      <div className="row" role="radiogroup" aria-label="Plaintext input">
        <label className="choice">
          <input type="radio" name="plaintext-mode" checked={mode === 'text'} onChange={() => setMode('text')} />
          <span>Text</span>
        </label>
        <label className="choice">
          <input type="radio" name="plaintext-mode" checked={mode === 'file'} onChange={() => setMode('file')} />
          <span>File</span>
        </label>
      </div>
      {mode === 'text' ? (
        <>
          <label htmlFor={textId}>Plaintext (text, UTF-8)</label>
          <textarea id={textId} value={text} onChange={(e) => setText(e.target.value)} aria-describedby="plaintext-limit" />
        </>
      ) : (
        <FileDropZone label="Plaintext file" file={file} onFile={setFile} hint="or drop a small file here" />
      )}
      <p id="plaintext-limit" className={over ? 'error' : 'muted'} data-testid="plaintext-limit">
        {limit === undefined
          ? 'Choose an encryption key to see its plaintext limit.'
          : `${size} of at most ${limit} bytes — the limit for ${choice!.Algorithm} on ${choice!.key.KeySpec}.`}
        {over ? ` Too long by ${formatBytes(size - limit)}: encrypt a data key instead and use it for the message.` : ''}
      </p>
      <div className="row">
        <button type="button" className="primary" disabled={!choice || stateProblem !== undefined || busy || over || empty} onClick={() => void encrypt()}>
          {busy ? 'Encrypting…' : 'Encrypt'}
        </button>
        <KeyStateProblem problem={stateProblem} />
      </div>
      <ErrorLine error={error} />
      {ciphertext ? (
        <OutputBox
          label="Ciphertext (base64)"
          value={ciphertext.value}
          testId="ciphertext"
          saves={[
            { label: 'Save ciphertext (binary)', fileName: 'ciphertext.bin', content: () => parseBase64(ciphertext.value, 'Ciphertext') },
            { label: 'Save ciphertext (base64)', fileName: 'ciphertext.b64', content: () => `${ciphertext.value}\n`, type: 'text/plain' },
          ]}
        >
          <p className="muted">
            {ciphertext.Algorithm} · version <code>{ciphertext.KeyVersionId}</code>
          </p>
        </OutputBox>
      ) : null}
      {ciphertext ? (
        <div className="row">
          <button type="button" onClick={() => onDecrypt(ciphertext.value)}>
            Decrypt this ciphertext
          </button>
        </div>
      ) : null}
    </div>
  );
}

function DecryptPanel({ choice, blob, setBlob }: { choice: KeyVersionChoice | undefined; blob: string; setBlob: (value: string) => void }) {
  const { busy, error, run, setError } = useTask();
  const [plain, setPlain] = useState<{ base64: string; text: string | undefined; size: number } | undefined>();
  const blobId = useId();
  const textId = useId();

  useEffect(() => setPlain(undefined), [blob, choice]);
  const stateProblem = keyStateProblem(choice?.key);

  async function decrypt() {
    if (!choice) return;
    await run(async () => {
      const CiphertextBlob = base64Param(blob, 'CiphertextBlob');
      const r = await kms('AsymmetricDecrypt', {
        KeyId: choice.KeyId,
        KeyVersionId: choice.KeyVersionId,
        Algorithm: choice.Algorithm,
        CiphertextBlob,
      });
      const bytes = r.Plaintext ? parseBase64(r.Plaintext, 'Plaintext') : new Uint8Array(0);
      setPlain({ base64: r.Plaintext, text: utf8OrUndefined(bytes), size: bytes.length });
    });
  }

  return (
    <div className="panel stack">
      <h2>Decrypt</h2>
      <label htmlFor={blobId}>Ciphertext to decrypt (base64)</label>
      <textarea id={blobId} className="mono" rows={4} value={blob} onChange={(e) => setBlob(e.target.value)} />
      <Base64FileZone label="Ciphertext file" hint="or drop a ciphertext file (binary or base64) here" onText={setBlob} onError={setError} />
      <div className="row">
        <button type="button" className="primary" disabled={!choice || stateProblem !== undefined || busy || compactBase64(blob).length === 0} onClick={() => void decrypt()}>
          {busy ? 'Decrypting…' : 'Decrypt'}
        </button>
        <KeyStateProblem problem={stateProblem} />
      </div>
      <ErrorLine error={error} />
      {plain ? (
        <div className="stack" data-testid="decrypted">
          {plain.text !== undefined ? (
            <>
              <label htmlFor={textId}>Decrypted text</label>
              <textarea id={textId} readOnly value={plain.text} rows={3} />
            </>
          ) : (
            <p className="muted">The plaintext ({plain.size} bytes) is not UTF-8 text: shown as base64.</p>
          )}
          <OutputBox
            label="Plaintext (base64)"
            value={plain.base64}
            testId="plaintext-base64"
            saves={[{ label: 'Save plaintext', fileName: 'plaintext.bin', content: () => (plain.base64 ? parseBase64(plain.base64, 'Plaintext') : new Uint8Array(0)) }]}
          />
        </div>
      ) : null}
    </div>
  );
}
