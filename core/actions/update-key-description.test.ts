import { describe, expect, it } from 'vitest';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('update-key-description');

describe('UpdateKeyDescription', () => {
  it('replaces the description, in any state', async () => {
    const key = await v.makeKey('EC_P256');
    await v.call('UpdateKeyDescription', { KeyId: key.keyId, Description: 'signs releases' });
    expect((await v.call('DescribeKey', { KeyId: key.keyId })).KeyMetadata.Description).toBe('signs releases');
    await v.call('DisableKey', { KeyId: key.keyId });
    const updated = await v.call('UpdateKeyDescription', { KeyId: key.keyId, Description: '' });
    expect(updated).toEqual({ RequestId: updated.RequestId });
    expect((await v.call('DescribeKey', { KeyId: key.keyId })).KeyMetadata.Description).toBe('');
  });

  it('refuses an unknown key and a description over 8192 characters', async () => {
    const key = await v.makeKey('EC_P256');
    await v.refused('UpdateKeyDescription', { KeyId: '00000000-0000-4000-8000-000000000000', Description: 'x' }, 'Forbidden.KeyNotFound');
    expect((await v.refused('UpdateKeyDescription', { KeyId: key.keyId, Description: 'x'.repeat(8193) }, 'InvalidParameter')).Message).toMatch(/^Description/);
  });
});
