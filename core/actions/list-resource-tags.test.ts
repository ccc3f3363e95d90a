import { describe, expect, it } from 'vitest';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('list-resource-tags');

describe('ListResourceTags', () => {
  it("lists a key's tags, and none for an untagged key", async () => {
    const key = await v.makeKey('EC_P256', undefined, { Tags: [{ TagKey: 'team', TagValue: 'release' }] });
    const listed = await v.call('ListResourceTags', { KeyId: key.keyId });
    expect(listed.Tags.Tag).toEqual([{ KeyId: key.keyId, TagKey: 'team', TagValue: 'release' }]);
    expect(v.auditOf(listed.RequestId).keyId).toBe(key.keyId);
    expect((await v.call('ListResourceTags', { KeyId: (await v.makeKey('EC_P256')).keyId })).Tags.Tag).toEqual([]);
  });

  it('refuses an unknown key', async () => {
    await v.refused('ListResourceTags', { KeyId: '00000000-0000-4000-8000-000000000000' }, 'Forbidden.KeyNotFound');
  });
});
