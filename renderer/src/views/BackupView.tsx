// Backup & recovery: the last verified backup and what was created since, Create backup (with the
// share pages to print), Verify backup, and the vault's protection (passphrase, keychain, data key).
import { CreateBackupPanel } from '../components/backup/CreateBackupPanel.tsx';
import { ProtectionPanel } from '../components/backup/ProtectionPanel.tsx';
import { VerifyBackupPanel } from '../components/backup/VerifyBackupPanel.tsx';
import { formatUtc } from '../components/keys/format.ts';
import { useVaultStore } from '../stores/vault-store.ts';

export function BackupView() {
  const status = useVaultStore((s) => s.status);
  // The workspace refreshes the status (LastBackup, KeyVersionsSinceBackup) whenever a view opens.
  const last = status?.LastBackup;
  return (
    <div className="backup-view stack">
      <section className="panel" aria-labelledby="backup-status-title">
        <h1 id="backup-status-title">Backup &amp; recovery</h1>
        <dl className="facts" data-testid="last-backup">
          <dt>Last verified backup</dt>
          <dd>
            {last ? (
              <>
                {formatUtc(last.Created)} — <code>{last.Path}</code> ({last.Recovery === 'shares' ? 'recovery shares' : 'recovery passphrase'}, backup id{' '}
                <code>{last.BackupId}</code>)
              </>
            ) : (
              'none yet'
            )}
          </dd>
          <dt>Key versions since</dt>
          <dd data-testid="versions-since-backup">{status?.KeyVersionsSinceBackup ?? '?'}</dd>
        </dl>
        {status?.BackupAdvice ? (
          <p className="warning" role="alert" data-testid="backup-advice">
            {status.BackupAdvice}
          </p>
        ) : (
          <p className="ok">Every key version is in the last verified backup.</p>
        )}
      </section>
      <div className="backup-columns">
        <div className="stack">
          <CreateBackupPanel />
          <ProtectionPanel />
        </div>
        <VerifyBackupPanel />
      </div>
    </div>
  );
}
