// Bring your own symmetric key (issue 18): GetParametersForImport and ImportKeyMaterial with Alibaba's
// algorithms for symmetric material (the key itself under RSAES-OAEP or SM2PKE). Proof that the
// imported key is the one in use: a blob from Encrypt opens with node:crypto (AES-256-GCM) or
// sm-crypto-v2 (SM4-GCM) under the known key, with the blob's IV and associated data.
import { constants, createDecipheriv, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { sm4 } from 'sm-crypto-v2';
import { describe, expect, it } from 'vitest';
import { blobAad, decodeBlob } from '../contract/ciphertext-blob.ts';
import { encrypt, importPublicKey } from '../crypto/engine.ts';
import { b64, useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('symmetric-byok');

async function importable(spec: 'Aliyun_AES_256' | 'Aliyun_SM4', WrappingAlgorithm: string, WrappingKeySpec: string) {
  const keyId = (await v.call('CreateKey', { KeySpec: spec, Origin: 'EXTERNAL' })).KeyMetadata.KeyId as string;
  expect((await v.call('DescribeKey', { KeyId: keyId })).KeyMetadata.KeyState).toBe('PendingImport');
  const params = await v.call('GetParametersForImport', { KeyId: keyId, WrappingAlgorithm, WrappingKeySpec });
  return { keyId, token: params.ImportToken as string, publicKey: Buffer.from(params.PublicKey as string, 'base64') };
}

describe('symmetric key material import', () => {
  it('takes an AES-256 key wrapped with RSAES-OAEP-SHA-256 and encrypts with exactly that key', async () => {
    const raw = randomBytes(32);
    const { keyId, token, publicKey } = await importable('Aliyun_AES_256', 'RSAES_OAEP_SHA_256', 'RSA_2048');
    const wrapped = publicEncrypt({ key: createPublicKey({ key: publicKey, format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, raw);
    await v.call('ImportKeyMaterial', { KeyId: keyId, ImportToken: token, EncryptedKeyMaterial: b64(wrapped) });
    const out = await v.call('Encrypt', { KeyId: keyId, Plaintext: b64('brought my own key'), EncryptionContext: '{"byok":"1"}' });
    const blob = decodeBlob(Buffer.from(out.CiphertextBlob, 'base64'));
    const d = createDecipheriv('aes-256-gcm', raw, blob.iv);
    d.setAAD(blobAad(blob.header, { byok: '1' }));
    d.setAuthTag(blob.tag);
    expect(Buffer.concat([d.update(blob.ciphertext), d.final()]).toString()).toBe('brought my own key');
    // Automatic rotation is not for imported keys, nor is CreateKeyVersion.
    await v.refused('UpdateRotationPolicy', { KeyId: keyId, EnableAutomaticRotation: true, RotationInterval: '30d' }, 'InvalidParameter');
    await v.refused('CreateKeyVersion', { KeyId: keyId }, 'InvalidParameter');
  });

  it('takes an SM4 key wrapped with SM2PKE (DER) and refuses other material after DeleteKeyMaterial', async () => {
    const raw = randomBytes(16);
    const { keyId, token, publicKey } = await importable('Aliyun_SM4', 'SM2PKE', 'EC_SM2');
    await v.call('ImportKeyMaterial', { KeyId: keyId, ImportToken: token, EncryptedKeyMaterial: b64(encrypt(importPublicKey(publicKey), 'SM2PKE', raw)) });
    const out = await v.call('Encrypt', { KeyId: keyId, Plaintext: b64('sm4 byok') });
    const blob = decodeBlob(Buffer.from(out.CiphertextBlob, 'base64'));
    const opened = sm4.decrypt(blob.ciphertext, raw, { mode: 'gcm', iv: blob.iv, associatedData: blobAad(blob.header, undefined), tag: blob.tag, output: 'array' });
    expect(Buffer.from(opened).toString()).toBe('sm4 byok');

    await v.call('DeleteKeyMaterial', { KeyId: keyId });
    await v.refused('Encrypt', { KeyId: keyId, Plaintext: b64('x') }, 'Rejected.PendingImport');
    const again = await v.call('GetParametersForImport', { KeyId: keyId, WrappingAlgorithm: 'SM2PKE', WrappingKeySpec: 'EC_SM2' });
    const other = encrypt(importPublicKey(Buffer.from(again.PublicKey as string, 'base64')), 'SM2PKE', randomBytes(16));
    await v.refused('ImportKeyMaterial', { KeyId: keyId, ImportToken: again.ImportToken, EncryptedKeyMaterial: b64(other) }, 'IncorrectKeyMaterial');
    const same = encrypt(importPublicKey(Buffer.from(again.PublicKey as string, 'base64')), 'SM2PKE', raw);
    await v.call('ImportKeyMaterial', { KeyId: keyId, ImportToken: again.ImportToken, EncryptedKeyMaterial: b64(same) });
    expect((await v.call('Decrypt', { CiphertextBlob: out.CiphertextBlob })).Plaintext).toBe(b64('sm4 byok'));
  });

  it('refuses an algorithm of the other kind, and material of the wrong length', async () => {
    const aes = (await v.call('CreateKey', { KeySpec: 'Aliyun_AES_256', Origin: 'EXTERNAL' })).KeyMetadata.KeyId as string;
    const refused = await v.refused('GetParametersForImport', { KeyId: aes, WrappingAlgorithm: 'RSAES_OAEP_SHA_256_AES_256_ECB_PKCS7_PAD', WrappingKeySpec: 'RSA_2048' }, 'InvalidParameter');
    expect(refused.Message).toMatch(/RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1, SM2PKE/);
    const rsa = (await v.call('CreateKey', { KeySpec: 'RSA_2048', Origin: 'EXTERNAL' })).KeyMetadata.KeyId as string;
    await v.refused('GetParametersForImport', { KeyId: rsa, WrappingAlgorithm: 'RSAES_OAEP_SHA_1', WrappingKeySpec: 'RSA_2048' }, 'InvalidParameter');
    const params = await v.call('GetParametersForImport', { KeyId: aes, WrappingAlgorithm: 'RSAES_OAEP_SHA_1', WrappingKeySpec: 'RSA_2048' });
    const short = publicEncrypt({ key: createPublicKey({ key: Buffer.from(params.PublicKey as string, 'base64'), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, randomBytes(16));
    expect((await v.refused('ImportKeyMaterial', { KeyId: aes, ImportToken: params.ImportToken, EncryptedKeyMaterial: b64(short) }, 'IncorrectKeyMaterial')).Message).toMatch(/16 bytes; a Aliyun_AES_256 key is 32 bytes/);
  });
});
