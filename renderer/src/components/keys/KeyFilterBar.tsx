// Search and filters over the inventory (spec, usage, state, alias, tag "k" or "k=v"); the store
// keeps them so they survive switching views.
import { KEY_SPECS, KEY_USAGES } from '../../../../core/contract/specs.ts';
import { useKeysStore, type KeyFilters } from '../../stores/keys-store.ts';

const STATES = ['Enabled', 'Disabled', 'PendingDeletion', 'PendingImport'] as const;

export function KeyFilterBar() {
  const filters = useKeysStore((s) => s.filters);
  const setFilter = useKeysStore((s) => s.setFilter);
  const clearFilters = useKeysStore((s) => s.clearFilters);
  const active = (Object.keys(filters) as (keyof KeyFilters)[]).some((k) => filters[k] !== '');

  return (
    <div className="key-filters" role="search" aria-label="Filter keys">
      <label className="key-search">
        Search
        <input
          type="search"
          placeholder="KeyId, alias, description or tag"
          value={filters.search}
          onChange={(e) => setFilter('search', e.target.value)}
        />
      </label>
      <label>
        Spec
        <select value={filters.spec} onChange={(e) => setFilter('spec', e.target.value)}>
          <option value="">Any spec</option>
          {KEY_SPECS.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label>
        Usage
        <select value={filters.usage} onChange={(e) => setFilter('usage', e.target.value)}>
          <option value="">Any usage</option>
          {KEY_USAGES.map((u) => (
            <option key={u} value={u}>
              {u}
            </option>
          ))}
        </select>
      </label>
      <label>
        State
        <select value={filters.state} onChange={(e) => setFilter('state', e.target.value)}>
          <option value="">Any state</option>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label>
        Alias
        <input type="text" placeholder="alias/…" value={filters.alias} onChange={(e) => setFilter('alias', e.target.value)} />
      </label>
      <label>
        Tag
        <input type="text" placeholder="key or key=value" value={filters.tag} onChange={(e) => setFilter('tag', e.target.value)} />
      </label>
      <button type="button" onClick={clearFilters} disabled={!active}>
        Clear filters
      </button>
    </div>
  );
}
