// First run (create a vault: OS keychain or passphrase) and unlock, with an honest statement of
// the protection in force and whether the keychain answered.
import { useState, type FormEvent } from 'react';
import { PASSPHRASE_MIN } from '../../../core/contract/app-api.ts';
import { ErrorLine, ProgressBar } from '../components/common.tsx';
import { useVaultStore } from '../stores/vault-store.ts';

export function FirstRun() {
  const status = useVaultStore((s) => s.status)!;
  const { busy, error, createVault } = useVaultStore();
  const [protection, setProtection] = useState<'keychain' | 'passphrase'>(status.KeychainAvailable ? 'keychain' : 'passphrase');
  const [passphrase, setPassphrase] = useState('');
  const [confirm, setConfirm] = useState('');
  const mismatch = protection === 'passphrase' && confirm.length > 0 && confirm !== passphrase;
  const tooShort = protection === 'passphrase' && passphrase.length < PASSPHRASE_MIN;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (protection === 'passphrase' && (mismatch || tooShort || confirm !== passphrase)) return;
    const ok = await createVault(protection, protection === 'passphrase' ? passphrase : undefined);
    // The passphrase goes no further than this call.
    setPassphrase('');
    setConfirm('');
    if (ok) setProtection(protection);
  }

  return (
    <main className="gate" aria-labelledby="gate-title">
      <h1 id="gate-title">Create your vault</h1>
      <p>
        A new vault will be created at <code>{status.VaultPath}</code>.
      </p>
      <form onSubmit={(e) => void submit(e)} className="stack">
        <fieldset>
          <legend>How the vault's data key is protected</legend>
          <label className="choice">
            <input
              type="radio"
              name="protection"
              value="keychain"
              checked={protection === 'keychain'}
              disabled={!status.KeychainAvailable}
              onChange={() => setProtection('keychain')}
            />
            <span>
              OS keychain — {status.KeychainBackend}
              {status.KeychainAvailable ? ' (answering)' : ` — not available: ${status.KeychainError ?? 'no answer'}`}
            </span>
          </label>
          <label className="choice">
            <input type="radio" name="protection" value="passphrase" checked={protection === 'passphrase'} onChange={() => setProtection('passphrase')} />
            <span>Passphrase (scrypt, memory-hard) — for stations without a keychain. Lost passphrase = lost keys.</span>
          </label>
        </fieldset>
        {protection === 'passphrase' ? (
          <>
            <label>
              Passphrase (at least {PASSPHRASE_MIN} characters)
              <input type="password" autoComplete="new-password" value={passphrase} onChange={(e) => setPassphrase(e.target.value)} />
            </label>
            <label>
              Repeat passphrase
              <input type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} />
            </label>
            {mismatch ? <p className="error">The passphrases differ.</p> : null}
          </>
        ) : null}
        <button type="submit" className="primary" disabled={busy || (protection === 'passphrase' && (tooShort || confirm !== passphrase))}>
          Create vault
        </button>
        {busy ? <ProgressBar label="Creating the vault" /> : null}
        <ErrorLine error={error} />
      </form>
    </main>
  );
}

export function Unlock() {
  const status = useVaultStore((s) => s.status)!;
  const { busy, error, unlock } = useVaultStore();
  const [passphrase, setPassphrase] = useState('');
  const needsPassphrase = status.ProtectionKind === 'passphrase';

  async function submit(event: FormEvent) {
    event.preventDefault();
    await unlock(needsPassphrase ? passphrase : undefined);
    setPassphrase('');
  }

  return (
    <main className="gate" aria-labelledby="gate-title">
      <h1 id="gate-title">Vault locked</h1>
      <dl className="facts">
        <dt>Vault</dt>
        <dd>
          <code>{status.VaultPath}</code>
        </dd>
        <dt>Protection</dt>
        <dd data-testid="protection">{status.Protection}</dd>
        <dt>Keys</dt>
        <dd>{status.KeyCount}</dd>
      </dl>
      {!needsPassphrase && !status.KeychainAvailable ? (
        <p className="error">The OS keychain ({status.KeychainBackend}) is not answering: {status.KeychainError}</p>
      ) : null}
      <form onSubmit={(e) => void submit(e)} className="stack">
        {needsPassphrase ? (
          <label>
            Passphrase
            <input type="password" autoComplete="current-password" autoFocus value={passphrase} onChange={(e) => setPassphrase(e.target.value)} />
          </label>
        ) : (
          <p>The data key is read from {status.KeychainBackend}.</p>
        )}
        <button type="submit" className="primary" disabled={busy || (needsPassphrase && passphrase.length === 0)}>
          Unlock
        </button>
        {busy ? <ProgressBar label="Unlocking" /> : null}
        <ErrorLine error={error} />
      </form>
    </main>
  );
}
