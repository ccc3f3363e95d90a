// The key list: every key's metadata (Keys.Inventory), the filters, the sort order and the
// selection. Selectors are plain functions so the list and the tests share them.
import { create } from 'zustand';
import type { KeySummary } from '../../../core/contract/app-api.ts';
import { call, describeError } from '../api/bridge.ts';

export interface KeyFilters {
  /** Matched against KeyId, aliases, description and tags (case-insensitive). */
  readonly search: string;
  readonly spec: string;
  readonly usage: string;
  readonly state: string;
  readonly alias: string;
  /** "key" or "key=value". */
  readonly tag: string;
}

export const NO_FILTERS: KeyFilters = { search: '', spec: '', usage: '', state: '', alias: '', tag: '' };

/** The key list's columns, in order; each can sort the list. */
export const KEY_COLUMNS = ['name', 'spec', 'usage', 'state', 'created'] as const;
export type KeyColumn = (typeof KEY_COLUMNS)[number];

/** A column and a direction; no sort (undefined) is the inventory's order (creation). */
export interface KeySort {
  readonly column: KeyColumn;
  readonly direction: 'ascending' | 'descending';
}

export interface KeysState {
  readonly keys: readonly KeySummary[];
  readonly loaded: boolean;
  readonly loading: boolean;
  readonly error: { code: string; message: string } | undefined;
  readonly filters: KeyFilters;
  readonly selectedKeyId: string | undefined;
  readonly sort: KeySort | undefined;
  readonly load: () => Promise<void>;
  readonly setFilter: <K extends keyof KeyFilters>(name: K, value: KeyFilters[K]) => void;
  readonly clearFilters: () => void;
  readonly select: (keyId: string | undefined) => void;
  /** A header clicked: ascending, then descending, then back to the inventory's order. */
  readonly sortBy: (column: KeyColumn) => void;
}

const initial = { keys: [], loaded: false, loading: false, error: undefined, filters: NO_FILTERS, selectedKeyId: undefined, sort: undefined };

export const useKeysStore = create<KeysState>()((set) => ({
  ...initial,
  load: async () => {
    set({ loading: true, error: undefined });
    try {
      const { Keys } = await call('Keys.Inventory', {});
      set({ keys: Keys, loaded: true, loading: false });
    } catch (error) {
      set({ loading: false, error: describeError(error) });
    }
  },
  setFilter: (name, value) => set((s) => ({ filters: { ...s.filters, [name]: value } })),
  clearFilters: () => set({ filters: NO_FILTERS }),
  select: (keyId) => set({ selectedKeyId: keyId }),
  sortBy: (column) => set((s) => ({ sort: nextSort(s.sort, column) })),
}));

/** The sort after a click on `column`'s header: ascending, descending, none (inventory order). */
export function nextSort(current: KeySort | undefined, column: KeyColumn): KeySort | undefined {
  if (current?.column !== column) return { column, direction: 'ascending' };
  return current.direction === 'ascending' ? { column, direction: 'descending' } : undefined;
}

export function resetKeysStore(): void {
  useKeysStore.setState(initial);
}

function tagMatches(key: KeySummary, tag: string): boolean {
  const eq = tag.indexOf('=');
  const name = (eq < 0 ? tag : tag.slice(0, eq)).trim();
  const value = eq < 0 ? undefined : tag.slice(eq + 1).trim();
  return key.Tags.some((t) => t.TagKey === name && (value === undefined || t.TagValue === value));
}

/** The keys the filters let through, in inventory order. */
export function filterKeys(keys: readonly KeySummary[], f: KeyFilters): KeySummary[] {
  const search = f.search.trim().toLowerCase();
  const alias = f.alias.trim().toLowerCase();
  return keys.filter(
    (k) =>
      (!f.spec || k.KeySpec === f.spec) &&
      (!f.usage || k.KeyUsage === f.usage) &&
      (!f.state || k.KeyState === f.state) &&
      (!alias || k.Aliases.some((a) => a.toLowerCase().includes(alias))) &&
      (!f.tag.trim() || tagMatches(k, f.tag)) &&
      (!search ||
        k.KeyId.toLowerCase().includes(search) ||
        k.Description.toLowerCase().includes(search) ||
        k.Aliases.some((a) => a.toLowerCase().includes(search)) ||
        k.Tags.some((t) => `${t.TagKey}=${t.TagValue}`.toLowerCase().includes(search))),
  );
}

export function selectedKey(state: Pick<KeysState, 'keys' | 'selectedKeyId'>): KeySummary | undefined {
  return state.selectedKeyId === undefined ? undefined : state.keys.find((k) => k.KeyId === state.selectedKeyId);
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

function sortValue(key: KeySummary, column: KeyColumn): string {
  switch (column) {
    case 'name':
      return key.Aliases.length > 0 ? key.Aliases.join(', ') : key.KeyId;
    case 'spec':
      return key.KeySpec;
    case 'usage':
      return key.KeyUsage;
    case 'state':
      return key.KeyState;
    case 'created':
      return key.CreationDate;
  }
}

/**
 * The keys in `sort`'s order (names compared as people read them: case-insensitive, numbers by
 * value), ties kept in the order given; without a sort, the keys as given (a new array).
 */
export function sortKeys(keys: readonly KeySummary[], sort: KeySort | undefined): KeySummary[] {
  if (!sort) return [...keys];
  const sign = sort.direction === 'ascending' ? 1 : -1;
  const values = new Map(keys.map((k) => [k, sortValue(k, sort.column)]));
  const order = new Map(keys.map((k, i) => [k, i]));
  return [...keys].sort((a, b) => sign * collator.compare(values.get(a)!, values.get(b)!) || order.get(a)! - order.get(b)!);
}
