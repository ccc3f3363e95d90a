// ListAccessKeys through dispatch: every key with its state and policy, never a secret; local only.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminVault, EVERYTHING, type AdminVault } from '../../test/support/admin-vault.ts';

let v: AdminVault;
beforeEach(async () => (v = await adminVault()));
afterEach(() => v.close());

describe('ListAccessKeys', () => {
  it('lists the keys in creation order with state and policy, without their secrets', async () => {
    expect((await v.ok('ListAccessKeys')).AccessKeys).toEqual([]);
    const a = await v.ok('CreateAccessKey', { Description: 'a' });
    const b = await v.ok('CreateAccessKey', { Policy: { Actions: ['GetPublicKey'], Keys: ['alias/release'] } });
    await v.ok('DisableAccessKey', { AccessKeyId: b.AccessKeyId });
    const listed = await v.ok('ListAccessKeys');
    expect(listed.AccessKeys.map((k: { AccessKeyId: string }) => k.AccessKeyId).sort()).toEqual([a.AccessKeyId, b.AccessKeyId].sort());
    expect(listed.AccessKeys.find((k: { AccessKeyId: string }) => k.AccessKeyId === b.AccessKeyId)).toMatchObject({ State: 'Disabled', Policy: { Actions: ['GetPublicKey'], Keys: ['alias/release'] } });
    const text = JSON.stringify(listed);
    expect(text).not.toContain(a.AccessKeySecret);
    expect(text).not.toContain(b.AccessKeySecret);
    expect(text).not.toMatch(/Secret|sealed/i);
    expect(v.audited('ListAccessKeys').map((e) => e.code)).toEqual(['OK', 'OK']);
  });

  it('is refused to an access key: Forbidden.NoPermission, audited', async () => {
    expect((await v.refused('ListAccessKeys', {}, EVERYTHING)).Code).toBe('Forbidden.NoPermission');
    expect(v.audited('ListAccessKeys').map((e) => e.code)).toEqual(['Forbidden.NoPermission']);
  });
});
