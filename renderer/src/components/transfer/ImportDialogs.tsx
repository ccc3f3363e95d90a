// Import dialogs of a key: an encrypted PKCS#8 file as a new version of a key generated here
// (ImportKeyVersion; the passphrase is cleared from the form as soon as the vault answers), and
// a public key as a verify-only version of an EXTERNAL_PUBLIC_KEY key (ImportPublicKeyVersion).
import { useState, type FormEvent } from 'react';
import type { KeySummary } from '../../../../core/contract/app-api.ts';
import { encodeBase64 } from '../../../../core/contract/base64.ts';
import { kms } from '../../api/bridge.ts';
import { Dialog, FileInput, FormEnd, useElapsed } from '../common.tsx';
import { keyDisplayName } from '../keys/format.ts';
import { useKmsAction } from '../keys/use-kms-action.ts';
import { PemInput } from '../x509/PemInput.tsx';
import { passphraseParam } from './pem.ts';

export function ImportVersionDialog({ open, onClose, keySummary }: { open: boolean; onClose: () => void; keySummary: KeySummary }) {
  return (
    <Dialog title="Import version from encrypted PKCS#8" open={open} onClose={onClose} testId="import-version-dialog">
      <ImportVersionForm keySummary={keySummary} onDone={onClose} />
    </Dialog>
  );
}

function ImportVersionForm({ keySummary, onDone }: { keySummary: KeySummary; onDone: () => void }) {
  const [file, setFile] = useState<{ name: string; text: string } | undefined>(undefined);
  const [passphrase, setPassphrase] = useState('');
  const action = useKmsAction();
  const busy = action.busy !== undefined;
  const elapsed = useElapsed(busy);
  const problem = !file ? 'Choose the encrypted key file (.p8.pem).' : passphrase === '' ? 'Type the file’s passphrase.' : '';

  async function choose(chosen: File | undefined) {
    if (!chosen) return;
    // PEM as text; a DER file travels as base64 (the Action takes either).
    const bytes = new Uint8Array(await chosen.arrayBuffer());
    const text = new TextDecoder().decode(bytes);
    setFile({ name: chosen.name, text: text.trimStart().startsWith('-----BEGIN') ? text.trim() : encodeBase64(bytes) });
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (problem || busy || !file) return;
    const param = passphraseParam(passphrase);
    const ok = await action.run(
      'Import version',
      () => kms('ImportKeyVersion', { KeyId: keySummary.KeyId, EncryptedPrivateKey: file.text, Passphrase: param }),
      `Imported ${file.name} as a new version of ${keyDisplayName(keySummary)}`,
    );
    // Cleared whatever the answer: a retry means typing it again.
    setPassphrase('');
    if (ok) onDone();
  }

  return (
    <form className="stack" onSubmit={(e) => void submit(e)}>
      <p className="muted hint">
        The file’s key must be a {keySummary.KeySpec} key. It becomes a new version of {keyDisplayName(keySummary)}; the key’s other versions stay as they are.
      </p>
      <label>
        Encrypted key file
        <FileInput accept=".pem,.p8,.p8.pem,.der,text/plain" disabled={busy} onFile={(f) => void choose(f)} />
      </label>
      {file ? <p className="muted hint">Chosen: {file.name}</p> : null}
      <label>
        File passphrase
        <input type="password" autoComplete="off" value={passphrase} onChange={(e) => setPassphrase(e.target.value)} disabled={busy} />
      </label>
      {problem ? <p className="muted hint">{problem}</p> : null}
      <FormEnd
        submit="Import version"
        problem={problem}
        onCancel={onDone}
        cancelDisabled={busy}
        busy={busy}
        progress={`Decrypting and sealing in the vault: ${elapsed.toFixed(1)} s`}
        error={action.error}
      />
    </form>
  );
}

export function ImportPublicKeyDialog({ open, onClose, keySummary }: { open: boolean; onClose: () => void; keySummary: KeySummary }) {
  return (
    <Dialog title="Import public key" open={open} onClose={onClose} testId="import-public-key-dialog">
      <ImportPublicKeyForm keySummary={keySummary} onDone={onClose} />
    </Dialog>
  );
}

function ImportPublicKeyForm({ keySummary, onDone }: { keySummary: KeySummary; onDone: () => void }) {
  const [text, setText] = useState('');
  const action = useKmsAction();
  const busy = action.busy !== undefined;
  const problem = text.trim() === '' ? 'Paste or load a PEM public key (SubjectPublicKeyInfo).' : '';

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (problem || busy) return;
    const ok = await action.run(
      'Import public key',
      () => kms('ImportPublicKeyVersion', { KeyId: keySummary.KeyId, PublicKey: text.trim() }),
      `Imported a public-key-only version into ${keyDisplayName(keySummary)}`,
    );
    if (ok) onDone();
  }

  return (
    <form className="stack" onSubmit={(e) => void submit(e)}>
      <p className="muted hint">A verify-only version: it verifies signatures and encrypts for the key’s owner; it can never sign or decrypt. The key must be {keySummary.KeySpec}.</p>
      <PemInput
        label="Public key (PEM)"
        fileLabel="Load public key file"
        accept=".pem,.pub,text/plain"
        value={text}
        onChange={setText}
        placeholder="-----BEGIN PUBLIC KEY-----"
        disabled={busy}
      />
      {problem ? <p className="muted hint">{problem}</p> : null}
      <FormEnd submit="Import public key" problem={problem} onCancel={onDone} cancelDisabled={busy} busy={busy} error={action.error} />
    </form>
  );
}
