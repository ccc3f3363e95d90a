import { describe, expect, it } from 'vitest';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('disable-key');

describe('DisableKey', () => {
  it('disables a key: DescribeKey shows it, its use is refused', async () => {
    const key = await v.makeKey('EC_P256');
    const disabled = await v.call('DisableKey', { KeyId: key.keyId });
    expect(disabled).toEqual({ RequestId: disabled.RequestId });
    expect((await v.call('DescribeKey', { KeyId: key.keyId })).KeyMetadata.KeyState).toBe('Disabled');
    await v.refused('CreateKeyVersion', { KeyId: key.keyId }, 'Rejected.Disabled');
  });

  it('refuses a key pending deletion and an unknown key', async () => {
    const key = await v.makeKey('EC_P256');
    await v.call('ScheduleKeyDeletion', { KeyId: key.keyId, PendingWindowInDays: 7 });
    await v.refused('DisableKey', { KeyId: key.keyId }, 'Rejected.PendingDeletion');
    await v.refused('DisableKey', { KeyId: 'alias/none' }, 'Forbidden.AliasNotFound');
  });
});
