// The recovery secret of a backup, as Verify and Restore ask for it: the backup file's path (on the
// machine that runs the vault), its header read without a secret (Backup.Inspect: passphrase or
// shares, and how many shares restore it), then the recovery passphrase or one field per share
// (typed or pasted words, or a share file loaded). The secret stays in this form's state until the
// call and is cleared after it.
import { useId, useState } from 'react';
import { SHARES_MAX, type BackupHeaderView } from '../../../../core/contract/app-api.ts';
import { call } from '../../api/bridge.ts';
import { ErrorLine, FileInput, useTask } from '../common.tsx';
import { formatUtc } from '../keys/format.ts';

export interface SecretDraft {
  readonly path: string;
  readonly header: BackupHeaderView | undefined;
  readonly kind: 'passphrase' | 'shares';
  readonly passphrase: string;
  readonly shares: readonly string[];
}

export const EMPTY_SECRET: SecretDraft = { path: '', header: undefined, kind: 'shares', passphrase: '', shares: ['', '', ''] };

/** What keeps the secret from being sent, "" when nothing does. */
export function secretProblem(draft: SecretDraft): string {
  if (draft.path.trim() === '') return 'Enter the backup file.';
  if (draft.kind === 'passphrase') return draft.passphrase === '' ? 'Enter the recovery passphrase.' : '';
  const given = draft.shares.filter((s) => s.trim() !== '').length;
  if (given === 0) return 'Enter the shares.';
  const threshold = draft.header?.Threshold;
  if (threshold !== undefined && given < threshold) return `This backup needs ${threshold} shares; ${given} entered.`;
  return '';
}

/** The secret as Backup.Verify and Vault.Restore take it. */
export function secretParams(draft: SecretDraft): { Path: string; Passphrase: string } | { Path: string; Shares: string[] } {
  const Path = draft.path.trim();
  if (draft.kind === 'passphrase') return { Path, Passphrase: draft.passphrase };
  return { Path, Shares: draft.shares.filter((s) => s.trim() !== '') };
}

/** The draft with the secret dropped (after a call, success or not), the path and header kept. */
export function clearedSecret(draft: SecretDraft): SecretDraft {
  return { ...draft, passphrase: '', shares: draft.shares.map(() => '') };
}

export function RecoverySecretFields({ draft, onChange, disabled }: { draft: SecretDraft; onChange: (next: SecretDraft) => void; disabled: boolean }) {
  const id = useId();
  const inspect = useTask();
  const [loadError, setLoadError] = useState<string | undefined>(undefined);
  const header = draft.header;

  async function readHeader() {
    await inspect.run(async () => {
      const read = await call('Backup.Inspect', { Path: draft.path.trim() });
      const count = read.Recovery === 'shares' ? Math.max(read.Threshold ?? 2, draft.shares.filter((s) => s.trim() !== '').length) : draft.shares.length;
      onChange({ ...draft, header: read, kind: read.Recovery, shares: resize(draft.shares, count) });
    });
  }

  function setShare(i: number, text: string) {
    onChange({ ...draft, shares: draft.shares.map((s, j) => (j === i ? text : s)) });
  }

  async function loadShare(i: number, file: File | undefined) {
    setLoadError(undefined);
    if (!file) return;
    if (file.size > 64 * 1024) {
      setLoadError(`${file.name} is over 64 KiB: not a share file.`);
      return;
    }
    setShare(i, await file.text());
  }

  return (
    <div className="stack">
      <div className="row backup-path">
        <label className="grow">
          Backup file
          <input
            value={draft.path}
            disabled={disabled}
            spellCheck={false}
            placeholder="/media/usb/deskkms.backup"
            onChange={(e) => onChange({ ...draft, path: e.target.value, header: undefined })}
          />
        </label>
        <button type="button" onClick={() => void readHeader()} disabled={disabled || inspect.busy || draft.path.trim() === ''}>
          Read backup header
        </button>
      </div>
      <ErrorLine error={inspect.error} />
      {header ? (
        <dl className="facts" data-testid="backup-header">
          <dt>Backup id</dt>
          <dd className="mono">{header.BackupId}</dd>
          <dt>Vault id</dt>
          <dd className="mono">{header.VaultId}</dd>
          <dt>Created</dt>
          <dd>{formatUtc(header.Created)}</dd>
          <dt>Opened with</dt>
          <dd>
            {header.Recovery === 'shares'
              ? `any ${header.Threshold ?? '?'} of ${header.ShareCount ?? '?'} recovery shares (share set ${header.ShareIdentifier ?? '?'})`
              : 'its recovery passphrase'}
          </dd>
        </dl>
      ) : null}
      <fieldset disabled={disabled}>
        <legend>Recovery secret</legend>
        <div className="row">
          <label className="choice">
            <input
              type="radio"
              name={`${id}-kind`}
              checked={draft.kind === 'shares'}
              disabled={header !== undefined && header.Recovery !== 'shares'}
              onChange={() => onChange({ ...draft, kind: 'shares' })}
            />
            <span>Recovery shares</span>
          </label>
          <label className="choice">
            <input
              type="radio"
              name={`${id}-kind`}
              checked={draft.kind === 'passphrase'}
              disabled={header !== undefined && header.Recovery !== 'passphrase'}
              onChange={() => onChange({ ...draft, kind: 'passphrase' })}
            />
            <span>Recovery passphrase</span>
          </label>
        </div>
        {draft.kind === 'passphrase' ? (
          <label>
            Recovery passphrase
            <input type="password" autoComplete="off" value={draft.passphrase} onChange={(e) => onChange({ ...draft, passphrase: e.target.value })} />
          </label>
        ) : (
          <>
            <p className="hint muted">Type or paste each share's words (or load its share file). The words of one share go in one field; lines starting with # are ignored.</p>
            {draft.shares.map((text, i) => (
              <div key={i} className="share-entry">
                {/* A label beside the field, not around it: a textarea's text (the share) would become part of a wrapping label's. */}
                <label htmlFor={`${id}-share-${i}`}>Share {i + 1}</label>
                <textarea
                  id={`${id}-share-${i}`}
                  className="short mono"
                  spellCheck={false}
                  autoComplete="off"
                  value={text}
                  onChange={(e) => setShare(i, e.target.value)}
                />
                <div className="row">
                  <label className="file-label" htmlFor={`${id}-file-${i}`}>
                    Load share file {i + 1}
                  </label>
                  <FileInput id={`${id}-file-${i}`} accept=".txt,text/plain" onFile={(f) => void loadShare(i, f)} />
                </div>
              </div>
            ))}
            <div className="row">
              <button type="button" onClick={() => onChange({ ...draft, shares: [...draft.shares, ''] })} disabled={draft.shares.length >= SHARES_MAX}>
                Add a share
              </button>
              {draft.shares.length > 1 ? (
                <button type="button" onClick={() => onChange({ ...draft, shares: draft.shares.slice(0, -1) })}>
                  Remove the last share field
                </button>
              ) : null}
            </div>
            {loadError ? <p className="error">{loadError}</p> : null}
          </>
        )}
      </fieldset>
    </div>
  );
}

function resize(shares: readonly string[], count: number): string[] {
  const kept = shares.filter((s) => s.trim() !== '');
  while (kept.length < count) kept.push('');
  return kept;
}
