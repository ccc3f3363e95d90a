// Export one version's private key, encrypted: PKCS#8 EncryptedPrivateKeyInfo (PBES2, AES-256,
// scrypt or PBKDF2-SHA-256) made inside the key worker under a passphrase typed here. The
// passphrase lives in this form's state only until the call returns (then it is cleared), never
// in a store; the result is already encrypted and is offered as a .p8.pem file.
import { useState, type FormEvent } from 'react';
import type { KeySummary } from '../../../../core/contract/app-api.ts';
import { describeError, kms } from '../../api/bridge.ts';
import { saveFile } from '../../lib/save.ts';
import { useUiStore } from '../../stores/ui-store.ts';
import { Dialog, ErrorLine, ProgressBar, useElapsed } from '../common.tsx';
import { publicKeyFileStem } from '../keys/format.ts';
import { passphraseParam } from './pem.ts';

type ExportResponse = { KeyId: string; KeyVersionId: string; KeySpec: string; EncryptedPrivateKey: string };

/** The vault refuses only an empty passphrase; shorter than this gets a warning. */
const ADVISED_LENGTH = 12;

export function ExportDialog({ open, onClose, keySummary, keyVersionId }: { open: boolean; onClose: () => void; keySummary: KeySummary; keyVersionId: string }) {
  return (
    <Dialog title="Export private key" open={open} onClose={onClose} testId="export-dialog">
      <ExportForm keySummary={keySummary} keyVersionId={keyVersionId} onDone={onClose} />
    </Dialog>
  );
}

function ExportForm({ keySummary, keyVersionId, onDone }: { keySummary: KeySummary; keyVersionId: string; onDone: () => void }) {
  const [passphrase, setPassphrase] = useState('');
  const [repeat, setRepeat] = useState('');
  const [kdf, setKdf] = useState<'scrypt' | 'pbkdf2'>('scrypt');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ code: string; message: string } | undefined>(undefined);
  const [exported, setExported] = useState<string | undefined>(undefined);
  const elapsed = useElapsed(busy);
  const fileName = `${publicKeyFileStem(keySummary, keyVersionId)}.p8.pem`;

  const problem = passphrase === '' ? 'Type a passphrase.' : passphrase !== repeat ? 'The passphrases differ.' : '';

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (problem || busy) return;
    setBusy(true);
    setError(undefined);
    const param = passphraseParam(passphrase);
    try {
      const r = await kms<ExportResponse>('ExportKeyVersion', { KeyId: keySummary.KeyId, KeyVersionId: keyVersionId, Passphrase: param, Kdf: kdf });
      setExported(r.EncryptedPrivateKey);
      useUiStore.getState().notify('ok', `Version ${keyVersionId} exported, encrypted (${kdf === 'scrypt' ? 'scrypt' : 'PBKDF2-SHA-256'}, AES-256)`);
    } catch (err) {
      setError(describeError(err));
    } finally {
      // The passphrase leaves the form's state as soon as the vault has answered.
      setPassphrase('');
      setRepeat('');
      setBusy(false);
    }
  }

  if (exported) {
    return (
      <div className="stack export-result">
        <p className="ok" role="status">
          The private key of version <code>{keyVersionId}</code> is encrypted under your passphrase.
        </p>
        <p className="warning">Keep the file and the passphrase apart. The passphrase is not stored anywhere: without it the file cannot be opened.</p>
        <div className="row">
          <button type="button" className="primary" onClick={() => saveFile(fileName, exported, 'application/x-pem-file')}>
            Save {fileName}
          </button>
          <button type="button" onClick={onDone}>
            Done
          </button>
        </div>
      </div>
    );
  }

  return (
    <form className="stack export-form" onSubmit={(e) => void submit(e)}>
      <p className="warning" role="note">
        Whoever has this file and its passphrase holds the private key of version <code>{keyVersionId}</code>: the vault can neither revoke nor track the copy. The export is recorded in
        the audit log.
      </p>
      <label>
        Export passphrase
        <input type="password" autoComplete="new-password" value={passphrase} onChange={(e) => setPassphrase(e.target.value)} disabled={busy} autoFocus />
      </label>
      <label>
        Repeat export passphrase
        <input type="password" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} disabled={busy} aria-invalid={repeat !== '' && repeat !== passphrase} />
      </label>
      {passphrase !== '' && [...passphrase].length < ADVISED_LENGTH ? (
        <p className="muted hint">Shorter than {ADVISED_LENGTH} characters: the file is only as strong as its passphrase.</p>
      ) : null}
      <fieldset>
        <legend>Key derivation</legend>
        <label className="choice">
          <input type="radio" name="export-kdf" checked={kdf === 'scrypt'} onChange={() => setKdf('scrypt')} disabled={busy} />
          <span>scrypt (N=2^14, r=8) — the default</span>
        </label>
        <label className="choice">
          <input type="radio" name="export-kdf" checked={kdf === 'pbkdf2'} onChange={() => setKdf('pbkdf2')} disabled={busy} />
          <span>PBKDF2-HMAC-SHA-256 (600,000 iterations) — for tools without scrypt</span>
        </label>
      </fieldset>
      <p className="muted hint">{problem || 'OpenSSL reads the file: openssl pkey -in FILE -passin …'}</p>
      <div className="row">
        <button type="submit" className="primary" disabled={busy || problem !== ''}>
          Export encrypted
        </button>
        <button type="button" onClick={onDone} disabled={busy}>
          Cancel
        </button>
      </div>
      {busy ? <ProgressBar label={`Encrypting in the vault: ${elapsed.toFixed(1)} s`} /> : null}
      <ErrorLine error={error} />
    </form>
  );
}
