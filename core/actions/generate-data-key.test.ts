import { createCipheriv, createDecipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BLOB_HEADER_BYTES } from '../contract/ciphertext-blob.ts';
import { useActionVault } from '../../test/support/action-vault.ts';
import { makeSymmetricKey } from '../../test/support/symmetric-key.ts';

const v = useActionVault('generate-data-key');

describe('GenerateDataKey', () => {
  it('answers a random data key of NumberOfBytes, else KeySpec, else 32 bytes, and its blob decrypts to it', async () => {
    const key = await makeSymmetricKey(v);
    for (const [params, bytes] of [
      [{}, 32],
      [{ KeySpec: 'AES_128' }, 16],
      [{ KeySpec: 'AES_256' }, 32],
      [{ NumberOfBytes: '1' }, 1],
      [{ NumberOfBytes: 1024, KeySpec: 'AES_128' }, 1024],
    ] as const) {
      const out = await v.call('GenerateDataKey', { KeyId: key.keyId, EncryptionContext: '{"file":"a.tar"}', ...params });
      expect(out).toMatchObject({ KeyId: key.keyId, KeyVersionId: key.versionId });
      expect(Buffer.from(out.Plaintext, 'base64').length).toBe(bytes);
      expect((await v.call('Decrypt', { CiphertextBlob: out.CiphertextBlob, EncryptionContext: '{"file":"a.tar"}' })).Plaintext).toBe(out.Plaintext);
    }
    const a = await v.call('GenerateDataKey', { KeyId: key.keyId });
    const b = await v.call('GenerateDataKey', { KeyId: key.keyId });
    expect(a.Plaintext).not.toBe(b.Plaintext);
    await v.refused('GenerateDataKey', { KeyId: key.keyId, NumberOfBytes: 1025 }, 'InvalidParameter');
    await v.refused('GenerateDataKey', { KeyId: key.keyId, NumberOfBytes: 0 }, 'InvalidParameter');
    await v.refused('GenerateDataKey', { KeyId: key.keyId, KeySpec: 'AES_512' }, 'InvalidParameter');
  });

  it('is envelope encryption: data sealed with the data key opens with the key Decrypt gives back from the blob', async () => {
    const key = await makeSymmetricKey(v);
    const out = await v.call('GenerateDataKey', { KeyId: key.keyId });
    const iv = Buffer.alloc(12, 7);
    const c = createCipheriv('aes-256-gcm', Buffer.from(out.Plaintext, 'base64'), iv);
    const sealed = Buffer.concat([c.update('payload'), c.final()]);
    const tag = c.getAuthTag();
    const recovered = Buffer.from((await v.call('Decrypt', { CiphertextBlob: out.CiphertextBlob })).Plaintext, 'base64');
    const d = createDecipheriv('aes-256-gcm', recovered, iv);
    d.setAuthTag(tag);
    expect(Buffer.concat([d.update(sealed), d.final()]).toString()).toBe('payload');
    expect(Buffer.from(out.CiphertextBlob, 'base64').length).toBe(BLOB_HEADER_BYTES + 12 + 32 + 16);
  });

  it('is audited as a private-key use of the key, and refuses a disabled key', async () => {
    const key = await makeSymmetricKey(v, 'Aliyun_SM4');
    const out = await v.call('GenerateDataKey', { KeyId: key.keyId });
    expect(v.auditOf(out.RequestId)).toMatchObject({ action: 'GenerateDataKey', keyId: key.keyId, keyVersionId: key.versionId });
    await v.refused('GenerateDataKey', { KeyId: key.keyId, DryRun: 'true' }, 'DryRunOperationError');
    await v.call('DisableKey', { KeyId: key.keyId });
    await v.refused('GenerateDataKey', { KeyId: key.keyId }, 'Rejected.Disabled');
  });
});
