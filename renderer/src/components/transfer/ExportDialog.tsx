// Export one version's private key, encrypted: PKCS#8 EncryptedPrivateKeyInfo (PBES2, AES-256,
// scrypt or PBKDF2-SHA-256) made inside the key worker under a passphrase typed here. The
// passphrase lives in this form's state only until the call returns (then it is cleared), never
// in a store; the result is already encrypted and is offered as a .p8.pem file.
import { useState, type FormEvent } from 'react';
import type { KeySummary } from '../../../../core/contract/app-api.ts';
import { EXPORT_PASSPHRASE_MIN_BYTES } from '../../../../core/contract/actions.ts';
import { kms } from '../../api/bridge.ts';
import { useUiStore } from '../../stores/ui-store.ts';
import { Dialog, FormEnd, SaveAndDone, useElapsed, useTask } from '../common.tsx';
import { publicKeyFileStem } from '../keys/format.ts';
import { passphraseParam } from './pem.ts';


/** The vault refuses fewer than EXPORT_PASSPHRASE_MIN_BYTES; shorter than this gets a warning. */
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
  const task = useTask();
  const busy = task.busy;
  const [exported, setExported] = useState<string | undefined>(undefined);
  const elapsed = useElapsed(busy);
  const fileName = `${publicKeyFileStem(keySummary, keyVersionId)}.p8.pem`;

  const problem =
    passphrase === ''
      ? 'Type a passphrase.'
      : new TextEncoder().encode(passphrase).length < EXPORT_PASSPHRASE_MIN_BYTES
        ? `The passphrase must be at least ${EXPORT_PASSPHRASE_MIN_BYTES} bytes.`
        : passphrase !== repeat
          ? 'The passphrases differ.'
          : '';

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (problem || busy) return;
    const param = passphraseParam(passphrase);
    await task.run(async () => {
      const r = await kms('ExportKeyVersion', { KeyId: keySummary.KeyId, KeyVersionId: keyVersionId, Passphrase: param, Kdf: kdf });
      setExported(r.EncryptedPrivateKey);
      useUiStore.getState().notify('ok', `Version ${keyVersionId} exported, encrypted (${kdf === 'scrypt' ? 'scrypt' : 'PBKDF2-SHA-256'}, AES-256)`);
    });
    // The passphrase leaves the form's state as soon as the vault has answered.
    setPassphrase('');
    setRepeat('');
  }

  if (exported) {
    return (
      <div className="stack export-result">
        <p className="ok" role="status">
          The private key of version <code>{keyVersionId}</code> is encrypted under your passphrase.
        </p>
        <p className="warning">Keep the file and the passphrase apart. The passphrase is not stored anywhere: without it the file cannot be opened.</p>
        <SaveAndDone saves={[{ fileName, content: exported, type: 'application/x-pem-file' }]} onDone={onDone} />
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
      <FormEnd
        submit="Export encrypted"
        problem={problem}
        onCancel={onDone}
        cancelDisabled={busy}
        busy={busy}
        progress={`Encrypting in the vault: ${elapsed.toFixed(1)} s`}
        error={task.error}
      />
    </form>
  );
}
