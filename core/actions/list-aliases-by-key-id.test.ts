import { describe, expect, it } from 'vitest';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('list-aliases-by-key-id');

describe('ListAliasesByKeyId', () => {
  it("lists one key's aliases", async () => {
    const a = await v.makeKey('EC_P256');
    const b = await v.makeKey('EC_P256');
    await v.call('CreateAlias', { KeyId: a.keyId, AliasName: 'alias/other' });
    await v.call('CreateAlias', { KeyId: b.keyId, AliasName: 'alias/release-signing' });
    const byKey = await v.call('ListAliasesByKeyId', { KeyId: 'alias/release-signing' });
    expect(byKey.Aliases.Alias).toEqual([{ KeyId: b.keyId, AliasName: 'alias/release-signing', AliasArn: 'acs:kms:local:deskkms:alias/release-signing' }]);
    expect(byKey).toMatchObject({ TotalCount: 1, PageNumber: 1, PageSize: 10 });
  });

  it('refuses an unknown key', async () => {
    await v.refused('ListAliasesByKeyId', { KeyId: '00000000-0000-4000-8000-000000000000' }, 'Forbidden.KeyNotFound');
  });
});
