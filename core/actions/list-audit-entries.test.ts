// ListAuditEntries through dispatch: filters by key (an alias resolved), Action and time, oldest or
// newest first, Limit with Truncated, BeforeSeq paging; a successful read records nothing in the
// log, a refused one is audited with its Code; local only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminVault, EVERYTHING, type AdminVault } from '../../test/support/admin-vault.ts';

let v: AdminVault;
let keyId: string;
let otherId: string;

beforeAll(async () => {
  v = await adminVault();
  keyId = (await v.ok('CreateKey', { KeySpec: 'EC_P256' })).KeyMetadata.KeyId as string;
  otherId = (await v.ok('CreateKey', { KeySpec: 'EC_P256' })).KeyMetadata.KeyId as string;
  await v.ok('CreateAlias', { KeyId: keyId, AliasName: 'alias/audited' });
  await v.ok('DescribeKey', { KeyId: 'alias/audited' });
  await v.refused('DisableKey', { KeyId: 'alias/nowhere' });
});
afterAll(() => v?.close());

describe('ListAuditEntries', () => {
  it('lists every entry oldest first, with its hashes; reading records nothing', async () => {
    const before = v.count();
    const { Entries, Truncated } = await v.ok('ListAuditEntries');
    expect(Truncated).toBe(false);
    expect(Entries.map((e: { action: string }) => e.action)).toEqual(['InitVault', 'CreateKey', 'CreateKey', 'CreateAlias', 'DescribeKey', 'DisableKey']);
    expect(Entries.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Entries[5]).toMatchObject({ code: 'Forbidden.AliasNotFound', keyId: 'alias/nowhere', caller: 'cli', keyVersionId: null });
    expect(Entries[1].prevHash).toBe(Entries[0].hash);
    expect(v.count()).toBe(before);
  });

  it('filters by key (alias resolved), Action and time; newest first with Limit reports Truncated; BeforeSeq pages back', async () => {
    const byAlias = (await v.ok('ListAuditEntries', { KeyId: 'alias/audited', NewestFirst: true })).Entries;
    expect(byAlias.map((e: { action: string }) => e.action)).toEqual(['DescribeKey', 'CreateAlias', 'CreateKey']);
    expect(byAlias.every((e: { keyId: string }) => e.keyId === keyId)).toBe(true);
    expect((await v.ok('ListAuditEntries', { KeyId: otherId })).Entries).toHaveLength(1);
    expect((await v.ok('ListAuditEntries', { Action: 'CreateKey' })).Entries).toHaveLength(2);
    expect((await v.ok('ListAuditEntries', { Since: '2999-01-01T00:00:00Z' })).Entries).toEqual([]);
    expect((await v.ok('ListAuditEntries', { Until: '2000-01-01T00:00:00Z' })).Entries).toEqual([]);
    const page = await v.ok('ListAuditEntries', { Limit: '2', NewestFirst: 'true' });
    expect(page.Truncated).toBe(true);
    expect(page.Entries.map((e: { seq: number }) => e.seq)).toEqual([6, 5]);
    const older = await v.ok('ListAuditEntries', { Limit: 4, NewestFirst: true, BeforeSeq: 5 });
    expect(older).toMatchObject({ Truncated: false });
    expect(older.Entries.map((e: { seq: number }) => e.seq)).toEqual([4, 3, 2, 1]);
    expect((await v.ok('ListAuditEntries', { Limit: 6 })).Truncated).toBe(false);
  });

  it.each([
    [{ Since: 'yesterday' }, 'InvalidParameter', /^Since: is not a date/],
    [{ Since: '2026-02-01T00:00:00Z', Until: '2026-01-01T00:00:00Z' }, 'InvalidParameter', /^since: must not be later than until/],
    [{ Limit: 0 }, 'InvalidParameter', /^Limit: must be at least 1/],
    [{ Limit: 100_000 }, 'InvalidParameter', /^Limit: must be at most 99999/],
    [{ Frobnicate: 1 }, 'InvalidParameter', /^Frobnicate: is not a parameter of ListAuditEntries/],
    [{ KeyId: `alias/${'x'.repeat(200)}` }, 'InvalidParameter', /^KeyId: names no key of this vault, and no entry keeps a KeyId longer than 128/],
  ])('refuses %j (%s), audited with its Code', async (params, code, message) => {
    const error = await v.refused('ListAuditEntries', params);
    expect(error.Code).toBe(code);
    expect(error.Message).toMatch(message);
    expect(v.audited('ListAuditEntries').at(-1)).toMatchObject({ code, requestId: error.RequestId });
  });

  it('is refused to an access key, audited', async () => {
    expect((await v.refused('ListAuditEntries', {}, EVERYTHING)).Code).toBe('Forbidden.NoPermission');
    expect(v.audited('ListAuditEntries').at(-1)).toMatchObject({ code: 'Forbidden.NoPermission', caller: 'api:DKMStesttesttesttesttest' });
  });
});
