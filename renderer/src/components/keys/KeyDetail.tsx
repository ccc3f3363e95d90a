// The selected key: metadata (Keys.Detail adds the Arn to the inventory's summary, and loads the
// versions' public keys and certificates for the panes below in the same one audited read),
// description (UpdateKeyDescription), Enable/Disable, schedule/cancel deletion with the pending
// date shown, aliases, tags and versions.
import { useState, type FormEvent } from 'react';
import type { KeySummary } from '../../../../core/contract/app-api.ts';
import { kms } from '../../api/bridge.ts';
import { CopyButton } from '../CopyButton.tsx';
import { ErrorLine } from '../common.tsx';
import { KeyTransfer } from '../transfer/KeyTransfer.tsx';
import { daysUntil, formatUtc, keyDisplayName } from './format.ts';
import { KeyAliases, KeyTags } from './KeyLabels.tsx';
import { KeyDetailContext, useKeyDetail, useKeyDetailLoader } from './key-detail-data.ts';
import { isKeySpec, isSymmetricSpec } from '../../../../core/contract/specs.ts';
import { KeyVersions } from './KeyVersions.tsx';
import { ScheduleDeletionDialog } from './ScheduleDeletionDialog.tsx';
import { useKmsAction } from './use-kms-action.ts';

export function KeyDetail({ keySummary }: { keySummary: KeySummary }) {
  const k = keySummary;
  // Keys.Detail: the Arn, the versions, their public keys and certificates in one audited read.
  const detailState = useKeyDetailLoader(k);
  const metadata = detailState.detail?.KeyMetadata;

  return (
    <KeyDetailContext.Provider value={detailState}>
    <article className="key-detail stack" aria-labelledby="key-detail-title">
      <header className="stack">
        <h2 id="key-detail-title">{keyDisplayName(k)}</h2>
        <div className="row">
          <span className={`badge ${k.KeyState}`} data-testid="key-state">
            {k.KeyState}
          </span>
          <span className="muted">
            {k.KeySpec} · {k.KeyUsage}
          </span>
          {k.KeyState === 'PendingDeletion' && k.DeleteDate ? <span className="error">deletion due {formatUtc(k.DeleteDate)}</span> : null}
        </div>
      </header>
      <dl className="facts">
        <dt>KeyId</dt>
        <dd>
          <code data-testid="key-id">{k.KeyId}</code>
          <CopyButton text={k.KeyId} what="KeyId" />
        </dd>
        <dt>Arn</dt>
        <dd>
          <code data-testid="key-arn">{metadata?.Arn ?? '…'}</code>
          {metadata ? <CopyButton text={metadata.Arn} what="Arn" /> : null}
        </dd>
        <dt>Spec</dt>
        <dd>{k.KeySpec}</dd>
        <dt>Usage</dt>
        <dd>{k.KeyUsage}</dd>
        <dt>State</dt>
        <dd>{k.KeyState}</dd>
        <dt>Origin</dt>
        <dd>{k.Origin}</dd>
        <dt>Created</dt>
        <dd>{formatUtc(k.CreationDate)}</dd>
        <dt>Exportable</dt>
        <dd>{k.Exportable ? 'Yes (versions may be exported, encrypted)' : 'No'}</dd>
      </dl>
      <Description keySummary={k} />
      <StateActions keySummary={k} />
      <KeyAliases keySummary={k} />
      <KeyTags keySummary={k} />
      {isKeySpec(k.KeySpec) && isSymmetricSpec(k.KeySpec) ? <RotationPolicy keySummary={k} /> : null}
      <KeyTransfer keySummary={k} />
      <KeyVersions keySummary={k} />
    </article>
    </KeyDetailContext.Provider>
  );
}

function PendingDeletion({ deleteDate }: { deleteDate: string }) {
  const days = daysUntil(deleteDate);
  return (
    <p className="deletion-pending" role="status" data-testid="delete-date">
      Scheduled for deletion on <strong>{formatUtc(deleteDate)}</strong>
      {days > 0 ? ` (in ${days} day${days === 1 ? '' : 's'})` : ' (due now)'}. Cancel deletion to keep the key.
    </p>
  );
}

