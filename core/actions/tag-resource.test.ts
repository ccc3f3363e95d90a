import { describe, expect, it } from 'vitest';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('tag-resource');

describe('TagResource', () => {
  it('adds tags and replaces the value of an existing TagKey', async () => {
    const key = await v.makeKey('EC_P256', undefined, { Tags: '[{"TagKey":"team","TagValue":"release"}]' });
    await v.call('TagResource', { KeyId: key.keyId, Tags: '[{"TagKey":"env","TagValue":"prod"},{"TagKey":"team","TagValue":"sec"}]' });
    expect((await v.call('ListResourceTags', { KeyId: key.keyId })).Tags.Tag).toEqual([
      { KeyId: key.keyId, TagKey: 'env', TagValue: 'prod' },
      { KeyId: key.keyId, TagKey: 'team', TagValue: 'sec' },
    ]);
  });

  it('refuses reserved tag keys and a key over 20 tags, changing nothing', async () => {
    const key = await v.makeKey('EC_P256');
    expect((await v.refused('TagResource', { KeyId: key.keyId, Tags: '[{"TagKey":"acs:x","TagValue":"v"}]' }, 'InvalidParameter')).Message).toMatch(/^Tags: TagKey must not start/);
    const tags = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ TagKey: `k${from + i}`, TagValue: 'v' }));
    await v.call('TagResource', { KeyId: key.keyId, Tags: tags(0, 15) });
    const over = await v.refused('TagResource', { KeyId: key.keyId, Tags: tags(15, 6) }, 'InvalidParameter');
    expect(over.Message).toMatch(/would have more than 20 tags/);
    expect((await v.call('ListResourceTags', { KeyId: key.keyId })).Tags.Tag).toHaveLength(15);
  });
});
