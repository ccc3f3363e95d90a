import { describe, expect, it } from 'vitest';
import { b64, useActionVault } from '../../test/support/action-vault.ts';
import { makeSymmetricKey } from '../../test/support/symmetric-key.ts';

const v = useActionVault('re-encrypt');

describe('ReEncrypt', () => {
  it('moves a blob to another key and context without answering the plaintext', async () => {
    const from = await makeSymmetricKey(v);
    const to = await makeSymmetricKey(v, 'Aliyun_SM4');
    const { CiphertextBlob } = await v.call('Encrypt', { KeyId: from.keyId, Plaintext: b64('moved'), EncryptionContext: '{"v":"1"}' });
    const out = await v.call('ReEncrypt', { CiphertextBlob, DestinationKeyId: to.keyId, SourceEncryptionContext: '{"v":"1"}', DestinationEncryptionContext: '{"v":"2"}' });
    expect(out).toMatchObject({ KeyId: to.keyId, KeyVersionId: to.versionId, SourceKeyId: from.keyId, SourceKeyVersionId: from.versionId });
    expect(JSON.stringify(out)).not.toContain(b64('moved'));
    expect((await v.call('Decrypt', { CiphertextBlob: out.CiphertextBlob, EncryptionContext: '{"v":"2"}' })).Plaintext).toBe(b64('moved'));
    // The audit entry names the source, whose key decrypted.
    expect(v.auditOf(out.RequestId)).toMatchObject({ action: 'ReEncrypt', keyId: from.keyId, keyVersionId: from.versionId });
    await v.refused('ReEncrypt', { CiphertextBlob, DestinationKeyId: to.keyId, SourceEncryptionContext: '{"v":"2"}' }, 'InvalidCiphertext');
  });

  it('takes an AsymmetricEncrypt ciphertext named by SourceKeyId, SourceKeyVersionId and SourceEncryptionAlgorithm', async () => {
    const rsa = await v.makeKey('RSA_2048', 'ENCRYPT/DECRYPT');
    const sm2 = await v.makeKey('EC_SM2', 'ENCRYPT/DECRYPT');
    const to = await makeSymmetricKey(v);
    for (const [key, alg] of [[rsa, 'RSAES_OAEP_SHA_256'], [sm2, 'SM2PKE']] as const) {
      const asym = await v.call('AsymmetricEncrypt', { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: alg, Plaintext: b64('data key') });
      const out = await v.call('ReEncrypt', { CiphertextBlob: asym.CiphertextBlob, DestinationKeyId: to.keyId, SourceKeyId: key.keyId, SourceKeyVersionId: key.versionId, SourceEncryptionAlgorithm: alg });
      expect(out).toMatchObject({ KeyId: to.keyId, SourceKeyId: key.keyId, SourceKeyVersionId: key.versionId });
      expect((await v.call('Decrypt', { CiphertextBlob: out.CiphertextBlob })).Plaintext).toBe(b64('data key'));
    }
    const asym = await v.call('AsymmetricEncrypt', { KeyId: rsa.keyId, KeyVersionId: rsa.versionId, Algorithm: 'RSAES_OAEP_SHA_256', Plaintext: b64('x') });
    await v.refused('ReEncrypt', { CiphertextBlob: asym.CiphertextBlob, DestinationKeyId: to.keyId, SourceKeyId: rsa.keyId, SourceKeyVersionId: rsa.versionId }, 'MissingParameter');
    await v.refused('ReEncrypt', { CiphertextBlob: asym.CiphertextBlob, DestinationKeyId: to.keyId }, 'InvalidCiphertext');
    // The destination is a symmetric key (Alibaba).
    const refused = await v.refused('ReEncrypt', { CiphertextBlob: asym.CiphertextBlob, DestinationKeyId: rsa.keyId, SourceKeyId: rsa.keyId, SourceKeyVersionId: rsa.versionId, SourceEncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }, 'UnsupportedOperation');
    expect(refused.Message).toMatch(/asymmetric key/);
  });

  it('refuses a disabled destination or source', async () => {
    const from = await makeSymmetricKey(v);
    const to = await makeSymmetricKey(v);
    const { CiphertextBlob } = await v.call('Encrypt', { KeyId: from.keyId, Plaintext: b64('x') });
    await v.call('DisableKey', { KeyId: to.keyId });
    await v.refused('ReEncrypt', { CiphertextBlob, DestinationKeyId: to.keyId }, 'Rejected.Disabled');
    await v.call('EnableKey', { KeyId: to.keyId });
    await v.call('DisableKey', { KeyId: from.keyId });
    await v.refused('ReEncrypt', { CiphertextBlob, DestinationKeyId: to.keyId }, 'Rejected.Disabled');
  });
});
