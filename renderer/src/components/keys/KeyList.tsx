// The key list: a listbox over the filtered inventory, virtualized (fixed row height, only the
// rows in view plus a few are in the DOM) so 10,000 keys scroll smoothly. Keyboard: arrows,
// Page Up/Down, Home/End move the active row (aria-activedescendant, outlined while the list has
// focus); Enter or Space opens it in the detail pane.
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { KeySummary } from '../../../../core/contract/app-api.ts';
import { formatDay, keyDisplayName } from './format.ts';

/** Must match .key-row's height in styles.css. */
export const KEY_ROW_HEIGHT = 40;

export function KeyList({
  keys,
  selectedKeyId,
  onOpen,
}: {
  keys: readonly KeySummary[];
  selectedKeyId: string | undefined;
  onOpen: (keyId: string) => void;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const [active, setActive] = useState(0);
  const scrolledTo = useRef<string | undefined>(undefined);
  const virtualizer = useVirtualizer({
    count: keys.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => KEY_ROW_HEIGHT,
    overscan: 8,
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
    const page = Math.max(1, Math.floor((scroller.current?.clientHeight ?? KEY_ROW_HEIGHT) / KEY_ROW_HEIGHT) - 1);
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

  return (
    <div
      ref={scroller}
      className="key-list"
      role="listbox"
      aria-label="Keys"
      tabIndex={0}
      aria-activedescendant={current >= 0 ? `key-row-${current}` : undefined}
      onKeyDown={onKeyDown}
      data-testid="key-list"
    >
      {keys.length === 0 ? (
        <p className="muted key-list-empty">No keys match.</p>
      ) : (
        <div className="key-list-canvas" role="presentation" style={{ height: virtualizer.getTotalSize() }}>
          {virtualizer.getVirtualItems().map((item) => {
            const key = keys[item.index]!;
            const selected = key.KeyId === selectedKeyId;
            return (
              <div
                key={key.KeyId}
                id={`key-row-${item.index}`}
                role="option"
                aria-selected={selected}
                aria-posinset={item.index + 1}
                aria-setsize={keys.length}
                className={`key-row${selected ? ' selected' : ''}${item.index === current ? ' active' : ''}`}
                style={{ transform: `translateY(${item.start}px)` }}
                onClick={() => {
                  setActive(item.index);
                  onOpen(key.KeyId);
                }}
              >
                <span className={key.Aliases.length > 0 ? 'key-row-name' : 'key-row-name key-id'} title={key.KeyId}>
                  {keyDisplayName(key)}
                </span>
                <span className="key-row-spec">{key.KeySpec}</span>
                <span className="key-row-usage">{key.KeyUsage}</span>
                <span className={`badge ${key.KeyState}`}>{key.KeyState}</span>
                <span className="key-row-date">{formatDay(key.CreationDate)}</span>
              </div>
            );
          })}
        </div>
      )}
    </div>
  );
}
