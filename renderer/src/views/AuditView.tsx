// The audit log: the newest entries first in a virtualized table (thousands of rows stay
// responsive), filters (key or alias, Action, kind, caller, a search over the ids and names, a time
// range in UTC as the table shows it), the export of every matching entry as CSV or JSON Lines, and
// the hash chain's verification.
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useId, useMemo, useRef, type FormEvent } from 'react';
import { ACTION_NAMES } from '../../../core/contract/actions.ts';
import type { AuditEntryView, AuditVerdictView } from '../../../core/contract/app-api.ts';
import { AUDIT_EXPORT_FILES, type AuditExportFormat } from '../../../core/contract/audit-export.ts';
import { AUDIT_KINDS, EVENT_KINDS, type AuditKind } from '../../../core/contract/audit-kinds.ts';
import { displayText } from '../../../core/contract/escape-text.ts';
import { ErrorLine, ProgressBar } from '../components/common.tsx';
import { saveFile } from '../lib/save.ts';
import { useAuditStore } from '../stores/audit-store.ts';
import { useKeysStore } from '../stores/keys-store.ts';

const ROW_HEIGHT = 30;
const COLUMNS = 8;
/** Callers every vault may have: offered in the caller field besides those in the entries shown. */
const KNOWN_CALLERS = ['app', 'cli', 'ui', 'batch', 'vault'];
const KIND_LABELS: Readonly<Record<AuditKind, string>> = {
  change: 'Changes',
  'private-key': 'Private-key use',
  read: 'Reads',
  refused: 'Refused',
};
const EXPORT_LABELS: Readonly<Record<AuditExportFormat, string>> = { csv: 'CSV', jsonl: 'JSON Lines' };

function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC');
}

export function AuditView() {
  const { entries, truncated, verdict, filters, loading, verifying, exporting, error, setFilter, load, loadMore, clearFilters, verify, exportText } = useAuditStore();
  const keys = useKeysStore((s) => s.keys);
  const aliasOf = useMemo(() => new Map(keys.map((k) => [k.KeyId, k.Aliases[0]])), [keys]);
  // Every Action and app event, and any other name the entries shown hold (a refused call's).
  const actions = useMemo(() => [...new Set([...ACTION_NAMES, ...Object.keys(EVENT_KINDS), ...entries.map((e) => e.action)])].sort(), [entries]);
  const callers = useMemo(() => [...new Set([...KNOWN_CALLERS, ...entries.map((e) => e.caller)])].sort(), [entries]);

  const id = useId();

  useEffect(() => {
    void load();
  }, [load]);

  function apply(event: FormEvent) {
    event.preventDefault();
    void load();
  }

  async function download(format: AuditExportFormat) {
    const text = await exportText(format);
    if (text === undefined) return;
    const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
    const file = AUDIT_EXPORT_FILES[format];
    saveFile(`deskkms-audit-${stamp}${file.extension}`, text, file.mediaType);
  }

  return (
    <section className="stack audit-view" aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <form className="panel audit-filters" onSubmit={apply} aria-label="Audit filters">
        <div className="field">
          <label htmlFor={`${id}-search`}>Search</label>
          <input
            id={`${id}-search`}
            type="search"
            value={filters.search}
            onChange={(e) => setFilter('search', e.target.value)}
            placeholder="RequestId, Action, KeyId, Code…"
            aria-describedby={`${id}-search-hint`}
          />
          <span id={`${id}-search-hint`} className="muted hint">
            Paste a RequestId from an error to find its entry.
          </span>
        </div>
        <div className="field">
          <label htmlFor={`${id}-kind`}>Kind</label>
          <select id={`${id}-kind`} value={filters.kind} onChange={(e) => setFilter('kind', e.target.value as AuditKind | '')}>
            <option value="">Any kind</option>
            {AUDIT_KINDS.map((k) => (
              <option key={k} value={k}>
                {KIND_LABELS[k]}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-action`}>Action</label>
          <select id={`${id}-action`} value={filters.action} onChange={(e) => setFilter('action', e.target.value)}>
            <option value="">Any action</option>
            {actions.map((a) => (
              <option key={a} value={a}>
                {displayText(a)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-caller`}>Caller</label>
          <input id={`${id}-caller`} list={`${id}-callers`} value={filters.caller} onChange={(e) => setFilter('caller', e.target.value)} placeholder="any (app, cli, api:…)" />
          <datalist id={`${id}-callers`}>
            {callers.map((c) => (
              <option key={c} value={c} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor={`${id}-key`}>Key (KeyId or alias)</label>
          <input id={`${id}-key`} value={filters.keyId} onChange={(e) => setFilter('keyId', e.target.value)} placeholder="alias/… or KeyId" />
        </div>
        <div className="field">
          <label htmlFor={`${id}-since`}>Since (UTC)</label>
          <input id={`${id}-since`} value={filters.since} onChange={(e) => setFilter('since', e.target.value)} placeholder="YYYY-MM-DD HH:MM:SS" inputMode="numeric" />
        </div>
        <div className="field">
          <label htmlFor={`${id}-until`}>Until (UTC)</label>
          <input id={`${id}-until`} value={filters.until} onChange={(e) => setFilter('until', e.target.value)} placeholder="YYYY-MM-DD HH:MM:SS" inputMode="numeric" />
        </div>
        <p className="muted hint">Times are UTC, as in the table; a day or minute given includes all of it.</p>
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
          {(['csv', 'jsonl'] as const).map((format) => (
            <button key={format} type="button" onClick={() => void download(format)} disabled={exporting !== undefined} title="Every entry the applied filters match, oldest first">
              Export {EXPORT_LABELS[format]}
            </button>
          ))}
        </div>
      </form>
      {verifying ? <ProgressBar label="Verifying the hash chain" /> : null}
      {exporting ? <ProgressBar label={`Exporting ${EXPORT_LABELS[exporting.format]}: ${exporting.read} entries read`} /> : null}
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
  return { ...e, time: displayText(e.time), action: displayText(e.action), code: displayText(e.code), caller: displayText(e.caller), requestId: displayText(e.requestId), keyId: show(e.keyId), keyVersionId: show(e.keyVersionId) };
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
            <th scope="col">RequestId</th>
          </tr>
        </thead>
        <tbody>
          {top > 0 ? (
            <tr aria-hidden="true">
              <td colSpan={COLUMNS} style={{ height: top, padding: 0, border: 0 }} />
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
                <td className="request-id">
                  <code style={{ fontSize: '0.85em' }}>{e.requestId}</code>
                </td>
              </tr>
            );
          })}
          {bottom > 0 ? (
            <tr aria-hidden="true">
              <td colSpan={COLUMNS} style={{ height: bottom, padding: 0, border: 0 }} />
            </tr>
          ) : null}
        </tbody>
      </table>
      {entries.length === 0 ? <p className="muted empty">No entries match.</p> : null}
    </div>
  );
}
