// How the vault's data key is protected, and changing it (Actions through Kms.Call, each atomic in
// the vault: it opens with the old secret or the new one, never neither): change the passphrase,
// move between the OS keychain and a passphrase, rotate the data key (every private key and
// access-key secret sealed again under a new random data key, after a confirmation).
import { useId, useState, type FormEvent } from 'react';
import { kms } from '../../api/bridge.ts';
import { useUiStore } from '../../stores/ui-store.ts';
import { useVaultStore } from '../../stores/vault-store.ts';
import { encodeBase64 } from '../crypto/bytes.ts';
import { Dialog, ErrorLine, FormEnd, ProgressBar, useTask } from '../common.tsx';
import { NO_PASSPHRASE, NewPassphraseFields, newPassphraseProblem } from './NewPassphraseFields.tsx';

/** Text as the Actions take a passphrase: base64 of its UTF-8 bytes. */
function b64(text: string): string {
  return encodeBase64(new TextEncoder().encode(text));
}

export function ProtectionPanel() {
  const id = useId();
  const status = useVaultStore((s) => s.status);
  const kind = status?.ProtectionKind;
  const [rotating, setRotating] = useState(false);
  return (
    <section className="panel stack" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Protection</h2>
      <dl className="facts">
        <dt>Data key protected by</dt>
        <dd data-testid="protection-now">{status?.Protection}</dd>
      </dl>
      {kind === 'passphrase' ? (
        <>
          <ChangePassphraseForm />
          <ToKeychainForm keychain={status?.KeychainBackend ?? 'the OS keychain'} available={status?.KeychainAvailable ?? false} />
        </>
      ) : kind === 'keychain' ? (
        <ToPassphraseForm />
      ) : null}
      <div className="stack">
        <h3>Rotate the data key</h3>
        <p className="hint muted">A new random data key; every private key and access-key secret is sealed again under it. Keys, versions and aliases stay as they are.</p>
        <div className="row">
          <button type="button" onClick={() => setRotating(true)}>
            Rotate data key…
          </button>
        </div>
      </div>
      <Dialog title="Rotate the data key" open={rotating} onClose={() => setRotating(false)} testId="rotate-dialog">
        <RotateForm needsPassphrase={kind === 'passphrase'} onClose={() => setRotating(false)} />
      </Dialog>
    </section>
  );
}

/** Runs one protection change, announces it and refreshes the status line (protection in force). */
function useProtectionChange() {
  const task = useTask();
  const refresh = useVaultStore((s) => s.refresh);
  /** Runs `step`; on success announces `success` (or what it makes of the step's answer). */
  async function change<T>(step: () => Promise<T>, success: string | ((answer: T) => string)): Promise<boolean> {
    let answer: T | undefined;
    const ok = await task.run(async () => {
      answer = await step();
    });
    if (ok) useUiStore.getState().notify('ok', typeof success === 'string' ? success : success(answer as T));
    await refresh();
    return ok;
  }
  return { ...task, change };
}

function ChangePassphraseForm() {
  const task = useProtectionChange();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState(NO_PASSPHRASE);
  const problem = current === '' ? 'Enter the current passphrase.' : newPassphraseProblem('new', next);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (problem) return;
    await task.change(() => kms('ChangePassphrase', { Passphrase: b64(current), NewPassphrase: b64(next.passphrase) }), 'The vault passphrase was changed.');
    setCurrent('');
    setNext(NO_PASSPHRASE);
  }

  return (
    <form className="stack" onSubmit={(e) => void submit(e)} aria-label="Change passphrase">
      <h3>Change passphrase</h3>
      <label>
        Current passphrase
        <input type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />
      </label>
      <NewPassphraseFields role="new" value={next} onChange={setNext} problem={problem} />
      <div className="row">
        <button type="submit" className="primary" disabled={task.busy || problem !== ''}>
          Change passphrase
        </button>
      </div>
      {task.busy ? <ProgressBar label="Sealing the data key under the new passphrase" /> : null}
      <ErrorLine error={task.error} />
    </form>
  );
}

function ToKeychainForm({ keychain, available }: { keychain: string; available: boolean }) {
  const task = useProtectionChange();
  const [current, setCurrent] = useState('');

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (current === '') return;
    await task.change(() => kms('ChangeProtection', { Protection: 'keychain', Passphrase: b64(current) }), `The data key is now kept in ${keychain}.`);
    setCurrent('');
  }

  return (
    <form className="stack" onSubmit={(e) => void submit(e)} aria-label="Move to the OS keychain">
      <h3>Move to the OS keychain</h3>
      <p className="hint muted">The data key goes to {keychain}; the vault then opens without a passphrase for this user on this machine.</p>
      {!available ? <p className="error">The OS keychain is not answering now.</p> : null}
      <label>
        Current passphrase
        <input type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />
      </label>
      <div className="row">
        <button type="submit" disabled={task.busy || current === '' || !available}>
          Move to the OS keychain
        </button>
      </div>
      <ErrorLine error={task.error} />
    </form>
  );
}

function ToPassphraseForm() {
  const task = useProtectionChange();
  const [next, setNext] = useState(NO_PASSPHRASE);
  const problem = newPassphraseProblem('new', next);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (problem) return;
    await task.change(() => kms('ChangeProtection', { Protection: 'passphrase', NewPassphrase: b64(next.passphrase) }), 'The data key is now protected by a passphrase.');
    setNext(NO_PASSPHRASE);
  }

  return (
    <form className="stack" onSubmit={(e) => void submit(e)} aria-label="Move to a passphrase">
      <h3>Move to a passphrase</h3>
      <p className="hint muted">The data key leaves the OS keychain and is sealed under a passphrase (scrypt). Lost passphrase and no backup = lost keys.</p>
      <NewPassphraseFields role="new" value={next} onChange={setNext} problem={problem} />
      <div className="row">
        <button type="submit" disabled={task.busy || problem !== ''}>
          Move to a passphrase
        </button>
      </div>
      {task.busy ? <ProgressBar label="Sealing the data key under the passphrase" /> : null}
      <ErrorLine error={task.error} />
    </form>
  );
}

function RotateForm({ needsPassphrase, onClose }: { needsPassphrase: boolean; onClose: () => void }) {
  const task = useProtectionChange();
  const [current, setCurrent] = useState('');
  const problem = needsPassphrase && current === '' ? 'Enter the current passphrase.' : '';

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (problem) return;
    const ok = await task.change(
      () => kms('RotateDataKey', needsPassphrase ? { Passphrase: b64(current) } : {}),
      (answer) => `The data key was rotated: ${answer.ResealedSecrets} sealed secrets are now under the new one.`,
    );
    setCurrent('');
    if (ok) onClose();
  }

  return (
    <form className="stack" onSubmit={(e) => void submit(e)}>
      <p>
        Every private key and access-key secret will be opened and sealed again under a new random data key, in one step: if it stops half-way the vault
        still opens with the old key. Backups made before keep opening with their own recovery secrets.
      </p>
      {needsPassphrase ? (
        <label>
          Current passphrase
          <input type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />
        </label>
      ) : null}
      <FormEnd submit="Rotate data key" problem={problem} onCancel={onClose} cancelDisabled={task.busy} busy={task.busy} progress="Sealing every secret again" error={task.error} />
    </form>
  );
}
