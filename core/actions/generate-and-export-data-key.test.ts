import { constants, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useActionVault } from '../../test/support/action-vault.ts';
import { makeSymmetricKey } from '../../test/support/symmetric-key.ts';

const v = useActionVault('generate-and-export-data-key');
const rsa = generateKeyPairSync('rsa', { modulusLength: 3072 });
const spki = rsa.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

describe('GenerateAndExportDataKey', () => {
  it('answers the data key as a blob and wrapped to the public key, never in plaintext; both hold the same key', async () => {
    const key = await makeSymmetricKey(v);
    const out = await v.call('GenerateAndExportDataKey', { KeyId: key.keyId, NumberOfBytes: 24, EncryptionContext: '{"k":"v"}', PublicKeyBlob: spki, WrappingKeySpec: 'RSA_3072', WrappingAlgorithm: 'RSAES_OAEP_SHA_256' });
    expect(Object.keys(out).sort()).toEqual(['CiphertextBlob', 'ExportedDataKey', 'KeyId', 'KeyVersionId', 'RequestId']);
    const exported = privateDecrypt({ key: rsa.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(out.ExportedDataKey, 'base64'));
    expect(exported.length).toBe(24);
    expect((await v.call('Decrypt', { CiphertextBlob: out.CiphertextBlob, EncryptionContext: '{"k":"v"}' })).Plaintext).toBe(exported.toString('base64'));
    expect(v.auditOf(out.RequestId)).toMatchObject({ action: 'GenerateAndExportDataKey', keyId: key.keyId, code: 'OK' });
  });

  it('checks the public key before making anything (a bad one is refused; DryRun with a good one passes)', async () => {
    const key = await makeSymmetricKey(v);
    await v.refused('GenerateAndExportDataKey', { KeyId: key.keyId, PublicKeyBlob: spki, WrappingKeySpec: 'RSA_2048', WrappingAlgorithm: 'RSAES_OAEP_SHA_256' }, 'InvalidParameter');
    await v.refused('GenerateAndExportDataKey', { KeyId: key.keyId, PublicKeyBlob: spki, WrappingKeySpec: 'RSA_3072', WrappingAlgorithm: 'RSAES_OAEP_SHA_1', DryRun: true }, 'DryRunOperationError');
  });
});
