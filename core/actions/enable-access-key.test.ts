// EnableAccessKey through dispatch: a disabled key authenticates again; an id that is not an access
// key's shape, or of no key, is refused and audited with its Code.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminVault, EVERYTHING, type AdminVault } from '../../test/support/admin-vault.ts';

let v: AdminVault;
beforeEach(async () => (v = await adminVault()));
afterEach(() => v.close());

const stateOf = async (id: string): Promise<string> =>
  ((await v.ok('ListAccessKeys')).AccessKeys as { AccessKeyId: string; State: string }[]).find((k) => k.AccessKeyId === id)!.State;

describe('EnableAccessKey', () => {
  it('enables a disabled key, audited against its AccessKeyId', async () => {
    const { AccessKeyId } = await v.ok('CreateAccessKey');
    await v.ok('DisableAccessKey', { AccessKeyId });
    expect(await stateOf(AccessKeyId)).toBe('Disabled');
    expect(await v.ok('EnableAccessKey', { AccessKeyId })).toMatchObject({ AccessKeyId, State: 'Enabled' });
    expect(await stateOf(AccessKeyId)).toBe('Enabled');
    expect(await v.apiRefusal(AccessKeyId)).toBe('SignatureDoesNotMatch'); // known and enabled: only the signature is wrong
    expect(v.audited('EnableAccessKey')).toEqual([expect.objectContaining({ code: 'OK', keyId: AccessKeyId })]);
  });

  it('refuses an unknown key (InvalidAccessKeyId.NotFound) and a malformed id (InvalidParameter), both audited', async () => {
    const unknown = await v.refused('EnableAccessKey', { AccessKeyId: 'DKMS00000000000000000000' });
    expect(unknown).toMatchObject({ Code: 'InvalidAccessKeyId.NotFound', Message: 'access key DKMS00000000000000000000 does not exist' });
    const malformed = await v.refused('EnableAccessKey', { AccessKeyId: 'LTAI-not-ours' });
    expect(malformed.Code).toBe('InvalidParameter');
    expect(malformed.Message).toMatch(/^AccessKeyId: must be a DeskKMS access key id/);
    expect((await v.refused('EnableAccessKey', {})).Code).toBe('MissingParameter');
    expect(v.audited('EnableAccessKey').map((e) => [e.code, e.keyId])).toEqual([
      ['InvalidAccessKeyId.NotFound', 'DKMS00000000000000000000'],
      ['InvalidParameter', null],
      ['MissingParameter', null],
    ]);
  });

  it('is refused to an access key', async () => {
    const { AccessKeyId } = await v.ok('CreateAccessKey');
    expect((await v.refused('EnableAccessKey', { AccessKeyId }, EVERYTHING)).Code).toBe('Forbidden.NoPermission');
  });
});
