import { describe, expect, it } from 'vitest';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('list-key-versions');

describe('ListKeyVersions', () => {
  it('pages the versions, oldest first, with TotalCount', async () => {
    const key = await v.makeKey('EC_P256');
    const v2 = (await v.call('CreateKeyVersion', { KeyId: key.keyId })).KeyVersion;
    const all = await v.call('ListKeyVersions', { KeyId: key.keyId });
    expect(all.KeyVersions.KeyVersion.map((x: { KeyVersionId: string }) => x.KeyVersionId)).toEqual([key.versionId, v2.KeyVersionId]);
    const list = await v.call('ListKeyVersions', { KeyId: key.keyId, PageSize: 1, PageNumber: 2 });
    expect(list).toMatchObject({ TotalCount: 2, PageNumber: 2, PageSize: 1 });
    expect(list.KeyVersions.KeyVersion).toEqual([v2]);
  });

  it('refuses an unknown key', async () => {
    await v.refused('ListKeyVersions', { KeyId: 'alias/none' }, 'Forbidden.AliasNotFound');
  });
});
