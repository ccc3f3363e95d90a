// The store's group commit (core/vault/store.ts): jobs and grouped items of one turn share one
// transaction; a grouped item that fails alone is refused alone; nothing is acknowledged before
// the WAL holding the commit has been synced (the fsync runs off the event loop), and a failed
// sync refuses the group with Vault.IOError; close() waits for the syncs in flight; one sync runs at
// a time, and what is queued meanwhile commits after it, together.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store, type WriteGroup } from '../../core/vault/store.ts';

let dir: string;
let store: Store;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'deskkms-group-commit-'));
  store = Store.open(dir, { create: true });
  store.db.exec('CREATE TABLE t (v TEXT NOT NULL UNIQUE)');
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const rows = (): string[] => (store.db.prepare('SELECT v FROM t ORDER BY rowid').all() as { v: string }[]).map((r) => r.v);

/** A group that inserts its items in one statement each, and counts its runs. */
function insertGroup(): WriteGroup<string> & { runs: number[] } {
  const runs: number[] = [];
  return {
    runs,
    run(db, items) {
      runs.push(items.length);
      const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
      for (const item of items) insert.run(item);
    },
  };
}

describe('group commit', () => {
  it('keeps the order of one turn\'s writes, running consecutive items of a group together, in one transaction', async () => {
    const group = insertGroup();
    let syncs = 0;
    const sync = store.syncWal;
    store.syncWal = (path) => ((syncs += 1), sync(path));
    const done = await Promise.all([
      store.writeGrouped(group, 'a'),
      store.write((db) => db.prepare("INSERT INTO t (v) VALUES ('job')").run()),
      store.writeGrouped(group, 'b'),
      store.writeGrouped(group, 'c'),
      store.writeGrouped(group, 'd'),
    ]);
    expect(done).toHaveLength(5);
    expect(group.runs).toEqual([1, 3]);
    expect(rows()).toEqual(['a', 'job', 'b', 'c', 'd']);
    expect(syncs).toBe(1);
  });

  it('syncs nothing when nothing was written (every write refused by itself)', async () => {
    let syncs = 0;
    store.syncWal = () => ((syncs += 1), Promise.resolve());
    await expect(store.write(() => { throw new Error('refused'); })).rejects.toThrow('refused');
    expect(syncs).toBe(0);
  });

  it('refuses only the item that fails by itself (the group is retried one by one)', async () => {
    const group = insertGroup();
    await store.writeGrouped(group, 'taken');
    const outcomes = await Promise.allSettled(['x', 'taken', 'y'].map((v) => store.writeGrouped(group, v)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(rows()).toEqual(['taken', 'x', 'y']);
    expect(group.runs).toEqual([1, 3, 1, 1, 1]);
  });

  it('acknowledges nothing before the WAL is synced; the sync runs after COMMIT on a file that holds the commit', async () => {
    let release: () => void = () => undefined;
    const synced: string[] = [];
    store.syncWal = (walPath) => {
      synced.push(walPath);
      expect(statSync(walPath).size).toBeGreaterThan(0);
      return new Promise<void>((resolve) => (release = resolve));
    };
    let acknowledged = false;
    const write = store.writeGrouped(insertGroup(), 'v').then(() => (acknowledged = true));
    await new Promise((r) => setTimeout(r, 20));
    // Committed (another reader sees it) but not yet acknowledged.
    expect(rows()).toEqual(['v']);
    expect(acknowledged).toBe(false);
    expect(synced).toEqual([join(dir, 'vault.db-wal')]);
    release();
    await write;
    expect(acknowledged).toBe(true);
  });

  it('one WAL sync at a time: what is queued while one runs commits after it, in one transaction with one more sync', async () => {
    const releases: (() => void)[] = [];
    store.syncWal = () => new Promise<void>((resolve) => releases.push(resolve));
    const settle = (ms = 20): Promise<unknown> => new Promise((r) => setTimeout(r, ms));
    const group = insertGroup();
    const first = store.writeGrouped(group, 'a');
    await settle();
    expect(rows()).toEqual(['a']);
    expect(releases).toHaveLength(1);
    // Two more turns' writes while that sync runs: neither commits yet.
    const second = store.writeGrouped(group, 'b');
    await new Promise((r) => setImmediate(r));
    const third = store.write((db) => db.prepare("INSERT INTO t (v) VALUES ('c')").run());
    await settle();
    expect(rows()).toEqual(['a']);
    expect(releases).toHaveLength(1);
    releases[0]!();
    await first;
    await settle();
    // Committed together (one savepoint for the group's item, one for the job), one sync for both.
    expect(rows()).toEqual(['a', 'b', 'c']);
    expect(releases).toHaveLength(2);
    expect(group.runs).toEqual([1, 1]);
    let acknowledged = false;
    const later = Promise.all([second, third]).then(() => (acknowledged = true));
    await settle();
    expect(acknowledged).toBe(false);
    releases[1]!();
    await later;
    // A failed sync lets the next writes commit too.
    store.syncWal = () => Promise.reject(Object.assign(new Error('EIO'), { code: 'EIO' }));
    const failed = store.write((db) => db.prepare("INSERT INTO t (v) VALUES ('d')").run());
    const after = store.write((db) => db.prepare("INSERT INTO t (v) VALUES ('e')").run());
    await expect(failed).rejects.toMatchObject({ code: 'Vault.IOError' });
    await expect(after).rejects.toMatchObject({ code: 'Vault.IOError' });
    store.syncWal = () => Promise.resolve();
    await store.write((db) => db.prepare("INSERT INTO t (v) VALUES ('f')").run());
    expect(rows()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('a failed sync refuses the group with Vault.IOError; close() waits for syncs in flight', async () => {
    store.syncWal = () => Promise.reject(Object.assign(new Error('EIO'), { code: 'EIO' }));
    await expect(store.write(() => 1)).rejects.toMatchObject({ code: 'Vault.IOError', message: expect.stringMatching(/could not be synced to disk \(EIO\)/) });
    let finish: () => void = () => undefined;
    store.syncWal = () => new Promise<void>((resolve) => (finish = resolve));
    const pending = store.write(() => 2);
    await new Promise((r) => setImmediate(r));
    let closed = false;
    const closing = store.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBe(false);
    finish();
    await expect(pending).resolves.toBe(2);
    await closing;
    expect(closed).toBe(true);
  });

  it('close() while a sync runs: a write queued meanwhile (by a timer) still commits before the database closes', async () => {
    let release: () => void = () => undefined;
    store.syncWal = () => new Promise<void>((resolve) => (release = resolve));
    const first = store.write((db) => db.prepare("INSERT INTO t (v) VALUES ('a')").run());
    await new Promise((r) => setTimeout(r, 20));
    const closing = store.close();
    const late = new Promise<unknown>((resolve) => setTimeout(() => resolve(store.write((db) => db.prepare("INSERT INTO t (v) VALUES ('late')").run())), 10));
    await new Promise((r) => setTimeout(r, 30));
    store.syncWal = () => Promise.resolve();
    release();
    await first;
    await expect(late).resolves.toMatchObject({ changes: 1 });
    await closing;
    const reopened = Store.open(dir);
    try {
      expect((reopened.db.prepare('SELECT v FROM t ORDER BY rowid').all() as { v: string }[]).map((r) => r.v)).toEqual(['a', 'late']);
    } finally {
      await reopened.close();
    }
  });

  it('the real sync: writes are durable and the connection is back at synchronous=FULL outside the queue', async () => {
    await store.write((db) => db.prepare("INSERT INTO t (v) VALUES ('durable')").run());
    expect(rows()).toEqual(['durable']);
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2); // FULL
  });
});
