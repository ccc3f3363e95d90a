// Keys.Detail: the key detail pane's data in one app call, audited as ONE DescribeKeyDetail read
// (the pane used to make DescribeKey, ListKeyVersions, and GetPublicKeyBundle and GetCertificates
// per version: 4 entries for a key with one version, 6 with two), with exactly what those Actions
// answer; a refusal is audited with its Code and answered with the entry's RequestId.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppResult, AppResults, AuditEntryView } from '../contract/app-api.ts';
import { AppSession } from './app-session.ts';

const PASSPHRASE = 'key detail passphrase';
let dir: string;
let s: AppSession;
let keyId: string;
let versions: string[];

async function value<T = Record<string, any>>(method: string, params: unknown = {}): Promise<T> {
  const result = (await s.call({ method, params })) as AppResult<T>;
  if (!result.ok) throw new Error(`${method}: ${result.error.Code}: ${result.error.Message}`);
  return result.value;
}
const kms = (Action: string, Params: Record<string, unknown>) => value('Kms.Call', { Action, Params });
const entries = async () => (await value<{ Entries: AuditEntryView[] }>('Audit.List', { Limit: 10_000 })).Entries;
const withoutRequestId = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== 'RequestId'));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deskkms-key-detail-'));
  s = new AppSession({ vaultDir: join(dir, 'vault'), caller: 'test' });
  await value('Vault.Create', { Protection: 'passphrase', Passphrase: PASSPHRASE });
  keyId = (await kms('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' })).KeyMetadata.KeyId;
  await kms('CreateKeyVersion', { KeyId: keyId });
  await kms('CreateAlias', { KeyId: keyId, AliasName: 'alias/detail' });
  await kms('TagResource', { KeyId: keyId, Tags: [{ TagKey: 'team', TagValue: 'ops' }] });
  versions = (await kms('ListKeyVersions', { KeyId: keyId })).KeyVersions.KeyVersion.map((v: { KeyVersionId: string }) => v.KeyVersionId);
  await kms('CreateSelfSignedCertificate', { KeyId: keyId, KeyVersionId: versions[0], Subject: 'CN=Detail Root' });
});

afterAll(async () => {
  await s?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Keys.Detail', () => {
  it('answers the detail pane in one call that writes exactly one audit entry, a DescribeKeyDetail read of the key', async () => {
    const before = await entries();
    const detail = await value<AppResults['Keys.Detail']>('Keys.Detail', { KeyId: keyId });
    const after = await entries();
    expect(after.length - before.length).toBe(1);
    expect(after[0]).toMatchObject({ action: 'DescribeKeyDetail', keyId, keyVersionId: null, code: 'OK', caller: 'test', requestId: detail.RequestId });

    expect(detail.KeyMetadata).toEqual((await kms('DescribeKey', { KeyId: keyId })).KeyMetadata);
    expect(detail.Aliases).toEqual(['alias/detail']);
    expect(detail.Tags).toEqual([{ TagKey: 'team', TagValue: 'ops' }]);
    expect(detail.Versions.map((v) => v.KeyVersionId)).toEqual(versions);
    for (const v of detail.Versions) {
      expect(v.PublicKeyBundle).toEqual(withoutRequestId(await kms('GetPublicKeyBundle', { KeyId: keyId, KeyVersionId: v.KeyVersionId })));
      expect(v.Certificates).toEqual((await kms('GetCertificates', { KeyId: keyId, KeyVersionId: v.KeyVersionId })).Certificates);
      expect(v.PublicKeyError).toBeUndefined();
    }
    expect(detail.Versions[0]!.Certificates![0]!.Subject).toBe('CN=Detail Root');
    expect(detail.Versions[1]!.Certificates).toEqual([]);
  });

  it('writes one entry where the calls it replaces write one per Action (6 for this key of two versions)', async () => {
    const before = (await entries()).length;
    await kms('DescribeKey', { KeyId: keyId });
    await kms('ListKeyVersions', { KeyId: keyId });
    for (const id of versions) {
      await kms('GetPublicKeyBundle', { KeyId: keyId, KeyVersionId: id });
      await kms('GetCertificates', { KeyId: keyId, KeyVersionId: id });
    }
    const between = (await entries()).length;
    expect(between - before).toBe(6);
    await value('Keys.Detail', { KeyId: keyId });
    expect((await entries()).length - between).toBe(1);
  });

  it('takes an alias and records the KeyId it names', async () => {
    const detail = await value<AppResults['Keys.Detail']>('Keys.Detail', { KeyId: 'alias/detail' });
    expect(detail.KeyMetadata.KeyId).toBe(keyId);
    expect((await entries())[0]).toMatchObject({ action: 'DescribeKeyDetail', keyId, code: 'OK' });
  });

  it('refuses a key that does not exist, audited with its Code and answered with the entry RequestId', async () => {
    const result = await s.call({ method: 'Keys.Detail', params: { KeyId: 'alias/nowhere' } });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.Code).toBe('Forbidden.AliasNotFound');
    expect(result.error.RequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await entries())[0]).toMatchObject({ action: 'DescribeKeyDetail', keyId: 'alias/nowhere', code: 'Forbidden.AliasNotFound', requestId: result.error.RequestId });
    const missing = await s.call({ method: 'Keys.Detail', params: {} });
    expect(missing.ok ? undefined : missing.error.Code).toBe('MissingParameter');
  });

  it('is refused while the vault is locked (Vault.Locked), writing nothing', async () => {
    await value('Vault.Lock');
    const result = await s.call({ method: 'Keys.Detail', params: { KeyId: keyId } });
    expect(result.ok ? undefined : result.error.Code).toBe('Vault.Locked');
    await value('Vault.Unlock', { Passphrase: PASSPHRASE });
    const [unlocked, locked] = await entries();
    expect([unlocked?.action, locked?.action]).toEqual(['UnlockVault', 'LockVault']);
  });
});
