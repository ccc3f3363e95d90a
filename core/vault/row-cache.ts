// Verified rows that every use of a key reads (its key row, version row, aliases, and the API's
// access key), kept between calls while the vault file has not changed. Reading and authenticating
// them cost ~40 µs a call, a third of a signature's path through `deskkms batch` (issue 19).
//
// A cached row is one that passed its MAC check (integrity.ts); it is served only while nothing
// could have changed it:
// - no other connection committed (SQLite's `PRAGMA data_version`, which changes on every commit
//   by another connection, another process included);
// - this connection wrote none of the cached tables (TEMP triggers on them, which exist only on
//   this connection and are never stored in the file, count its writes, rolled back or not);
// - the integrity key is the one the rows were verified under (integrity.ts `integrityEpoch`);
// - and the connection is not inside a transaction: a read there may see its own uncommitted
//   writes, which a ROLLBACK would undo without telling the cache, so it reads the file.
// Any of these changing empties the whole cache. Rows are frozen: callers share them.
//
// When data_version is read: by default once per synchronous run of code (a microtask), as any
// host may have taken a request in between. A host whose every request comes through one input
// it reads itself (`deskkms batch`: stdin) reads it instead once per arrival of that input
// (requestsArrived): a request that arrived before that read takes effect as of the read or later,
// within its [arrival, answer] window, which is all a request is promised; one that causally
// follows another process's commit (its sender saw the commit first) arrives after it, so the
// read at its arrival sees that commit.
// The same stamp tells the vault when to read its header's verifier again (vault.ts
// ensureUnlocked): the triggers count this connection's writes of it too.
import type Database from 'better-sqlite3';
import { integrityEpoch } from './integrity.ts';

type Db = Database.Database;

/** The tables whose rows are cached; a write to any of them, on this connection, empties the cache. */
export const CACHED_TABLES = ['keys', 'key_versions', 'aliases', 'access_keys'] as const;
/** Rows kept at most; past it the cache starts again (a vault's hot keys are few). */
const MAX_ROWS = 4096;
const CHANGED = 'deskkms_cached_rows_changed';

interface CacheState {
  readonly dataVersion: Database.Statement<[], number>;
  /** data_version as read in the current synchronous run of code (see current()); undefined: read it. */
  version: number | undefined;
  /** Set by requestsArrived(): data_version is read at each arrival, not once per microtask. */
  byArrival: boolean;
  writes: number;
  stamp: string;
  readonly rows: Map<string, unknown>;
}

const states = new WeakMap<Db, CacheState | null>();

function stateOf(db: Db): CacheState | null {
  let state = states.get(db);
  if (state !== undefined) return state;
  try {
    const created: CacheState = { dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(), version: undefined, byArrival: false, writes: 0, stamp: '', rows: new Map() };
    db.function(CHANGED, { deterministic: false }, () => {
      created.writes++;
      return null;
    });
    const watched = [
      ...CACHED_TABLES.flatMap((table) => (['INSERT', 'UPDATE', 'DELETE'] as const).map((op) => ({ table, op, when: '' }))),
      { table: 'meta', op: 'INSERT', when: "WHEN NEW.key = 'verifier'" },
      { table: 'meta', op: 'UPDATE', when: "WHEN OLD.key = 'verifier' OR NEW.key = 'verifier'" },
      { table: 'meta', op: 'DELETE', when: "WHEN OLD.key = 'verifier'" },
    ];
    for (const { table, op, when } of watched) {
      db.exec(`CREATE TEMP TRIGGER IF NOT EXISTS ${CHANGED}_${table}_${op.toLowerCase()} AFTER ${op} ON main.${table} ${when} BEGIN SELECT ${CHANGED}(); END`);
    }
    state = created;
  } catch {
    // A connection that cannot hold the triggers (a table missing in an old or damaged file) reads
    // every row from the file, as before the cache.
    state = null;
  }
  states.set(db, state);
  return state;
}

/** The state, its rows emptied if anything changed since the last call; null inside a transaction. */
function current(db: Db): CacheState | null {
  if (db.inTransaction) return null;
  const state = stateOf(db);
  if (!state) return null;
  // Another connection's commit is seen from the next microtask on: code that runs without
  // yielding (a key and its version looked up together) reads data_version once. (By arrival:
  // from the next arrival on.)
  if (state.version === undefined) {
    state.version = state.dataVersion.get()!;
    if (!state.byArrival) queueMicrotask(() => (state.version = undefined));
  }
  const stamp = `${integrityEpoch(db)}:${state.version}:${state.writes}`;
  if (stamp !== state.stamp) {
    state.rows.clear();
    state.stamp = stamp;
  }
  return state;
}

/**
 * For a host that takes requests from one input only, each time requests arrive on it (a chunk of
 * stdin), before they are dispatched: from now on this connection reads data_version here, not
 * once per microtask (see the top of this file). Every request the process serves must come
 * through that input from the first call on; a host with a second source of requests (a timer
 * that acts, a socket) must not call it.
 */
export function requestsArrived(db: Db): void {
  const state = stateOf(db);
  if (!state) return;
  state.byArrival = true;
  state.version = state.dataVersion.get()!;
}

/**
 * What the vault looked like when last asked: equal stamps mean nothing the cache watches (nor the
 * verifier) changed in between. Undefined when that cannot be told (inside a transaction): read.
 */
export function changeStamp(db: Db): string | undefined {
  return current(db)?.stamp;
}

/**
 * The row `read()` returns (a verified read), from the cache when the vault has not changed since
 * it was read; `key` names the row (its table and primary key). Undefined (no such row) is not kept.
 */
export function cachedRow<T extends object>(db: Db, key: string, read: () => T | undefined): T | undefined {
  const state = current(db);
  if (!state) return read();
  if (state.rows.has(key)) return state.rows.get(key) as T;
  const row = read();
  if (row !== undefined) {
    if (state.rows.size >= MAX_ROWS) state.rows.clear();
    state.rows.set(key, Object.freeze(row));
  }
  return row;
}
