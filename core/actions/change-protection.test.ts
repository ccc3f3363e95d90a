// ChangeProtection and RotateDataKey on the OS keychain (a real Secret Service: the suite runs
// inside test/setup/with-secret-service.sh): the data key moves from a passphrase into a keychain
// entry of its own and back, a rotation writes a new entry and deletes the old one, and no entry the
// vault no longer uses is left behind.
import { createHash, createVerify } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { b64, useActionVault } from '../../test/support/action-vault.ts';
import { requireSecretService } from '../../test/integration/vault-helpers.ts';
import { spawnSync } from 'node:child_process';
import { KEYCHAIN_SERVICE } from '../keychain/keychain.ts';
import { keychainAccount } from '../vault/custody-meta.ts';
import { Vault } from '../vault/vault.ts';

const v = useActionVault('change-protection');
const PASSPHRASE = 'change-protection passphrase';

beforeAll(() => requireSecretService());

async function signs(key: { keyId: string; versionId: string; pem: string }, vault = v.vault): Promise<boolean> {
  const message = Buffer.from(`signed ${Math.random()}`);
  const { dispatch } = await import('./dispatch.ts');
  const signed = await dispatch(vault, 'AsymmetricSign', { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: 'ECDSA_SHA_256', Digest: b64(createHash('sha256').update(message).digest()) }, 'test');
  if (!signed.ok) throw new Error(`${signed.error.Code}: ${signed.error.Message}`);
  return createVerify('sha256').update(message).verify(key.pem, Buffer.from(signed.body.Value, 'base64'));
}

/** secret-tool (libsecret), reading the keychain independently of the vault's own client. */
function entryHolds(account: string): boolean {
  const found = spawnSync('secret-tool', ['lookup', 'service', KEYCHAIN_SERVICE, 'username', account], { encoding: 'utf8' });
  return found.status === 0 && found.stdout.length > 0;
}

function secretToolStore(account: string, secret: string): void {
  const stored = spawnSync('secret-tool', ['store', '--label=written by the test', 'service', KEYCHAIN_SERVICE, 'username', account], { input: secret });
  if (stored.status !== 0) throw new Error(`secret-tool store failed: ${stored.stderr.toString()}`);
}

