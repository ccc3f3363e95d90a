// The store's failures as the vault's codes: SQLite's extended codes and errno names mapped to
// Vault.ReadOnly / .PermissionDenied / .DiskFull / .Busy / .IOError / .Corrupt with the path and a
// fix; a job's own SQLite error in the group commit mapped too; a bug passed on as it was. And the
// header checksum that tells a damaged header from a wrong secret.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KmsError, toKmsError } from '../../core/contract/errors.ts';
import { HEADER_CHECK } from '../../core/vault/header.ts';
import { Store, setMeta, storeError } from '../../core/vault/store.ts';
import { rejection } from '../support/errors.ts';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'deskkms-store-errors-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** What better-sqlite3 throws: a SqliteError with the extended code. */
function sqliteError(code: string): Error {
  return Object.assign(new Error(`sqlite says ${code}`), { name: 'SqliteError', code });
}

function mapped(error: unknown): KmsError {
  const result = storeError(error, dir);
  if (!(result instanceof KmsError)) throw new Error(`not mapped: ${String(result)}`);
  return result;
}

describe('storeError', () => {
  // In a writable directory there is nothing on disk to blame: the code alone decides.
  it.each([
    ['SQLITE_READONLY', 'Vault.ReadOnly', /is read-only to this process \(SQLITE_READONLY\); nothing was written\. To fix: .*lsattr/],
    ['SQLITE_READONLY_DIRECTORY', 'Vault.ReadOnly', /SQLITE_READONLY_DIRECTORY/],
    ['SQLITE_READONLY_DBMOVED', 'Vault.ReadOnly', /vault\.db was moved, replaced or deleted while this process had it open/],
    ['SQLITE_READONLY_CANTINIT', 'Vault.ReadOnly', /SQLITE_READONLY_CANTINIT/],
    ['SQLITE_FULL', 'Vault.DiskFull', /the disk is full where the vault lives \(.*SQLITE_FULL, .* free of /],
    ['ENOSPC', 'Vault.DiskFull', /the disk is full .*ENOSPC/],
    ['EDQUOT', 'Vault.DiskFull', /disk quota is used up/],
    ['SQLITE_BUSY', 'Vault.Busy', /stayed locked by another process for 10 s/],
    ['SQLITE_BUSY_SNAPSHOT', 'Vault.Busy', /SQLITE_BUSY_SNAPSHOT/],
    ['SQLITE_IOERR_FSYNC', 'Vault.IOError', /vault\.db failed \(SQLITE_IOERR_FSYNC\): the disk or filesystem reported an error\. To fix: check the disk/],
    ['SQLITE_CANTOPEN_FULLPATH', 'Vault.IOError', /SQLITE_CANTOPEN_FULLPATH/],
    ['SQLITE_CANTOPEN_ISDIR', 'Vault.Corrupt', /vault\.db is a directory/],
    ['SQLITE_NOTADB', 'Vault.Corrupt', /restore it from a backup/],
    ['SQLITE_CORRUPT', 'Vault.Corrupt', /restore it from a backup/],
    ['EROFS', 'Vault.ReadOnly', /EROFS/],
    ['EACCES', 'Vault.PermissionDenied', /may not be used by .* \(EACCES\)\. To fix: check the owner and mode/],
    ['SQLITE_PERM', 'Vault.PermissionDenied', /SQLITE_PERM/],
  ])('%s is %s, naming the vault', (code, expected, message) => {
    const error = mapped(sqliteError(code));
    expect(error.code).toBe(expected);
    expect(error.message).toMatch(message);
    expect(error.message).toContain(dir);
  });

  it('gives the new codes their HTTP statuses', () => {
    expect(new KmsError('Vault.ReadOnly', '').httpStatus).toBe(503);
    expect(new KmsError('Vault.PermissionDenied', '').httpStatus).toBe(503);
    expect(new KmsError('Vault.DiskFull', '').httpStatus).toBe(507);
    expect(new KmsError('Vault.Busy', '').httpStatus).toBe(503);
    expect(new KmsError('Vault.IOError', '').httpStatus).toBe(503);
  });

  it('passes a bug (a constraint error, a TypeError) on as it was, and a KmsError unchanged', () => {
    const constraint = sqliteError('SQLITE_CONSTRAINT_UNIQUE');
    expect(storeError(constraint, dir)).toBe(constraint);
    const bug = new TypeError('x is undefined');
    expect(storeError(bug, dir)).toBe(bug);
    const kms = new KmsError('Vault.Locked', 'locked');
    expect(storeError(kms, dir)).toBe(kms);
  });

  it('InternalFailure names no log unless the host says where the detail is', () => {
    expect(toKmsError(new Error('boom')).message).toBe('internal failure (a bug in DeskKMS); please report it');
    expect(toKmsError(new Error('boom'), 'on stderr above').message).toBe('internal failure (a bug in DeskKMS; detail on stderr above); please report it');
  });
});

describe('Store group commit', () => {
  it("maps a job's own SQLite error (SQLITE_READONLY from its INSERT), passes a bug on, and commits the other jobs", async () => {
    const store = Store.open(join(dir, 'v'), { create: true });
    try {
      const readOnly = store.write(() => {
        throw sqliteError('SQLITE_READONLY');
      });
      const bug = store.write(() => {
        throw new TypeError('a bug');
      });
      const ok = store.write((db) => setMeta(db, 'note', 'kept'));
      expect((await rejection(readOnly)).code).toBe('Vault.ReadOnly');
      await expect(bug).rejects.toThrow(TypeError);
      await ok;
      expect(store.getMeta('note')).toBe('kept');
    } finally {
      await store.close();
    }
  });

  it('Store.exists: a missing directory holds no vault', () => {
    expect(Store.exists(join(dir, 'absent'))).toBe(false);
    expect(Store.exists(join(dir, 'absent', 'deeper'))).toBe(false);
  });
});

describe('header checksum', () => {
  it('is written with the header rows and refreshed when one changes', async () => {
    const store = Store.open(join(dir, 'v'), { create: true });
    try {
      await store.write((db) => {
        setMeta(db, 'vault_id', 'v-1');
        setMeta(db, 'protection', 'passphrase');
        setMeta(db, 'verifier', 'AAAA');
        setMeta(db, 'wrapped_data_key', '{"kdf":"scrypt"}');
      });
      const first = store.getMeta(HEADER_CHECK);
      expect(first).toMatch(/^sha256:[0-9a-f]{64}$/);
      store.checkHeader();
      await store.write((db) => setMeta(db, 'created', '2026-01-01T00:00:00Z')); // not a header row
      expect(store.getMeta(HEADER_CHECK)).toBe(first);
      await store.write((db) => setMeta(db, 'verifier', 'BBBB')); // a legitimate rewrite (verifier upgrade)
      expect(store.getMeta(HEADER_CHECK)).not.toBe(first);
      store.checkHeader();
    } finally {
      await store.close();
    }
  });

  it('a header row changed behind its back is Vault.Corrupt "the vault header is damaged"; without a checksum it passes (older vaults)', async () => {
    const store = Store.open(join(dir, 'v'), { create: true });
    try {
      await store.write((db) => {
        setMeta(db, 'vault_id', 'v-1');
        setMeta(db, 'wrapped_data_key', '{"salt":"AAAA"}');
      });
      store.db.prepare("UPDATE meta SET value = ? WHERE key = 'wrapped_data_key'").run('{"salt":"AAAB"}');
      expect(() => store.checkHeader()).toThrow(
        expect.objectContaining({ code: 'Vault.Corrupt', message: expect.stringMatching(/^the vault header is damaged .*restore vault\.db from a backup$/) as unknown }) as unknown,
      );
      store.db.prepare('DELETE FROM meta WHERE key = ?').run(HEADER_CHECK);
      expect(() => store.checkHeader()).not.toThrow();
    } finally {
      await store.close();
    }
  });
});
