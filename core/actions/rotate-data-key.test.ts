// RotateDataKey through dispatch (a passphrase vault; the keychain case is in
// change-protection.test.ts): every sealed secret is resealed under a new data key, every record
// MACed again, and the vault opens and signs as before; a process that unlocked before the rotation
// stops writing under the old key; an edited row is refused, never laundered into an authentic one.
import { createHash, createVerify, publicEncrypt, constants } from 'node:crypto';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { b64, useActionVault } from '../../test/support/action-vault.ts';
import { Vault } from '../vault/vault.ts';
import { dispatch } from './dispatch.ts';

const v = useActionVault('rotate-data-key');
const PASSPHRASE = 'rotate-data-key passphrase';

/** VerifyAuditChain records nothing when it succeeds (dispatch's UNRECORDED_READS), so it is called directly. */
async function auditVerdict(): Promise<unknown> {
  const outcome = await dispatch(v.vault, 'VerifyAuditChain', {}, 'test');
  return outcome.ok ? outcome.body.Verdict : outcome.error;
}

function sealedBlobs(): string[] {
  const db = v.vault.store.db;
  return [
    ...(db.prepare('SELECT sealed_private AS s FROM key_versions ORDER BY seq').all() as { s: Buffer }[]),
    ...(db.prepare('SELECT sealed_secret AS s FROM access_keys').all() as { s: Buffer }[]),
  ].map((r) => r.s.toString('hex'));
}

describe('RotateDataKey', () => {
  it('reseals every private key and access-key secret; keys sign and decrypt as before; the audit verifies', async () => {
    const ec = await v.makeKey('EC_P256');
    const rsa = await v.makeKey('RSA_2048', 'ENCRYPT/DECRYPT');
    await v.call('CreateAccessKey', {});
    await v.call('GetParametersForImport', { KeyId: (await v.call('CreateKey', { KeySpec: 'EC_P256', Origin: 'EXTERNAL' })).KeyMetadata.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256_AES_256_ECB_PKCS7_PAD', WrappingKeySpec: 'RSA_2048' });
    const verifier = v.vault.store.getMeta('verifier');
    const blobs = sealedBlobs();
    const answer = await v.call('RotateDataKey', { Passphrase: b64(PASSPHRASE) });
    expect(answer).toMatchObject({ VaultId: v.vault.vaultId, Protection: 'passphrase', ResealedSecrets: 3, RevokedImportTokens: 1 });
    expect(v.vault.store.getMeta('verifier')).not.toBe(verifier);
    const after = sealedBlobs();
    expect(after).toHaveLength(blobs.length);
    after.forEach((blob, i) => expect(blob).not.toBe(blobs[i]));
    expect(v.vault.store.db.prepare('SELECT count(*) AS n FROM import_tokens').get()).toEqual({ n: 0 });

    const message = Buffer.from('after rotation');
    const signed = await v.call('AsymmetricSign', { KeyId: ec.keyId, KeyVersionId: ec.versionId, Algorithm: 'ECDSA_SHA_256', Digest: b64(createHash('sha256').update(message).digest()) });
    expect(createVerify('sha256').update(message).verify(ec.pem, Buffer.from(signed.Value, 'base64'))).toBe(true);
    const ciphertext = publicEncrypt({ key: rsa.pem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from('secret'));
    const decrypted = await v.call('AsymmetricDecrypt', { KeyId: rsa.keyId, KeyVersionId: rsa.versionId, Algorithm: 'RSAES_OAEP_SHA_256', CiphertextBlob: b64(ciphertext) });
    expect(Buffer.from(decrypted.Plaintext, 'base64').toString()).toBe('secret');
    expect(await auditVerdict()).toMatchObject({ ok: true });

    // A restart opens it with the same passphrase, through the new wrapped key, and signs (cache cold).
    await v.reopen();
    const again = await v.call('AsymmetricSign', { KeyId: ec.keyId, KeyVersionId: ec.versionId, Algorithm: 'ECDSA_SHA_256', Digest: b64(createHash('sha256').update(message).digest()) });
    expect(createVerify('sha256').update(message).verify(ec.pem, Buffer.from(again.Value, 'base64'))).toBe(true);
  });

  it('another process unlocked under the old key refuses to write with Vault.Locked instead of sealing under it', async () => {
    const other = Vault.open(v.dir, { passphrase: Buffer.from(PASSPHRASE) });
    try {
      await other.ensureUnlocked();
      await v.call('RotateDataKey', { Passphrase: b64(PASSPHRASE) });
      const created = await dispatch(other, 'CreateKey', { KeySpec: 'EC_P256' }, 'test');
      expect(created.ok ? 'created' : created.error.Code).toBe('Vault.Locked');
      if (!created.ok) expect(created.error.Message).toMatch(/another DeskKMS process changed this vault's data key/);
      // Unlocked again (as a user would), it works under the new key.
      await other.unlockWith(Buffer.from(PASSPHRASE));
      expect((await dispatch(other, 'CreateKey', { KeySpec: 'EC_P256' }, 'test')).ok).toBe(true);
    } finally {
      await other.close();
    }
    expect(await auditVerdict()).toMatchObject({ ok: true });
  });

  it('a row edited outside DeskKMS is refused (Vault.Corrupt) and nothing is rotated', async () => {
    const key = await v.makeKey('EC_P256');
    const verifier = v.vault.store.getMeta('verifier');
    const db = new Database(join(v.dir, 'vault.db'));
    db.prepare('UPDATE keys SET exportable = 1 WHERE key_id = ?').run(key.keyId);
    try {
      const refusal = await v.refused('RotateDataKey', { Passphrase: b64(PASSPHRASE) }, 'Vault.Corrupt');
      expect(refusal.Message).toContain(key.keyId);
      expect(v.vault.store.getMeta('verifier')).toBe(verifier);
    } finally {
      db.prepare('UPDATE keys SET exportable = 0 WHERE key_id = ?').run(key.keyId);
      db.close();
    }
    await v.call('RotateDataKey', { Passphrase: b64(PASSPHRASE) });
  });

  it('a passphrase vault needs its current passphrase: missing or wrong, nothing changes', async () => {
    const verifier = v.vault.store.getMeta('verifier');
    expect((await v.refused('RotateDataKey', {}, 'MissingParameter')).Message).toMatch(/Passphrase is required/);
    await v.refused('RotateDataKey', { Passphrase: b64('wrong passphrase') }, 'Vault.Locked');
    expect(v.vault.store.getMeta('verifier')).toBe(verifier);
    expect((await v.call('ListKeys')).TotalCount).toBeGreaterThan(0);
  });
});
