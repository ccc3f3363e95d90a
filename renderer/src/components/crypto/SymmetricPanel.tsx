// Encrypt & decrypt with a symmetric key (Aliyun_AES_256, Aliyun_SM4): Encrypt under the key's
// primary version, bound to an EncryptionContext shown beside the result (Decrypt needs the same
// one); Decrypt takes a CiphertextBlob alone and names the key and version the blob was made by.
import { useEffect, useId, useMemo, useState } from 'react';
import type { KeySummary } from '../../../../core/contract/app-api.ts';
import { SYMMETRIC_PLAINTEXT_MAX } from '../../../../core/contract/actions.ts';
import { canonicalContext, encryptionContextParam, type EncryptionContext } from '../../../../core/contract/encryption-context.ts';
import { isKeySpec, isSymmetricSpec } from '../../../../core/contract/specs.ts';
import { AppError, kms } from '../../api/bridge.ts';
import { useKeysStore } from '../../stores/keys-store.ts';
import { ErrorLine, useTask } from '../common.tsx';
import { keyLabel } from '../KeyVersionPicker.tsx';
import { base64Param, compactBase64, encodeBase64, parseBase64, utf8, utf8OrUndefined } from './bytes.ts';
import { KeyStateProblem } from './KeyStateProblem.tsx';
import { keyStateProblem } from './key-state-problem.ts';
import { OutputBox } from './OutputBox.tsx';

export function isSymmetricKey(key: KeySummary): boolean {
  return isKeySpec(key.KeySpec) && isSymmetricSpec(key.KeySpec);
}

/** The context text as typed: empty is none; otherwise it must be a JSON object of strings. */
function parseContext(text: string): { context?: EncryptionContext; problem?: string } {
  if (text.trim() === '') return {};
  const parsed = encryptionContextParam.safeParse(text);
  return parsed.success ? { context: parsed.data } : { problem: `Encryption context ${parsed.error.issues[0]?.message ?? 'is malformed'}` };
}

function ContextInput({ id, label, value, onChange, problem }: { id: string; label: string; value: string; onChange: (v: string) => void; problem: string | undefined }) {
  return (
    <>
      <label htmlFor={id}>{label} (JSON object of strings, optional)</label>
      <input id={id} type="text" className="mono" placeholder='{"purpose":"backup"}' value={value} onChange={(e) => onChange(e.target.value)} aria-invalid={problem !== undefined} />
      <p className={problem ? 'error' : 'muted hint'}>{problem ?? 'Not stored: authenticated with the ciphertext. Decrypting needs the same context.'}</p>
    </>
  );
}

