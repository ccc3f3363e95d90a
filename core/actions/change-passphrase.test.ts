// ChangePassphrase through dispatch: the current passphrase is proven first (a wrong one changes
// nothing), the new one opens the vault and the old one no longer does, keys keep signing, and the
// header moves in one row (its checksum with it).
import { createHash, createVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { b64, useActionVault } from '../../test/support/action-vault.ts';
import { Vault } from '../vault/vault.ts';
import { dispatch } from './dispatch.ts';

const v = useActionVault('change-passphrase');
const ORIGINAL = 'change-passphrase passphrase';

async function opensWith(passphrase: string): Promise<string> {
  const other = Vault.open(v.dir, { passphrase: Buffer.from(passphrase) });
  try {
    await other.ensureUnlocked();
    return 'opens';
  } catch (error) {
    return (error as { code: string }).code;
  } finally {
    await other.close();
  }
}

describe('ChangePassphrase', () => {
  it('re-wraps the data key under the new passphrase: it opens the vault, the old one does not, keys still sign', async () => {
    const key = await v.makeKey('EC_P256');
    const before = v.vault.store.getMeta('wrapped_data_key');
    const answer = await v.call('ChangePassphrase', { Passphrase: b64(ORIGINAL), NewPassphrase: b64('a new passphrase') });
    expect(answer).toMatchObject({ VaultId: v.vault.vaultId, Protection: 'passphrase' });
    const after = v.vault.store.getMeta('wrapped_data_key');
    expect(after).not.toBe(before);
    // The cost of the vault's scrypt is kept (the fixture's 2^14), with a new salt.
    expect(JSON.parse(after!)).toMatchObject({ kdf: 'scrypt', N: 2 ** 14 });
    expect(JSON.parse(after!).salt).not.toBe(JSON.parse(before!).salt);
    expect(await opensWith('a new passphrase')).toBe('opens');
    expect(await opensWith(ORIGINAL)).toBe('Vault.Locked');
    const message = Buffer.from('still signs');
    const signed = await v.call('AsymmetricSign', { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: 'ECDSA_SHA_256', Digest: b64(createHash('sha256').update(message).digest()) });
    expect(createVerify('sha256').update(message).verify(key.pem, Buffer.from(signed.Value, 'base64'))).toBe(true);
    // Back, for the tests below.
    await v.call('ChangePassphrase', { Passphrase: b64('a new passphrase'), NewPassphrase: b64(ORIGINAL) });
    expect(await opensWith(ORIGINAL)).toBe('opens');
  });

  it('a wrong current passphrase is Vault.Locked and changes nothing', async () => {
    const before = v.vault.store.getMeta('wrapped_data_key');
    const refusal = await v.refused('ChangePassphrase', { Passphrase: b64('not the passphrase'), NewPassphrase: b64('whatever it is') }, 'Vault.Locked');
    expect(refusal.Message).toMatch(/not the vault's current passphrase; nothing was changed/);
    expect(v.vault.store.getMeta('wrapped_data_key')).toBe(before);
    expect(await opensWith(ORIGINAL)).toBe('opens');
  });

  it('refuses a new passphrase shorter than 8 bytes and a missing one, naming the parameter', async () => {
    expect((await v.refused('ChangePassphrase', { Passphrase: b64(ORIGINAL), NewPassphrase: b64('short') }, 'InvalidParameter')).Message).toMatch(/^NewPassphrase: must be at least 8 bytes/);
    expect((await v.refused('ChangePassphrase', { Passphrase: b64(ORIGINAL) }, 'MissingParameter')).Message).toMatch(/NewPassphrase/);
  });

  it('a second process that unlocked before the change keeps working: the data key is the same', async () => {
    const other = Vault.open(v.dir, { passphrase: Buffer.from(ORIGINAL) });
    try {
      await other.ensureUnlocked();
      await v.call('ChangePassphrase', { Passphrase: b64(ORIGINAL), NewPassphrase: b64('third passphrase') });
      const listed = await dispatch(other, 'ListKeys', {}, 'test');
      expect(listed.ok).toBe(true);
    } finally {
      await other.close();
      await v.call('ChangePassphrase', { Passphrase: b64('third passphrase'), NewPassphrase: b64(ORIGINAL) });
    }
  });
});
