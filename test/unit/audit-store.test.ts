// The audit store against a real AppSession (passphrase vault in a temp dir, through setBridge):
// newest-first listing, the key / action / kind / caller / search / UTC time filters, paging, the export, chain verification, and
// malformed requests refused with InvalidParameter before they reach the vault (the log is
// unchanged afterwards).
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppSession } from '../../core/app/app-session.ts';
import { AppError, call, kms, setBridge } from '../../renderer/src/api/bridge.ts';
import { AUDIT_PAGE, resetAuditStore, useAuditStore, utcBound } from '../../renderer/src/stores/audit-store.ts';
import { tempDir } from '../integration/vault-helpers.ts';

let dir: { path: string; remove(): void };
let session: AppSession;
let signer: { KeyId: string; KeyVersionId: string };
let other: { KeyId: string; KeyVersionId: string };

const audit = () => useAuditStore.getState();
const digest = (text: string) => createHash('sha256').update(text).digest('base64');

async function createSigner(alias: string): Promise<{ KeyId: string; KeyVersionId: string }> {
  const created = await kms<any>('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
  const KeyId = created.KeyMetadata.KeyId as string;
  await kms('CreateAlias', { KeyId, AliasName: alias });
  const versions = await kms<any>('ListKeyVersions', { KeyId });
  return { KeyId, KeyVersionId: versions.KeyVersions.KeyVersion[0].KeyVersionId as string };
}

beforeAll(async () => {
  dir = tempDir('deskkms-audit-store-');
  session = new AppSession({ vaultDir: join(dir.path, 'vault'), caller: 'test' });
  setBridge({ call: (method, params) => session.call({ method, params }) as any });
  await call('Vault.Create', { Protection: 'passphrase', Passphrase: 'correct horse battery staple' });
  signer = await createSigner('alias/audit-signer');
  other = await createSigner('alias/audit-other');
  await kms('AsymmetricSign', { ...signer, Algorithm: 'ECDSA_SHA_256', Digest: digest('one') });
  await kms('AsymmetricSign', { ...other, Algorithm: 'ECDSA_SHA_256', Digest: digest('two') });
  await kms('DisableKey', { KeyId: signer.KeyId });
  // Refused: the key is disabled. The refusal is audited with its Code.
  await expect(kms('AsymmetricSign', { ...signer, Algorithm: 'ECDSA_SHA_256', Digest: digest('three') })).rejects.toMatchObject({
    code: 'Rejected.Disabled',
  });
});

afterAll(async () => {
  setBridge(undefined);
  await session.close();
  dir.remove();
});

beforeEach(() => resetAuditStore());

describe('audit store', () => {
  it('lists every entry newest first, the refused call with its Code', async () => {
    await audit().load();
    const { entries, truncated, error } = audit();
    expect(error).toBeUndefined();
    expect(truncated).toBe(false);
    const seqs = entries.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    const signs = entries.filter((e) => e.action === 'AsymmetricSign');
    expect(signs.map((e) => e.code)).toEqual(['Rejected.Disabled', 'OK', 'OK']);
    expect(signs[0]).toMatchObject({ keyId: signer.KeyId, keyVersionId: signer.KeyVersionId, caller: 'test' });
  });

  it('filters by alias or KeyId, by action, and by time', async () => {
    audit().setFilter('keyId', 'alias/audit-signer');
    await audit().load();
    const byAlias = audit().entries;
    expect(byAlias.length).toBeGreaterThan(0);
    expect(byAlias.every((e) => e.keyId === signer.KeyId)).toBe(true);
    expect(byAlias.map((e) => e.action)).toEqual(expect.arrayContaining(['CreateKey', 'DisableKey', 'AsymmetricSign']));

    audit().setFilter('keyId', other.KeyId);
    audit().setFilter('action', 'AsymmetricSign');
    await audit().load();
    expect(audit().entries).toHaveLength(1);
    expect(audit().entries[0]).toMatchObject({ keyId: other.KeyId, action: 'AsymmetricSign', code: 'OK' });

    audit().setFilter('keyId', '');
    audit().setFilter('action', 'DisableKey');
    await audit().load();
    expect(audit().entries.map((e) => e.keyId)).toEqual([signer.KeyId]);

    // UTC times as the table shows them ("YYYY-MM-DD HH:MM:SS"), never the browser's zone.
    const utc = (d: Date) => d.toISOString().slice(0, 19).replace('T', ' ');
    audit().clearFilters();
    audit().setFilter('since', utc(new Date(Date.now() + 3_600_000)));
    await audit().load();
    expect(audit().entries).toHaveLength(0);
    audit().setFilter('since', utc(new Date(Date.now() - 3_600_000)));
    audit().setFilter('until', utc(new Date(Date.now() + 3_600_000)));
    await audit().load();
    expect(audit().entries.length).toBeGreaterThan(5);
    audit().setFilter('until', utc(new Date(Date.now() - 3_600_000)));
    await audit().load();
    expect(audit().entries).toHaveLength(0);
  });

  it('takes Since and Until in UTC: an entry at a known time is inside a range that names its second, minute or day and outside one that ends before it', async () => {
    await audit().load();
    const entry = audit().entries.find((e) => e.action === 'DisableKey')!;
    // The table shows "2026-01-31 12:34:56 UTC": the same text is what the fields take.
    const [day, clock] = entry.time.slice(0, 19).split('T') as [string, string];
    const inRange = async (since: string, until: string) => {
      audit().clearFilters();
      audit().setFilter('action', 'DisableKey');
      audit().setFilter('since', since);
      audit().setFilter('until', until);
      await audit().load();
      expect(audit().error).toBeUndefined();
      return audit().entries.some((e) => e.seq === entry.seq);
    };
    expect(await inRange(`${day} ${clock}`, `${day} ${clock}`)).toBe(true);
    expect(await inRange(`${day} ${clock.slice(0, 5)}`, `${day} ${clock.slice(0, 5)}`)).toBe(true);
    expect(await inRange(day, day)).toBe(true);
    expect(await inRange(`${day}T${clock}Z`, `${day} ${clock} UTC`)).toBe(true);
    const before = new Date(Date.parse(entry.time) - 1000).toISOString().slice(0, 19).replace('T', ' ');
    const after = new Date(Date.parse(entry.time) + 1000).toISOString().slice(0, 19).replace('T', ' ');
    expect(await inRange('', before)).toBe(false);
    expect(await inRange(after, '')).toBe(false);
  });

  it('utcBound: a field names the start (Since) or the end (Until) of its second, minute or day in UTC; anything else is refused with what to write', () => {
    expect(utcBound('2026-01-31', false)).toBe('2026-01-31T00:00:00.000Z');
    expect(utcBound('2026-01-31', true)).toBe('2026-01-31T23:59:59.999Z');
    expect(utcBound('2026-01-31 12:05', true)).toBe('2026-01-31T12:05:59.999Z');
    expect(utcBound(' 2026-01-31T12:05:09Z ', false)).toBe('2026-01-31T12:05:09.000Z');
    expect(utcBound('', true)).toBeUndefined();
    for (const bad of ['01/31/2026', '2026-02-30', '2026-01-31 24:00', 'yesterday']) {
      expect(utcBound(bad, false)).toBeInstanceOf(Error);
    }
    expect(String(utcBound('01/31/2026', false))).toMatch(/YYYY-MM-DD HH:MM:SS \(UTC/);
  });

  it('filters by kind, caller and a search (a RequestId pasted from an error finds its entry)', async () => {
    audit().setFilter('kind', 'private-key');
    await audit().load();
    expect(audit().entries.map((e) => e.action)).toEqual(['AsymmetricSign', 'AsymmetricSign']);
    audit().setFilter('kind', 'refused');
    await audit().load();
    const refused = audit().entries.find((e) => e.action === 'AsymmetricSign')!;
    expect(refused.code).toBe('Rejected.Disabled');
    audit().clearFilters();
    audit().setFilter('search', ` ${refused.requestId} `);
    await audit().load();
    expect(audit().entries.map((e) => e.seq)).toEqual([refused.seq]);
    audit().clearFilters();
    audit().setFilter('caller', 'test');
    await audit().load();
    expect(audit().entries.length).toBeGreaterThan(5);
    audit().setFilter('caller', 'cli');
    await audit().load();
    expect(audit().entries).toEqual([]);
    // A malformed time is refused before any call, naming the field.
    audit().clearFilters();
    audit().setFilter('until', '01/31/2026');
    await audit().load();
    expect(audit().error?.message).toMatch(/^Until: "01\/31\/2026" is not a UTC time/);
  });

  it('exports every entry the applied filters match, across pages, oldest first, as CSV or JSON Lines', async () => {
    await audit().load();
    const all = [...audit().entries].reverse();
    // Not only the page shown: every page, read 2 entries per Audit.List call here.
    useAuditStore.setState({ limit: 2 });
    await audit().load();
    expect(audit().truncated).toBe(true);
    const jsonl = (await audit().exportText('jsonl', 2))!;
    expect(jsonl.trimEnd().split('\n').map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual(all.map((e) => e.seq));
    const csv = (await audit().exportText('csv'))!;
    expect(csv.split('\r\n')[0]).toBe('seq,time,action,keyId,keyVersionId,code,caller,requestId,prevHash,hash');
    expect(csv.split('\r\n')).toHaveLength(all.length + 2);
    audit().setFilter('kind', 'private-key');
    await audit().load();
    const signs = (await audit().exportText('jsonl'))!.trimEnd().split('\n');
    expect(signs.map((l) => (JSON.parse(l) as { action: string }).action)).toEqual(['AsymmetricSign', 'AsymmetricSign']);
    expect(audit().exporting).toBeUndefined();
  });

  it("a key filter that names no live key (a deleted key's history) matches nothing, without an error", async () => {
    audit().setFilter('keyId', 'alias/no-such-key');
    await audit().load();
    expect(audit().error).toBeUndefined();
    expect(audit().entries).toHaveLength(0);
  });

  it('pages: a small page truncates, Show more appends the next older page until none remain', async () => {
    useAuditStore.setState({ limit: 3 });
    await audit().load();
    expect(audit().entries).toHaveLength(3);
    expect(audit().truncated).toBe(true);
    const newest = audit().entries[0]!.seq;
    while (audit().truncated) await audit().loadMore();
    const seqs = audit().entries.map((e) => e.seq);
    expect(seqs[0]).toBe(newest);
    // Every entry once, newest first, down to the first one: the same as one big page.
    expect(seqs).toEqual([...seqs].sort((x, y) => y - x));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs.at(-1)).toBe(1);
    useAuditStore.setState({ limit: AUDIT_PAGE });
    await audit().load();
    expect(audit().entries.map((e) => e.seq).filter((s) => s <= newest)).toEqual(seqs);
  });

  it('verifies the chain: OK with the entry count and the newest entry as head', async () => {
    await audit().verify();
    const verdict = audit().verdict;
    expect(verdict?.ok).toBe(true);
    await audit().load();
    const all = audit().entries;
    expect(verdict).toMatchObject({ ok: true, entries: all.length, head: all[0]!.hash });
    expect(audit().verifying).toBe(false);
  });

  it('refuses malformed payloads with InvalidParameter before they reach the vault', async () => {
    const before = await call('Audit.Verify', {});
    const malformed: [string, unknown][] = [
      ['Audit.List', { Limit: 'x' }],
      ['Audit.List', { KeyId: 42 }],
      ['Audit.List', { Since: 'yesterday-ish' }],
      ['Audit.List', { Extra: true }],
      ['Digest.Update', { SessionId: '00000000-0000-4000-8000-000000000000', Chunk: 'not base64!' }],
      ['Digest.Begin', { KeyId: signer.KeyId, KeyVersionId: 'not-a-uuid', Algorithm: 'ECDSA_SHA_256' }],
      ['Vault.Unlock', { Passphrase: 12345678 }],
      ['Kms.Call', { Action: 'AsymmetricSign', Params: 'not an object' }],
      ['Keys.Delete', {}],
      ['__proto__', {}],
    ];
    for (const [method, params] of malformed) {
      const result = await session.call({ method, params });
      expect(result, `${method} ${JSON.stringify(params)}`).toMatchObject({ ok: false, error: { Code: 'InvalidParameter' } });
      expect((result as any).error.Message).not.toMatch(/\n\s+at /);
    }
    // The same refusal reaches the renderer as an AppError with the Code.
    await expect(call('Audit.List', { Limit: 'x' } as any)).rejects.toBeInstanceOf(AppError);
    await expect(call('Audit.List', { Limit: 'x' } as any)).rejects.toMatchObject({ code: 'InvalidParameter', message: expect.stringMatching(/Limit/) });
    // Not an envelope at all.
    expect(await session.call('Audit.List')).toMatchObject({ ok: false, error: { Code: 'InvalidParameter' } });

    // Only the malformed Kms.Call is a (refused) KMS call, audited once; the chain stays intact.
    const after = await call('Audit.Verify', {});
    expect(after).toMatchObject({ ok: true, entries: before.entries + 1 });
    const [refused] = (await call('Audit.List', { Limit: 1 })).Entries;
    expect(refused).toMatchObject({ action: 'AsymmetricSign', code: 'InvalidParameter' });
  });
});
