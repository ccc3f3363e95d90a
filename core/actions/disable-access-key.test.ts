// DisableAccessKey through dispatch: requests signed with the key are refused as Inactive until it
// is enabled again; refusals are audited with their Code.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminVault, EVERYTHING, type AdminVault } from '../../test/support/admin-vault.ts';

let v: AdminVault;
beforeEach(async () => (v = await adminVault()));
afterEach(() => v.close());

describe('DisableAccessKey', () => {
  it('disables a key: the API host refuses it as Inactive (before any signature check)', async () => {
    const { AccessKeyId } = await v.ok('CreateAccessKey');
    expect(await v.ok('DisableAccessKey', { AccessKeyId })).toMatchObject({ AccessKeyId, State: 'Disabled' });
    expect(await v.apiRefusal(AccessKeyId)).toBe('InvalidAccessKeyId.Inactive');
    expect(v.audited('DisableAccessKey')).toEqual([expect.objectContaining({ code: 'OK', keyId: AccessKeyId })]);
  });

  it('refuses an unknown key and an access key caller, audited', async () => {
    expect((await v.refused('DisableAccessKey', { AccessKeyId: 'DKMSaaaaaaaaaaaaaaaaaaaa' })).Code).toBe('InvalidAccessKeyId.NotFound');
    const { AccessKeyId } = await v.ok('CreateAccessKey');
    expect((await v.refused('DisableAccessKey', { AccessKeyId }, EVERYTHING)).Code).toBe('Forbidden.NoPermission');
    expect(v.audited('DisableAccessKey').map((e) => e.code)).toEqual(['InvalidAccessKeyId.NotFound', 'Forbidden.NoPermission']);
  });
});
