// The key list: a grid over the filtered inventory with a header row (Name, Spec, Usage, State,
// Created; a click on a header sorts by it, aria-sort says how), virtualized (fixed row height,
// only the rows in view plus a few are in the DOM) so 10,000 keys scroll smoothly. The header
// row stays at the top (sticky) of the same scrolling element. The name takes the spare width;
// the other columns are as wide as their content, and the narrower the list, the more of them
// give way (styles.css, container queries): Created first, then Usage. Keyboard: arrows, Page
// Up/Down, Home/End move the active row (aria-activedescendant, outlined while the list has
// focus); Enter or Space opens it in the detail pane. With no key to show, it says why: the
// vault has none yet (Create your first key) or the filters hide them all (Clear filters).
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { KeySummary } from '../../../../core/contract/app-api.ts';
import { KEY_COLUMNS, type KeyColumn, type KeySort } from '../../stores/keys-store.ts';
import { formatDay, keyDisplayName } from './format.ts';

/** Must match .key-row's height in styles.css. */
export const KEY_ROW_HEIGHT = 40;
/** Must match .key-head's height in styles.css. */
export const KEY_HEAD_HEIGHT = 32;

const COLUMN_LABELS: Record<KeyColumn, string> = { name: 'Name', spec: 'Spec', usage: 'Usage', state: 'State', created: 'Created' };
/** Usage in a few letters, for a narrow list (the full value is the cell's title). */
const SHORT_USAGE: Record<string, string> = { 'SIGN/VERIFY': 'Sign', 'ENCRYPT/DECRYPT': 'Encrypt' };

function EmptyList({ total, onCreate, onClearFilters }: { total: number; onCreate: () => void; onClearFilters: () => void }) {
  return (
    <div className="key-list key-list-empty" data-testid="key-list-empty">
      {total === 0 ? (
        <>
          <p>This vault has no keys yet.</p>
          <p className="muted">A key signs, verifies, encrypts or decrypts; its private half never leaves the vault.</p>
          <button type="button" className="primary" onClick={onCreate}>
            Create your first key
          </button>
        </>
      ) : (
        <>
          <p>No keys match.</p>
          <p className="muted">
            The filters hide all {total.toLocaleString('en-US')} key{total === 1 ? '' : 's'}.
          </p>
          <button type="button" onClick={onClearFilters}>
            Clear filters
          </button>
        </>
      )}
    </div>
  );
}

