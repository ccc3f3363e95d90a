import { describe, expect, it } from 'vitest';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('untag-resource');

describe('UntagResource', () => {
  it('removes tags by key; absent ones are no error', async () => {
    const key = await v.makeKey('EC_P256', undefined, { Tags: '[{"TagKey":"env","TagValue":"prod"},{"TagKey":"team","TagValue":"sec"}]' });
    await v.call('UntagResource', { KeyId: key.keyId, TagKeys: '["team","absent"]' });
    expect((await v.call('ListResourceTags', { KeyId: key.keyId })).Tags.Tag.map((t: { TagKey: string }) => t.TagKey)).toEqual(['env']);
  });

  it('refuses an empty list of tag keys and an unknown key', async () => {
    const key = await v.makeKey('EC_P256');
    await v.refused('UntagResource', { KeyId: key.keyId, TagKeys: '[]' }, 'InvalidParameter');
    await v.refused('UntagResource', { KeyId: 'alias/none', TagKeys: '["x"]' }, 'Forbidden.AliasNotFound');
  });
});
