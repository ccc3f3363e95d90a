// The vault end to end through the handler table, with the real Secret Service holding the data
// key, the real key worker, and OpenSSL checking what comes out.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEntries, verifyAuditChain } from '../../core/audit/audit-log.ts';
import { KEY_SPECS, KEY_SPEC_TABLE, maxPlaintextBytes, usagesOf, type KeySpec, type KeyUsage } from '../../core/contract/specs.ts';
import { digestMessage, importPublicKey } from '../../core/crypto/engine.ts';
import { Vault } from '../../core/vault/vault.ts';
import { call, fails, requireSecretService, tempDir } from './vault-helpers.ts';

const b64 = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString('base64');

let dir: ReturnType<typeof tempDir>;
let clock = new Date('2026-11-22T12:00:00Z');
let vault: Vault;

interface Made {
  keyId: string;
  versionId: string;
  pem: string;
}

async function makeKey(spec: KeySpec, usage?: KeyUsage, extra: Record<string, unknown> = {}): Promise<Made> {
  const created = await call(vault, 'CreateKey', { KeySpec: spec, ...(usage ? { KeyUsage: usage } : {}), ...extra });
  const keyId = created.KeyMetadata.KeyId as string;
  const versions = await call(vault, 'ListKeyVersions', { KeyId: keyId });
  const versionId = versions.KeyVersions.KeyVersion[0].KeyVersionId as string;
  const pem = (await call(vault, 'GetPublicKey', { KeyId: keyId, KeyVersionId: versionId })).PublicKey as string;
  return { keyId, versionId, pem };
}

