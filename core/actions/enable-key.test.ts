import { describe, expect, it } from 'vitest';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('enable-key');

describe('EnableKey', () => {
  it('enables a disabled key (and an enabled one stays enabled)', async () => {
    const key = await v.makeKey('EC_P256');
    await v.call('DisableKey', { KeyId: key.keyId });
    const enabled = await v.call('EnableKey', { KeyId: key.keyId });
    expect(v.auditOf(enabled.RequestId).keyId).toBe(key.keyId);
    expect((await v.call('DescribeKey', { KeyId: key.keyId })).KeyMetadata.KeyState).toBe('Enabled');
    await v.call('EnableKey', { KeyId: key.keyId });
  });

  it('refuses a key pending deletion: cancel first', async () => {
    const key = await v.makeKey('EC_P256');
    await v.call('ScheduleKeyDeletion', { KeyId: key.keyId, PendingWindowInDays: 7 });
    expect((await v.refused('EnableKey', { KeyId: key.keyId }, 'Rejected.PendingDeletion')).Message).toMatch(/cancel with CancelKeyDeletion/);
    expect((await v.call('DescribeKey', { KeyId: key.keyId })).KeyMetadata.KeyState).toBe('PendingDeletion');
  });
});
