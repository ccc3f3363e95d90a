// The audit log view: a filtered page of entries, the chain verification verdict, and the export
// of every entry the filters match. Times are UTC everywhere, as the table shows them: the Since and
// Until fields take "YYYY-MM-DD[ HH:MM[:SS]]" in UTC (utcBound), never the browser's zone.
import { create } from 'zustand';
import type { AppParams, AuditEntryView, AuditVerdictView } from '../../../core/contract/app-api.ts';
import type { AuditKind } from '../../../core/contract/audit-kinds.ts';
import { formatAuditExport, type AuditExportFormat } from '../../../core/contract/audit-export.ts';
import { call, describeError } from '../api/bridge.ts';

export interface AuditFilters {
  readonly keyId: string;
  /** An Action (or app event) exactly; empty for any. */
  readonly action: string;
  /** '' for any kind. */
  readonly kind: AuditKind | '';
  /** A caller exactly (cli, app, ui, api:DKMS...); empty for any. */
  readonly caller: string;
  /** Text in the RequestId, Action, KeyId, KeyVersionId, Caller or Code (case ignored). */
  readonly search: string;
  /** UTC: "YYYY-MM-DD", "YYYY-MM-DD HH:MM" or "YYYY-MM-DD HH:MM:SS" (a "T", a trailing "Z" or "UTC" taken too); empty for none. */
  readonly since: string;
  readonly until: string;
}

export interface AuditState {
  readonly entries: readonly AuditEntryView[];
  readonly truncated: boolean;
  readonly verdict: AuditVerdictView | undefined;
  /** What the fields hold (applied by load). */
  readonly filters: AuditFilters;
  /** The request the shown entries answer (what Export exports). */
  readonly applied: AuditQuery | undefined;
  readonly loading: boolean;
  readonly verifying: boolean;
  /** An export in progress: the entries read so far. */
  readonly exporting: { readonly format: AuditExportFormat; readonly read: number } | undefined;
  /** Entries per page: the first page holds the newest; "Show older entries" appends the next older page. */
  readonly limit: number;
  readonly error: { code: string; message: string } | undefined;
  readonly setFilter: <K extends keyof AuditFilters>(name: K, value: AuditFilters[K]) => void;
  readonly load: () => Promise<void>;
  /** Fetches one more page of older entries. */
  readonly loadMore: () => Promise<void>;
  readonly clearFilters: () => void;
  readonly verify: () => Promise<void>;
  /** Every entry the applied filters match (all pages), oldest first, as a file's text; undefined when it failed (error set). */
  readonly exportText: (format: AuditExportFormat, pageSize?: number) => Promise<string | undefined>;
}

/** Audit.List's filters (no paging). */
export type AuditQuery = Omit<AppParams<'Audit.List'>, 'Limit' | 'BeforeSeq'>;

export const NO_AUDIT_FILTERS: AuditFilters = { keyId: '', action: '', kind: '', caller: '', search: '', since: '', until: '' };
export const AUDIT_PAGE = 2000;
/** Entries per Audit.List call while exporting (Audit.List's most). */
const EXPORT_PAGE = 10_000;
const initial = {
  entries: [],
  truncated: false,
  verdict: undefined,
  filters: NO_AUDIT_FILTERS,
  applied: undefined,
  loading: false,
  verifying: false,
  exporting: undefined,
  limit: AUDIT_PAGE,
  error: undefined,
};

const UTC_INPUT = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?\s*(?:Z|UTC)?$/i;

/**
 * A Since or Until field as an ISO instant, in UTC. Since is the start of what it names, Until its
 * end: "2026-01-31" is 00:00:00.000 to 23:59:59.999, "2026-01-31 12:00" 12:00:00.000 to
 * 12:00:59.999, so both bounds include the day, minute or second named (as the table shows it).
 * Empty: no bound. Anything else: an Error saying what is expected.
 */
