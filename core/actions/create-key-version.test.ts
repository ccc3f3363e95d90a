import { describe, expect, it } from 'vitest';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('create-key-version');

describe('CreateKeyVersion', () => {
  it('makes a new version, its own key pair, audited with its KeyVersionId', async () => {
    const key = await v.makeKey('EC_P256');
    const created = await v.call('CreateKeyVersion', { KeyId: key.keyId });
    const v2 = created.KeyVersion;
    expect(v2).toMatchObject({ KeyId: key.keyId, CreationDate: '2026-11-22T12:00:00Z' });
    expect(v2.KeyVersionId).not.toBe(key.versionId);
    expect(v.auditOf(created.RequestId)).toMatchObject({ keyId: key.keyId, keyVersionId: v2.KeyVersionId });
    const pem2 = (await v.call('GetPublicKey', { KeyId: key.keyId, KeyVersionId: v2.KeyVersionId })).PublicKey;
    expect(pem2).not.toBe(key.pem);
  });

  it('refuses disabled keys and keys whose material comes from elsewhere', async () => {
    const key = await v.makeKey('EC_P256');
    await v.call('DisableKey', { KeyId: key.keyId });
    expect((await v.refused('CreateKeyVersion', { KeyId: key.keyId }, 'Rejected.Disabled')).httpStatus).toBe(409);
    for (const origin of ['EXTERNAL', 'EXTERNAL_PUBLIC_KEY']) {
      const external = (await v.call('CreateKey', { KeySpec: 'EC_P256', Origin: origin })).KeyMetadata.KeyId;
      const refused = await v.refused('CreateKeyVersion', { KeyId: external }, 'InvalidParameter');
      expect(refused.Message).toMatch(new RegExp(`has Origin ${origin}: .* not CreateKeyVersion`));
    }
  });
});
