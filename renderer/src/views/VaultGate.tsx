// First run (create a vault: OS keychain or passphrase; or restore one from a backup) and unlock,
// with an honest statement of the protection in force and whether the keychain answered.
import { useId, useState, type FormEvent } from 'react';
import { PASSPHRASE_MIN } from '../../../core/contract/app-api.ts';
import { ErrorLine, ProgressBar } from '../components/common.tsx';
import { EMPTY_SECRET, RecoverySecretFields, clearedSecret, secretParams, secretProblem, type SecretDraft } from '../components/backup/RecoverySecretFields.tsx';
import { useUiStore } from '../stores/ui-store.ts';
import { useVaultStore } from '../stores/vault-store.ts';

/** First run: "Create a vault" or "Restore from a backup", side by side. */
export function FirstRun() {
  const [mode, setModeState] = useState<'create' | 'restore'>('create');
  const clearError = useVaultStore((s) => s.clearError);
  function setMode(next: 'create' | 'restore') {
    clearError();
    setModeState(next);
  }
  return (
    <main className={mode === 'restore' ? 'gate gate-wide' : 'gate'} aria-labelledby="gate-title">
      <div className="row gate-modes" role="group" aria-label="First run">
        <button type="button" className={mode === 'create' ? 'primary' : undefined} aria-pressed={mode === 'create'} onClick={() => setMode('create')}>
          Create a vault
        </button>
        <button type="button" className={mode === 'restore' ? 'primary' : undefined} aria-pressed={mode === 'restore'} onClick={() => setMode('restore')}>
          Restore from a backup
        </button>
      </div>
      {mode === 'create' ? <CreateVault /> : <RestoreVault />}
    </main>
  );
}

function CreateVault() {
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
    <>
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
    </>
  );
}

/**
 * Restore from a backup (Vault.Restore): the backup file and its recovery secret, and how this
 * machine protects the restored vault (its OS keychain, or a new passphrase). The vault opens
 * unlocked with every key the backup held; its audit log continues from the backup's and records the restore.
 */
function RestoreVault() {
  const id = useId();
  const status = useVaultStore((s) => s.status)!;
  const { busy, error, restoreVault } = useVaultStore();
  const [draft, setDraft] = useState<SecretDraft>(EMPTY_SECRET);
  const [protection, setProtection] = useState<'keychain' | 'passphrase'>(status.KeychainAvailable ? 'keychain' : 'passphrase');
  const [passphrase, setPassphrase] = useState('');
  const [confirm, setConfirm] = useState('');
  const problem =
    secretProblem(draft) ||
    (protection === 'passphrase' && passphrase.length < PASSPHRASE_MIN
      ? `The vault passphrase needs at least ${PASSPHRASE_MIN} characters.`
      : protection === 'passphrase' && confirm !== passphrase
        ? 'The passphrases differ.'
        : '');

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (problem) return;
    const restored = await restoreVault({
      ...secretParams(draft),
      Protection: protection,
      ...(protection === 'passphrase' ? { NewPassphrase: passphrase } : {}),
    });
    // The secrets go no further than this call.
    setDraft(clearedSecret(draft));
    setPassphrase('');
    setConfirm('');
    if (restored) {
      useUiStore
        .getState()
        .notify('ok', `Restored ${restored.KeyCount} keys (${restored.KeyVersionCount} key versions) from backup ${restored.BackupId}; the audit log continues from entry ${restored.AuditHead.Seq}.`);
    }
  }

  return (
    <>
      <h1 id="gate-title">Restore from a backup</h1>
      <p>
        The vault in the backup will be recreated at <code>{status.VaultPath}</code>, with every key, alias and its audit log.
      </p>
      <form onSubmit={(e) => void submit(e)} className="stack">
        <RecoverySecretFields draft={draft} onChange={setDraft} disabled={busy} />
        <fieldset>
          <legend>How this machine protects the restored vault</legend>
          <label className="choice">
            <input
              type="radio"
              name={`${id}-protection`}
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
            <input type="radio" name={`${id}-protection`} checked={protection === 'passphrase'} onChange={() => setProtection('passphrase')} />
            <span>A new passphrase (scrypt)</span>
          </label>
          {protection === 'passphrase' ? (
            <>
              <label>
                Vault passphrase (at least {PASSPHRASE_MIN} characters)
                <input type="password" autoComplete="new-password" value={passphrase} onChange={(e) => setPassphrase(e.target.value)} />
              </label>
              <label>
                Repeat vault passphrase
                <input type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} />
              </label>
            </>
          ) : null}
        </fieldset>
        {problem && draft.path !== '' ? <p className="muted">{problem}</p> : null}
        <button type="submit" className="primary" disabled={busy || problem !== ''}>
          Restore vault
        </button>
        {busy ? <ProgressBar label="Restoring the vault and checking every key" /> : null}
        <ErrorLine error={error} />
      </form>
    </>
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
