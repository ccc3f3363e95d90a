// The keys store and its selectors: filterKeys on fixed summaries, then load/select against a
// real AppSession (a passphrase vault in a temp dir, reached through setBridge exactly as the
// renderer reaches the host), and malformed payloads from the renderer refused with
// InvalidParameter before they reach the vault.
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppSession } from '../../core/app/app-session.ts';
import type { AuditEntryView, KeySummary } from '../../core/contract/app-api.ts';
import { call, setBridge } from '../../renderer/src/api/bridge.ts';
import { NO_FILTERS, filterKeys, resetKeysStore, selectedKey, useKeysStore, type KeyFilters } from '../../renderer/src/stores/keys-store.ts';
import { tempDir } from '../integration/vault-helpers.ts';
import { keySummary } from '../support/key-summary.ts';


const FIXED: KeySummary[] = [
  keySummary({ KeyId: 'k1-aaaa', Aliases: ['alias/Release-Signing'], Tags: [{ TagKey: 'env', TagValue: 'prod' }], Description: 'ships the app' }),
  keySummary({ KeyId: 'k2-bbbb', KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT/DECRYPT', Tags: [{ TagKey: 'env', TagValue: 'dev' }] }),
  keySummary({ KeyId: 'k3-cccc', KeySpec: 'EC_SM2', KeyState: 'Disabled', Aliases: ['alias/gm'], Tags: [{ TagKey: 'team', TagValue: 'pki' }] }),
  keySummary({ KeyId: 'k4-dddd', KeySpec: 'RSA_2048', KeyState: 'PendingDeletion', DeleteDate: '2025-02-01T00:00:00Z' }),
];

const ids = (f: Partial<KeyFilters>) => filterKeys(FIXED, { ...NO_FILTERS, ...f }).map((k) => k.KeyId);

describe('filterKeys', () => {
  it('lets everything through, in inventory order, without filters', () => {
    expect(ids({})).toEqual(['k1-aaaa', 'k2-bbbb', 'k3-cccc', 'k4-dddd']);
  });

  it('filters by spec, usage and state exactly', () => {
    expect(ids({ spec: 'RSA_2048' })).toEqual(['k2-bbbb', 'k4-dddd']);
    expect(ids({ usage: 'ENCRYPT/DECRYPT' })).toEqual(['k2-bbbb']);
    expect(ids({ state: 'Disabled' })).toEqual(['k3-cccc']);
    expect(ids({ state: 'PendingDeletion' })).toEqual(['k4-dddd']);
    expect(ids({ spec: 'RSA_2048', state: 'Enabled' })).toEqual(['k2-bbbb']);
    expect(ids({ spec: 'RSA_3072' })).toEqual([]);
  });

  it('matches aliases by case-insensitive substring', () => {
    expect(ids({ alias: 'release' })).toEqual(['k1-aaaa']);
    expect(ids({ alias: 'ALIAS/' })).toEqual(['k1-aaaa', 'k3-cccc']);
    expect(ids({ alias: 'nope' })).toEqual([]);
  });

  it('matches a tag by key ("k") or by key and value ("k=v")', () => {
    expect(ids({ tag: 'env' })).toEqual(['k1-aaaa', 'k2-bbbb']);
    expect(ids({ tag: 'env=prod' })).toEqual(['k1-aaaa']);
    expect(ids({ tag: ' env = dev ' })).toEqual(['k2-bbbb']);
    expect(ids({ tag: 'env=staging' })).toEqual([]);
    // A tag key is matched whole: "en" is not "env".
    expect(ids({ tag: 'en' })).toEqual([]);
  });

  it('searches KeyId, aliases, description and tags', () => {
    expect(ids({ search: 'K2-B' })).toEqual(['k2-bbbb']);
    expect(ids({ search: 'ships' })).toEqual(['k1-aaaa']);
    expect(ids({ search: 'alias/gm' })).toEqual(['k3-cccc']);
    expect(ids({ search: 'team=pki' })).toEqual(['k3-cccc']);
    expect(ids({ search: '   ' })).toHaveLength(4);
  });
});

describe('keys store against a real AppSession', () => {
  const PASSPHRASE = 'correct horse battery staple';
  let dir: { path: string; remove(): void };
  let session: AppSession;
  const created = { signer: '', sm2: '', rsa: '' };

  async function kmsCall(Action: string, Params: unknown) {
    return session.call({ method: 'Kms.Call', params: { Action, Params } });
  }
  async function createKey(Params: Record<string, unknown>): Promise<string> {
    const r = await kmsCall('CreateKey', Params);
    if (!r.ok) throw new Error(`CreateKey refused: ${r.error.Code} ${r.error.Message}`);
    return (r.value as { KeyMetadata: { KeyId: string } }).KeyMetadata.KeyId;
  }
  async function inventory(): Promise<readonly KeySummary[]> {
    return (await call('Keys.Inventory', {})).Keys;
  }
  async function audit(): Promise<readonly AuditEntryView[]> {
    return (await call('Audit.List', {})).Entries;
  }

  beforeAll(async () => {
    dir = tempDir('deskkms-keys-store-');
    session = new AppSession({ vaultDir: join(dir.path, 'vault'), caller: 'test' });
    setBridge({ call: (method, params) => session.call({ method, params }) as any });
    const made = await session.call({ method: 'Vault.Create', params: { Protection: 'passphrase', Passphrase: PASSPHRASE } });
    expect(made.ok).toBe(true);
    created.signer = await createKey({ KeySpec: 'EC_P256', Description: 'release signer', Tags: [{ TagKey: 'env', TagValue: 'prod' }] });
    expect((await kmsCall('CreateAlias', { KeyId: created.signer, AliasName: 'alias/release' })).ok).toBe(true);
    created.sm2 = await createKey({ KeySpec: 'EC_SM2', KeyUsage: 'ENCRYPT/DECRYPT', Tags: JSON.stringify([{ TagKey: 'env', TagValue: 'dev' }]) });
    created.rsa = await createKey({ KeySpec: 'RSA_2048' });
    expect((await kmsCall('DisableKey', { KeyId: created.rsa })).ok).toBe(true);
  });

  afterAll(async () => {
    setBridge(undefined);
    resetKeysStore();
    await session.close();
    dir.remove();
  });

  beforeEach(() => resetKeysStore());

  const store = () => useKeysStore.getState();

  it('loads the inventory: every key with its aliases, tags, state and versions', async () => {
    expect(store()).toMatchObject({ loaded: false, keys: [] });
    const pending = store().load();
    expect(store().loading).toBe(true);
    await pending;
    expect(store()).toMatchObject({ loaded: true, loading: false, error: undefined });
    const keys = store().keys;
    expect(keys.map((k) => k.KeyId)).toEqual([created.signer, created.sm2, created.rsa]);
    expect(keys[0]).toMatchObject({
      KeySpec: 'EC_P256',
      KeyUsage: 'SIGN/VERIFY',
      KeyState: 'Enabled',
      Description: 'release signer',
      Aliases: ['alias/release'],
      Tags: [{ TagKey: 'env', TagValue: 'prod' }],
      VersionCount: 1,
    });
    expect(keys[1]).toMatchObject({ KeySpec: 'EC_SM2', KeyUsage: 'ENCRYPT/DECRYPT', Tags: [{ TagKey: 'env', TagValue: 'dev' }] });
    expect(keys[2]).toMatchObject({ KeySpec: 'RSA_2048', KeyState: 'Disabled' });
    // The filters the list uses work on what the vault returned.
    const f = (over: Partial<KeyFilters>) => filterKeys(keys, { ...NO_FILTERS, ...over }).map((k) => k.KeyId);
    expect(f({ tag: 'env' })).toEqual([created.signer, created.sm2]);
    expect(f({ tag: 'env=dev', usage: 'ENCRYPT/DECRYPT' })).toEqual([created.sm2]);
    expect(f({ state: 'Disabled' })).toEqual([created.rsa]);
    expect(f({ alias: 'release' })).toEqual([created.signer]);
  });

  it('sees a mutation after a reload (a new version, a tag, a deletion schedule)', async () => {
    await store().load();
    expect((await kmsCall('CreateKeyVersion', { KeyId: 'alias/release' })).ok).toBe(true);
    expect((await kmsCall('TagResource', { KeyId: created.sm2, Tags: [{ TagKey: 'team', TagValue: 'pki' }] })).ok).toBe(true);
    expect((await kmsCall('ScheduleKeyDeletion', { KeyId: created.rsa, PendingWindowInDays: 7 })).ok).toBe(true);
    await store().load();
    const byId = new Map(store().keys.map((k) => [k.KeyId, k]));
    expect(byId.get(created.signer)!.VersionCount).toBe(2);
    expect(byId.get(created.sm2)!.Tags).toEqual([
      { TagKey: 'env', TagValue: 'dev' },
      { TagKey: 'team', TagValue: 'pki' },
    ]);
    const rsa = byId.get(created.rsa)!;
    expect(rsa.KeyState).toBe('PendingDeletion');
    const days = (Date.parse(rsa.DeleteDate) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThanOrEqual(7);
    expect((await kmsCall('CancelKeyDeletion', { KeyId: created.rsa })).ok).toBe(true);
    await store().load();
    expect(store().keys.find((k) => k.KeyId === created.rsa)).toMatchObject({ KeyState: 'Enabled', DeleteDate: '' });
  });

  it('selects by KeyId; selectedKey follows the inventory and is undefined for an unknown key', async () => {
    await store().load();
    expect(selectedKey(store())).toBeUndefined();
    store().select(created.sm2);
    expect(selectedKey(store())?.KeySpec).toBe('EC_SM2');
    // After a reload the selection resolves to the fresh summary.
    expect((await kmsCall('UpdateKeyDescription', { KeyId: created.sm2, Description: 'for the GM partner' })).ok).toBe(true);
    await store().load();
    expect(selectedKey(store())?.Description).toBe('for the GM partner');
    store().select('00000000-0000-4000-8000-000000000000');
    expect(selectedKey(store())).toBeUndefined();
    store().select(undefined);
    expect(store().selectedKeyId).toBeUndefined();
  });

  it('keeps filters in the store and clears them', () => {
    store().setFilter('spec', 'EC_SM2');
    store().setFilter('tag', 'env=dev');
    expect(store().filters).toEqual({ ...NO_FILTERS, spec: 'EC_SM2', tag: 'env=dev' });
    store().clearFilters();
    expect(store().filters).toEqual(NO_FILTERS);
  });

  it('reports a refusal with its Code and keeps what it had (locked vault)', async () => {
    await store().load();
    const before = store().keys;
    expect((await session.call({ method: 'Vault.Lock', params: {} })).ok).toBe(true);
    try {
      await store().load();
      expect(store().error?.code).toBe('Vault.Locked');
      expect(store().loading).toBe(false);
      expect(store().keys).toBe(before);
    } finally {
      expect((await session.call({ method: 'Vault.Unlock', params: { Passphrase: PASSPHRASE } })).ok).toBe(true);
    }
    await store().load();
    expect(store().error).toBeUndefined();
  });

  describe('a malformed payload from the renderer is refused with InvalidParameter and never reaches the vault', () => {
    it('Kms.Call whose Params is not an object: refused before dispatch (no key), audited as refused', async () => {
      const keysBefore = await inventory();
      const auditBefore = await audit();
      for (const Params of ['RSA_2048', ['KeySpec', 'RSA_2048'], 42, null]) {
        const r = await call('Kms.Call', { Action: 'CreateKey', Params: Params as any }).then(
          () => undefined,
          (e: unknown) => e as { code: string; message: string },
        );
        expect(r?.code, JSON.stringify(Params)).toBe('InvalidParameter');
        expect(r?.message).toMatch(/Params/);
      }
      for (const raw of [
        { method: 'Kms.Call', params: { Action: 'CreateKey', Params: {}, Extra: true } },
        { method: 'Kms.Call', params: 'CreateKey' },
        { method: 'Keys.Delete', params: {} },
        { method: 'Kms.Call' + 'x'.repeat(80), params: {} },
      ]) {
        expect(await session.call(raw), JSON.stringify(raw).slice(0, 80)).toMatchObject({ ok: false, error: { Code: 'InvalidParameter' } });
      }
      expect(await inventory()).toEqual(keysBefore);
      // Listing the inventory and the audit log add their own entries. Each malformed Kms.Call is a
      // refused KMS call, recorded once with its Code (issue 10: no call goes unaudited); the
      // malformed envelopes of other methods are the app's own API and leave nothing.
      const added = (await audit()).filter((e) => e.seq > (auditBefore[0]?.seq ?? 0) && e.action !== 'ListKeyDetails');
      expect(added.map((e) => [e.action, e.code]).sort()).toEqual([
        ['(none)', 'InvalidParameter'],
        ...Array.from({ length: 5 }, () => ['CreateKey', 'InvalidParameter']),
      ]);
    });

    it('CreateKey with an unknown KeySpec, an invalid usage or an unknown parameter: no key is created', async () => {
      const keysBefore = await inventory();
      const auditBefore = await audit();
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ KeySpec: 'RSA_1024' }, /KeySpec/],
        [{ KeySpec: 'EC_P256', KeyUsage: 'ENCRYPT/DECRYPT' }, /KeyUsage/],
        [{ KeySpec: 'EC_P256', Bogus: 1 }, /Bogus/],
        [{ KeySpec: 'EC_P256', Tags: '[{"TagKey":"aliyun:x","TagValue":""}]' }, /Tags/],
      ];
      for (const [Params, names] of cases) {
        const r = await kmsCall('CreateKey', Params);
        expect(r, JSON.stringify(Params)).toMatchObject({ ok: false, error: { Code: 'InvalidParameter' } });
        if (!r.ok) expect(r.error.Message).toMatch(names);
      }
      expect(await inventory()).toEqual(keysBefore);
      // The refusals are audited (every call is), against no key.
      const refused = (await audit()).filter((e) => e.seq > (auditBefore[0]?.seq ?? 0) && e.action === 'CreateKey');
      expect(refused).toHaveLength(cases.length);
      expect(refused.every((e) => e.code === 'InvalidParameter' && e.keyId === null)).toBe(true);
      await useKeysStore.getState().load();
      expect(useKeysStore.getState().keys).toHaveLength(keysBefore.length);
    });
  });
});