function Description({ keySummary }: { keySummary: KeySummary }) {
  const [draft, setDraft] = useState<string | undefined>(undefined);
  const action = useKmsAction();

  async function save(event: FormEvent) {
    event.preventDefault();
    if (draft === undefined) return;
    const text = draft;
    if (await action.run('Update description', () => kms('UpdateKeyDescription', { KeyId: keySummary.KeyId, Description: text }), 'Description saved')) {
      setDraft(undefined);
    }
  }

  return (
    <section className="stack" aria-labelledby="key-description-title">
      <h3 id="key-description-title">Description</h3>
      {draft === undefined ? (
        <div className="row">
          <p className={keySummary.Description ? 'description' : 'muted description'}>{keySummary.Description || 'No description.'}</p>
          <button type="button" onClick={() => setDraft(keySummary.Description)}>
            Edit description
          </button>
        </div>
      ) : (
        <form className="stack" onSubmit={(e) => void save(e)}>
          <label>
            New description
            <textarea className="short" value={draft} autoFocus onChange={(e) => setDraft(e.target.value)} />
          </label>
          <div className="row">
            <button type="submit" className="primary" disabled={action.busy !== undefined}>
              Save description
            </button>
            <button type="button" onClick={() => setDraft(undefined)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      <ErrorLine error={action.error} />
    </section>
  );
}

function StateActions({ keySummary }: { keySummary: KeySummary }) {
  const k = keySummary;
  const action = useKmsAction();
  const [scheduling, setScheduling] = useState(false);
  const busy = action.busy !== undefined;
  const name = keyDisplayName(k);

  async function schedule(days: number) {
    setScheduling(false);
    await action.run('Schedule deletion', () => kms('ScheduleKeyDeletion', { KeyId: k.KeyId, PendingWindowInDays: days }), `${name} scheduled for deletion in ${days} days`);
  }

  return (
    <section className="stack" aria-labelledby="key-state-title">
      <h3 id="key-state-title">State</h3>
      {k.KeyState === 'PendingDeletion' && k.DeleteDate ? <PendingDeletion deleteDate={k.DeleteDate} /> : null}
      <div className="row">
        {k.KeyState === 'Enabled' ? (
          <button type="button" disabled={busy} onClick={() => void action.run('Disable key', () => kms('DisableKey', { KeyId: k.KeyId }), `${name} disabled`)}>
            Disable key
          </button>
        ) : null}
        {k.KeyState === 'Disabled' ? (
          <button type="button" disabled={busy} onClick={() => void action.run('Enable key', () => kms('EnableKey', { KeyId: k.KeyId }), `${name} enabled`)}>
            Enable key
          </button>
        ) : null}
        {k.KeyState === 'PendingDeletion' ? (
          <button
            type="button"
            className="primary"
            disabled={busy}
            onClick={() => void action.run('Cancel deletion', () => kms('CancelKeyDeletion', { KeyId: k.KeyId }), `Deletion of ${name} cancelled`)}
          >
            Cancel deletion
          </button>
        ) : (
          <button type="button" className="danger" disabled={busy} onClick={() => setScheduling(true)}>
            Schedule deletion…
          </button>
        )}
      </div>
      <ErrorLine error={action.error} />
      <ScheduleDeletionDialog open={scheduling} keyName={name} onClose={() => setScheduling(false)} onConfirm={(days) => void schedule(days)} />
    </section>
  );
}

/** A symmetric key's automatic rotation (DescribeKey's fields, UpdateRotationPolicy). */
function RotationPolicy({ keySummary }: { keySummary: KeySummary }) {
  const { detail, refresh } = useKeyDetail();
  const metadata = detail?.KeyMetadata;
  const action = useKmsAction();
  const [days, setDays] = useState('');
  const enabled = metadata?.AutomaticRotation === 'Enabled';
  const intervalDays = metadata?.RotationInterval ? Math.round(Number(metadata.RotationInterval.slice(0, -1)) / 86400) : undefined;
  const typed = days === '' ? (intervalDays ?? 365) : Number(days);
  const valid = Number.isInteger(typed) && typed >= 7 && typed <= 365;
  const rotatable = keySummary.Origin === 'Aliyun_KMS' && keySummary.KeyState !== 'PendingDeletion';

  async function update(enable: boolean) {
    await action.run(
      enable ? 'Turn on automatic rotation' : 'Turn off automatic rotation',
      () => kms('UpdateRotationPolicy', { KeyId: keySummary.KeyId, EnableAutomaticRotation: enable, ...(enable ? { RotationInterval: `${typed}d` } : {}) }),
      enable ? `Automatic rotation every ${typed} days` : 'Automatic rotation off',
    );
    // The policy is in DescribeKey's answer, not in the inventory's summary: read the detail again.
    refresh();
  }

  return (
    <section className="stack" aria-labelledby="key-rotation-title">
      <h3 id="key-rotation-title">Rotation</h3>
      <dl className="facts" data-testid="rotation-facts">
        <dt>Primary version</dt>
        <dd>
          <code>{metadata?.PrimaryKeyVersion || '—'}</code>
        </dd>
        <dt>Automatic rotation</dt>
        <dd>{metadata ? (enabled ? `Every ${intervalDays ?? '?'} days` : 'Off') : '…'}</dd>
        <dt>Last rotation</dt>
        <dd>{metadata?.LastRotationDate ? formatUtc(metadata.LastRotationDate) : '—'}</dd>
        <dt>Next rotation</dt>
        <dd>{metadata?.NextRotationDate ? formatUtc(metadata.NextRotationDate) : '—'}</dd>
      </dl>
      {rotatable ? (
        <div className="row">
          <label>
            Interval (days, 7-365)
            <input type="text" inputMode="numeric" className="short-number" value={days === '' ? String(intervalDays ?? 365) : days} onChange={(e) => setDays(e.target.value)} aria-invalid={!valid} />
          </label>
          <button type="button" disabled={!valid || action.busy !== undefined} onClick={() => void update(true)}>
            {enabled ? 'Change interval' : 'Turn on'}
          </button>
          {enabled ? (
            <button type="button" disabled={action.busy !== undefined} onClick={() => void update(false)}>
              Turn off
            </button>
          ) : null}
        </div>
      ) : (
        <p className="muted hint">Imported keys do not rotate automatically.</p>
      )}
      <ErrorLine error={action.error} />
    </section>
  );
}