export function KeyList({
  keys,
  total,
  selectedKeyId,
  sort,
  onOpen,
  onSort,
  onCreate,
  onClearFilters,
}: {
  /** The keys to show, filtered and sorted. */
  keys: readonly KeySummary[];
  /** How many keys the vault holds (to tell "none yet" from "none match"). */
  total: number;
  selectedKeyId: string | undefined;
  sort: KeySort | undefined;
  onOpen: (keyId: string) => void;
  onSort: (column: KeyColumn) => void;
  onCreate: () => void;
  onClearFilters: () => void;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const [active, setActive] = useState(0);
  const scrolledTo = useRef<string | undefined>(undefined);
  const virtualizer = useVirtualizer({
    count: keys.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => KEY_ROW_HEIGHT,
    overscan: 8,
    // The rows start under the sticky header row, and a row scrolled to is not left under it.
    paddingStart: KEY_HEAD_HEIGHT,
    scrollPaddingStart: KEY_HEAD_HEIGHT,
  });
  const current = keys.length === 0 ? -1 : Math.min(active, keys.length - 1);

  // Bring the opened key into view once it is in the list (e.g. a key just created).
  useEffect(() => {
    if (selectedKeyId === undefined || scrolledTo.current === selectedKeyId) return;
    const index = keys.findIndex((k) => k.KeyId === selectedKeyId);
    if (index < 0) return;
    scrolledTo.current = selectedKeyId;
    setActive(index);
    virtualizer.scrollToIndex(index, { align: 'auto' });
  }, [selectedKeyId, keys, virtualizer]);

  function moveTo(index: number) {
    if (keys.length === 0) return;
    const next = Math.max(0, Math.min(keys.length - 1, index));
    setActive(next);
    virtualizer.scrollToIndex(next, { align: 'auto' });
  }

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const page = Math.max(1, Math.floor(((scroller.current?.clientHeight ?? KEY_ROW_HEIGHT) - KEY_HEAD_HEIGHT) / KEY_ROW_HEIGHT) - 1);
    const handled: Record<string, () => void> = {
      ArrowDown: () => moveTo(current + 1),
      ArrowUp: () => moveTo(current - 1),
      PageDown: () => moveTo(current + page),
      PageUp: () => moveTo(current - page),
      Home: () => moveTo(0),
      End: () => moveTo(keys.length - 1),
      Enter: () => current >= 0 && onOpen(keys[current]!.KeyId),
      ' ': () => current >= 0 && onOpen(keys[current]!.KeyId),
    };
    const action = handled[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  }

  if (keys.length === 0) return <EmptyList total={total} onCreate={onCreate} onClearFilters={onClearFilters} />;

  return (
    <div
      ref={scroller}
      className="key-list"
      role="grid"
      aria-label="Keys"
      aria-rowcount={keys.length + 1}
      aria-multiselectable={false}
      tabIndex={0}
      aria-activedescendant={current >= 0 ? `key-row-${current}` : undefined}
      onKeyDown={onKeyDown}
      data-testid="key-list"
    >
      <div className="key-list-canvas" role="presentation" style={{ height: virtualizer.getTotalSize() }}>
        <div className="key-row key-head" role="row" aria-rowindex={1}>
          {KEY_COLUMNS.map((column) => {
            const direction = sort?.column === column ? sort.direction : undefined;
            return (
              <div key={column} role="columnheader" className={`key-col-${column}`} aria-sort={direction ?? 'none'}>
                <button
                  type="button"
                  tabIndex={-1}
                  title={direction === 'ascending' ? 'Sorted A to Z: click for Z to A' : direction === 'descending' ? 'Sorted Z to A: click for the order keys were made' : `Sort by ${COLUMN_LABELS[column].toLowerCase()}`}
                  onClick={() => onSort(column)}
                >
                  {COLUMN_LABELS[column]}
                  <span className="sort-mark" aria-hidden="true">
                    {direction === 'ascending' ? '▲' : direction === 'descending' ? '▼' : ''}
                  </span>
                </button>
              </div>
            );
          })}
        </div>
        {virtualizer.getVirtualItems().map((item) => {
          const key = keys[item.index]!;
          const selected = key.KeyId === selectedKeyId;
          const name = keyDisplayName(key);
          return (
            <div
              key={key.KeyId}
              id={`key-row-${item.index}`}
              role="row"
              aria-rowindex={item.index + 2}
              aria-selected={selected}
              className={`key-row${selected ? ' selected' : ''}${item.index === current ? ' active' : ''}`}
              style={{ transform: `translateY(${item.start}px)` }}
              onClick={() => {
                setActive(item.index);
                onOpen(key.KeyId);
              }}
            >
              <span role="gridcell" className={`key-col-name ${key.Aliases.length > 0 ? 'key-row-name' : 'key-row-name key-id'}`} title={name === key.KeyId ? key.KeyId : `${name}\n${key.KeyId}`}>
                {name}
              </span>
              <span role="gridcell" className="key-col-spec key-row-spec">
                {key.KeySpec}
              </span>
              <span role="gridcell" className="key-col-usage key-row-usage" title={key.KeyUsage}>
                <span className="usage-long">{key.KeyUsage}</span>
                <span className="usage-short">
                  {SHORT_USAGE[key.KeyUsage] ?? key.KeyUsage}
                </span>
              </span>
              <span role="gridcell" className="key-col-state">
                <span className={`badge ${key.KeyState}`}>{key.KeyState}</span>
              </span>
              <span role="gridcell" className="key-col-created key-row-date">
                {formatDay(key.CreationDate)}
              </span>
            </div>
          );
        })}
      </div>
    </div>
  );
}
