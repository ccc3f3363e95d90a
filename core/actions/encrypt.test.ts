import { describe, expect, it } from 'vitest';
import { decodeBlob } from '../contract/ciphertext-blob.ts';
import { b64, useActionVault } from '../../test/support/action-vault.ts';
import { makeSymmetricKey } from '../../test/support/symmetric-key.ts';

const v = useActionVault('encrypt');

describe('Encrypt', () => {
  it.each(['Aliyun_AES_256', 'Aliyun_SM4'] as const)('encrypts under the primary version of a %s key, by KeyId or alias, into a blob naming both', async (spec) => {
    const key = await makeSymmetricKey(v, spec);
    await v.call('CreateAlias', { KeyId: key.keyId, AliasName: `alias/enc-${spec.toLowerCase()}` });
    for (const KeyId of [key.keyId, `alias/enc-${spec.toLowerCase()}`]) {
      const out = await v.call('Encrypt', { KeyId, Plaintext: b64('db password'), EncryptionContext: '{"app":"billing"}' });
      expect(out).toMatchObject({ KeyId: key.keyId, KeyVersionId: key.versionId });
      const blob = decodeBlob(Buffer.from(out.CiphertextBlob, 'base64'));
      expect(blob.header).toEqual({ keyId: key.keyId, keyVersionId: key.versionId, cipher: spec === 'Aliyun_SM4' ? 'SM4-GCM' : 'AES-256-GCM' });
      expect(blob.ciphertext.length).toBe('db password'.length);
      expect(v.auditOf(out.RequestId)).toMatchObject({ action: 'Encrypt', keyId: key.keyId, keyVersionId: key.versionId, code: 'OK' });
    }
  });

  it('uses the newest version once the key has rotated (CreateKeyVersion)', async () => {
    const key = await makeSymmetricKey(v);
    const rotated = await v.call('CreateKeyVersion', { KeyId: key.keyId });
    const out = await v.call('Encrypt', { KeyId: key.keyId, Plaintext: b64('x') });
    expect(out.KeyVersionId).toBe(rotated.KeyVersion.KeyVersionId);
    expect(out.KeyVersionId).not.toBe(key.versionId);
  });

  it('takes 6 KiB and refuses more, refuses asymmetric and disabled keys, and DryRun encrypts nothing', async () => {
    const key = await makeSymmetricKey(v);
    await v.call('Encrypt', { KeyId: key.keyId, Plaintext: b64(Buffer.alloc(6144, 1)) });
    const tooLong = await v.refused('Encrypt', { KeyId: key.keyId, Plaintext: b64(Buffer.alloc(6145, 1)) }, 'InvalidParameter');
    expect(tooLong.Message).toMatch(/at most 6144 bytes/);
    const rsa = await v.makeKey('RSA_2048', 'ENCRYPT/DECRYPT');
    expect((await v.refused('Encrypt', { KeyId: rsa.keyId, Plaintext: b64('x') }, 'UnsupportedOperation')).Message).toMatch(/use AsymmetricEncrypt/);
    const dry = await v.refused('Encrypt', { KeyId: key.keyId, Plaintext: b64('x'), DryRun: 'true' }, 'DryRunOperationError');
    expect(dry.audit).toMatchObject({ keyId: key.keyId, keyVersionId: key.versionId });
    await v.call('DisableKey', { KeyId: key.keyId });
    await v.refused('Encrypt', { KeyId: key.keyId, Plaintext: b64('x') }, 'Rejected.Disabled');
    await v.refused('Encrypt', { KeyId: key.keyId, Plaintext: b64('x'), EncryptionContext: '{"n":1}' }, 'InvalidParameter');
  });
});
