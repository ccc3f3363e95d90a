import { describe, expect, it } from 'vitest';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('delete-alias');

describe('DeleteAlias', () => {
  it('deletes an alias, audited against the key it named', async () => {
    const key = await v.makeKey('EC_P256');
    await v.call('CreateAlias', { KeyId: key.keyId, AliasName: 'alias/gone' });
    const deleted = await v.call('DeleteAlias', { AliasName: 'alias/gone' });
    expect(v.auditOf(deleted.RequestId).keyId).toBe(key.keyId);
    await v.refused('DescribeKey', { KeyId: 'alias/gone' }, 'Forbidden.AliasNotFound');
    expect((await v.call('DescribeKey', { KeyId: key.keyId })).KeyMetadata.KeyState).toBe('Enabled');
  });

  it('refuses an alias that does not exist', async () => {
    expect((await v.refused('DeleteAlias', { AliasName: 'alias/never' }, 'Forbidden.AliasNotFound')).audit.keyId).toBeNull();
  });
});
