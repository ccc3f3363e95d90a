import { describe, expect, it } from 'vitest';
import { dispatch } from './dispatch.ts';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('list-keys');

describe('ListKeys', () => {
  it('pages the keys with TotalCount and ARNs', async () => {
    for (let i = 0; i < 7; i++) await v.call('CreateKey', { KeySpec: 'EC_P256' });
    const all = await v.call('ListKeys', { PageSize: 100 });
    expect(all).toMatchObject({ TotalCount: 7, PageNumber: 1, PageSize: 100 });
    expect(all.Keys.Key).toHaveLength(7);
    for (const k of all.Keys.Key) expect(k.KeyArn).toBe(`acs:kms:local:deskkms:key/${k.KeyId}`);
    const second = await v.call('ListKeys', { PageSize: '3', PageNumber: '2' });
    expect(second.Keys.Key).toEqual(all.Keys.Key.slice(3, 6));
    expect(second).toMatchObject({ TotalCount: 7, PageNumber: 2, PageSize: 3 });
  });

  it('shows a key-limited caller only its keys, and counts only those', async () => {
    const mine = (await v.call('CreateKey', { KeySpec: 'EC_P256' })).KeyMetadata.KeyId as string;
    const outcome = await dispatch(v.vault, 'ListKeys', {}, 'api:test', { policy: { Actions: ['ListKeys'], Keys: [mine] } });
    if (!outcome.ok) throw new Error(outcome.error.Message);
    expect(outcome.body).toMatchObject({ TotalCount: 1, Keys: { Key: [{ KeyId: mine }] } });
  });

  it('refuses a PageSize outside 1..100', async () => {
    expect((await v.refused('ListKeys', { PageSize: 101 }, 'InvalidParameter')).Message).toMatch(/^PageSize/);
    await v.refused('ListKeys', { PageNumber: 0 }, 'InvalidParameter');
  });
});
