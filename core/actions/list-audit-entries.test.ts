// ListAuditEntries through dispatch: filters by key (an alias resolved), Action and time, oldest or
// newest first, Limit with Truncated, BeforeSeq paging; a successful read records nothing in the
// log, a refused one is audited with its Code; local only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminVault, EVERYTHING, type AdminVault } from '../../test/support/admin-vault.ts';
import { auditKind, AUDIT_KINDS } from '../contract/audit-kinds.ts';
import { recordEvent } from './dispatch.ts';

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
    [{ Kind: 'writes' }, 'InvalidParameter', /^Kind: must be one of change, private-key, read, refused/],
    [{ Search: '' }, 'InvalidParameter', /^Search: is empty/],
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

describe('ListAuditEntries Kind, Caller and Search', () => {
  type Entry = { seq: number; action: string; code: string; caller: string; requestId: string };
  const seqs = (entries: Entry[]) => entries.map((e) => e.seq);

  it('filters by kind in the query: each kind is exactly the entries auditKind gives it, paged with Limit and BeforeSeq', async () => {
    const versionId = (await v.ok('ListKeyVersions', { KeyId: keyId })).KeyVersions.KeyVersion[0].KeyVersionId as string;
    await v.ok('AsymmetricSign', { KeyId: keyId, KeyVersionId: versionId, Algorithm: 'ECDSA_SHA_256', Digest: Buffer.alloc(32, 1).toString('base64') });
    await recordEvent(v.vault, 'UnlockVault', 'OK', 'app');
    const all = (await v.ok('ListAuditEntries')).Entries as Entry[];
    for (const kind of AUDIT_KINDS) {
      const listed = (await v.ok('ListAuditEntries', { Kind: kind })).Entries as Entry[];
      expect(seqs(listed), kind).toEqual(seqs(all.filter((e) => auditKind(e.action, e.code) === kind)));
      expect(listed.length, kind).toBeGreaterThan(0);
    }
    expect(((await v.ok('ListAuditEntries', { Kind: 'private-key' })).Entries as Entry[]).map((e) => e.action)).toEqual(['AsymmetricSign']);
    expect(((await v.ok('ListAuditEntries', { Kind: 'refused' })).Entries as Entry[]).every((e) => e.code !== 'OK')).toBe(true);
    expect(((await v.ok('ListAuditEntries', { Kind: 'change' })).Entries as Entry[]).map((e) => e.action)).toEqual(['InitVault', 'CreateKey', 'CreateKey', 'CreateAlias', 'UnlockVault']);
    // Limit and Truncated count the filtered entries, not the log's.
    const reads = (await v.ok('ListAuditEntries', { Kind: 'read', NewestFirst: true })).Entries as Entry[];
    const first = await v.ok('ListAuditEntries', { Kind: 'read', NewestFirst: true, Limit: 1 });
    expect(first.Truncated).toBe(true);
    expect(seqs(first.Entries as Entry[])).toEqual([reads[0]!.seq]);
    const rest = await v.ok('ListAuditEntries', { Kind: 'read', NewestFirst: true, Limit: reads.length - 1, BeforeSeq: reads[0]!.seq });
    expect(rest.Truncated).toBe(false);
    expect(seqs(rest.Entries as Entry[])).toEqual(seqs(reads.slice(1)));
  });

  it('filters by caller, exactly', async () => {
    await recordEvent(v.vault, 'LockVault', 'OK', 'ui');
    expect(((await v.ok('ListAuditEntries', { Caller: 'ui' })).Entries as Entry[]).map((e) => e.action)).toEqual(['LockVault']);
    expect((await v.ok('ListAuditEntries', { Caller: 'u' })).Entries).toEqual([]);
    const cli = (await v.ok('ListAuditEntries', { Caller: 'cli' })).Entries as Entry[];
    expect(cli.length).toBeGreaterThan(3);
    expect(cli.every((e) => e.caller === 'cli')).toBe(true);
  });

  it('searches RequestId, Action, KeyId, KeyVersionId, Caller and Code as substrings, ASCII case ignored', async () => {
    const all = (await v.ok('ListAuditEntries')).Entries as (Entry & { keyId: string | null })[];
    const refused = all.find((e) => e.action === 'DisableKey')!;
    // Part of a RequestId, in upper case: an error message quotes it, the user pastes it.
    const part = refused.requestId.slice(4, 20).toUpperCase();
    expect(seqs((await v.ok('ListAuditEntries', { Search: part })).Entries as Entry[])).toEqual([refused.seq]);
    expect(((await v.ok('ListAuditEntries', { Search: 'disablekey' })).Entries as Entry[]).map((e) => e.action)).toEqual(['DisableKey']);
    expect(((await v.ok('ListAuditEntries', { Search: 'aliasnotfound' })).Entries as Entry[]).map((e) => e.seq)).toEqual([refused.seq]);
    expect(((await v.ok('ListAuditEntries', { Search: 'alias/NOWHERE' })).Entries as Entry[]).map((e) => e.seq)).toEqual([refused.seq]);
    const byKey = (await v.ok('ListAuditEntries', { Search: otherId.slice(0, 13) })).Entries as Entry[];
    expect(byKey.map((e) => e.action)).toEqual(['CreateKey']);
    expect(((await v.ok('ListAuditEntries', { Search: 'UI' })).Entries as Entry[]).some((e) => e.caller === 'ui')).toBe(true);
    // Combined with the other filters (AND); a LIKE wildcard is plain text.
    expect((await v.ok('ListAuditEntries', { Search: 'disablekey', Kind: 'change' })).Entries).toEqual([]);
    expect((await v.ok('ListAuditEntries', { Search: '%' })).Entries).toEqual([]);
  });
});