export function utcBound(value: string, end: boolean): string | undefined | Error {
  const text = value.trim();
  if (text === '') return undefined;
  const m = UTC_INPUT.exec(text);
  const bad = new Error(`"${text}" is not a UTC time: write YYYY-MM-DD, YYYY-MM-DD HH:MM or YYYY-MM-DD HH:MM:SS (UTC, as the table shows)`);
  if (!m) return bad;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = [m[4] === undefined ? undefined : Number(m[4]), m[5] === undefined ? undefined : Number(m[5]), m[6] === undefined ? undefined : Number(m[6])];
  const start = Date.UTC(year, month - 1, day, hour ?? 0, minute ?? 0, second ?? 0);
  const check = new Date(start);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || check.getUTCHours() !== (hour ?? 0) || check.getUTCMinutes() !== (minute ?? 0) || check.getUTCSeconds() !== (second ?? 0)) {
    return bad;
  }
  const span = second !== undefined ? 1000 : minute !== undefined ? 60_000 : 86_400_000;
  return new Date(end ? start + span - 1 : start).toISOString();
}

/** The fields as an Audit.List request, or the first field that is not a time. */
export function auditQuery(f: AuditFilters): AuditQuery | Error {
  const since = utcBound(f.since, false);
  if (since instanceof Error) return new Error(`Since: ${since.message}`);
  const until = utcBound(f.until, true);
  if (until instanceof Error) return new Error(`Until: ${until.message}`);
  return {
    ...(f.keyId.trim() ? { KeyId: f.keyId.trim() } : {}),
    ...(f.action ? { Action: f.action } : {}),
    ...(f.kind ? { Kind: f.kind } : {}),
    ...(f.caller.trim() ? { Caller: f.caller.trim() } : {}),
    ...(f.search.trim() ? { Search: f.search.trim() } : {}),
    ...(since ? { Since: since } : {}),
    ...(until ? { Until: until } : {}),
  };
}

export const useAuditStore = create<AuditState>()((set, get) => {
  /** The first page (newest entries) for the fields, or the page of the applied query older than `beforeSeq`, appended. */
  async function fetchPage(beforeSeq: number | undefined): Promise<void> {
    const query = beforeSeq === undefined ? auditQuery(get().filters) : (get().applied ?? auditQuery(get().filters));
    if (query instanceof Error) {
      set({ error: { code: 'InvalidParameter', message: query.message } });
      return;
    }
    set({ loading: true, error: undefined });
    try {
      const result = await call('Audit.List', { ...query, ...(beforeSeq !== undefined ? { BeforeSeq: beforeSeq } : {}), Limit: get().limit });
      set((s) => ({ entries: beforeSeq === undefined ? result.Entries : [...s.entries, ...result.Entries], truncated: result.Truncated, applied: query, loading: false }));
    } catch (error) {
      set({ loading: false, error: describeError(error) });
    }
  }
  return {
    ...initial,
    setFilter: (name, value) => set((s) => ({ filters: { ...s.filters, [name]: value } })),
    load: () => fetchPage(undefined),
    loadMore: () => {
      const oldest = get().entries.at(-1)?.seq;
      return oldest === undefined ? fetchPage(undefined) : fetchPage(oldest);
    },
    clearFilters: () => set({ filters: NO_AUDIT_FILTERS, limit: AUDIT_PAGE }),
    verify: async () => {
      set({ error: undefined, verifying: true, verdict: undefined });
      try {
        set({ verdict: await call('Audit.Verify', {}), verifying: false });
      } catch (error) {
        set({ error: describeError(error), verifying: false });
      }
    },
    exportText: async (format, pageSize = EXPORT_PAGE) => {
      const query = get().applied ?? auditQuery(get().filters);
      if (query instanceof Error) {
        set({ error: { code: 'InvalidParameter', message: query.message } });
        return undefined;
      }
      set({ exporting: { format, read: 0 }, error: undefined });
      try {
        const all: AuditEntryView[] = [];
        let beforeSeq: number | undefined;
        for (;;) {
          const page = await call('Audit.List', { ...query, ...(beforeSeq !== undefined ? { BeforeSeq: beforeSeq } : {}), Limit: pageSize });
          all.push(...page.Entries);
          set({ exporting: { format, read: all.length } });
          const oldest = page.Entries.at(-1)?.seq;
          if (!page.Truncated || oldest === undefined) break;
          beforeSeq = oldest;
        }
        set({ exporting: undefined });
        // Newest first from Audit.List; the file is in the log's own order.
        return formatAuditExport(all.reverse(), format);
      } catch (error) {
        set({ exporting: undefined, error: describeError(error) });
        return undefined;
      }
    },
  };
});

export function resetAuditStore(): void {
  useAuditStore.setState(initial);
}
