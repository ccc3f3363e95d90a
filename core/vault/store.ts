// The vault's SQLite database (better-sqlite3: Node-API prebuilt binaries that load in Node and
// Electron alike). WAL + synchronous=FULL: a transaction that COMMIT returned is on disk, and a
// process killed at any moment leaves the last committed state. Several processes (CLI, app, API
// server) may use one vault: writers serialise on SQLite's lock (BEGIN IMMEDIATE, busy_timeout).
//
// Writes go through a group-commit queue: every job queued in the same turn of the event loop runs
// in one transaction (each in its own SAVEPOINT, so one job's failure rolls back only that job),
// and all of them are acknowledged after the single COMMIT. One fsync then covers a whole batch of
// audited calls instead of one fsync per call.
import Database from 'better-sqlite3';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KmsError, toKmsError } from '../contract/errors.ts';
import { MIGRATIONS } from './schema.ts';

export type Db = Database.Database;

export const DB_FILE = 'vault.db';

interface Job {
  run(db: Db): unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

function sqliteCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error).code) : undefined;
}

/** Maps SQLite's failures to the vault's error codes, with what a person can do about them. */
export function storeError(error: unknown, dir: string): KmsError {
  if (error instanceof KmsError) return error;
  const code = sqliteCode(error);
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new KmsError('Vault.Corrupt', `${join(dir, DB_FILE)} is not a readable vault database (${code}); restore it from a backup`);
  }
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY' || code === 'SQLITE_PERM' || code === 'SQLITE_IOERR') {
    return new KmsError('Vault.Corrupt', `the vault at ${dir} cannot be opened for writing (${code}); check its permissions and disk`);
  }
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new KmsError('InternalFailure', `the vault at ${dir} stayed locked by another process; try again`);
  }
  if (code === 'SQLITE_FULL') return new KmsError('Vault.Corrupt', `the disk holding ${dir} is full; nothing was written`);
  return toKmsError(error);
}

export class Store {
  readonly dir: string;
  readonly db: Db;
  private queue: Job[] = [];
  private scheduled = false;
  private closed = false;

  private constructor(dir: string, db: Db) {
    this.dir = dir;
    this.db = db;
  }

  static exists(dir: string): boolean {
    return existsSync(join(dir, DB_FILE));
  }

  /** Opens (creating when `create`) the vault database and brings its schema up to date. */
  static open(dir: string, options: { create?: boolean } = {}): Store {
    if (!options.create && !Store.exists(dir)) {
      throw new KmsError('InvalidParameter', `--vault: ${dir} holds no vault; create one with "deskkms init --vault ${dir}"`);
    }
    let db: Db | undefined;
    try {
      if (options.create) {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        chmodSync(dir, 0o700);
      }
      db = new Database(join(dir, DB_FILE), { fileMustExist: !options.create, timeout: 10_000 });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 10000');
      migrate(db);
      return new Store(dir, db);
    } catch (error) {
      db?.close();
      throw storeError(error, dir);
    }
  }

  /** Queues `run` to execute inside the next group transaction; resolves after that COMMIT. */
  write<T>(run: (db: Db) => T): Promise<T> {
    if (this.closed) return Promise.reject(new KmsError('InternalFailure', 'the vault store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const jobs = this.queue;
    this.queue = [];
    if (jobs.length === 0) return;
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      this.db.exec('BEGIN IMMEDIATE');
      for (const job of jobs) {
        this.db.exec('SAVEPOINT job');
        try {
          outcomes.push({ ok: true, value: job.run(this.db) });
          this.db.exec('RELEASE job');
        } catch (error) {
          this.db.exec('ROLLBACK TO job');
          this.db.exec('RELEASE job');
          outcomes.push({ ok: false, error });
        }
      }
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      const failure = storeError(error, this.dir);
      for (const job of jobs) job.reject(failure);
      return;
    }
    jobs.forEach((job, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.error);
    });
  }

  /** Waits for queued writes, then closes the database. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.queue.length > 0) await this.write(() => undefined);
    this.closed = true;
    this.db.close();
  }

  getMeta(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }
}

export function setMeta(db: Db, key: string, value: string): void {
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
}

function migrate(db: Db): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  const current = row?.version ?? 0;
  if (current > MIGRATIONS.length) {
    throw new KmsError('Vault.Corrupt', `this vault has schema version ${current}, newer than this DeskKMS understands (${MIGRATIONS.length}); upgrade DeskKMS`);
  }
  if (current === MIGRATIONS.length) return;
  db.transaction(() => {
    for (let v = current; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
    db.exec('DELETE FROM schema_version');
    db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(MIGRATIONS.length);
  }).immediate();
}
