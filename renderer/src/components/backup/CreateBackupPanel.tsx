// Create backup (the CreateBackup Action through Kms.Call): where the file goes (on the machine that
// runs the vault), and the recovery secret: a recovery passphrase, or M-of-N SLIP-0039 shares. The
// vault writes the file, re-reads and verifies it before it answers. Shares come back once: their
// pages are listed to print or save until Done (or Lock) drops them from the app (backup-store.ts).
import { useId, useState, type FormEvent } from 'react';
import { SHARES_MAX, type ShareInfoParam } from '../../../../core/contract/app-api.ts';
import { call, kms } from '../../api/bridge.ts';
import { useBackupStore } from '../../stores/backup-store.ts';
import { useUiStore } from '../../stores/ui-store.ts';
import { useVaultStore } from '../../stores/vault-store.ts';
import { encodeBase64 } from '../crypto/bytes.ts';
import { ErrorLine, ProgressBar, useTask } from '../common.tsx';
import { formatUtc } from '../keys/format.ts';
import { NO_PASSPHRASE, NewPassphraseFields, newPassphraseProblem } from './NewPassphraseFields.tsx';
import { SharePrintSheet } from './SharePrintSheet.tsx';

const COUNTS = Array.from({ length: SHARES_MAX - 1 }, (_, i) => i + 2);

