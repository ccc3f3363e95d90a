// DeleteKeyMaterial: an EXTERNAL key's material deleted; the key is PendingImport until the same
// material is imported again, into the same version.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { b64, useActionVault } from '../../test/support/action-vault.ts';
import { ALGORITHM_FOR, byok } from '../../test/support/byok-actions.ts';

const v = useActionVault('delete-key-material');
const { externalKey, parameters, opensslKey, wrapWithOpenssl, signedAndVerified, versionCount } = byok(v);

describe('DeleteKeyMaterial', () => {
  it('returns the key to PendingImport; only the same material imports again, into the same version', async () => {
    const keyId = await externalKey('EC_P256');
    const params = await parameters(keyId, 'RSA_2048');
    const key = opensslKey('EC_P256');
    const wrap = (pkcs8: Uint8Array) => b64(wrapWithOpenssl(params.PublicKey as string, ALGORITHM_FOR.RSA_2048, pkcs8));
    const first = await v.call('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: wrap(key.pkcs8), ImportToken: params.ImportToken });
    const versionId = first.KeyVersionId as string;
    await v.refused('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: wrap(opensslKey('EC_P256').pkcs8), ImportToken: params.ImportToken }, 'IncorrectKeyMaterial');

    const deleted = await v.call('DeleteKeyMaterial', { KeyId: keyId });
    expect(deleted).toEqual({ RequestId: deleted.RequestId });
    expect(v.auditOf(deleted.RequestId)).toMatchObject({ keyId, keyVersionId: versionId });
    expect((await v.call('DescribeKey', { KeyId: keyId })).KeyMetadata.KeyState).toBe('PendingImport');
    const digest = b64(randomBytes(32));
    await v.refused('AsymmetricSign', { KeyId: keyId, KeyVersionId: versionId, Algorithm: 'ECDSA_SHA_256', Digest: digest }, 'Rejected.PendingImport');
    await v.refused('DeleteKeyMaterial', { KeyId: keyId }, 'Rejected.PendingImport');

    const again = await v.call('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: wrap(key.pkcs8), ImportToken: params.ImportToken });
    expect(again.KeyVersionId).toBe(versionId);
    expect(await versionCount(keyId)).toBe(1);
    await signedAndVerified(keyId, versionId, 'EC_P256', key.publicPem);
  });

  it('refuses keys of another Origin, keys without material and keys pending deletion', async () => {
    const generated = (await v.call('CreateKey', { KeySpec: 'EC_P256' })).KeyMetadata.KeyId as string;
    expect((await v.refused('DeleteKeyMaterial', { KeyId: generated }, 'InvalidParameter')).Message).toMatch(/Origin Aliyun_KMS/);
    const empty = await externalKey('EC_P256');
    expect((await v.refused('DeleteKeyMaterial', { KeyId: empty }, 'Rejected.PendingImport')).Message).toMatch(/has no key material to delete/);
    await v.call('ScheduleKeyDeletion', { KeyId: empty, PendingWindowInDays: 7 });
    await v.refused('DeleteKeyMaterial', { KeyId: empty }, 'Rejected.PendingDeletion');
  });
});
