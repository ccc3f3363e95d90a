// The vault's SQLite database (better-sqlite3: Node-API prebuilt binaries that load in Node and
// Electron alike). WAL + synchronous=FULL: a write that was acknowledged is on disk, and a process
// killed at any moment leaves the last committed state. Several processes (CLI, app, API server)
// may use one vault: writers serialise on SQLite's lock (BEGIN IMMEDIATE, busy_timeout).
//
// Writes go through a group-commit queue: every job queued in the same turn of the event loop (or
// while the last commit's fsync runs, below) runs in one transaction (each in its own SAVEPOINT,
// so one job's failure rolls back only that job), and all of them are acknowledged after the
// single COMMIT. One fsync then covers a whole batch of audited calls instead of one fsync per
// call. Consecutive items of a WriteGroup (the audit entries of calls that write nothing else) run
// as one job: one audit append for all of them, retried one by one if it fails, so a bad item
// still fails alone; the queue keeps its order.
//
// That fsync does not block the event loop: the queue's transactions commit with
// synchronous=NORMAL (in WAL mode SQLite then writes the commit's frames to vault.db-wal without
// syncing them), and the jobs are acknowledged only after an fsync of vault.db-wal on libuv's
// thread pool has returned, so an acknowledged commit is on disk as with synchronous=FULL while
// the next requests are parsed, checked and signed. One such fsync runs at a time: what is queued
// while it runs commits when it returns, in one transaction covered by the next fsync (under
// `deskkms serve`'s load a commit then holds ~6 calls instead of ~4, with a third fewer fsyncs,
// and never ten in flight at once). A checkpoint syncs the WAL before copying it and the database
// after, under NORMAL too; a WAL that is gone was checkpointed and removed, so its frames are in
// the synced database. Writes made outside the queue (migrations, db.transaction) keep
// synchronous=FULL.
//
// Files: the directory is 0700, and vault.db is created 0600 by us (O_EXCL, then fchmod, whatever
// the umask) before SQLite opens it; SQLite creates vault.db-wal and vault.db-shm with the mode of
// vault.db (os_unix.c findCreateFileMode / unixOpenSharedMemory), so they are 0600 from creation.
import Database from 'better-sqlite3';
import { chmodSync, close as closeFd, closeSync, constants, fchmodSync, fsync, mkdirSync, open as openFd, openSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KmsError } from '../contract/errors.ts';
import { DB_FILE, vaultFileError } from './fs-errors.ts';
import { errnoCode } from './durable.ts';
import { checkHeader } from './header.ts';
import { getMeta, setMeta } from './meta.ts';
import { MIGRATIONS } from './schema.ts';

export type Db = Database.Database;

