import { describe, expect, it } from 'vitest';
import { BLOB_OVERHEAD } from '../contract/ciphertext-blob.ts';
import { b64, useActionVault } from '../../test/support/action-vault.ts';
import { flipByte, makeSymmetricKey } from '../../test/support/symmetric-key.ts';

const v = useActionVault('decrypt');
const other = useActionVault('decrypt-other-vault');

describe('Decrypt', () => {
  it.each(['Aliyun_AES_256', 'Aliyun_SM4'] as const)('gives back what Encrypt made under %s, with no KeyId, given the same context in any member order', async (spec) => {
    const key = await makeSymmetricKey(v, spec);
    const { CiphertextBlob } = await v.call('Encrypt', { KeyId: key.keyId, Plaintext: b64('secret'), EncryptionContext: { a: '1', b: '2' } });
    const out = await v.call('Decrypt', { CiphertextBlob, EncryptionContext: '{"b":"2","a":"1"}' });
    expect(out).toMatchObject({ KeyId: key.keyId, KeyVersionId: key.versionId, Plaintext: b64('secret') });
    expect(v.auditOf(out.RequestId)).toMatchObject({ action: 'Decrypt', keyId: key.keyId, keyVersionId: key.versionId });
  });

  it('keeps decrypting an old version after rotation', async () => {
    const key = await makeSymmetricKey(v);
    const old = await v.call('Encrypt', { KeyId: key.keyId, Plaintext: b64('old') });
    await v.call('CreateKeyVersion', { KeyId: key.keyId });
    expect((await v.call('Decrypt', { CiphertextBlob: old.CiphertextBlob })).Plaintext).toBe(b64('old'));
  });

  it('refuses another context, a flipped byte anywhere, a truncated blob and another vault\'s blob as InvalidCiphertext', async () => {
    const key = await makeSymmetricKey(v);
    const { CiphertextBlob } = await v.call('Encrypt', { KeyId: key.keyId, Plaintext: b64('secret'), EncryptionContext: '{"app":"billing"}' });
    for (const EncryptionContext of [undefined, '{}', '{"app":"Billing"}', '{"app":"billing","x":""}']) {
      await v.refused('Decrypt', { CiphertextBlob, ...(EncryptionContext === undefined ? {} : { EncryptionContext }) }, 'InvalidCiphertext');
    }
    const length = Buffer.from(CiphertextBlob, 'base64').length;
    expect(length).toBe(BLOB_OVERHEAD + 6);
    // Every byte: header (magic, version, cipher, KeyId, KeyVersionId), IV, ciphertext, tag.
    for (let at = 0; at < length; at++) {
      const refused = await v.refused('Decrypt', { CiphertextBlob: flipByte(CiphertextBlob, at), EncryptionContext: '{"app":"billing"}' }, 'InvalidCiphertext');
      expect(refused.Message, `byte ${at}`).not.toMatch(/secret/);
    }
    await v.refused('Decrypt', { CiphertextBlob: Buffer.from(CiphertextBlob, 'base64').subarray(0, length - 1).toString('base64'), EncryptionContext: '{"app":"billing"}' }, 'InvalidCiphertext');
    const foreign = await makeSymmetricKey(other);
    const theirs = await other.call('Encrypt', { KeyId: foreign.keyId, Plaintext: b64('theirs') });
    expect((await v.refused('Decrypt', { CiphertextBlob: theirs.CiphertextBlob }, 'InvalidCiphertext')).Message).toMatch(/does not hold/);
    // An AsymmetricEncrypt ciphertext is not a blob of a symmetric key.
    const rsa = await v.makeKey('RSA_2048', 'ENCRYPT/DECRYPT');
    const asym = await v.call('AsymmetricEncrypt', { KeyId: rsa.keyId, KeyVersionId: rsa.versionId, Algorithm: 'RSAES_OAEP_SHA_256', Plaintext: b64('x') });
    expect((await v.refused('Decrypt', { CiphertextBlob: asym.CiphertextBlob }, 'InvalidCiphertext')).Message).toMatch(/AsymmetricDecrypt/);
  });

  it('refuses a disabled key and answers DryRun without decrypting', async () => {
    const key = await makeSymmetricKey(v, 'Aliyun_SM4');
    const { CiphertextBlob } = await v.call('Encrypt', { KeyId: key.keyId, Plaintext: b64('x') });
    await v.refused('Decrypt', { CiphertextBlob, DryRun: true }, 'DryRunOperationError');
    await v.call('DisableKey', { KeyId: key.keyId });
    await v.refused('Decrypt', { CiphertextBlob }, 'Rejected.Disabled');
  });
});
