// Search and filters over the inventory (spec, usage, state, alias, tag "k" or "k=v"); the store
// keeps them so they survive switching views.
import { KEY_SPECS, KEY_USAGES } from '../../../../core/contract/specs.ts';
import { KEY_STATES } from '../../../../core/contract/ids.ts';
import { useKeysStore, type KeyFilters } from '../../stores/keys-store.ts';


function Choice({ name, label, any, options }: { name: 'spec' | 'usage' | 'state'; label: string; any: string; options: readonly string[] }) {
  const value = useKeysStore((s) => s.filters[name]);
  const setFilter = useKeysStore((s) => s.setFilter);
  return (
    <div className="field">
      <label htmlFor={`key-filter-${name}`}>{label}</label>
      <select id={`key-filter-${name}`} value={value} onChange={(e) => setFilter(name, e.target.value)}>
        <option value="">{any}</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </div>
  );
}

function Text({ name, label, placeholder, className }: { name: 'search' | 'alias' | 'tag'; label: string; placeholder: string; className?: string }) {
  const value = useKeysStore((s) => s.filters[name]);
  const setFilter = useKeysStore((s) => s.setFilter);
  return (
    <div className={className ? `field ${className}` : 'field'}>
      <label htmlFor={`key-filter-${name}`}>{label}</label>
      <input
        id={`key-filter-${name}`}
        type={name === 'search' ? 'search' : 'text'}
        placeholder={placeholder}
        value={value}
        onChange={(e) => setFilter(name, e.target.value)}
      />
    </div>
  );
}

export function KeyFilterBar() {
  const filters = useKeysStore((s) => s.filters);
  const clearFilters = useKeysStore((s) => s.clearFilters);
  const active = (Object.keys(filters) as (keyof KeyFilters)[]).some((k) => filters[k] !== '');

  return (
    <div className="key-filters" role="search" aria-label="Filter keys">
      <Text name="search" label="Search" placeholder="KeyId, alias, description or tag" className="key-search" />
      <Choice name="spec" label="Spec" any="Any spec" options={KEY_SPECS} />
      <Choice name="usage" label="Usage" any="Any usage" options={KEY_USAGES} />
      <Choice name="state" label="State" any="Any state" options={KEY_STATES} />
      <Text name="alias" label="Alias" placeholder="alias/…" />
      <Text name="tag" label="Tag" placeholder="key or key=value" />
      <button type="button" onClick={clearFilters} disabled={!active}>
        Clear filters
      </button>
    </div>
  );
}
