import { constants, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { b64, useActionVault } from '../../test/support/action-vault.ts';
import { makeSymmetricKey } from '../../test/support/symmetric-key.ts';

const v = useActionVault('export-data-key');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const spki = rsa.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

describe('ExportDataKey', () => {
  it('wraps the data key inside a blob to an RSA public key; node:crypto privateDecrypt (OAEP SHA-256 and SHA-1) gives the key Decrypt gives', async () => {
    const key = await makeSymmetricKey(v);
    const made = await v.call('GenerateDataKey', { KeyId: key.keyId, EncryptionContext: '{"to":"peer"}' });
    for (const [WrappingAlgorithm, oaepHash] of [['RSAES_OAEP_SHA_256', 'sha256'], ['RSAES_OAEP_SHA_1', 'sha1']] as const) {
      const out = await v.call('ExportDataKey', { CiphertextBlob: made.CiphertextBlob, EncryptionContext: '{"to":"peer"}', PublicKeyBlob: spki, WrappingKeySpec: 'RSA_2048', WrappingAlgorithm });
      expect(out).toMatchObject({ KeyId: key.keyId, KeyVersionId: key.versionId });
      const unwrapped = privateDecrypt({ key: rsa.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, Buffer.from(out.ExportedDataKey, 'base64'));
      expect(unwrapped.toString('base64')).toBe(made.Plaintext);
    }
  });

  it('wraps to an SM2 key of this vault with SM2PKE (AsymmetricDecrypt opens it)', async () => {
    const key = await makeSymmetricKey(v, 'Aliyun_SM4');
    const sm2 = await v.makeKey('EC_SM2', 'ENCRYPT/DECRYPT');
    const sm2Spki = Buffer.from((await v.call('GetPublicKey', { KeyId: sm2.keyId, KeyVersionId: sm2.versionId })).PublicKey.replace(/-----[^-]+-----|\s/g, ''), 'base64').toString('base64');
    const made = await v.call('GenerateDataKey', { KeyId: key.keyId });
    const out = await v.call('ExportDataKey', { CiphertextBlob: made.CiphertextBlob, PublicKeyBlob: sm2Spki, WrappingKeySpec: 'EC_SM2', WrappingAlgorithm: 'SM2PKE' });
    const opened = await v.call('AsymmetricDecrypt', { KeyId: sm2.keyId, KeyVersionId: sm2.versionId, Algorithm: 'SM2PKE', CiphertextBlob: out.ExportedDataKey });
    expect(opened.Plaintext).toBe(made.Plaintext);
  });

  it('refuses a public key that is not the WrappingKeySpec, an algorithm that does not fit it, and a wrong context', async () => {
    const key = await makeSymmetricKey(v);
    const made = await v.call('GenerateDataKey', { KeyId: key.keyId });
    const base = { CiphertextBlob: made.CiphertextBlob, PublicKeyBlob: spki };
    expect((await v.refused('ExportDataKey', { ...base, WrappingKeySpec: 'RSA_3072', WrappingAlgorithm: 'RSAES_OAEP_SHA_256' }, 'InvalidParameter')).Message).toMatch(/PublicKeyBlob: is a RSA_2048 public key/);
    expect((await v.refused('ExportDataKey', { ...base, WrappingKeySpec: 'RSA_2048', WrappingAlgorithm: 'SM2PKE' }, 'InvalidParameter')).Message).toMatch(/WrappingAlgorithm/);
    await v.refused('ExportDataKey', { ...base, PublicKeyBlob: b64('not a key'), WrappingKeySpec: 'RSA_2048', WrappingAlgorithm: 'RSAES_OAEP_SHA_256' }, 'InvalidParameter');
    await v.refused('ExportDataKey', { ...base, EncryptionContext: '{"x":"y"}', WrappingKeySpec: 'RSA_2048', WrappingAlgorithm: 'RSAES_OAEP_SHA_256' }, 'InvalidCiphertext');
  });
});
