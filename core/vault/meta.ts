// The vault header: the rows of the `meta` table (vault id, protection, verifier, wrapped data key,
// the audit anchor, ...). One reader and one writer for every module that keeps something there;
// the statements are prepared once per database handle (the audit anchor is read and written on
// every append). Writing a header row refreshes the header's checksum (header.ts) with it.
import type Database from 'better-sqlite3';
import { HEADER_CHECK, headerChecksum, isHeaderField } from './header.ts';

type Db = Database.Database;

interface MetaStatements {
  readonly read: Database.Statement<[string], { value: unknown }>;
  readonly write: Database.Statement<[string, string]>;
  readonly remove: Database.Statement<[string]>;
}

const statementCache = new WeakMap<Db, MetaStatements>();

function statements(db: Db): MetaStatements {
  let s = statementCache.get(db);
  if (!s) {
    s = {
      read: db.prepare<[string], { value: unknown }>('SELECT value FROM meta WHERE key = ?'),
      write: db.prepare<[string, string]>('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      remove: db.prepare<[string]>('DELETE FROM meta WHERE key = ?'),
    };
    statementCache.set(db, s);
  }
  return s;
}

/** The row's value as stored (the file may hold anything: callers check its type). */
export function readMeta(db: Db, key: string): unknown {
  return statements(db).read.get(key)?.value;
}

export function getMeta(db: Db, key: string): string | undefined {
  const value = readMeta(db, key);
  return typeof value === 'string' ? value : undefined;
}

/** Writes a meta row; writing a header row (header.ts) refreshes the header's checksum with it. */
export function setMeta(db: Db, key: string, value: string): void {
  const { write } = statements(db);
  write.run(key, value);
  if (isHeaderField(key)) write.run(HEADER_CHECK, headerChecksum((k) => getMeta(db, k)));
}

/** Removes a meta row; removing a header row refreshes the header's checksum with it. */
export function deleteMeta(db: Db, key: string): void {
  const { write, remove } = statements(db);
  remove.run(key);
  if (isHeaderField(key)) write.run(HEADER_CHECK, headerChecksum((k) => getMeta(db, k)));
}
