// The desktop app's API (AppSession) against a real vault, the real Secret Service and OpenSSL:
// lifecycle (create, lock, unlock), validation before anything reaches the vault, the key
// inventory, streamed digests whose signatures OpenSSL verifies, and the audit views.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppSession } from '../../core/app/app-session.ts';
import type { Vault } from '../../core/vault/vault.ts';
import { encodeBase64 } from '../../core/contract/base64.ts';
import { assertSucceeded, runOpenssl } from '../interop/openssl-peer.ts';
import { requireSecretService, tempDir } from './vault-helpers.ts';

type Envelope = { ok: true; value: any } | { ok: false; error: { Code: string; Message: string } };

let dir: { path: string; remove(): void };
let session: AppSession;

async function call(method: string, params: unknown = {}): Promise<Envelope> {
  return (await session.call({ method, params }));
}

async function value(method: string, params: unknown = {}): Promise<any> {
  const result = await call(method, params);
  if (!result.ok) throw new Error(`${method}: ${result.error.Code}: ${result.error.Message}`);
  return result.value;
}

async function refusal(method: string, params: unknown = {}): Promise<{ Code: string; Message: string }> {
  const result = await call(method, params);
  expect(result.ok, `${method} should be refused`).toBe(false);
  return (result as Extract<Envelope, { ok: false }>).error;
}

async function auditCount(): Promise<number> {
  return (await value('Audit.Verify')).entries as number;
}

beforeEach(() => {
  requireSecretService();
  dir = tempDir('deskkms-app-');
  session = new AppSession({ vaultDir: join(dir.path, 'vault'), caller: 'test' });
});

afterEach(async () => {
  await session.close();
  dir.remove();
});

