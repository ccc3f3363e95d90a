// Verify backup (Backup.Verify): opens a backup file with its recovery secret and lists what it
// holds, without touching this vault (or any other). The same fields restore a vault on first run.
import { useId, useState, type FormEvent } from 'react';
import type { BackupContentsView } from '../../../../core/contract/app-api.ts';
import { call } from '../../api/bridge.ts';
import { ErrorLine, ProgressBar, useTask } from '../common.tsx';
import { BackupContents } from './BackupContents.tsx';
import { EMPTY_SECRET, RecoverySecretFields, clearedSecret, secretParams, secretProblem, type SecretDraft } from './RecoverySecretFields.tsx';

export function VerifyBackupPanel() {
  const id = useId();
  const task = useTask();
  const [draft, setDraft] = useState<SecretDraft>(EMPTY_SECRET);
  const [contents, setContents] = useState<BackupContentsView | undefined>(undefined);
  const problem = secretProblem(draft);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (problem) return;
    setContents(undefined);
    await task.run(async () => setContents(await call('Backup.Verify', secretParams(draft))));
    setDraft(clearedSecret(draft));
  }

  return (
    <section className="panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Verify backup</h2>
      <p className="muted hint">Proves a backup opens with its recovery secret and lists what it holds. Nothing is restored and no vault is touched.</p>
      <form className="stack" onSubmit={(e) => void submit(e)}>
        <RecoverySecretFields draft={draft} onChange={setDraft} disabled={task.busy} />
        <div className="row">
          <button type="submit" className="primary" disabled={task.busy || problem !== ''}>
            Verify backup
          </button>
          {problem && draft.path !== '' && !contents ? <span className="muted">{problem}</span> : null}
        </div>
        {task.busy ? <ProgressBar label="Opening the backup and checking every key" /> : null}
        <ErrorLine error={task.error} />
      </form>
      {contents ? (
        <>
          <p className="verdict valid" role="status">
            The backup opens: {contents.KeyCount} keys, {contents.KeyVersionCount} key versions, every private key checked.
          </p>
          <BackupContents contents={contents} title="What the backup holds" />
        </>
      ) : null}
    </section>
  );
}
