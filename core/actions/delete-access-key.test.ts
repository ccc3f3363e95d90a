// DeleteAccessKey through dispatch: the key is gone (the API host no longer knows it); an id that
// is not an access key's shape is refused by its pattern; refusals are audited with their Code.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminVault, EVERYTHING, type AdminVault } from '../../test/support/admin-vault.ts';

let v: AdminVault;
beforeEach(async () => (v = await adminVault()));
afterEach(() => v.close());

describe('DeleteAccessKey', () => {
  it('deletes the key: no longer listed, unknown to the API host, deleting again is NotFound', async () => {
    const { AccessKeyId } = await v.ok('CreateAccessKey');
    const kept = await v.ok('CreateAccessKey');
    expect(await v.ok('DeleteAccessKey', { AccessKeyId })).toMatchObject({ AccessKeyId });
    expect((await v.ok('ListAccessKeys')).AccessKeys.map((k: { AccessKeyId: string }) => k.AccessKeyId)).toEqual([kept.AccessKeyId]);
    expect(await v.apiRefusal(AccessKeyId)).toBe('InvalidAccessKeyId.NotFound');
    expect((await v.refused('DeleteAccessKey', { AccessKeyId })).Code).toBe('InvalidAccessKeyId.NotFound');
    expect(v.audited('DeleteAccessKey').map((e) => [e.code, e.keyId])).toEqual([
      ['OK', AccessKeyId],
      ['InvalidAccessKeyId.NotFound', AccessKeyId],
    ]);
  });

  it.each(['DKMS123', 'dkms00000000000000000000', 'DKMS0000000000000000000!', `DKMS${'0'.repeat(21)}`])('refuses the malformed id %j by its pattern, audited', async (id) => {
    const error = await v.refused('DeleteAccessKey', { AccessKeyId: id });
    expect(error.Code).toBe('InvalidParameter');
    expect(error.Message).toMatch(/^AccessKeyId: must be a DeskKMS access key id/);
    expect(v.audited('DeleteAccessKey').map((e) => e.code)).toEqual(['InvalidParameter']);
  });

  it('is refused to an access key: the key stays', async () => {
    const { AccessKeyId } = await v.ok('CreateAccessKey');
    expect((await v.refused('DeleteAccessKey', { AccessKeyId }, EVERYTHING)).Code).toBe('Forbidden.NoPermission');
    expect((await v.ok('ListAccessKeys')).AccessKeys).toHaveLength(1);
  });
});