function opensslVerify(pem: string, algorithm: string, message: Buffer, signature: Buffer): boolean {
  const pemFile = join(dir.path, 'pub.pem');
  const msgFile = join(dir.path, 'msg.bin');
  const sigFile = join(dir.path, 'sig.bin');
  writeFileSync(pemFile, pem);
  writeFileSync(msgFile, message);
  writeFileSync(sigFile, signature);
  const opts =
    algorithm === 'RSA_PSS_SHA_256'
      ? ['-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32']
      : algorithm === 'SM2DSA'
        ? ['-sm3', '-sigopt', 'distid:1234567812345678']
        : ['-sha256'];
  try {
    execFileSync('openssl', ['dgst', ...opts, '-verify', pemFile, '-signature', sigFile, msgFile], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  requireSecretService();
  dir = tempDir('deskkms-vault-');
  vault = await Vault.init(join(dir.path, 'vault'), { now: () => clock });
});

afterAll(async () => {
  await vault?.close();
  dir?.remove();
});

describe('every spec and usage through the handler table', () => {
  it('signs (openssl verifies), verifies, encrypts and decrypts with keys of every spec', async () => {
    for (const spec of KEY_SPECS) {
      for (const usage of usagesOf(spec)) {
        const key = await makeKey(spec, usage, { Description: `${spec} ${usage}` });
        const meta = (await call(vault, 'DescribeKey', { KeyId: key.keyId })).KeyMetadata;
        expect(meta).toMatchObject({ KeySpec: spec, KeyUsage: usage, KeyState: 'Enabled', Description: `${spec} ${usage}`, AutomaticRotation: 'Disabled' });
        for (const alg of KEY_SPEC_TABLE[spec].algorithms[usage]) {
          const ref = { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: alg };
          if (usage === 'SIGN/VERIFY') {
            const message = Buffer.from(`release ${spec} ${alg}`);
            const digest = await digestMessage(importPublicKey(key.pem), alg, message);
            const signed = await call(vault, 'AsymmetricSign', { ...ref, Digest: b64(digest) });
            expect(signed).toMatchObject({ KeyId: key.keyId, KeyVersionId: key.versionId });
            expect(opensslVerify(key.pem, alg, message, Buffer.from(signed.Value as string, 'base64')), `${spec} ${alg}`).toBe(true);
            expect((await call(vault, 'AsymmetricVerify', { ...ref, Digest: b64(digest), Value: signed.Value })).Value).toBe(true);
            const otherDigest = await digestMessage(importPublicKey(key.pem), alg, Buffer.from('tampered'));
            expect((await call(vault, 'AsymmetricVerify', { ...ref, Digest: b64(otherDigest), Value: signed.Value })).Value).toBe(false);
          } else {
            const plaintext = Buffer.alloc(maxPlaintextBytes(spec, alg as 'SM2PKE'), 0x5a);
            const encrypted = await call(vault, 'AsymmetricEncrypt', { ...ref, Plaintext: b64(plaintext) });
            const decrypted = await call(vault, 'AsymmetricDecrypt', { ...ref, CiphertextBlob: encrypted.CiphertextBlob });
            expect(Buffer.from(decrypted.Plaintext as string, 'base64')).toEqual(plaintext);
          }
        }
      }
    }
  });

  it('refuses ENCRYPT/DECRYPT for EC_P256 and EC_P256K, and algorithms of the other usage', async () => {
    for (const spec of ['EC_P256', 'EC_P256K'] as const) {
      const refused = await fails(vault, 'CreateKey', { KeySpec: spec, KeyUsage: 'ENCRYPT/DECRYPT' });
      expect(refused.error).toMatchObject({ Code: 'InvalidParameter' });
      expect(refused.error.Message).toMatch(/ENCRYPT\/DECRYPT is not available for EC_P256/);
    }
    const signing = await makeKey('RSA_2048', 'SIGN/VERIFY');
    const wrongUse = await fails(vault, 'AsymmetricEncrypt', { KeyId: signing.keyId, KeyVersionId: signing.versionId, Algorithm: 'RSAES_OAEP_SHA_256', Plaintext: b64('x') });
    expect(wrongUse.error.Message).toMatch(/RSAES_OAEP_SHA_256 is not valid for RSA_2048 keys with usage SIGN\/VERIFY/);
    const defaults = await call(vault, 'CreateKey', { KeySpec: 'RSA_3072' });
    expect(defaults.KeyMetadata.KeyUsage).toBe('ENCRYPT/DECRYPT');
    expect((await call(vault, 'CreateKey', { KeySpec: 'EC_P256K' })).KeyMetadata.KeyUsage).toBe('SIGN/VERIFY');
  });
});

describe('versions, aliases, tags, description', () => {
  it('makes explicit versions, each its own key pair; calls must name the version', async () => {
    const key = await makeKey('EC_P256');
    const v2 = (await call(vault, 'CreateKeyVersion', { KeyId: key.keyId })).KeyVersion;
    expect(v2.KeyVersionId).not.toBe(key.versionId);
    const pem2 = (await call(vault, 'GetPublicKey', { KeyId: key.keyId, KeyVersionId: v2.KeyVersionId })).PublicKey;
    expect(pem2).not.toBe(key.pem);
    expect((await call(vault, 'DescribeKeyVersion', { KeyId: key.keyId, KeyVersionId: v2.KeyVersionId })).KeyVersion).toEqual(v2);
    const list = await call(vault, 'ListKeyVersions', { KeyId: key.keyId, PageSize: 1, PageNumber: 2 });
    expect(list).toMatchObject({ TotalCount: 2, PageNumber: 2, PageSize: 1 });
    expect(list.KeyVersions.KeyVersion.map((v: { KeyVersionId: string }) => v.KeyVersionId)).toEqual([v2.KeyVersionId]);
    const missing = await fails(vault, 'AsymmetricSign', { KeyId: key.keyId, Algorithm: 'ECDSA_SHA_256', Digest: b64(Buffer.alloc(32)) });
    expect(missing.error).toMatchObject({ Code: 'MissingParameter', Message: 'KeyVersionId is required' });
    const other = await makeKey('EC_P256');
    const foreign = await fails(vault, 'GetPublicKey', { KeyId: key.keyId, KeyVersionId: other.versionId });
    expect(foreign.error.Code).toBe('Forbidden.KeyNotFound');
    expect(foreign.httpStatus).toBe(404);
  });

  it('resolves aliases (and ARNs) as KeyId, refuses duplicates and unknown aliases', async () => {
    const a = await makeKey('EC_SM2', 'SIGN/VERIFY');
    const b = await makeKey('EC_SM2', 'SIGN/VERIFY');
    await call(vault, 'CreateAlias', { KeyId: a.keyId, AliasName: 'alias/release-signing' });
    expect((await call(vault, 'DescribeKey', { KeyId: 'alias/release-signing' })).KeyMetadata.KeyId).toBe(a.keyId);
    expect((await call(vault, 'DescribeKey', { KeyId: `acs:kms:local:deskkms:key/${a.keyId}` })).KeyMetadata.KeyId).toBe(a.keyId);
    const dup = await fails(vault, 'CreateAlias', { KeyId: b.keyId, AliasName: 'alias/release-signing' });
    expect(dup.error.Code).toBe('AliasAlreadyExists');
    await call(vault, 'UpdateAlias', { KeyId: b.keyId, AliasName: 'alias/release-signing' });
    expect((await call(vault, 'DescribeKey', { KeyId: 'alias/release-signing' })).KeyMetadata.KeyId).toBe(b.keyId);
    const byKey = await call(vault, 'ListAliasesByKeyId', { KeyId: b.keyId });
    expect(byKey.Aliases.Alias).toEqual([{ KeyId: b.keyId, AliasName: 'alias/release-signing', AliasArn: 'acs:kms:local:deskkms:alias/release-signing' }]);
    expect((await call(vault, 'ListAliases', {})).TotalCount).toBeGreaterThanOrEqual(1);
    await call(vault, 'DeleteAlias', { AliasName: 'alias/release-signing' });
    expect((await fails(vault, 'DescribeKey', { KeyId: 'alias/release-signing' })).error.Code).toBe('Forbidden.AliasNotFound');
    expect((await fails(vault, 'DeleteAlias', { AliasName: 'alias/release-signing' })).error.Code).toBe('Forbidden.AliasNotFound');
    expect((await fails(vault, 'UpdateAlias', { KeyId: a.keyId, AliasName: 'alias/nope' })).error.Code).toBe('Forbidden.AliasNotFound');
    expect((await fails(vault, 'DescribeKey', { KeyId: '00000000-0000-4000-8000-000000000000' })).error.Code).toBe('Forbidden.KeyNotFound');
  });

  it('tags and describes keys', async () => {
    const key = await makeKey('RSA_2048', 'SIGN/VERIFY', { Tags: '[{"TagKey":"team","TagValue":"release"}]' });
    await call(vault, 'TagResource', { KeyId: key.keyId, Tags: '[{"TagKey":"env","TagValue":"prod"},{"TagKey":"team","TagValue":"sec"}]' });
    let tags = (await call(vault, 'ListResourceTags', { KeyId: key.keyId })).Tags.Tag;
    expect(tags).toEqual([
      { KeyId: key.keyId, TagKey: 'env', TagValue: 'prod' },
      { KeyId: key.keyId, TagKey: 'team', TagValue: 'sec' },
    ]);
    await call(vault, 'UntagResource', { KeyId: key.keyId, TagKeys: '["team"]' });
    tags = (await call(vault, 'ListResourceTags', { KeyId: key.keyId })).Tags.Tag;
    expect(tags.map((t: { TagKey: string }) => t.TagKey)).toEqual(['env']);
    await call(vault, 'UpdateKeyDescription', { KeyId: key.keyId, Description: 'signs releases' });
    expect((await call(vault, 'DescribeKey', { KeyId: key.keyId })).KeyMetadata.Description).toBe('signs releases');
    const bad = await fails(vault, 'TagResource', { KeyId: key.keyId, Tags: '[{"TagKey":"acs:x","TagValue":"v"}]' });
    expect(bad.error.Message).toMatch(/^Tags: TagKey must not start/);
  });

  it('pages ListKeys with TotalCount', async () => {
    const all = await call(vault, 'ListKeys', { PageSize: 100 });
    const total = all.TotalCount as number;
    expect(all.Keys.Key.length).toBe(total);
    const second = await call(vault, 'ListKeys', { PageSize: '3', PageNumber: '2' });
    expect(second.Keys.Key).toEqual(all.Keys.Key.slice(3, 6));
    expect(second).toMatchObject({ TotalCount: total, PageNumber: 2, PageSize: 3 });
  });
});

describe('key states', () => {
  it('refuses cryptographic calls on disabled keys and on keys pending deletion, with their codes', async () => {
    const key = await makeKey('EC_P256');
    const sign = { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: 'ECDSA_SHA_256', Digest: b64(Buffer.alloc(32, 1)) };
    await call(vault, 'DisableKey', { KeyId: key.keyId });
    const disabled = await fails(vault, 'AsymmetricSign', sign);
    expect(disabled.error.Code).toBe('Rejected.Disabled');
    expect(disabled.httpStatus).toBe(409);
    expect((await fails(vault, 'CreateKeyVersion', { KeyId: key.keyId })).error.Code).toBe('Rejected.Disabled');
    await call(vault, 'EnableKey', { KeyId: key.keyId });
    await call(vault, 'AsymmetricSign', sign);

    await call(vault, 'ScheduleKeyDeletion', { KeyId: key.keyId, PendingWindowInDays: 7 });
    const meta = (await call(vault, 'DescribeKey', { KeyId: key.keyId })).KeyMetadata;
    expect(meta).toMatchObject({ KeyState: 'PendingDeletion', DeleteDate: '2026-11-29T12:00:00Z' });
    expect((await fails(vault, 'AsymmetricSign', sign)).error.Code).toBe('Rejected.PendingDeletion');
    expect((await fails(vault, 'EnableKey', { KeyId: key.keyId })).error.Code).toBe('Rejected.PendingDeletion');
    const window = await fails(vault, 'ScheduleKeyDeletion', { KeyId: key.keyId, PendingWindowInDays: 6 });
    expect(window.error.Message).toMatch(/PendingWindowInDays: must be at least 7/);
    await call(vault, 'CancelKeyDeletion', { KeyId: key.keyId });
    expect((await call(vault, 'DescribeKey', { KeyId: key.keyId })).KeyMetadata).toMatchObject({ KeyState: 'Enabled', DeleteDate: '' });
    await call(vault, 'AsymmetricSign', sign);
  });

  it('destroys a key and all its versions once its deletion window has passed', async () => {
    const key = await makeKey('EC_P256K');
    await call(vault, 'CreateKeyVersion', { KeyId: key.keyId });
    await call(vault, 'CreateAlias', { KeyId: key.keyId, AliasName: 'alias/doomed' });
    await call(vault, 'ScheduleKeyDeletion', { KeyId: key.keyId, PendingWindowInDays: 7 });
    clock = new Date(clock.getTime() + 6 * 86_400_000);
    expect(await vault.purgeDueKeys()).toEqual([]);
    clock = new Date(clock.getTime() + 1 * 86_400_000 + 1000);
    expect(await vault.purgeDueKeys()).toEqual([key.keyId]);
    expect((await fails(vault, 'DescribeKey', { KeyId: key.keyId })).error.Code).toBe('Forbidden.KeyNotFound');
    expect((await fails(vault, 'DescribeKey', { KeyId: 'alias/doomed' })).error.Code).toBe('Forbidden.AliasNotFound');
    const row = vault.store.db.prepare('SELECT count(*) AS n FROM key_versions WHERE key_id = ?').get(key.keyId) as { n: number };
    expect(row.n).toBe(0);
    expect(listAuditEntries(vault.store.db, { keyId: key.keyId, action: 'DeleteKeyMaterial' })).toHaveLength(1);
  });
});

describe('audit', () => {
  it('records every call, successful or not, with its code and caller, in a verifiable chain', async () => {
    const before = listAuditEntries(vault.store.db).length;
    const key = await makeKey('EC_P256');
    await fails(vault, 'DescribeKey', { KeyId: 'alias/nobody' });
    await fails(vault, 'NoSuchAction', {});
    const entries = listAuditEntries(vault.store.db).slice(before);
    expect(entries.map((e) => [e.action, e.code])).toEqual([
      ['CreateKey', 'OK'],
      ['ListKeyVersions', 'OK'],
      ['GetPublicKey', 'OK'],
      ['DescribeKey', 'Forbidden.AliasNotFound'],
      ['NoSuchAction', 'InvalidParameter'],
    ]);
    expect(entries[0]).toMatchObject({ keyId: key.keyId, keyVersionId: key.versionId, caller: 'test' });
    expect(entries[2]).toMatchObject({ keyId: key.keyId, keyVersionId: key.versionId });
    expect(verifyAuditChain(vault.store.db)).toMatchObject({ ok: true });
  });
});