export { DB_FILE };
const VAULT_FILES = [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`];

interface Job {
  run(db: Db): unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** Items written together: `run` gets every item queued for the group in one turn. */
export interface WriteGroup<T> {
  run(db: Db, items: readonly T[]): void;
}

interface GroupItem {
  item: unknown;
  resolve(): void;
  reject(error: unknown): void;
}

/** The write queue, in order: jobs, and runs of consecutive items of one group. */
type Queued = Job | { readonly group: WriteGroup<unknown>; readonly items: GroupItem[] };
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** The transaction statements, prepared once per connection (exec() compiles them every time). */
interface TransactionStatements {
  readonly unsynced: Database.Statement;
  readonly synced: Database.Statement;
  readonly begin: Database.Statement;
  readonly commit: Database.Statement;
  readonly rollback: Database.Statement;
  readonly savepoint: Database.Statement;
  readonly release: Database.Statement;
  readonly rollbackTo: Database.Statement;
}

/**
 * SQLite's and the filesystem's failures as the vault's codes (Vault.ReadOnly, .PermissionDenied,
 * .DiskFull, .Busy, .IOError, .Corrupt), naming the path and the fix. Anything else (a constraint
 * error, a bug) is returned as it was: the host reports it as InternalFailure with its detail.
 */
export function storeError(error: unknown, dir: string, options: { creating?: boolean } = {}): unknown {
  if (error instanceof KmsError) return error;
  return vaultFileError(error, dir, options) ?? error;
}


/**
 * fsync of the WAL file on libuv's thread pool, through a descriptor opened at the first sync and
 * kept: SQLite removes or replaces vault.db-wal only when the last connection closes, and this
 * store's connection is open until close(). Opened read-write: Windows' FlushFileBuffers needs
 * write access. A WAL that is not there was checkpointed into vault.db and removed, which SQLite
 * syncs.
 */
class WalFile {
  private fd: number | undefined;
  private readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  sync(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const withFd = (fd: number): void => fsync(fd, (error) => (error ? reject(error) : resolve()));
      if (this.fd !== undefined) {
        withFd(this.fd);
        return;
      }
      openFd(this.path, 'r+', (error, fd) => {
        if (error) {
          if (error.code === 'ENOENT') resolve();
          else reject(error);
          return;
        }
        if (this.fd === undefined) this.fd = fd;
        else closeFd(fd, () => undefined);
        withFd(this.fd);
      });
    });
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** vault.db, created empty with mode 0600 (not umask's 0644) before SQLite opens it; false if it was there. */
function createPrivateFile(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_RDWR, 0o600);
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    fchmodSync(fd, 0o600); // a umask such as 0277 would have taken the owner's write bit
  } finally {
    closeSync(fd);
  }
  return true;
}

/** A vault made before files were created 0600 (or a -wal left by a crash): group and others lose access. */
function tightenModes(dir: string): void {
  for (const name of VAULT_FILES) {
    const path = join(dir, name);
    try {
      const stats = statSync(path);
      if ((stats.mode & 0o077) !== 0 && stats.uid === process.getuid?.()) chmodSync(path, stats.mode & 0o700);
    } catch {
      // absent, or not ours to change: SQLite's own errors (if any) say more
    }
  }
}

export class Store {
  readonly dir: string;
  readonly db: Db;
  private queue: Queued[] = [];
  private tx: TransactionStatements | undefined;
  /** The WAL fsyncs in flight: close() waits for them (their jobs are not yet acknowledged). */
  private readonly syncing = new Set<Promise<void>>();
  private readonly wal: WalFile;
  /** fsync of vault.db-wal; a test replaces it to see when jobs are acknowledged. */
  syncWal: (walPath: string) => Promise<void> = () => this.wal.sync();
  private readonly walPath: string;
  /**
   * Runs first in every write transaction (after BEGIN IMMEDIATE, so nothing changes under it); a
   * throw fails the whole batch. The vault refuses here to write after another process rotated
   * its data key (core/vault/vault.ts).
   */
  writeGuard: ((db: Db) => void) | undefined;
  private scheduled = false;
  private closed = false;

  private constructor(dir: string, db: Db) {
    this.dir = dir;
    this.db = db;
    this.walPath = join(dir, `${DB_FILE}-wal`);
    this.wal = new WalFile(this.walPath);
  }

  /**
   * Whether `dir` holds a vault. A directory this user may not enter is not "no vault": that is
   * Vault.PermissionDenied, naming the directory, its owner and mode.
   */
  static exists(dir: string): boolean {
    try {
      statSync(join(dir, DB_FILE));
      return true;
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') return false;
      throw storeError(error, dir);
    }
  }

  /** Opens (creating when `create`) the vault database and brings its schema up to date. */
  static open(dir: string, options: { create?: boolean } = {}): Store {
    if (!options.create && !Store.exists(dir)) {
      throw new KmsError('InvalidParameter', `--vault: ${dir} holds no vault; create one with "deskkms init --vault ${dir}"`);
    }
    let db: Db | undefined;
    let created = false;
    try {
      if (options.create) {
        try {
          mkdirSync(dir, { recursive: true, mode: 0o700 });
          chmodSync(dir, 0o700);
          created = createPrivateFile(join(dir, DB_FILE));
        } catch (error) {
          throw storeError(error, dir, { creating: true });
        }
      } else tightenModes(dir);
      db = new Database(join(dir, DB_FILE), { fileMustExist: !options.create, timeout: 10_000 });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 10000');
      migrate(db);
      return new Store(dir, db);
    } catch (error) {
      db?.close();
      const failure = storeError(error, dir); // before the clean-up: it may report free space
      // A database this call created but could not set up (a full disk) is no vault: a retry
      // must not meet "already holds a vault".
      if (created) for (const name of VAULT_FILES) rmSync(join(dir, name), { force: true });
      throw failure;
    }
  }

  /** Queues `run` to execute inside the next group transaction; resolves after that COMMIT. */
  write<T>(run: (db: Db) => T): Promise<T> {
    if (this.closed) return Promise.reject(new KmsError('InternalFailure', 'the vault store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve, reject });
      this.schedule();
    });
  }

  /**
   * Queues `item` for `group`, in order with the other writes: consecutive items of one group run
   * as one job (one savepoint), and each resolves after that COMMIT. If that job fails, each item is
   * tried alone (its own savepoint), so only the items that fail by themselves are refused.
   */
  writeGrouped<T>(group: WriteGroup<T>, item: T): Promise<void> {
    if (this.closed) return Promise.reject(new KmsError('InternalFailure', 'the vault store is closed'));
    return new Promise<void>((resolve, reject) => {
      const last = this.queue.at(-1);
      const entry: GroupItem = { item, resolve, reject };
      if (last && 'group' in last && last.group === group) last.items.push(entry);
      else this.queue.push({ group: group, items: [entry] });
      this.schedule();
    });
  }

  /**
   * Flushes at the end of this turn, unless a WAL sync is in flight: then its end does (one sync at
   * a time, and what was queued while it ran commits together, covered by the next).
   */
  private schedule(): void {
    if (this.scheduled || this.syncing.size > 0) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private statements(): TransactionStatements {
    this.tx ??= {
      unsynced: this.db.prepare('PRAGMA synchronous = NORMAL'),
      synced: this.db.prepare('PRAGMA synchronous = FULL'),
      begin: this.db.prepare('BEGIN IMMEDIATE'),
      commit: this.db.prepare('COMMIT'),
      rollback: this.db.prepare('ROLLBACK'),
      savepoint: this.db.prepare('SAVEPOINT job'),
      release: this.db.prepare('RELEASE job'),
      rollbackTo: this.db.prepare('ROLLBACK TO job'),
    };
    return this.tx;
  }

  /** Runs `run` in its own savepoint: its failure rolls back only what it did (see flush). */
  private inSavepoint(tx: TransactionStatements, run: () => unknown): Outcome {
    tx.savepoint.run();
    try {
      const value = run();
      tx.release.run();
      return { ok: true, value };
    } catch (error) {
      // A full disk or an I/O error can make SQLite roll the whole transaction back: then
      // every job of the batch fails with that error.
      if (!this.db.inTransaction) throw error;
      tx.rollbackTo.run();
      tx.release.run();
      // A job's SQLite failure (SQLITE_READONLY from its INSERT) gets the vault's code too.
      return { ok: false, error: storeError(error, this.dir) };
    }
  }

  private flush(): void {
    this.scheduled = false;
    const queued = this.queue;
    this.queue = [];
    if (queued.length === 0) return;
    // (close() empties the queue first, and write() refuses once closed: this is a guard.)
    if (this.closed) {
      this.settle(queued, () => ({ ok: false, error: new KmsError('InternalFailure', 'the vault store is closed') }));
      return;
    }
    /** Per queued entry: a job's outcome, or one outcome per item of a group run. */
    const outcomes: (Outcome | Outcome[])[] = [];
    const tx = this.statements();
    try {
      tx.unsynced.run();
      tx.begin.run();
      this.writeGuard?.(this.db);
      for (const entry of queued) {
        if ('run' in entry) {
          outcomes.push(this.inSavepoint(tx, () => entry.run(this.db)));
          continue;
        }
        const { group, items } = entry;
        const together = this.inSavepoint(tx, () => group.run(this.db, items.map((i) => i.item)));
        // Together, or (when that failed) one by one: a bad item fails alone.
        outcomes.push(together.ok ? items.map(() => together) : items.map((i) => this.inSavepoint(tx, () => group.run(this.db, [i.item]))));
      }
      tx.commit.run();
    } catch (error) {
      try {
        if (this.db.inTransaction) tx.rollback.run();
      } catch {
        // the error that stopped the batch says more than this one
      }
      this.settle(queued, () => ({ ok: false, error: storeError(error, this.dir) }));
      return;
    } finally {
      if (!this.db.inTransaction) tx.synced.run();
    }
    const outcomeOf = (e: number, i?: number): Outcome => (i === undefined ? (outcomes[e] as Outcome) : (outcomes[e] as Outcome[])[i]!);
    // Nothing written (every job refused, e.g. by a read-only file): nothing to sync.
    if (!outcomes.flat().some((o) => o.ok)) {
      this.settle(queued, outcomeOf);
      return;
    }
    // Committed: acknowledged once the WAL holding the commit is on disk. A job that failed by
    // itself keeps its own error.
    const synced = this.syncWal(this.walPath).then(
      () => this.settle(queued, outcomeOf),
      (error: unknown) => {
        const failure = new KmsError(
          'Vault.IOError',
          `vault.db-wal in ${this.dir} could not be synced to disk (${errnoCode(error) ?? String(error)}): the change was written but a power cut could still lose it. To fix: check the disk (dmesg) and retry`,
        );
        this.settle(queued, (e, i) => {
          const own = outcomeOf(e, i);
          return own.ok ? { ok: false, error: failure } : own;
        });
      },
    );
    this.syncing.add(synced);
    void synced.finally(() => {
      this.syncing.delete(synced);
      if (this.queue.length > 0) this.schedule();
    });
  }

  /** Resolves or rejects every queued entry (job, or item `i` of a group run `e`) by its outcome. */
  private settle(queued: readonly Queued[], outcomeOf: (e: number, i?: number) => Outcome): void {
    queued.forEach((entry, e) => {
      if ('run' in entry) {
        const outcome = outcomeOf(e);
        if (outcome.ok) entry.resolve(outcome.value);
        else entry.reject(outcome.error);
        return;
      }
      entry.items.forEach((item, i) => {
        const outcome = outcomeOf(e, i);
        if (outcome.ok) item.resolve();
        else item.reject(outcome.error);
      });
    });
  }

  /** Waits for queued writes, then closes the database. */
  async close(): Promise<void> {
    if (this.closed) return;
    // Until nothing is queued and no sync runs: a write made while a sync runs (a timer's, a
    // socket's) is flushed only when that sync returns, so waiting for the syncs once is not enough.
    while (this.queue.length > 0 || this.syncing.size > 0) {
      if (this.queue.length > 0) await this.write(() => undefined);
      else await Promise.all(this.syncing);
    }
    this.closed = true;
    this.wal.close();
    this.db.close();
  }

  getMeta(key: string): string | undefined {
    return getMeta(this.db, key);
  }

  /** Vault.Corrupt when the header rows do not match their checksum (header.ts); run before any unlock. */
  checkHeader(): void {
    checkHeader((key) => this.getMeta(key), join(this.dir, DB_FILE));
  }
}

export { setMeta };

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
