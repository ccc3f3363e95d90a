// Keys: the filtered, sortable, virtualized key list on the left (search, filters, "N of M keys",
// Create key) and the selected key's detail on the right. Every change goes through kms() and reloads the
// inventory (Keys.Inventory) afterwards.
import { useEffect, useMemo, useState } from 'react';
import { ErrorLine } from '../components/common.tsx';
import { CreateKeyDialog } from '../components/keys/CreateKeyDialog.tsx';
import { KeyDetail } from '../components/keys/KeyDetail.tsx';
import { KeyFilterBar } from '../components/keys/KeyFilterBar.tsx';
import { KeyList } from '../components/keys/KeyList.tsx';
import { filterKeys, selectedKey, sortKeys, useKeysStore } from '../stores/keys-store.ts';

export function KeysView() {
  const keys = useKeysStore((s) => s.keys);
  const filters = useKeysStore((s) => s.filters);
  const loaded = useKeysStore((s) => s.loaded);
  const loading = useKeysStore((s) => s.loading);
  const error = useKeysStore((s) => s.error);
  const load = useKeysStore((s) => s.load);
  const select = useKeysStore((s) => s.select);
  const selectedKeyId = useKeysStore((s) => s.selectedKeyId);
  const current = useKeysStore(selectedKey);
  const sort = useKeysStore((s) => s.sort);
  const sortBy = useKeysStore((s) => s.sortBy);
  const clearFilters = useKeysStore((s) => s.clearFilters);
  const [creating, setCreating] = useState(false);
  const visible = useMemo(() => sortKeys(filterKeys(keys, filters), sort), [keys, filters, sort]);

  useEffect(() => {
    if (!loaded) void load();
  }, [loaded, load]);

  return (
    <div className="keys-view">
      <section className="panel keys-list-pane" aria-labelledby="keys-title">
        <div className="row section-head">
          <h1 id="keys-title">Keys</h1>
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            Create key…
          </button>
          <button type="button" onClick={() => void load()} disabled={loading}>
            Reload
          </button>
        </div>
        <KeyFilterBar />
        <p className="muted key-count" role="status" data-testid="key-count">
          {loaded ? `${visible.length.toLocaleString('en-US')} of ${keys.length.toLocaleString('en-US')} keys` : 'Loading keys…'}
        </p>
        <ErrorLine error={error} />
        {loaded ? (
          <KeyList
            keys={visible}
            total={keys.length}
            selectedKeyId={selectedKeyId}
            sort={sort}
            onOpen={select}
            onSort={sortBy}
            onCreate={() => setCreating(true)}
            onClearFilters={clearFilters}
          />
        ) : null}
      </section>
      <section className="panel keys-detail-pane" aria-label="Key detail">
        {current ? (
          <KeyDetail key={current.KeyId} keySummary={current} />
        ) : (
          <p className="muted">{keys.length === 0 && loaded ? 'No keys yet: create one.' : 'Select a key to see its details.'}</p>
        )}
      </section>
      <CreateKeyDialog open={creating} onClose={() => setCreating(false)} />
    </div>
  );
}