export function CreateBackupPanel() {
  const id = useId();
  const task = useTask();
  const refresh = useVaultStore((s) => s.refresh);
  const [path, setPath] = useState('');
  const [recovery, setRecovery] = useState<'shares' | 'passphrase'>('shares');
  const [count, setCount] = useState(5);
  const [threshold, setThreshold] = useState(3);
  const [passphrase, setPassphrase] = useState(NO_PASSPHRASE);
  const [overwrite, setOverwrite] = useState(false);
  const { result, setResult, dropShares } = useBackupStore();
  const [printing, setPrinting] = useState<number | undefined>(undefined);

  const problem =
    path.trim() === ''
      ? 'Enter where the backup file goes.'
      : recovery === 'passphrase'
        ? newPassphraseProblem('recovery', passphrase)
        : threshold > count
          ? 'The threshold cannot exceed the number of shares.'
          : '';

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (problem) return;
    const secret = recovery === 'passphrase' ? encodeBase64(new TextEncoder().encode(passphrase.passphrase)) : undefined;
    await task.run(async () => {
      const created = await kms('CreateBackup', {
        Path: path.trim(),
        Recovery: recovery,
        ...(secret !== undefined ? { Passphrase: secret } : { Shares: count, Threshold: threshold }),
        ...(overwrite ? { Overwrite: true } : {}),
      });
      const shares: ShareInfoParam[] = (created.Shares ?? []).map((mnemonic, i) => ({
        index: i + 1,
        count: created.ShareCount ?? created.Shares!.length,
        threshold: created.Threshold ?? 0,
        identifier: created.ShareIdentifier ?? 0,
        backupId: created.BackupId,
        vaultId: created.VaultId,
        created: created.Created,
        mnemonic,
      }));
      const pages = shares.length > 0 ? (await call('Backup.SharePages', { Shares: shares })).Pages : [];
      setResult({ created, shares, pages });
      useUiStore.getState().notify('ok', `Backup written and verified: ${created.Path}`);
    });
    setPassphrase(NO_PASSPHRASE);
    // LastBackup and the advice change with every backup made.
    await refresh();
  }

  function done() {
    setPrinting(undefined);
    // The words leave the app here: nothing keeps them.
    dropShares();
  }

  if (result) {
    const { created, shares, pages } = result;
    const current = printing === undefined ? undefined : { share: shares[printing], page: pages[printing] };
    return (
      <section className="panel stack" aria-labelledby={`${id}-title`}>
        <h2 id={`${id}-title`}>Backup created</h2>
        <dl className="facts" data-testid="created-backup">
          <dt>File</dt>
          <dd className="mono">{created.Path}</dd>
          <dt>Backup id</dt>
          <dd className="mono">{created.BackupId}</dd>
          <dt>Created</dt>
          <dd>{formatUtc(created.Created)}</dd>
          <dt>Size</dt>
          <dd>{created.Size.toLocaleString('en-US')} bytes</dd>
          <dt>Holds</dt>
          <dd>
            {created.KeyCount} keys, {created.KeyVersionCount} key versions; audit log up to entry {created.AuditHead.Seq}
          </dd>
          <dt>Opened with</dt>
          <dd>{created.Recovery === 'shares' ? `any ${created.Threshold} of ${created.ShareCount} recovery shares` : 'the recovery passphrase'}</dd>
        </dl>
        {shares.length > 0 ? (
          <>
            <p className="warning" role="alert">
              <strong>The share words are shown this once.</strong> Print or save every share now and give each to a different keeper: DeskKMS keeps no
              copy, and without {created.Threshold} of them the backup cannot be opened. Done (or Lock) forgets them.
            </p>
            <ul className="plain-list share-list">
              {shares.map((s, i) => (
                <li key={s.index} className="row">
                  <span className="grow">
                    Share {s.index} of {s.count}
                  </span>
                  <button type="button" onClick={() => setPrinting(i)}>
                    Open page to print (share {s.index})
                  </button>
                </li>
              ))}
            </ul>
            <div className="row">
              <button type="button" className="primary" onClick={done}>
                Done: every share is printed or saved
              </button>
            </div>
          </>
        ) : (
          <div className="row">
            <button type="button" onClick={() => setResult(undefined)}>
              Make another backup
            </button>
          </div>
        )}
        {current?.share && current.page ? <SharePrintSheet share={current.share} page={current.page} onClose={() => setPrinting(undefined)} /> : null}
      </section>
    );
  }

  return (
    <section className="panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Create backup</h2>
      <p className="muted hint">
        One file holding every key, sealed under a recovery secret you choose. Keep it on another disk; with its recovery secret it restores this vault on any
        machine.
      </p>
      <form className="stack" onSubmit={(e) => void submit(e)}>
        <label>
          Backup file (on this machine)
          <input value={path} spellCheck={false} placeholder="/media/usb/deskkms.backup" onChange={(e) => setPath(e.target.value)} />
        </label>
        <label className="choice">
          <input type="checkbox" checked={overwrite} onChange={(e) => setOverwrite(e.target.checked)} />
          <span>Replace the file if it exists</span>
        </label>
        <fieldset>
          <legend>Recovery secret</legend>
          <label className="choice">
            <input type="radio" name={`${id}-recovery`} checked={recovery === 'shares'} onChange={() => setRecovery('shares')} />
            <span>Recovery shares (SLIP-0039): split among keepers, any M of N restore</span>
          </label>
          <label className="choice">
            <input type="radio" name={`${id}-recovery`} checked={recovery === 'passphrase'} onChange={() => setRecovery('passphrase')} />
            <span>Recovery passphrase</span>
          </label>
          {recovery === 'shares' ? (
            <div className="row">
              <label>
                Shares (N)
                <select
                  value={count}
                  onChange={(e) => {
                    const n = Number(e.target.value);
                    setCount(n);
                    if (threshold > n) setThreshold(n);
                  }}
                >
                  {COUNTS.map((n) => (
                    <option key={n} value={n}>
                      {n}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                Needed to restore (M)
                <select value={threshold} onChange={(e) => setThreshold(Number(e.target.value))}>
                  {COUNTS.filter((m) => m <= count).map((m) => (
                    <option key={m} value={m}>
                      {m}
                    </option>
                  ))}
                </select>
              </label>
              <span className="muted">
                Any {threshold} of {count} shares restore the backup.
              </span>
            </div>
          ) : (
            <NewPassphraseFields role="recovery" value={passphrase} onChange={setPassphrase} />
          )}
        </fieldset>
        {problem && path.trim() !== '' ? <p className="muted">{problem}</p> : null}
        <div className="row">
          <button type="submit" className="primary" disabled={task.busy || problem !== ''}>
            Create backup
          </button>
        </div>
        {task.busy ? <ProgressBar label="Writing and verifying the backup" /> : null}
        <ErrorLine error={task.error} />
      </form>
    </section>
  );
}
