import { describe, expect, it } from 'vitest';
import { b64, useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('cancel-key-deletion');

describe('CancelKeyDeletion', () => {
  it('returns a key pending deletion to Enabled, usable again', async () => {
    const key = await v.makeKey('EC_P256');
    await v.call('ScheduleKeyDeletion', { KeyId: key.keyId, PendingWindowInDays: 7 });
    await v.call('CancelKeyDeletion', { KeyId: key.keyId });
    expect((await v.call('DescribeKey', { KeyId: key.keyId })).KeyMetadata).toMatchObject({ KeyState: 'Enabled', DeleteDate: '' });
    await v.call('AsymmetricSign', { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: 'ECDSA_SHA_256', Digest: b64(Buffer.alloc(32, 1)) });
  });

  it('refuses a key that is not pending deletion', async () => {
    const key = await v.makeKey('EC_P256');
    expect((await v.refused('CancelKeyDeletion', { KeyId: key.keyId }, 'InvalidParameter')).Message).toMatch(/is Enabled, not pending deletion/);
  });
});
