// What a backup holds once opened (Backup.Verify, or Vault.Restore's answer): its ids, counts, the
// audit head it carries, and every key with its aliases and versions.
import type { BackupContentsView } from '../../../../core/contract/app-api.ts';
import { displayText } from '../../../../core/contract/escape-text.ts';
import { formatUtc } from '../keys/format.ts';

export function BackupContents({ contents, title }: { contents: BackupContentsView; title: string }) {
  return (
    <section className="stack backup-contents" aria-label={title} data-testid="backup-contents">
      <h3>{title}</h3>
      <dl className="facts">
        <dt>Backup id</dt>
        <dd className="mono">{contents.BackupId}</dd>
        <dt>Vault id</dt>
        <dd className="mono">{contents.VaultId}</dd>
        <dt>Created</dt>
        <dd>{formatUtc(contents.Created)}</dd>
        <dt>Size</dt>
        <dd>{contents.Size.toLocaleString('en-US')} bytes</dd>
        <dt>Opened with</dt>
        <dd>{contents.Recovery === 'shares' ? `${contents.Threshold ?? '?'} of ${contents.ShareCount ?? '?'} recovery shares` : 'the recovery passphrase'}</dd>
        <dt>Keys</dt>
        <dd data-testid="backup-key-count">
          {contents.KeyCount} keys, {contents.KeyVersionCount} key versions, {contents.AccessKeyCount} access keys
        </dd>
        {contents.RemoteConnectionCount ? (
          <>
            <dt>Remote connections</dt>
            <dd>{contents.RemoteConnectionCount} (their access key secrets stay in the old machine's keychain: add them again after a restore)</dd>
          </>
        ) : null}
        <dt>Private keys checked</dt>
        <dd>{contents.PrivateKeysChecked} (each opened with the backup's data key)</dd>
        <dt>Audit head</dt>
        <dd className="mono" data-testid="backup-audit-head">
          entry {contents.AuditHead.Seq}, {contents.AuditHead.Hash}
        </dd>
      </dl>
      {contents.Keys.length > 0 ? (
        <table className="backup-keys">
          <thead>
            <tr>
              <th>Key</th>
              <th>Spec</th>
              <th>Usage</th>
              <th>State</th>
              <th>Versions</th>
            </tr>
          </thead>
          <tbody>
            {contents.Keys.map((k) => (
              <tr key={k.KeyId}>
                <td>
                  {k.Aliases.length > 0 ? <div>{k.Aliases.map(displayText).join(', ')}</div> : null}
                  <code>{k.KeyId}</code>
                </td>
                <td>{k.KeySpec}</td>
                <td>{k.KeyUsage}</td>
                <td>{k.KeyState}</td>
                <td>{k.Versions.length}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">The backup holds no keys.</p>
      )}
    </section>
  );
}
