// CreateAccessKey through dispatch: the secret is answered once and stored only sealed, the policy
// is validated (a refusal is audited with its Code and leaves no key), and no access key, not even
// a full-access one, may issue access keys.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminVault, EVERYTHING, type AdminVault } from '../../test/support/admin-vault.ts';

let v: AdminVault;
beforeEach(async () => (v = await adminVault()));
afterEach(() => v.close());

describe('CreateAccessKey', () => {
  it('issues an enabled full-access key by default; the secret is answered once, never stored or audited in the clear', async () => {
    const created = await v.ok('CreateAccessKey', { Description: 'ci' });
    expect(created).toMatchObject({ State: 'Enabled', Policy: { Actions: ['*'], Keys: ['*'] }, Description: 'ci' });
    expect(created.AccessKeyId).toMatch(/^DKMS[A-Za-z0-9]{20}$/);
    expect(created.AccessKeySecret).toMatch(/^[A-Za-z0-9]{30}$/);
    expect(created.CreationDate).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const [entry] = v.audited('CreateAccessKey');
    expect(entry).toMatchObject({ code: 'OK', keyId: created.AccessKeyId, caller: 'cli', requestId: created.RequestId });
    const file = JSON.stringify(v.vault.store.db.prepare('SELECT * FROM access_keys').all()) + JSON.stringify(v.vault.store.db.prepare('SELECT * FROM audit_log').all());
    expect(file).not.toContain(created.AccessKeySecret);
    expect((await v.ok('ListAccessKeys')).AccessKeys).toEqual([{ AccessKeyId: created.AccessKeyId, State: 'Enabled', Policy: EVERYTHING, Description: 'ci', CreationDate: created.CreationDate }]);
  });

  it('takes its policy as JSON text or as an object', async () => {
    const text = await v.ok('CreateAccessKey', { Policy: '{"Actions":["AsymmetricSign"],"Keys":["alias/release"]}' });
    expect(text.Policy).toEqual({ Actions: ['AsymmetricSign'], Keys: ['alias/release'] });
    const object = await v.ok('CreateAccessKey', { Policy: { Actions: ['DescribeKey', 'ListKeys'], Keys: ['*'] } });
    expect(object.Policy).toEqual({ Actions: ['DescribeKey', 'ListKeys'], Keys: ['*'] });
  });

  it.each([
    ['an unknown Action', '{"Actions":["Frobnicate"],"Keys":["*"]}', /^Policy: each action must be "\*" or an Action name/],
    ['a local-only Action', '{"Actions":["AsymmetricSign","CreateAccessKey"],"Keys":["*"]}', /^Policy: CreateAccessKey is a local-only DeskKMS Action: no access key may call it/],
    ['text that is not JSON', '{"Actions":', /^Policy: is not valid JSON/],
    ['no Keys', '{"Actions":["*"]}', /^Policy: /],
  ])('refuses a policy with %s: InvalidParameter, audited with its Code, no key made', async (_what, policy, message) => {
    const error = await v.refused('CreateAccessKey', { Policy: policy });
    expect(error.Code).toBe('InvalidParameter');
    expect(error.Message).toMatch(message);
    expect(v.audited('CreateAccessKey')).toEqual([expect.objectContaining({ code: 'InvalidParameter', requestId: error.RequestId, caller: 'cli' })]);
    expect((await v.ok('ListAccessKeys')).AccessKeys).toEqual([]);
  });

  it('is refused to an access key, even one whose policy is "*", and the refusal is audited', async () => {
    const error = await v.refused('CreateAccessKey', {}, EVERYTHING);
    expect(error.Code).toBe('Forbidden.NoPermission');
    expect(error.Message).toMatch(/CreateAccessKey: it is a local-only DeskKMS Action/);
    expect(v.audited('CreateAccessKey')).toEqual([expect.objectContaining({ code: 'Forbidden.NoPermission', caller: 'api:DKMStesttesttesttesttest' })]);
    expect((await v.ok('ListAccessKeys')).AccessKeys).toEqual([]);
  });
});