describe('ChangeProtection', () => {
  it('passphrase -> keychain -> rotation -> passphrase: each step opens from a fresh process and signs; old entries are deleted', async () => {
    const key = await v.makeKey('EC_P256');
    // To the keychain: the current passphrase is required, and proven.
    expect((await v.refused('ChangeProtection', { Protection: 'keychain' }, 'MissingParameter')).Message).toMatch(/Passphrase is required/);
    await v.refused('ChangeProtection', { Protection: 'keychain', Passphrase: b64('wrong passphrase') }, 'Vault.Locked');
    const moved = await v.call('ChangeProtection', { Protection: 'keychain', Passphrase: b64(PASSPHRASE) });
    expect(moved).toMatchObject({ Protection: 'keychain' });
    expect(v.vault.protectionKind).toBe('keychain');
    expect(v.vault.store.getMeta('wrapped_data_key')).toBeUndefined();
    const first = keychainAccount(v.vault.store.db, v.vault.vaultId);
    expect(first).toMatch(new RegExp(`^vault-${v.vault.vaultId}-[0-9a-f]{12}$`));
    expect(entryHolds(first)).toBe(true);
    const fresh = Vault.open(v.dir);
    try {
      expect(await signs(key, fresh)).toBe(true);
    } finally {
      await fresh.close();
    }
    await v.refused('ChangeProtection', { Protection: 'keychain' }, 'InvalidParameter');

    // A rotation on the keychain: a new entry, the old one deleted.
    const rotated = await v.call('RotateDataKey', {});
    expect(rotated).toMatchObject({ Protection: 'keychain', ResealedSecrets: 1 });
    const second = keychainAccount(v.vault.store.db, v.vault.vaultId);
    expect(second).not.toBe(first);
    expect(entryHolds(second)).toBe(true);
    expect(entryHolds(first)).toBe(false);
    expect(await signs(key)).toBe(true);

    // Back to a passphrase: the entry is deleted, the new passphrase opens it.
    expect((await v.refused('ChangeProtection', { Protection: 'passphrase' }, 'MissingParameter')).Message).toMatch(/NewPassphrase is required/);
    const back = await v.call('ChangeProtection', { Protection: 'passphrase', NewPassphrase: b64('back to a passphrase') });
    expect(back).toMatchObject({ Protection: 'passphrase' });
    expect(entryHolds(second)).toBe(false);
    expect(v.vault.store.getMeta('keychain_account')).toBeUndefined();
    const reopened = Vault.open(v.dir, { passphrase: Buffer.from('back to a passphrase') });
    try {
      expect(await signs(key, reopened)).toBe(true);
    } finally {
      await reopened.close();
    }
    await v.call('ChangePassphrase', { Passphrase: b64('back to a passphrase'), NewPassphrase: b64(PASSPHRASE) });
  });

  it('a keychain entry announced but never committed (a kill between the two) is deleted at the next unlock', async () => {
    const { setKeychainCleanup, freshKeychainAccount } = await import('../vault/custody-meta.ts');
    const orphan = freshKeychainAccount(v.vault.vaultId);
    // What a kill after the entry was written, before the header named it, leaves: listed and stored.
    await v.vault.store.write((db) => setKeychainCleanup(db, v.vault.vaultId, [orphan]));
    secretToolStore(orphan, Buffer.alloc(32, 7).toString('base64'));
    const other = Vault.open(v.dir, { passphrase: Buffer.from(PASSPHRASE) });
    try {
      await other.ensureUnlocked();
    } finally {
      await other.close();
    }
    expect(entryHolds(orphan)).toBe(false);
    expect(v.vault.store.getMeta('keychain_cleanup')).toBeUndefined();
  });

  it('a second process unlocking while a rotation is in flight never leaves a vault that opens with neither key', async () => {
    await v.call('ChangeProtection', { Protection: 'keychain', Passphrase: b64(PASSPHRASE) });
    const key = await v.makeKey('EC_P256');
    const { dispatch } = await import('./dispatch.ts');
    let busy = 0;
    for (let round = 0; round < 5; round++) {
      // Another process, unlocked beforehand; it cleans up the moment the rotation has announced its
      // new entry (as its unlock would), so it claims that entry before the rotation commits.
      const other = Vault.open(v.dir);
      try {
        await other.ensureUnlocked();
        const before = v.vault.store.getMeta('keychain_cleanup');
        const rotation = dispatch(v.vault, 'RotateDataKey', {}, 'test');
        for (let i = 0; i < 400 && v.vault.store.getMeta('keychain_cleanup') === before; i++) await new Promise((r) => setImmediate(r));
        await other.cleanUpKeychain();
        const outcome = await rotation;
        if (!outcome.ok) {
          // Claimed before the commit (Busy), or deleted under the rotation's own read-back of it
          // (the keychain "did not keep" it): either way nothing was committed.
          expect(['Vault.Busy', 'Vault.KeychainUnavailable']).toContain(outcome.error.Code);
          busy++;
        }
      } finally {
        await other.close();
      }
      const fresh = Vault.open(v.dir);
      try {
        expect(await signs(key, fresh)).toBe(true);
      } finally {
        await fresh.close();
      }
      expect(await signs(key)).toBe(true);
    }
    // The race was met (the claim came first) at least once; each time, nothing was committed.
    expect(busy).toBeGreaterThan(0);
    await v.call('ChangeProtection', { Protection: 'passphrase', NewPassphrase: b64(PASSPHRASE) });
  });

  it('an entry claimed by an unlock that was killed before deleting it is taken over: at once when its process is gone, else once the claim is a minute old', async () => {
    const { freshKeychainAccount, setKeychainCleanup, claimKeychainCleanup, keychainCleanup } = await import('../vault/custody-meta.ts');
    const left = freshKeychainAccount(v.vault.vaultId);
    secretToolStore(left, Buffer.alloc(32, 5).toString('base64'));
    // The killed unlock's claim, just made: a live claim, which another unlock leaves alone.
    await v.vault.store.write((db) => {
      setKeychainCleanup(db, v.vault.vaultId, [left]);
      expect(claimKeychainCleanup(db, v.vault.vaultId, undefined, new Date())).toEqual([left]);
    });
    const unlockOnce = async (): Promise<void> => {
      const other = Vault.open(v.dir, { passphrase: Buffer.from(PASSPHRASE) });
      try {
        await other.ensureUnlocked();
      } finally {
        await other.close();
      }
    };
    await unlockOnce();
    expect(entryHolds(left)).toBe(true);
    expect(keychainCleanup(v.vault.store.db, v.vault.vaultId, undefined)).toEqual([left]);
    // Two minutes later (the claim written as then): taken over and deleted.
    await v.vault.store.write((db) => {
      setKeychainCleanup(db, v.vault.vaultId, []);
      setKeychainCleanup(db, v.vault.vaultId, [left]);
      claimKeychainCleanup(db, v.vault.vaultId, undefined, new Date(Date.now() - 120_000));
    });
    await unlockOnce();
    expect(entryHolds(left)).toBe(false);
    expect(keychainCleanup(v.vault.store.db, v.vault.vaultId, undefined)).toEqual([]);

    // Claimed a moment ago by a process that is gone (killed): taken over at once.
    secretToolStore(left, Buffer.alloc(32, 5).toString('base64'));
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    await v.vault.store.write((db) => {
      setKeychainCleanup(db, v.vault.vaultId, [left]);
      expect(claimKeychainCleanup(db, v.vault.vaultId, undefined, new Date(), Number(gone.stdout))).toEqual([left]);
    });
    await unlockOnce();
    expect(entryHolds(left)).toBe(false);
  });

  it('never deletes an entry that is not this vault own, even when the list is edited to name it', async () => {
    const { setMeta } = await import('../vault/meta.ts');
    const foreign = 'vault-00000000-0000-4000-8000-000000000000';
    secretToolStore(foreign, Buffer.alloc(32, 9).toString('base64'));
    await v.vault.store.write((db) => setMeta(db, 'keychain_cleanup', JSON.stringify({ accounts: [foreign], mac: '00'.repeat(32) })));
    const other = Vault.open(v.dir, { passphrase: Buffer.from(PASSPHRASE) });
    try {
      await other.ensureUnlocked();
    } finally {
      await other.close();
    }
    expect(entryHolds(foreign)).toBe(true);
  });
});
