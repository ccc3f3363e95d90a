import { describe, expect, it } from 'vitest';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('list-aliases');

describe('ListAliases', () => {
  it('pages all aliases with their ARNs and TotalCount', async () => {
    const a = await v.makeKey('EC_P256');
    const b = await v.makeKey('EC_P256');
    await v.call('CreateAlias', { KeyId: a.keyId, AliasName: 'alias/a' });
    await v.call('CreateAlias', { KeyId: b.keyId, AliasName: 'alias/b' });
    await v.call('CreateAlias', { KeyId: b.keyId, AliasName: 'alias/c' });
    const all = await v.call('ListAliases', {});
    expect(all).toMatchObject({ TotalCount: 3, PageNumber: 1, PageSize: 10 });
    expect(all.Aliases.Alias).toContainEqual({ KeyId: a.keyId, AliasName: 'alias/a', AliasArn: 'acs:kms:local:deskkms:alias/a' });
    const page = await v.call('ListAliases', { PageSize: 2, PageNumber: 2 });
    expect(page.Aliases.Alias).toEqual(all.Aliases.Alias.slice(2));
  });

  it('refuses a PageSize outside 1..100', async () => {
    await v.refused('ListAliases', { PageSize: 0 }, 'InvalidParameter');
  });
});
