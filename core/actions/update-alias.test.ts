import { describe, expect, it } from 'vitest';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('update-alias');

describe('UpdateAlias', () => {
  it('repoints an alias to another key', async () => {
    const a = await v.makeKey('EC_P256');
    const b = await v.makeKey('EC_P256');
    await v.call('CreateAlias', { KeyId: a.keyId, AliasName: 'alias/current' });
    const updated = await v.call('UpdateAlias', { KeyId: b.keyId, AliasName: 'alias/current' });
    expect(v.auditOf(updated.RequestId).keyId).toBe(b.keyId);
    expect((await v.call('DescribeKey', { KeyId: 'alias/current' })).KeyMetadata.KeyId).toBe(b.keyId);
  });

  it('refuses an alias that does not exist, and an unknown key', async () => {
    const a = await v.makeKey('EC_P256');
    await v.refused('UpdateAlias', { KeyId: a.keyId, AliasName: 'alias/nope' }, 'Forbidden.AliasNotFound');
    await v.call('CreateAlias', { KeyId: a.keyId, AliasName: 'alias/kept' });
    await v.refused('UpdateAlias', { KeyId: '00000000-0000-4000-8000-000000000000', AliasName: 'alias/kept' }, 'Forbidden.KeyNotFound');
    expect((await v.call('DescribeKey', { KeyId: 'alias/kept' })).KeyMetadata.KeyId).toBe(a.keyId);
  });
});
