// The app shell: the vault gate (first run: create or restore; unlock) until the vault is unlocked,
// then the main views behind a tab bar, with the protection in force, the backup state (a warning
// when keys were created since the last verified backup) and a Lock button always visible. While
// the agent runs, its confirmations show over every view (AgentConfirmDialog).
import { useEffect } from 'react';
import { Notices } from './components/Notices.tsx';
import { AgentConfirmDialog } from './components/agent/AgentConfirmDialog.tsx';
import { resetUiStore, useUiStore, type View } from './stores/ui-store.ts';
import { useVaultStore, vaultPhase } from './stores/vault-store.ts';
import { resetKeysStore } from './stores/keys-store.ts';
import { resetAuditStore } from './stores/audit-store.ts';
import { resetBackupStore } from './stores/backup-store.ts';
import { resetAgentPending, useAgentStore } from './stores/agent-store.ts';
import { resetAirGapStore } from './stores/airgap-store.ts';
import { AgentView } from './views/AgentView.tsx';
import { AirGapView } from './views/AirGapView.tsx';
import { AuditView } from './views/AuditView.tsx';
import { BackupView } from './views/BackupView.tsx';
import { CryptoView } from './views/CryptoView.tsx';
import { KeysView } from './views/KeysView.tsx';
import { SignVerifyView } from './views/SignVerifyView.tsx';
import { FirstRun, Unlock, VaultUnavailable } from './views/VaultGate.tsx';

const VIEWS: readonly { view: View; label: string }[] = [
  { view: 'keys', label: 'Keys' },
  { view: 'sign', label: 'Sign & verify' },
  { view: 'crypto', label: 'Encrypt & decrypt' },
  { view: 'audit', label: 'Audit log' },
  { view: 'backup', label: 'Backup & recovery' },
  { view: 'agent', label: 'SSH agent' },
  { view: 'airgap', label: 'Air gap' },
];

export function App() {
  const phase = useVaultStore(vaultPhase);
  const { status, error, refresh } = useVaultStore();

  useEffect(() => {
    void refresh();
  }, [refresh]);

  return (
    <>
      {phase === 'loading' ? (
        <main className="gate">
          <p>Opening the vault…</p>
        </main>
      ) : phase === 'failed' && error ? (
        <VaultUnavailable error={error} />
      ) : phase === 'first-run' ? (
        <FirstRun />
      ) : phase === 'locked' ? (
        <Unlock />
      ) : (
        <Workspace protection={status?.Protection ?? ''} />
      )}
      <Notices />
    </>
  );
}

function Workspace({ protection }: { protection: string }) {
  const view = useUiStore((s) => s.view);
  const show = useUiStore((s) => s.show);
  const lock = useVaultStore((s) => s.lock);
  const refresh = useVaultStore((s) => s.refresh);
  const resumeAgent = useAgentStore((s) => s.resume);

  // Unlocked: the agent runs again if the user left it on (its choice is kept in this window's storage).
  useEffect(() => {
    void resumeAgent().then((failed) => {
      if (failed) useUiStore.getState().notify('error', `The SSH agent you left on did not start again: ${failed.message}`, failed.code);
    });
  }, [resumeAgent]);

  // The backup state changes as keys are made (here or from the CLI): read again as each view opens.
  useEffect(() => {
    void refresh();
  }, [view, refresh]);

  async function lockVault() {
    await lock();
    // Nothing about the keys stays in memory (or on screen) once locked.
    resetKeysStore();
    resetAuditStore();
    resetBackupStore();
    resetAgentPending();
    resetAirGapStore();
    resetUiStore();
  }

  return (
    <div className="workspace">
      <header className="topbar">
        <span className="brand">DeskKMS</span>
        <nav aria-label="Main" className="tabs" role="tablist">
          {VIEWS.map((v) => (
            <button
              key={v.view}
              type="button"
              role="tab"
              aria-selected={view === v.view}
              className={view === v.view ? 'tab active' : 'tab'}
              onClick={() => show(v.view)}
            >
              {v.label}
            </button>
          ))}
        </nav>
        <BackupState onOpen={() => show('backup')} />
        <span className="protection" title="How the vault's data key is protected" data-testid="protection">
          {protection}
        </span>
        <button type="button" onClick={() => void lockVault()}>
          Lock
        </button>
      </header>
      <div className="view" role="tabpanel">
        {view === 'keys' ? (
          <KeysView />
        ) : view === 'sign' ? (
          <SignVerifyView />
        ) : view === 'crypto' ? (
          <CryptoView />
        ) : view === 'backup' ? (
          <BackupView />
        ) : view === 'agent' ? (
          <AgentView />
        ) : view === 'airgap' ? (
          <AirGapView />
        ) : (
          <AuditView />
        )}
      </div>
      <AgentConfirmDialog />
    </div>
  );
}

/** The backup state in the top bar: the last verified backup's day, or a warning that opens Backup & recovery. */
function BackupState({ onOpen }: { onOpen: () => void }) {
  const status = useVaultStore((s) => s.status);
  if (!status) return null;
  const since = status.KeyVersionsSinceBackup ?? 0;
  const text = status.BackupAdvice
    ? status.LastBackup
      ? `${since} key version${since === 1 ? '' : 's'} not backed up`
      : 'No backup yet'
    : status.LastBackup
      ? `Backed up ${status.LastBackup.Created.slice(0, 10)}`
      : undefined;
  if (text === undefined) return null;
  return (
    <button
      type="button"
      className={status.BackupAdvice ? 'backup-state advised' : 'backup-state'}
      title={status.BackupAdvice ?? `Last verified backup: ${status.LastBackup?.Path ?? ''}`}
      onClick={onOpen}
      data-testid="backup-state"
    >
      {status.BackupAdvice ? '⚠ ' : ''}
      {text}
    </button>
  );
}
