// The audit log view: a filtered page of entries and the chain verification verdict.
import { create } from 'zustand';
import type { AuditEntryView, AuditVerdictView } from '../../../core/contract/app-api.ts';
import { call, describeError } from '../api/bridge.ts';

export interface AuditFilters {
  readonly keyId: string;
  readonly action: string;
  /** datetime-local values or ISO dates; empty for none. */
  readonly since: string;
  readonly until: string;
}

export interface AuditState {
  readonly entries: readonly AuditEntryView[];
  readonly truncated: boolean;
  readonly verdict: AuditVerdictView | undefined;
  readonly filters: AuditFilters;
  readonly loading: boolean;
  readonly verifying: boolean;
  /** Entries per page: the first page holds the newest; "Show older entries" appends the next older page. */
  readonly limit: number;
  readonly error: { code: string; message: string } | undefined;
  readonly setFilter: <K extends keyof AuditFilters>(name: K, value: AuditFilters[K]) => void;
  readonly load: () => Promise<void>;
  /** Fetches one more page of older entries. */
  readonly loadMore: () => Promise<void>;
  readonly clearFilters: () => void;
  readonly verify: () => Promise<void>;
}

const NO_FILTERS: AuditFilters = { keyId: '', action: '', since: '', until: '' };
export const AUDIT_PAGE = 2000;
const initial = {
  entries: [],
  truncated: false,
  verdict: undefined,
  filters: NO_FILTERS,
  loading: false,
  verifying: false,
  limit: AUDIT_PAGE,
  error: undefined,
};

function isoOf(value: string): string | undefined {
  if (!value.trim()) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toISOString();
}

export const useAuditStore = create<AuditState>()((set, get) => {
  /** The first page (newest entries), or the page older than `beforeSeq`, appended. */
  async function fetchPage(beforeSeq: number | undefined): Promise<void> {
    const f = get().filters;
    set({ loading: true, error: undefined });
    try {
      const since = isoOf(f.since);
      const until = isoOf(f.until);
      const result = await call('Audit.List', {
        ...(f.keyId.trim() ? { KeyId: f.keyId.trim() } : {}),
        ...(f.action.trim() ? { Action: f.action.trim() } : {}),
        ...(since ? { Since: since } : {}),
        ...(until ? { Until: until } : {}),
        ...(beforeSeq !== undefined ? { BeforeSeq: beforeSeq } : {}),
        Limit: get().limit,
      });
      set((s) => ({ entries: beforeSeq === undefined ? result.Entries : [...s.entries, ...result.Entries], truncated: result.Truncated, loading: false }));
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
    clearFilters: () => set({ filters: NO_FILTERS, limit: AUDIT_PAGE }),
    verify: async () => {
      set({ error: undefined, verifying: true, verdict: undefined });
      try {
        set({ verdict: await call('Audit.Verify', {}), verifying: false });
      } catch (error) {
        set({ error: describeError(error), verifying: false });
      }
    },
  };
});

export function resetAuditStore(): void {
  useAuditStore.setState(initial);
}
