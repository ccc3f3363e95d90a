// The cache of verified rows (core/vault/row-cache.ts): a key's rows are read and authenticated
// once and then served from memory, but never once anything could have changed them. Two Vault
// objects on one directory are two connections, as two DeskKMS processes are (the app and
// `deskkms serve`); a third connection with raw SQL is someone editing the file.
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getKey, getVersion, updateKeyState } from '../../core/vault/records.ts';
import { requestsArrived } from '../../core/vault/row-cache.ts';
import { Vault } from '../../core/vault/vault.ts';
import { call, fails, tempDir } from './vault-helpers.ts';

const PASSPHRASE = 'row cache test passphrase';
const DIGEST = createHash('sha256').update('release.tar.gz').digest('base64');

let dir: ReturnType<typeof tempDir>;
let vaultDir: string;
let a: Vault;
let b: Vault;
let keyId: string;
let keyVersionId: string;

const open = (): Vault => Vault.open(vaultDir, { passphrase: Buffer.from(PASSPHRASE) });
const sign = (vault: Vault) => call(vault, 'AsymmetricSign', { KeyId: keyId, KeyVersionId: keyVersionId, Algorithm: 'ECDSA_SHA_256', Digest: DIGEST });
const signFails = (vault: Vault) => fails(vault, 'AsymmetricSign', { KeyId: keyId, KeyVersionId: keyVersionId, Algorithm: 'ECDSA_SHA_256', Digest: DIGEST });

beforeAll(() => {
  dir = tempDir('deskkms-row-cache-');
});
afterAll(() => dir?.remove());

beforeEach(async () => {
  vaultDir = join(dir.path, randomUUID());
  await (await Vault.init(vaultDir, { passphrase: Buffer.from(PASSPHRASE), kdfN: 2 ** 14 })).close();
  a = open();
  b = open();
  const created = await call(a, 'CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
  keyId = created.KeyMetadata.KeyId;
  keyVersionId = created.KeyVersionId;
  await sign(a); // a's rows of the key are cached from here
  await sign(b);
});
afterEach(async () => {
  await a.close();
  await b.close();
});

describe('verified rows served from memory', () => {
  it('serves the same row object while nothing changed, and reads again after a commit elsewhere', async () => {
    const first = getKey(a.store.db, keyId);
    expect(getKey(a.store.db, keyId)).toBe(first);
    expect(getVersion(a.store.db, keyId, keyVersionId)).toBe(getVersion(a.store.db, keyId, keyVersionId));
    expect(Object.isFrozen(first)).toBe(true);
    await call(b, 'TagResource', { KeyId: keyId, Tags: JSON.stringify([{ TagKey: 'team', TagValue: 'release' }]) });
    await Promise.resolve(); // another connection's commit is seen from the next microtask on
    const after = getKey(a.store.db, keyId);
    expect(after).not.toBe(first);
    expect(after).toEqual(first);
  });

  it('by arrival (deskkms batch): looks for commits of other processes when requests arrive, not at every microtask', async () => {
    requestsArrived(a.store.db);
    const first = getKey(a.store.db, keyId);
    await call(b, 'DisableKey', { KeyId: keyId });
    await new Promise((done) => setImmediate(done));
    // A request that arrived before b's commit may be served as of its arrival...
    expect(getKey(a.store.db, keyId)).toBe(first);
    await expect(sign(a)).resolves.toHaveProperty('Value');
    // ...one that arrives after it is not, nor is any row read from then on.
    requestsArrived(a.store.db);
    expect(getKey(a.store.db, keyId)?.key_state).toBe('Disabled');
    expect((await signFails(a)).error.Code).toBe('Rejected.Disabled');
    // This connection's own writes are seen at once, as in the default mode.
    await call(a, 'EnableKey', { KeyId: keyId });
    await expect(sign(a)).resolves.toHaveProperty('Value');
  });

  it('by arrival: a row another process re-MACed in a data key rotation since is a rotation (Vault.Locked), not an edit (Vault.Corrupt)', async () => {
    requestsArrived(a.store.db);
    await call(b, 'RotateDataKey', { Passphrase: Buffer.from(PASSPHRASE).toString('base64') });
    const created = await call(b, 'CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
    // a still holds the old integrity key until its next arrival; the new row is MACed under the new one
    let error: unknown;
    try {
      getKey(a.store.db, created.KeyMetadata.KeyId as string);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'Vault.Locked', message: expect.stringMatching(/another DeskKMS process changed this vault's data key/) as unknown });
    // a row edited outside DeskKMS is still an edit
    await a.close();
    a = open();
    await expect(sign(a)).resolves.toHaveProperty('Value');
  });

  it('sees a key disabled by another process at its next call, and enabled again', async () => {
    await call(b, 'DisableKey', { KeyId: keyId });
    expect((await signFails(a)).error.Code).toBe('Rejected.Disabled');
    expect((await call(a, 'DescribeKey', { KeyId: keyId })).KeyMetadata.KeyState).toBe('Disabled');
    await call(b, 'EnableKey', { KeyId: keyId });
    await expect(sign(a)).resolves.toHaveProperty('Value');
  });

  it('sees its own writes', async () => {
    await call(a, 'DisableKey', { KeyId: keyId });
    expect((await signFails(a)).error.Code).toBe('Rejected.Disabled');
    await call(a, 'ScheduleKeyDeletion', { KeyId: keyId, PendingWindowInDays: 7 });
    expect((await call(a, 'DescribeKey', { KeyId: keyId })).KeyMetadata.KeyState).toBe('PendingDeletion');
  });

  it('keeps nothing a rolled-back write showed inside its transaction', async () => {
    const failed = a.store.write((db) => {
      updateKeyState(db, keyId, 'Disabled', null);
      expect(getKey(db, keyId)?.key_state).toBe('Disabled'); // read inside the transaction
      throw new Error('rolled back');
    });
    await expect(failed).rejects.toThrow('rolled back');
    expect(getKey(a.store.db, keyId)?.key_state).toBe('Enabled');
    await expect(sign(a)).resolves.toHaveProperty('Value');
  });

  it('refuses a row edited outside DeskKMS at the next call, though it was cached before', async () => {
    const db = new Database(join(vaultDir, 'vault.db'));
    try {
      db.prepare("UPDATE keys SET key_usage = 'ENCRYPT/DECRYPT' WHERE key_id = ?").run(keyId);
    } finally {
      db.close();
    }
    const refused = await signFails(a);
    expect(refused.error.Code).toBe('Vault.Corrupt');
    expect(refused.error.Message).toMatch(/integrity/);
  });

  it('serves nothing once the vault is locked', async () => {
    expect(getKey(a.store.db, keyId)).toBe(getKey(a.store.db, keyId)); // cached, as of now
    await a.lock();
    expect(() => getKey(a.store.db, keyId)).toThrow(/locked/);
    expect((await signFails(a)).error.Code).toBe('Vault.Locked');
  });

  it('sees a data key rotated by another process (the header read again), and refuses until unlocked again', async () => {
    await call(b, 'RotateDataKey', { Passphrase: Buffer.from(PASSPHRASE).toString('base64') });
    const refused = await signFails(a);
    expect(refused.error.Code).toBe('Vault.Locked');
    expect(refused.error.Message).toMatch(/another DeskKMS process changed this vault's data key/);
    await a.close();
    a = open();
    await expect(sign(a)).resolves.toHaveProperty('Value');
  });
});
