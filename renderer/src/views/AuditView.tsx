// The audit log: the newest entries first in a virtualized table (thousands of rows stay
// responsive), filters (key or alias, action, time range), and the hash chain's verification.
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useId, useMemo, useRef, type FormEvent } from 'react';
import { ACTION_NAMES } from '../../../core/contract/actions.ts';
import type { AuditEntryView, AuditVerdictView } from '../../../core/contract/app-api.ts';
import { displayText } from '../../../core/contract/escape-text.ts';
import { ErrorLine, ProgressBar } from '../components/common.tsx';
import { useAuditStore } from '../stores/audit-store.ts';
import { useKeysStore } from '../stores/keys-store.ts';

const ROW_HEIGHT = 30;
/** Actions the app itself records besides the KMS Actions. */
const APP_ACTIONS = ['UnlockVault', 'LockVault', 'ListKeyDetails'];

function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC');
}

export function AuditView() {
  const { entries, truncated, verdict, filters, loading, verifying, error, setFilter, load, loadMore, clearFilters, verify } = useAuditStore();
  const keys = useKeysStore((s) => s.keys);
  const aliasOf = useMemo(() => new Map(keys.map((k) => [k.KeyId, k.Aliases[0]])), [keys]);
  const actions = useMemo(() => [...new Set([...ACTION_NAMES, ...APP_ACTIONS, ...entries.map((e) => e.action)])].sort(), [entries]);

  const id = useId();

  useEffect(() => {
    void load();
  }, [load]);

  function apply(event: FormEvent) {
    event.preventDefault();
    void load();
  }

  return (
    <section className="stack audit-view" aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <form className="panel audit-filters" onSubmit={apply} aria-label="Audit filters">
        <div className="field">
          <label htmlFor={`${id}-key`}>Key (KeyId or alias)</label>
          <input id={`${id}-key`} value={filters.keyId} onChange={(e) => setFilter('keyId', e.target.value)} placeholder="alias/… or KeyId" />
        </div>
        <div className="field">
          <label htmlFor={`${id}-action`}>Action</label>
          <input id={`${id}-action`} list={`${id}-actions`} value={filters.action} onChange={(e) => setFilter('action', e.target.value)} placeholder="any" />
        </div>
        <datalist id={`${id}-actions`}>
          {actions.map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
        <div className="field">
          <label htmlFor={`${id}-since`}>Since</label>
          <input id={`${id}-since`} type="datetime-local" step={1} value={filters.since} onChange={(e) => setFilter('since', e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-until`}>Until</label>
          <input id={`${id}-until`} type="datetime-local" step={1} value={filters.until} onChange={(e) => setFilter('until', e.target.value)} />
        </div>
        <div className="row audit-buttons">
          <button type="submit" className="primary" disabled={loading}>
            Apply filters
          </button>
          <button
            type="button"
            onClick={() => {
              clearFilters();
              void load();
            }}
          >
            Clear filters
          </button>
          <button type="button" onClick={() => void verify()} disabled={verifying}>
            Verify chain
          </button>
        </div>
      </form>
      {verifying ? <ProgressBar label="Verifying the hash chain" /> : null}
      {verdict ? <ChainVerdict verdict={verdict} /> : null}
      <ErrorLine error={error} />
      <p className="muted" aria-live="polite" data-testid="audit-count">
        {loading ? 'Loading…' : `${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}${truncated ? ' (newest shown; older ones beyond this page)' : ''}`}
        {entries.some((e) => e.code !== 'OK') ? ` · ${entries.filter((e) => e.code !== 'OK').length} failed` : ''}
      </p>
      <AuditTable entries={entries} aliasOf={aliasOf} />
      {truncated ? (
        <div className="row">
          <button type="button" onClick={() => void loadMore()} disabled={loading}>
            Show older entries
          </button>
        </div>
      ) : null}
    </section>
  );
}

function ChainVerdict({ verdict }: { verdict: AuditVerdictView }) {
  const acknowledged = (verdict.acknowledged ?? []).map((b) => (
    <li key={`${b.time}-${b.firstBroken}`}>
      {displayText(b.time)}: broken from seq {b.firstBroken} — {displayText(b.reason)} (accepted at seq {b.headSeq})
    </li>
  ));
  return verdict.ok ? (
    <div className="verdict valid panel" role="status" data-testid="chain-verdict">
      Chain OK — {verdict.entries} {verdict.entries === 1 ? 'entry' : 'entries'} verified
      {verdict.anchored === null ? '; anchor not checked (vault locked)' : `, ${verdict.anchored} under the vault's MACed anchor`}; head hash{' '}
      <code>{verdict.head ?? '(empty log)'}</code>
      {acknowledged.length > 0 ? <ul aria-label="Acknowledged breaks">{acknowledged}</ul> : null}
    </div>
  ) : (
    <div className="verdict invalid panel" role="status" data-testid="chain-verdict">
      Chain BROKEN at seq {verdict.firstBroken} — {displayText(verdict.reason)} ({verdict.entries} entries checked)
      {acknowledged.length > 0 ? <ul aria-label="Acknowledged breaks">{acknowledged}</ul> : null}
    </div>
  );
}

function visibleEntry(e: AuditEntryView): AuditEntryView {
  const show = (text: string | null): string | null => (text === null ? null : displayText(text));
  return { ...e, time: displayText(e.time), action: displayText(e.action), code: displayText(e.code), caller: displayText(e.caller), keyId: show(e.keyId), keyVersionId: show(e.keyVersionId) };
}

function AuditTable({ entries, aliasOf }: { entries: readonly AuditEntryView[]; aliasOf: ReadonlyMap<string, string | undefined> }) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: entries.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 20,
  });
  const items = virtualizer.getVirtualItems();
  const top = items[0]?.start ?? 0;
  const bottom = items.length > 0 ? virtualizer.getTotalSize() - items[items.length - 1]!.end : 0;

  return (
    <div className="audit-scroll" ref={scroller} tabIndex={0} aria-label="Audit entries, newest first" role="region">
      <table className="audit-table" aria-rowcount={entries.length + 1}>
        <thead>
          <tr>
            <th scope="col">Seq</th>
            <th scope="col">Time</th>
            <th scope="col">Action</th>
            <th scope="col">Key</th>
            <th scope="col">Version</th>
            <th scope="col">Code</th>
            <th scope="col">Caller</th>
          </tr>
        </thead>
        <tbody>
          {top > 0 ? (
            <tr aria-hidden="true">
              <td colSpan={7} style={{ height: top, padding: 0, border: 0 }} />
            </tr>
          ) : null}
          {items.map((item) => {
            // React escapes markup, not bidi overrides or invisible characters: a row edited in the
            // file could still reorder what is shown. Entries are stored escaped; this shows an edit too.
            const e = visibleEntry(entries[item.index]!);
            const failed = e.code !== 'OK';
            const alias = e.keyId ? aliasOf.get(e.keyId) : undefined;
            return (
              <tr key={e.seq} className={failed ? 'failed' : undefined} aria-rowindex={item.index + 2} data-testid="audit-row">
                <td>{e.seq}</td>
                <td title={e.time}>{shortTime(e.time)}</td>
                <td>{e.action}</td>
                <td title={e.keyId ?? ''}>{e.keyId ? (alias ? `${alias} (${e.keyId.slice(0, 8)}…)` : e.keyId) : '—'}</td>
                <td title={e.keyVersionId ?? ''}>{e.keyVersionId ? `${e.keyVersionId.slice(0, 8)}…` : '—'}</td>
                <td>{failed ? <span className="code-failed">✗ {e.code}</span> : e.code}</td>
                <td>{e.caller}</td>
              </tr>
            );
          })}
          {bottom > 0 ? (
            <tr aria-hidden="true">
              <td colSpan={7} style={{ height: bottom, padding: 0, border: 0 }} />
            </tr>
          ) : null}
        </tbody>
      </table>
      {entries.length === 0 ? <p className="muted empty">No entries match.</p> : null}
    </div>
  );
}
