// First run (create a vault: OS keychain or passphrase; or restore one from a backup) and unlock,
// with an honest statement of the protection in force and whether the keychain answered.
import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { ErrorLine, ProgressBar, type Failure } from '../components/common.tsx';
import { NO_PASSPHRASE, NewPassphraseFields, newPassphraseProblem } from '../components/backup/NewPassphraseFields.tsx';
import { EMPTY_SECRET, RecoverySecretFields, clearedSecret, secretParams, secretProblem, type SecretDraft } from '../components/backup/RecoverySecretFields.tsx';
import { useUiStore } from '../stores/ui-store.ts';
import { useVaultStore } from '../stores/vault-store.ts';
import '../gate.css';

/** Where a new or restored vault keeps its data key. */
type Protection = 'keychain' | 'passphrase';

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
  const [protection, setProtection] = useState<Protection>(status.KeychainAvailable ? 'keychain' : 'passphrase');
  const [passphrase, setPassphrase] = useState(NO_PASSPHRASE);
  const problem = protection === 'passphrase' ? newPassphraseProblem('vault-first-run', passphrase) : '';
  // Only the repeat differing is said here; a passphrase too short only keeps the button disabled.
  const mismatch = protection === 'passphrase' && passphrase.repeat.length > 0 && passphrase.repeat !== passphrase.passphrase;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (problem) return;
    const ok = await createVault(protection, protection === 'passphrase' ? passphrase.passphrase : undefined);
    // The passphrase goes no further than this call.
    setPassphrase(NO_PASSPHRASE);
    if (ok) setProtection(protection);
  }

  return (
    <>
      <h1 id="gate-title">Create your vault</h1>
      <p>
        A new vault will be created at <code>{status.VaultPath}</code>.
      </p>
      <KeychainState context="create" />
      <form onSubmit={(e) => void submit(e)} className="stack">
        <ProtectionChoice
          legend="How the vault's data key is protected"
          passphraseChoice="Passphrase"
          value={protection}
          onChange={setProtection}
        />
        {protection === 'passphrase' ? (
          <>
            <NewPassphraseFields role="vault-first-run" value={passphrase} onChange={setPassphrase} />
            {mismatch ? <p className="error">The passphrases differ.</p> : null}
          </>
        ) : null}
        <button type="submit" className="primary" disabled={busy || problem !== ''}>
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
  const status = useVaultStore((s) => s.status)!;
  const { busy, error, restoreVault } = useVaultStore();
  const [draft, setDraft] = useState<SecretDraft>(EMPTY_SECRET);
  const [protection, setProtection] = useState<Protection>(status.KeychainAvailable ? 'keychain' : 'passphrase');
  const [passphrase, setPassphrase] = useState(NO_PASSPHRASE);
  const problem = secretProblem(draft) || (protection === 'passphrase' ? newPassphraseProblem('vault-restore', passphrase) : '');

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (problem) return;
    const restored = await restoreVault({
      ...secretParams(draft),
      Protection: protection,
      ...(protection === 'passphrase' ? { NewPassphrase: passphrase.passphrase } : {}),
    });
    // The secrets go no further than this call.
    setDraft(clearedSecret(draft));
    setPassphrase(NO_PASSPHRASE);
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
      <KeychainState context="restore" />
      <form onSubmit={(e) => void submit(e)} className="stack">
        <RecoverySecretFields draft={draft} onChange={setDraft} disabled={busy} />
        <ProtectionChoice legend="How this machine protects the restored vault" passphraseChoice="A new passphrase" value={protection} onChange={setProtection}>
          {protection === 'passphrase' ? <NewPassphraseFields role="vault-restore" value={passphrase} onChange={setPassphrase} /> : null}
        </ProtectionChoice>
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

/**
 * How a new or restored vault's data key is kept on this machine: the OS keychain (offered only
 * while it answers, with what it said when it does not) or a passphrase. `children` (the
 * passphrase fields, where a form keeps them in the group) come after the two choices.
 */
function ProtectionChoice({
  legend,
  passphraseChoice,
  value,
  onChange,
  children,
}: {
  legend: string;
  passphraseChoice: string;
  value: Protection;
  onChange: (next: Protection) => void;
  children?: ReactNode;
}) {
  const id = useId();
  const status = useVaultStore((s) => s.status)!;
  return (
    <fieldset>
      <legend>{legend}</legend>
      <label className="choice">
        <input
          type="radio"
          name={`${id}-protection`}
          value="keychain"
          checked={value === 'keychain'}
          disabled={!status.KeychainAvailable}
          onChange={() => onChange('keychain')}
        />
        <span>
          OS keychain — {status.KeychainBackend}
          {status.KeychainAvailable ? ' (answering)' : ' (not answering)'}
          <span className="choice-note muted">The data key is kept in your login keychain; unlocking needs nothing typed.</span>
        </span>
      </label>
      <label className="choice">
        <input type="radio" name={`${id}-protection`} value="passphrase" checked={value === 'passphrase'} onChange={() => onChange('passphrase')} />
        <span>
          {passphraseChoice}
          <span className="choice-note muted" data-testid="passphrase-meaning">
            The vault's key is wrapped under a passphrase you type at each unlock (scrypt, memory-hard). Nobody can reset it: if it is lost, only a backup (with its own
            recovery secret) brings the keys back.
          </span>
        </span>
      </label>
      {children}
    </fieldset>
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
      {!needsPassphrase ? <KeychainState context="unlock" /> : null}
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

/** What the keychain said, without the CLI's advice to use `deskkms init --passphrase-file` (this screen offers the passphrase itself). */
export function keychainDetail(error: string): string {
  return error.replace(/;?\s*a station without a keychain can use `[^`]*` instead\.?/, '.').replace(/\.\.$/, '.').trim();
}

/**
 * When the OS keychain does not answer: that, in plain words, which keychain was looked for and
 * what to do on this screen, with the keychain's own error (often D-Bus text) behind a disclosure.
 * Nothing when it answers.
 */
function KeychainState({ context }: { context: 'create' | 'restore' | 'unlock' }) {
  const status = useVaultStore((s) => s.status)!;
  const { busy, refresh } = useVaultStore();
  if (status.KeychainAvailable) return null;
  const todo =
    context === 'unlock'
      ? "This vault keeps its data key in that keychain: start or unlock the keychain (log in to the desktop session), then check again and press Unlock."
      : `Protect the ${context === 'create' ? 'new' : 'restored'} vault with a passphrase (chosen below), or start or unlock the keychain and check again.`;
  return (
    <div className="keychain-state" role="note">
      <p data-testid="keychain-state">
        <strong>No keychain answers on this computer.</strong> DeskKMS looked for {status.KeychainBackend} and got no answer. {todo}
      </p>
      <div className="row">
        <button type="button" onClick={() => void refresh()} disabled={busy}>
          Check the keychain again
        </button>
      </div>
      {status.KeychainError ? (
        <details className="keychain-detail">
          <summary>What the keychain said</summary>
          <pre data-testid="keychain-detail">{keychainDetail(status.KeychainError)}</pre>
        </details>
      ) : null}
    </div>
  );
}

/** An absolute path a message names (the file or folder that failed), if any. */
function pathIn(message: string): string | undefined {
  return /(?:^|\s)(\/[^\s;,()]+|[A-Za-z]:\\[^\s;,()]+)/.exec(message)?.[1];
}

const WHAT_TO_DO: Record<string, string> = {
  'Vault.Corrupt':
    'The vault\'s files are damaged or were changed outside DeskKMS. Keep a copy of the vault folder exactly as it is (do not delete it), then restore your keys from your latest backup: move the damaged folder aside, reopen DeskKMS and choose "Restore from a backup".',
  'Vault.AuditBroken':
    "The vault's audit log does not verify: it was damaged or edited. Keep a copy of the vault folder exactly as it is, then restore from your latest backup.",
  'Vault.PermissionDenied': 'DeskKMS may not read or write the vault folder: give your user access to it (owner and mode), then retry.',
  'Vault.ReadOnly': 'The vault folder is on a read-only disk or mount: make it writable, then retry.',
  'Vault.Busy': 'Another DeskKMS process holds the vault: close it, then retry.',
  'Vault.DiskFull': 'The disk holding the vault is full: free some space, then retry.',
  'Vault.IOError': 'The disk holding the vault reported an error: check the disk, keep a copy of the vault folder, then retry.',
  'Unauthorized.LaunchToken':
    'This page was opened with a launch URL that was already used or has expired; the vault itself is untouched. Stop deskkms ui (or npm start) and start it again for a new URL.',
};

/**
 * The vault's status could not be read at all (a damaged database, a folder DeskKMS may not
 * read): what happened, where, the Code, what to do, and Retry.
 */
export function VaultUnavailable({ error }: { error: NonNullable<Failure> }) {
  const { busy, refresh } = useVaultStore();
  const where = pathIn(error.message);
  return (
    <main className="gate vault-unavailable" aria-labelledby="gate-title">
      <h1 id="gate-title">The vault cannot be opened</h1>
      <p role="alert" data-testid="vault-error">
        <code className="error-code">{error.code}</code> {error.message}
      </p>
      {where !== undefined ? (
        <dl className="facts">
          <dt>Where</dt>
          <dd>
            <code>{where}</code>
          </dd>
        </dl>
      ) : null}
      <h2>What to do</h2>
      <p data-testid="vault-error-advice">
        {WHAT_TO_DO[error.code] ?? 'Fix what the message names, then retry. If the vault is damaged, keep a copy of its folder and restore from your latest backup.'}
      </p>
      <div className="row">
        <button type="button" className="primary" onClick={() => void refresh()} disabled={busy}>
          Retry
        </button>
      </div>
    </main>
  );
}
