import { describe, expect, it } from 'vitest';
import { b64, useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('asymmetric-decrypt');

describe('AsymmetricDecrypt', () => {
  it('decrypts what AsymmetricEncrypt made, in the key worker', async () => {
    for (const [spec, alg] of [
      ['RSA_2048', 'RSAES_OAEP_SHA_256'],
      ['EC_SM2', 'SM2PKE'],
    ] as const) {
      const key = await v.makeKey(spec, 'ENCRYPT/DECRYPT');
      const ref = { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: alg };
      const encrypted = await v.call('AsymmetricEncrypt', { ...ref, Plaintext: b64('data key') });
      const decrypted = await v.call('AsymmetricDecrypt', { ...ref, CiphertextBlob: encrypted.CiphertextBlob });
      expect(decrypted).toMatchObject({ KeyId: key.keyId, KeyVersionId: key.versionId, Plaintext: b64('data key') });
      expect(v.auditOf(decrypted.RequestId)).toMatchObject({ keyId: key.keyId, keyVersionId: key.versionId });
    }
  });

  it('refuses disabled keys, and SIGN/VERIFY keys', async () => {
    const key = await v.makeKey('RSA_2048', 'ENCRYPT/DECRYPT');
    const ref = { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: 'RSAES_OAEP_SHA_256' };
    const blob = (await v.call('AsymmetricEncrypt', { ...ref, Plaintext: b64('x') })).CiphertextBlob;
    await v.call('DisableKey', { KeyId: key.keyId });
    await v.refused('AsymmetricDecrypt', { ...ref, CiphertextBlob: blob }, 'Rejected.Disabled');
    const signing = await v.makeKey('EC_SM2', 'SIGN/VERIFY');
    const refused = await v.refused('AsymmetricDecrypt', { KeyId: signing.keyId, KeyVersionId: signing.versionId, Algorithm: 'SM2PKE', CiphertextBlob: blob }, 'InvalidParameter');
    expect(refused.Message).toMatch(/SM2PKE is not valid for EC_SM2 keys with usage SIGN\/VERIFY/);
  });
});
