// The key list: every key's metadata (Keys.Inventory), the filters, and the selection. Selectors
// are plain functions so the list and the tests share them.
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

export interface KeysState {
  readonly keys: readonly KeySummary[];
  readonly loaded: boolean;
  readonly loading: boolean;
  readonly error: { code: string; message: string } | undefined;
  readonly filters: KeyFilters;
  readonly selectedKeyId: string | undefined;
  readonly load: () => Promise<void>;
  readonly setFilter: <K extends keyof KeyFilters>(name: K, value: KeyFilters[K]) => void;
  readonly clearFilters: () => void;
  readonly select: (keyId: string | undefined) => void;
}

const initial = { keys: [], loaded: false, loading: false, error: undefined, filters: NO_FILTERS, selectedKeyId: undefined };

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
}));

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