describe('AppSession lifecycle', () => {
  it('reports no vault and a live keychain, then creates a keychain vault and unlocks it', async () => {
    const before = await value('Vault.Status');
    expect(before).toMatchObject({ Initialized: false, Locked: true, KeychainAvailable: true });
    expect(before.KeychainBackend).toMatch(/Secret Service/);
    expect((await refusal('Kms.Call', { Action: 'ListKeys' })).Code).toBe('Vault.Locked');

    const created = await value('Vault.Create', { Protection: 'keychain' });
    expect(created).toMatchObject({ Initialized: true, Locked: false, ProtectionKind: 'keychain', KeyCount: 0 });
    expect(created.Protection).toMatch(/^OS keychain: Secret Service/);
    expect((await refusal('Vault.Create', { Protection: 'keychain' })).Message).toMatch(/already holds a vault/);
    const [init] = (await value('Audit.List', { Action: 'InitVault' })).Entries;
    expect(init).toMatchObject({ code: 'OK', caller: 'test' });
  });

  it('locks: key operations and digests are refused until unlocked again', async () => {
    await value('Vault.Create', { Protection: 'keychain' });
    const { KeyMetadata } = await value('Kms.Call', { Action: 'CreateKey', Params: { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' } });
    const [version] = (await value('Kms.Call', { Action: 'ListKeyVersions', Params: { KeyId: KeyMetadata.KeyId } })).KeyVersions.KeyVersion;
    const { SessionId } = await value('Digest.Begin', { KeyId: KeyMetadata.KeyId, KeyVersionId: version.KeyVersionId, Algorithm: 'ECDSA_SHA_256' });

    expect((await value('Vault.Lock')).Locked).toBe(true);
    for (const [method, params] of [
      ['Kms.Call', { Action: 'DescribeKey', Params: { KeyId: KeyMetadata.KeyId } }],
      ['Keys.Inventory', {}],
      ['Digest.Update', { SessionId, Chunk: 'AAAA' }],
      // The audit views and Digest.Begin are Actions (ListAuditEntries, VerifyAuditChain, GetPublicKey): locked, they are refused too.
      ['Audit.List', {}],
      ['Audit.Verify', {}],
      ['Digest.Begin', { KeyId: KeyMetadata.KeyId, KeyVersionId: version.KeyVersionId, Algorithm: 'ECDSA_SHA_256' }],
    ] as const) {
      expect((await refusal(method, params)).Code, method).toBe('Vault.Locked');
    }
    // Locking dropped the digest in progress.
    expect((await value('Vault.Unlock')).Locked).toBe(false);
    expect((await refusal('Digest.Finish', { SessionId })).Message).toMatch(/no digest in progress/);
    expect((await value('Keys.Inventory')).Keys).toHaveLength(1);
    const actions = (await value('Audit.List', { Limit: 20 })).Entries.map((e: any) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['LockVault', 'UnlockVault']));
  });

  it('Lock while signatures are in flight: each one succeeds or is refused, and afterwards nothing can unlock the vault again', async () => {
    await value('Vault.Create', { Protection: 'keychain' });
    const { KeyId } = (await value('Kms.Call', { Action: 'CreateKey', Params: { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' } })).KeyMetadata;
    const [{ KeyVersionId }] = (await value('Kms.Call', { Action: 'ListKeyVersions', Params: { KeyId } })).KeyVersions.KeyVersion;
    const sign = { Action: 'AsymmetricSign', Params: { KeyId, KeyVersionId, Algorithm: 'ECDSA_SHA_256', Digest: encodeBase64(new Uint8Array(32).fill(7)) } };
    const signs = Array.from({ length: 40 }, () => call('Kms.Call', sign));
    const locked = call('Vault.Lock');
    const more = Array.from({ length: 40 }, () => call('Kms.Call', sign));
    const outcomes = await Promise.all([...signs, ...more]);
    expect((await locked).ok).toBe(true);
    for (const outcome of outcomes) if (!outcome.ok) expect(outcome.error.Code).toBe('Vault.Locked');
    expect(outcomes.some((o) => !o.ok)).toBe(true);
    // The keychain still holds the data key, yet no path unlocks it: not the app's gate, not a
    // handler calling ensureUnlocked (as one in flight would), and the worker holds no keys.
    expect((await value('Vault.Status')).Locked).toBe(true);
    const vault = (session as unknown as { vault: Vault }).vault;
    expect(vault.isUnlocked).toBe(false);
    await expect(vault.ensureUnlocked()).rejects.toMatchObject({ code: 'Vault.Locked' });
    // Locked, no row can even be authenticated; the sealed blob, read raw, opens nowhere either.
    expect(() => vault.resolveKey(KeyId)).toThrow(expect.objectContaining({ code: 'Vault.Locked' }) as unknown);
    const { sealed_private: sealed } = vault.store.db.prepare('SELECT sealed_private FROM key_versions WHERE key_version_id = ?').get(KeyVersionId) as { sealed_private: Uint8Array };
    await expect(
      vault.worker.request({ op: 'sign', key: { keyId: KeyId, keyVersionId: KeyVersionId, spec: 'EC_P256', sealed }, algorithm: 'ECDSA_SHA_256', digest: new Uint8Array(32) }),
    ).rejects.toMatchObject({ code: 'Vault.Locked' });
    expect((await value('Vault.Unlock')).Locked).toBe(false);
    expect((await call('Kms.Call', sign)).ok).toBe(true);
  });

  it('a Create the keychain refuses leaves no half-made vault: the next Create works', async () => {
    // In a process of its own: the keychain library keeps its bus connection once made.
    const vaultDir = join(dir.path, 'vault');
    const cli = fileURLToPath(new URL('../../core/hosts/cli/deskkms.ts', import.meta.url));
    const refused = spawnSync(process.execPath, [cli, 'init', '--vault', vaultDir], {
      encoding: 'utf8',
      env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(dir.path, 'no-bus')}` },
    });
    expect(refused.status).toBe(1); // the vault's failure (usage errors exit 2)
    expect(JSON.parse(refused.stderr)).toMatchObject({ Code: 'Vault.KeychainUnavailable' });
    expect(existsSync(join(vaultDir, 'vault.db'))).toBe(false);
    expect(await value('Vault.Status')).toMatchObject({ Initialized: false });
    expect((await value('Vault.Create', { Protection: 'keychain' })).Locked).toBe(false);
  });

  it('passphrase vault: too short refused; wrong passphrase refused and audited; the right one unlocks', async () => {
    const short = await refusal('Vault.Create', { Protection: 'passphrase', Passphrase: 'short' });
    expect(short).toMatchObject({ Code: 'InvalidParameter' });
    expect(short.Message).toMatch(/^Passphrase: must be at least 8/);
    expect((await refusal('Vault.Create', { Protection: 'passphrase' })).Code).toBe('MissingParameter');

    const created = await value('Vault.Create', { Protection: 'passphrase', Passphrase: 'correct horse battery' });
    expect(created).toMatchObject({ ProtectionKind: 'passphrase', Locked: false });
    expect(created.Protection).toMatch(/^passphrase \(scrypt/);
    await value('Vault.Lock');
    expect((await refusal('Vault.Unlock')).Code).toBe('MissingParameter');
    const wrong = await refusal('Vault.Unlock', { Passphrase: 'not the passphrase' });
    expect(wrong.Code).toBe('Vault.Locked');
    expect(wrong.Message).not.toContain('not the passphrase');
    expect((await value('Vault.Status')).Locked).toBe(true);
    expect((await value('Vault.Unlock', { Passphrase: 'correct horse battery' })).Locked).toBe(false);
    const unlocks = (await value('Audit.List', { Action: 'UnlockVault' })).Entries.map((e: any) => e.code);
    expect(unlocks).toEqual(['OK', 'Vault.Locked', 'MissingParameter']); // newest first: every refused unlock is audited
  });
});

describe('AppSession validation', () => {
  it('refuses malformed requests with InvalidParameter before anything reaches the vault; a malformed Kms.Call is audited', async () => {
    await value('Vault.Create', { Protection: 'keychain' });
    const entries = await auditCount();
    const cases: unknown[] = [
      null,
      'Vault.Status',
      { method: 'Vault.Status', params: {}, extra: 1 },
      { method: 'Vault.Destroy', params: {} },
      { method: 'Kms.Call', params: 'CreateKey' },
      { method: 'Kms.Call', params: { Action: 'CreateKey', Params: ['EC_P256'] } },
      { method: 'Kms.Call', params: { Action: 'CreateKey', Params: {}, Sneaky: true } },
      { method: 'Audit.List', params: { Limit: 'x' } },
      { method: 'Digest.Update', params: { SessionId: 'not-a-uuid', Chunk: 'AAAA' } },
      { method: 'Digest.Begin', params: { KeyId: 'k', KeyVersionId: '00000000-0000-4000-8000-000000000000', Algorithm: 'MD5' } },
      { method: 'Kms.Call', params: { Action: 'X'.repeat(65) } },
      { method: 'Kms.Call', params: { Action: 5 } },
    ];
    const refusedKmsCalls: string[] = [];
    for (const request of cases) {
      const result = (await session.call(request)) as Envelope;
      expect(result.ok, JSON.stringify(request)).toBe(false);
      const error = (result as Extract<Envelope, { ok: false }>).error as { Code: string; RequestId?: string };
      expect(error.Code, JSON.stringify(request)).toBe('InvalidParameter');
      // A Kms.Call is a KMS call even when malformed: refused like any other, with an audit entry.
      if ((request as { method?: unknown } | null)?.method === 'Kms.Call') refusedKmsCalls.push(error.RequestId!);
    }
    expect(refusedKmsCalls).toHaveLength(5);
    expect(await auditCount()).toBe(entries + 5);
    const audited = (await value('Audit.List', { Limit: 5 })).Entries as { action: string; code: string; requestId: string }[];
    expect(audited.map((e) => e.requestId).reverse()).toEqual(refusedKmsCalls);
    expect(audited.map((e) => [e.action, e.code]).reverse()).toEqual([
      ['(none)', 'InvalidParameter'],
      ['CreateKey', 'InvalidParameter'],
      ['CreateKey', 'InvalidParameter'],
      [`${'X'.repeat(62)}\\…`, 'InvalidParameter'],
      ['(number)', 'InvalidParameter'],
    ]);
    expect((await value('Keys.Inventory')).Keys).toHaveLength(0);
  });

  it('an Action refused by the handler table comes back with its Code and is audited', async () => {
    await value('Vault.Create', { Protection: 'keychain' });
    const error = await refusal('Kms.Call', { Action: 'CreateKey', Params: { KeySpec: 'RSA_1024' } });
    expect(error.Code).toBe('InvalidParameter');
    expect(error.Message).toMatch(/^KeySpec: must be one of/);
    const [last] = (await value('Audit.List', { Limit: 1 })).Entries;
    expect(last).toMatchObject({ action: 'CreateKey', code: 'InvalidParameter', caller: 'test' });
    // The refusal names the RequestId of its audit entry, so what the user saw can be found there.
    expect((error as { RequestId?: string }).RequestId).toBe(last.requestId);
  });
});

describe('AppSession inventory, digests and audit', () => {
  it('lists every key with aliases, tags and version counts in creation order', async () => {
    await value('Vault.Create', { Protection: 'keychain' });
    const a = (await value('Kms.Call', { Action: 'CreateKey', Params: { KeySpec: 'EC_P256K', KeyUsage: 'SIGN/VERIFY', Description: 'release' } })).KeyMetadata;
    const b = (await value('Kms.Call', { Action: 'CreateKey', Params: { KeySpec: 'RSA_2048', Tags: [{ TagKey: 'team', TagValue: 'ops' }] } })).KeyMetadata;
    await value('Kms.Call', { Action: 'CreateAlias', Params: { KeyId: a.KeyId, AliasName: 'alias/release' } });
    await value('Kms.Call', { Action: 'CreateKeyVersion', Params: { KeyId: a.KeyId } });
    await value('Kms.Call', { Action: 'DisableKey', Params: { KeyId: b.KeyId } });
    const { Keys } = await value('Keys.Inventory');
    expect(Keys).toEqual([
      expect.objectContaining({ KeyId: a.KeyId, KeySpec: 'EC_P256K', KeyState: 'Enabled', Aliases: ['alias/release'], Tags: [], VersionCount: 2, Description: 'release' }),
      expect.objectContaining({ KeyId: b.KeyId, KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT/DECRYPT', KeyState: 'Disabled', Aliases: [], Tags: [{ TagKey: 'team', TagValue: 'ops' }], VersionCount: 1 }),
    ]);
  });

  it.each([
    ['EC_P256', 'ECDSA_SHA_256', ['-sha256']],
    ['EC_SM2', 'SM2DSA', ['-sm3', '-sigopt', 'distid:1234567812345678']],
    ['RSA_2048', 'RSA_PKCS1_SHA_256', ['-sha256']],
  ] as const)('%s: a message streamed in chunks is signed, and OpenSSL verifies the signature over the message', async (spec, algorithm, dgst) => {
    await value('Vault.Create', { Protection: 'keychain' });
    const { KeyId } = (await value('Kms.Call', { Action: 'CreateKey', Params: { KeySpec: spec, KeyUsage: 'SIGN/VERIFY' } })).KeyMetadata;
    const [{ KeyVersionId }] = (await value('Kms.Call', { Action: 'ListKeyVersions', Params: { KeyId } })).KeyVersions.KeyVersion;
    const message = new Uint8Array(5 * 1024 * 1024 + 17).map((_, i) => (i * 31 + 7) & 0xff);
    const begun = await value('Digest.Begin', { KeyId, KeyVersionId, Algorithm: algorithm });
    expect(begun.Hash).toBe(spec === 'EC_SM2' ? 'SM3' : 'SHA-256');
    const chunk = 2 * 1024 * 1024;
    let hashed = 0;
    for (let offset = 0; offset < message.length; offset += chunk) {
      hashed = (await value('Digest.Update', { SessionId: begun.SessionId, Chunk: encodeBase64(message.subarray(offset, offset + chunk)) })).BytesHashed;
    }
    expect(hashed).toBe(message.length);
    const finished = await value('Digest.Finish', { SessionId: begun.SessionId });
    expect(finished).toMatchObject({ BytesHashed: message.length, Algorithm: algorithm });
    if (spec !== 'EC_SM2') expect(finished.Digest).toBe(createHash('sha256').update(message).digest('base64'));

    const signed = await value('Kms.Call', { Action: 'AsymmetricSign', Params: { KeyId, KeyVersionId, Algorithm: algorithm, Digest: finished.Digest } });
    const pem = (await value('Kms.Call', { Action: 'GetPublicKey', Params: { KeyId, KeyVersionId } })).PublicKey as string;
    writeFileSync(join(dir.path, 'pub.pem'), pem);
    writeFileSync(join(dir.path, 'msg.bin'), message);
    writeFileSync(join(dir.path, 'sig.bin'), Buffer.from(signed.Value as string, 'base64'));
    const verified = assertSucceeded(
      runOpenssl(['dgst', ...dgst, '-verify', join(dir.path, 'pub.pem'), '-signature', join(dir.path, 'sig.bin'), join(dir.path, 'msg.bin')]),
    );
    expect(verified.toString()).toMatch(/Verified OK/);
  });

  it('digest sessions are bounded, and an algorithm of another family is refused', async () => {
    await value('Vault.Create', { Protection: 'keychain' });
    const { KeyId } = (await value('Kms.Call', { Action: 'CreateKey', Params: { KeySpec: 'EC_P256' } })).KeyMetadata;
    const [{ KeyVersionId }] = (await value('Kms.Call', { Action: 'ListKeyVersions', Params: { KeyId } })).KeyVersions.KeyVersion;
    expect((await refusal('Digest.Begin', { KeyId, KeyVersionId, Algorithm: 'SM2DSA' })).Message).toMatch(/SM2DSA is not valid for EC_P256/);
    // Digest.Begin takes the public key from GetPublicKey: audited, and refused with its Code and RequestId.
    const missing = (await refusal('Digest.Begin', { KeyId, KeyVersionId: '00000000-0000-4000-8000-000000000000', Algorithm: 'ECDSA_SHA_256' })) as { Code: string; RequestId?: string };
    expect(missing.Code).toBe('Forbidden.KeyNotFound');
    const gets = (await value('Audit.List', { Action: 'GetPublicKey' })).Entries as { code: string; keyId: string; requestId: string; caller: string }[];
    expect(gets[0]).toMatchObject({ code: 'Forbidden.KeyNotFound', keyId: KeyId, requestId: missing.RequestId, caller: 'test' });
    expect(gets.slice(1).map((e) => e.code)).toEqual(['OK']);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await value('Digest.Begin', { KeyId, KeyVersionId, Algorithm: 'ECDSA_SHA_256' })).SessionId);
    expect((await refusal('Digest.Begin', { KeyId, KeyVersionId, Algorithm: 'ECDSA_SHA_256' })).Message).toMatch(/already in progress/);
    expect((await value('Digest.Abort', { SessionId: ids[0] })).Aborted).toBe(true);
    expect((await value('Digest.Begin', { KeyId, KeyVersionId, Algorithm: 'ECDSA_SHA_256' })).SessionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('Audit.List filters (key, action, time) newest first and reports truncation; Audit.Verify checks the chain', async () => {
    await value('Vault.Create', { Protection: 'keychain' });
    const { KeyId } = (await value('Kms.Call', { Action: 'CreateKey', Params: { KeySpec: 'EC_P256' } })).KeyMetadata;
    await value('Kms.Call', { Action: 'CreateAlias', Params: { KeyId, AliasName: 'alias/audited' } });
    await value('Kms.Call', { Action: 'DescribeKey', Params: { KeyId: 'alias/audited' } });
    const byKey = (await value('Audit.List', { KeyId: 'alias/audited' })).Entries;
    expect(byKey.map((e: any) => e.action)).toEqual(['DescribeKey', 'CreateAlias', 'CreateKey']);
    expect(byKey.every((e: any) => e.keyId === KeyId)).toBe(true);
    const page = await value('Audit.List', { Limit: 2 });
    expect(page).toMatchObject({ Truncated: true });
    expect(page.Entries[0].seq).toBeGreaterThan(page.Entries[1].seq);
    expect((await value('Audit.List', { Since: '2999-01-01T00:00:00Z' })).Entries).toEqual([]);
    const verdict = await value('Audit.Verify');
    expect(verdict).toMatchObject({ ok: true });
    expect(verdict.head).toBe(page.Entries[0].hash);
  });
});
