import { describe, expect, it } from 'vitest';
import { useActionVault } from '../../test/support/action-vault.ts';
import { makeSymmetricKey } from '../../test/support/symmetric-key.ts';

const v = useActionVault('generate-data-key-without-plaintext');

describe('GenerateDataKeyWithoutPlaintext', () => {
  it('answers only the blob (the strict response schema has no Plaintext), which Decrypt opens to a key of the asked length', async () => {
    const key = await makeSymmetricKey(v, 'Aliyun_SM4');
    const out = await v.call('GenerateDataKeyWithoutPlaintext', { KeyId: key.keyId, KeySpec: 'AES_128', EncryptionContext: '{"host":"db1"}' });
    expect(Object.keys(out).sort()).toEqual(['CiphertextBlob', 'KeyId', 'KeyVersionId', 'RequestId']);
    const opened = await v.call('Decrypt', { CiphertextBlob: out.CiphertextBlob, EncryptionContext: '{"host":"db1"}' });
    expect(Buffer.from(opened.Plaintext, 'base64').length).toBe(16);
    expect(v.auditOf(out.RequestId)).toMatchObject({ action: 'GenerateDataKeyWithoutPlaintext', keyId: key.keyId, code: 'OK' });
    await v.refused('Decrypt', { CiphertextBlob: out.CiphertextBlob, EncryptionContext: '{"host":"db2"}' }, 'InvalidCiphertext');
  });
});