export function SymmetricPanel() {
  const { keys, load } = useKeysStore();
  const candidates = useMemo(() => keys.filter(isSymmetricKey), [keys]);
  const [keyId, setKeyId] = useState('');
  const key = candidates.find((k) => k.KeyId === keyId) ?? candidates[0];
  const [text, setText] = useState('');
  const [contextText, setContextText] = useState('');
  const [blob, setBlob] = useState('');
  const [decryptContextText, setDecryptContextText] = useState('');
  const encrypting = useTask();
  const decrypting = useTask();
  const [sealed, setSealed] = useState<{ blob: string; KeyVersionId: string; context: string } | undefined>();
  const [opened, setOpened] = useState<{ text: string | undefined; base64: string; KeyId: string; KeyVersionId: string } | undefined>();
  const id = useId();
  useEffect(() => void load(), [load]);
  useEffect(() => setSealed(undefined), [keyId, text, contextText]);
  useEffect(() => setOpened(undefined), [blob, decryptContextText]);

  const size = utf8(text).length;
  const over = size > SYMMETRIC_PLAINTEXT_MAX;
  const context = parseContext(contextText);
  const decryptContext = parseContext(decryptContextText);
  const stateProblem = keyStateProblem(key);

  async function encrypt() {
    if (!key || context.problem) return;
    await encrypting.run(async () => {
      const bytes = utf8(text);
      if (bytes.length > SYMMETRIC_PLAINTEXT_MAX) throw new AppError('InvalidParameter', `Plaintext is ${bytes.length} bytes; Encrypt takes at most ${SYMMETRIC_PLAINTEXT_MAX}`);
      const r = await kms('Encrypt', { KeyId: key.KeyId, Plaintext: encodeBase64(bytes), ...(context.context ? { EncryptionContext: context.context } : {}) });
      setSealed({ blob: r.CiphertextBlob, KeyVersionId: r.KeyVersionId, context: canonicalContext(context.context) });
    });
  }

  async function decrypt() {
    if (decryptContext.problem) return;
    await decrypting.run(async () => {
      const r = await kms('Decrypt', { CiphertextBlob: base64Param(blob, 'CiphertextBlob'), ...(decryptContext.context ? { EncryptionContext: decryptContext.context } : {}) });
      const bytes = r.Plaintext ? parseBase64(r.Plaintext, 'Plaintext') : new Uint8Array(0);
      setOpened({ text: utf8OrUndefined(bytes), base64: r.Plaintext, KeyId: r.KeyId, KeyVersionId: r.KeyVersionId });
    });
  }

  return (
    <div className="panel stack" data-testid="symmetric-panel">
      <h2>Symmetric keys</h2>
      <p className="muted hint">
        Aliyun_AES_256 and Aliyun_SM4 keys encrypt up to 6 KiB under their primary version; the ciphertext names its key, so decrypting needs no key choice.
      </p>
      <label htmlFor={`${id}-key`}>Symmetric key</label>
      <select id={`${id}-key`} value={key?.KeyId ?? ''} onChange={(e) => setKeyId(e.target.value)} disabled={candidates.length === 0}>
        {candidates.length === 0 ? <option value="">No symmetric keys — create an Aliyun_AES_256 or Aliyun_SM4 key in Keys</option> : null}
        {candidates.map((k) => (
          <option key={k.KeyId} value={k.KeyId}>
            {keyLabel(k)}
          </option>
        ))}
      </select>
      <label htmlFor={`${id}-text`}>Text to encrypt (UTF-8)</label>
      <textarea id={`${id}-text`} value={text} onChange={(e) => setText(e.target.value)} />
      <p className={over ? 'error' : 'muted'}>{`${size} of at most ${SYMMETRIC_PLAINTEXT_MAX} bytes.${over ? ' Encrypt larger data under a data key (GenerateDataKey) or with age.' : ''}`}</p>
      <ContextInput id={`${id}-context`} label="Encryption context" value={contextText} onChange={setContextText} problem={context.problem} />
      <div className="row">
        <button type="button" className="primary" disabled={!key || stateProblem !== undefined || encrypting.busy || over || text.length === 0 || context.problem !== undefined} onClick={() => void encrypt()}>
          {encrypting.busy ? 'Encrypting…' : 'Encrypt with the symmetric key'}
        </button>
        <KeyStateProblem problem={stateProblem} />
      </div>
      <ErrorLine error={encrypting.error} />
      {sealed ? (
        <OutputBox
          label="CiphertextBlob (base64)"
          value={sealed.blob}
          testId="symmetric-ciphertext"
          saves={[{ label: 'Save ciphertext (base64)', fileName: 'ciphertext.b64', content: () => `${sealed.blob}\n`, type: 'text/plain' }]}
        >
          <p className="muted">
            Primary version <code>{sealed.KeyVersionId}</code> · context <code data-testid="symmetric-context">{sealed.context}</code>
          </p>
          <button
            type="button"
            onClick={() => {
              setBlob(sealed.blob);
              setDecryptContextText(contextText);
            }}
          >
            Decrypt this blob
          </button>
        </OutputBox>
      ) : null}

      <h3>Decrypt a CiphertextBlob</h3>
      <label htmlFor={`${id}-blob`}>CiphertextBlob (base64)</label>
      <textarea id={`${id}-blob`} className="mono" rows={3} value={blob} onChange={(e) => setBlob(e.target.value)} />
      <ContextInput id={`${id}-decrypt-context`} label="Context it was encrypted with" value={decryptContextText} onChange={setDecryptContextText} problem={decryptContext.problem} />
      <div className="row">
        <button type="button" className="primary" disabled={decrypting.busy || compactBase64(blob).length === 0 || decryptContext.problem !== undefined} onClick={() => void decrypt()}>
          {decrypting.busy ? 'Decrypting…' : 'Decrypt the blob'}
        </button>
      </div>
      <ErrorLine error={decrypting.error} />
      {opened ? (
        <div className="stack" data-testid="symmetric-decrypted">
          <p className="muted">
            Made by key <code>{opened.KeyId}</code>, version <code>{opened.KeyVersionId}</code>
          </p>
          {opened.text !== undefined ? <textarea readOnly value={opened.text} rows={3} aria-label="Decrypted blob text" data-testid="symmetric-decrypted-text" /> : <p className="muted">Not UTF-8 text: shown as base64.</p>}
          <OutputBox label="Decrypted plaintext (base64)" value={opened.base64} testId="symmetric-plaintext" saves={[]} />
        </div>
      ) : null}
    </div>
  );
}
