import { describe, expect, it } from 'vitest';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('create-alias');

describe('CreateAlias', () => {
  it('names a key: the alias resolves as KeyId', async () => {
    const key = await v.makeKey('EC_SM2', 'SIGN/VERIFY');
    const created = await v.call('CreateAlias', { KeyId: key.keyId, AliasName: 'alias/release-signing' });
    expect(created).toEqual({ RequestId: created.RequestId });
    expect(v.auditOf(created.RequestId).keyId).toBe(key.keyId);
    expect((await v.call('DescribeKey', { KeyId: 'alias/release-signing' })).KeyMetadata.KeyId).toBe(key.keyId);
  });

  it('refuses a duplicate alias, a sixth alias of a key and a name without alias/', async () => {
    const a = await v.makeKey('EC_P256');
    const b = await v.makeKey('EC_P256');
    await v.call('CreateAlias', { KeyId: a.keyId, AliasName: 'alias/taken' });
    expect((await v.refused('CreateAlias', { KeyId: b.keyId, AliasName: 'alias/taken' }, 'AliasAlreadyExists')).audit.keyId).toBe(b.keyId);
    for (let i = 1; i <= 4; i++) await v.call('CreateAlias', { KeyId: a.keyId, AliasName: `alias/a${i}` });
    expect((await v.refused('CreateAlias', { KeyId: a.keyId, AliasName: 'alias/a5' }, 'InvalidParameter')).Message).toMatch(/already has 5 aliases/);
    await v.refused('CreateAlias', { KeyId: a.keyId, AliasName: 'release' }, 'InvalidParameter');
  });
});
