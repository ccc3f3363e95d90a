// The key list's sort (issue 17): a header click goes ascending, descending, then back to the
// inventory's order; names compare as people read them (case-insensitive, numbers by value);
// ties keep the inventory's order; no sort returns the keys as given.
import { describe, expect, it } from 'vitest';
import type { KeySummary } from '../../core/contract/app-api.ts';
import { nextSort, sortKeys } from '../../renderer/src/stores/keys-store.ts';
import { keySummary } from '../support/key-summary.ts';

function key(KeyId: string, over: Partial<KeySummary> = {}): KeySummary {
  return keySummary({ CreationDate: '2026-01-01T00:00:00Z', ...over, KeyId });
}

const KEYS = [
  key('k1', { Aliases: ['alias/release-10'], KeySpec: 'RSA_2048', CreationDate: '2026-01-03T00:00:00Z' }),
  key('k2', { Aliases: ['alias/Release-9'], KeySpec: 'EC_SM2', KeyUsage: 'ENCRYPT/DECRYPT', CreationDate: '2026-01-01T00:00:00Z' }),
  key('k3', { KeySpec: 'EC_P256', KeyState: 'Disabled', CreationDate: '2026-01-02T00:00:00Z' }),
  key('k4', { Aliases: ['alias/app'], KeySpec: 'EC_P256', CreationDate: '2026-01-02T00:00:00Z' }),
];
const ids = (keys: readonly KeySummary[]) => keys.map((k) => k.KeyId);

describe('nextSort', () => {
  it('cycles ascending, descending, none; another column starts ascending', () => {
    const first = nextSort(undefined, 'name');
    expect(first).toEqual({ column: 'name', direction: 'ascending' });
    const second = nextSort(first, 'name');
    expect(second).toEqual({ column: 'name', direction: 'descending' });
    expect(nextSort(second, 'name')).toBeUndefined();
    expect(nextSort(second, 'spec')).toEqual({ column: 'spec', direction: 'ascending' });
  });
});

describe('sortKeys', () => {
  it('without a sort, the inventory order (a copy)', () => {
    const sorted = sortKeys(KEYS, undefined);
    expect(ids(sorted)).toEqual(['k1', 'k2', 'k3', 'k4']);
    expect(sorted).not.toBe(KEYS);
  });

  it('by name: aliases (or the KeyId) case-insensitive, numbers by value, both ways', () => {
    expect(ids(sortKeys(KEYS, { column: 'name', direction: 'ascending' }))).toEqual(['k4', 'k2', 'k1', 'k3']);
    expect(ids(sortKeys(KEYS, { column: 'name', direction: 'descending' }))).toEqual(['k3', 'k1', 'k2', 'k4']);
  });

  it('by spec, ties in inventory order whichever the direction', () => {
    expect(ids(sortKeys(KEYS, { column: 'spec', direction: 'ascending' }))).toEqual(['k3', 'k4', 'k2', 'k1']);
    expect(ids(sortKeys(KEYS, { column: 'spec', direction: 'descending' }))).toEqual(['k1', 'k2', 'k3', 'k4']);
  });

  it('by usage, state and creation date', () => {
    expect(ids(sortKeys(KEYS, { column: 'usage', direction: 'ascending' }))).toEqual(['k2', 'k1', 'k3', 'k4']);
    expect(ids(sortKeys(KEYS, { column: 'state', direction: 'ascending' }))).toEqual(['k3', 'k1', 'k2', 'k4']);
    expect(ids(sortKeys(KEYS, { column: 'created', direction: 'ascending' }))).toEqual(['k2', 'k3', 'k4', 'k1']);
  });
});
