// deskkms serve with the official Alibaba Cloud SDK (@alicloud/kms20160120), unchanged, as the
// client: every call the issue names, typed response models fully populated, signatures that
// openssl verifies, authentication failures with Alibaba's codes, policies, audit.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEntries, verifyAuditChain } from '../../core/audit/audit-log.ts';
import { Vault } from '../../core/vault/vault.ts';
import { SdkConfig, kmsSdk } from '../support/alibaba-sdk.ts';
import { call, requireSecretService, serveInProcess, tempDir } from './vault-helpers.ts';

const kms = kmsSdk;
const Config = SdkConfig;
const Client = kms.default;
type SdkClient = InstanceType<typeof Client>;

let dir: ReturnType<typeof tempDir>;
let endpoint: string;
let server: Awaited<ReturnType<typeof serveInProcess>> | undefined;
let admin: Vault;
let full: { id: string; secret: string };
let signOnly: { id: string; secret: string };

function client(id: string, secret: string): SdkClient {
  const url = new URL(endpoint);
  return new Client(new Config({ accessKeyId: id, accessKeySecret: secret, endpoint: url.host, protocol: 'http', regionId: 'cn-hangzhou' }));
}

/** Every field of a typed response model is set (the SDK casts by field name; a missing field stays undefined). */
function expectPopulated(model: object, path = 'response'): void {
  for (const [name, value] of Object.entries(model)) {
    expect(value, `${path}.${name}`).not.toBeUndefined();
    expect(value, `${path}.${name}`).not.toBeNull();
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) expectPopulated(value, `${path}.${name}`);
    if (Array.isArray(value)) value.forEach((v, i) => typeof v === 'object' && expectPopulated(v as object, `${path}.${name}[${i}]`));
  }
}

async function sdkError(promise: Promise<unknown>): Promise<{ code: string; data: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; data: Record<string, unknown> };
  }
  throw new Error('the SDK call succeeded');
}

beforeAll(async () => {
  requireSecretService();
  dir = tempDir('deskkms-api-');
  const vaultDir = join(dir.path, 'vault');
  admin = await Vault.init(vaultDir);
  const a = await call(admin, 'CreateAccessKey');
  full = { id: a.AccessKeyId, secret: a.AccessKeySecret };
  const b = await call(admin, 'CreateAccessKey', { Policy: { Actions: ['AsymmetricSign', 'DescribeKey', 'ListKeys'], Keys: ['alias/release'] } });
  signOnly = { id: b.AccessKeyId, secret: b.AccessKeySecret };
  await admin.close();

  server = await serveInProcess(vaultDir);
  endpoint = server.endpoint.origin;
  expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
});

afterAll(async () => {
  await server?.stop();
  dir?.remove();
});

describe('the official SDK against deskkms serve', () => {
  it('runs the key lifecycle and crypto calls with fully populated typed responses; openssl verifies the signature', async () => {
    const c = client(full.id, full.secret);
    const created = await c.createKey(new kms.CreateKeyRequest({ keySpec: 'EC_P256', keyUsage: 'SIGN/VERIFY', description: 'sdk key' }));
    expectPopulated({ requestId: created.requestId, keyId: created.keyMetadata.keyId, keySpec: created.keyMetadata.keySpec, keyState: created.keyMetadata.keyState, arn: created.keyMetadata.arn, creationDate: created.keyMetadata.creationDate });
    const keyId = created.keyMetadata.keyId;
    const described = await c.describeKey(new kms.DescribeKeyRequest({ keyId }));
    expectPopulated(described.keyMetadata);
    expect(described.keyMetadata).toMatchObject({ keyId, keySpec: 'EC_P256', keyUsage: 'SIGN/VERIFY', keyState: 'Enabled', description: 'sdk key' });

    const listed = await c.listKeys(new kms.ListKeysRequest({ pageNumber: 1, pageSize: 10 }));
    expectPopulated(listed);
    expect(listed.keys.key.map((k) => k.keyId)).toContain(keyId);

    const v2 = await c.createKeyVersion(new kms.CreateKeyVersionRequest({ keyId }));
    expectPopulated(v2.keyVersion);
    const versions = await c.listKeyVersions(new kms.ListKeyVersionsRequest({ keyId }));
    expectPopulated(versions);
    expect(versions.totalCount).toBe(2);
    const versionId = v2.keyVersion.keyVersionId;

    const pub = await c.getPublicKey(new kms.GetPublicKeyRequest({ keyId, keyVersionId: versionId }));
    expectPopulated(pub);
    const message = Buffer.from('artifact signed through the API');
    const digest = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: message }).toString('base64');
    const signed = await c.asymmetricSign(new kms.AsymmetricSignRequest({ keyId, keyVersionId: versionId, algorithm: 'ECDSA_SHA_256', digest }));
    expectPopulated(signed);
    writeFileSync(join(dir.path, 'pub.pem'), pub.publicKey);
    writeFileSync(join(dir.path, 'sig.bin'), Buffer.from(signed.value, 'base64'));
    writeFileSync(join(dir.path, 'msg.bin'), message);
    const verdict = execFileSync('openssl', ['dgst', '-sha256', '-verify', join(dir.path, 'pub.pem'), '-signature', join(dir.path, 'sig.bin'), join(dir.path, 'msg.bin')]);
    expect(verdict.toString()).toContain('Verified OK');
    const verified = await c.asymmetricVerify(new kms.AsymmetricVerifyRequest({ keyId, keyVersionId: versionId, algorithm: 'ECDSA_SHA_256', digest, value: signed.value }));
    expectPopulated(verified);
    expect(verified.value).toBe(true);

    await c.createAlias(new kms.CreateAliasRequest({ keyId, aliasName: 'alias/release' }));
    const aliases = await c.listAliases(new kms.ListAliasesRequest({}));
    expectPopulated(aliases);
    expect(aliases.aliases.alias.map((a) => a.aliasName)).toContain('alias/release');

    await c.disableKey(new kms.DisableKeyRequest({ keyId }));
    const refused = await sdkError(c.asymmetricSign(new kms.AsymmetricSignRequest({ keyId, keyVersionId: versionId, algorithm: 'ECDSA_SHA_256', digest })));
    expect(refused.data).toMatchObject({ Code: 'Rejected.Disabled', HttpStatus: 409 });
    await c.enableKey(new kms.EnableKeyRequest({ keyId }));
    await c.scheduleKeyDeletion(new kms.ScheduleKeyDeletionRequest({ keyId, pendingWindowInDays: 7 }));
    expect((await c.describeKey(new kms.DescribeKeyRequest({ keyId }))).keyMetadata.keyState).toBe('PendingDeletion');
    await c.cancelKeyDeletion(new kms.CancelKeyDeletionRequest({ keyId }));
    expect((await c.describeKey(new kms.DescribeKeyRequest({ keyId }))).keyMetadata.keyState).toBe('Enabled');
  });

  it('encrypts and decrypts with RSA and SM2 keys', async () => {
    const c = client(full.id, full.secret);
    for (const [spec, algorithm] of [
      ['RSA_2048', 'RSAES_OAEP_SHA_256'],
      ['EC_SM2', 'SM2PKE'],
    ] as const) {
      const keyId = (await c.createKey(new kms.CreateKeyRequest({ keySpec: spec, keyUsage: 'ENCRYPT/DECRYPT' }))).keyMetadata.keyId;
      const keyVersionId = (await c.listKeyVersions(new kms.ListKeyVersionsRequest({ keyId }))).keyVersions.keyVersion[0]!.keyVersionId;
      const plaintext = Buffer.from(`secret for ${spec}`).toString('base64');
      const encrypted = await c.asymmetricEncrypt(new kms.AsymmetricEncryptRequest({ keyId, keyVersionId, algorithm, plaintext }));
      expectPopulated(encrypted);
      const decrypted = await c.asymmetricDecrypt(new kms.AsymmetricDecryptRequest({ keyId, keyVersionId, algorithm, ciphertextBlob: encrypted.ciphertextBlob }));
      expectPopulated(decrypted);
      expect(decrypted.plaintext).toBe(plaintext);
    }
  });

  it('rejects a wrong secret, an unknown or disabled access key, and enforces policies', async () => {
    const wrong = await sdkError(client(full.id, `${full.secret}x`).listKeys(new kms.ListKeysRequest({})));
    expect(wrong.data).toMatchObject({ Code: 'SignatureDoesNotMatch' });
    expect(wrong.data.RequestId).toEqual(expect.any(String));
    const unknown = await sdkError(client('DKMSAAAAAAAAAAAAAAAAAAAA', 'nope').listKeys(new kms.ListKeysRequest({})));
    expect(unknown.data).toMatchObject({ Code: 'InvalidAccessKeyId.NotFound' });

    const limited = client(signOnly.id, signOnly.secret);
    const own = await limited.describeKey(new kms.DescribeKeyRequest({ keyId: 'alias/release' }));
    expect(own.keyMetadata.keyId).toEqual(expect.any(String));
    const visible = await limited.listKeys(new kms.ListKeysRequest({}));
    expect(visible.keys.key.map((k) => k.keyId)).toEqual([own.keyMetadata.keyId]);
    expect(visible.totalCount).toBe(1);
    const otherKey = (await client(full.id, full.secret).createKey(new kms.CreateKeyRequest({ keySpec: 'EC_P256K', keyUsage: 'SIGN/VERIFY' }))).keyMetadata.keyId;
    const denyKey = await sdkError(limited.describeKey(new kms.DescribeKeyRequest({ keyId: otherKey })));
    expect(denyKey.data).toMatchObject({ Code: 'Forbidden.NoPermission', HttpStatus: 403 });
    const denyAction = await sdkError(limited.disableKey(new kms.DisableKeyRequest({ keyId: 'alias/release' })));
    expect(denyAction.data).toMatchObject({ Code: 'Forbidden.NoPermission' });

    const vault = Vault.open(join(dir.path, 'vault'));
    try {
      await call(vault, 'DisableAccessKey', { AccessKeyId: signOnly.id });
    } finally {
      await vault.close();
    }
    const inactive = await sdkError(limited.listKeys(new kms.ListKeysRequest({})));
    expect(inactive.data).toMatchObject({ Code: 'InvalidAccessKeyId.Inactive' });
  });

  it('audits every API call with the access key id, in an intact chain', async () => {
    const vault = Vault.open(join(dir.path, 'vault'));
    try {
      const entries = listAuditEntries(vault.store.db);
      const api = entries.filter((e) => e.caller.startsWith('api:'));
      expect(api.some((e) => e.caller === `api:${full.id}` && e.action === 'AsymmetricSign' && e.code === 'OK')).toBe(true);
      expect(api.some((e) => e.caller === `api:${signOnly.id}` && e.code === 'Forbidden.NoPermission')).toBe(true);
      const refused = entries.filter((e) => e.caller.startsWith('api-unauthenticated:'));
      expect(refused.some((e) => e.caller === `api-unauthenticated:${full.id}` && e.code === 'SignatureDoesNotMatch' && e.action === 'ListKeys')).toBe(true);
      expect(refused.some((e) => e.code === 'InvalidAccessKeyId.Inactive')).toBe(true);
      expect(verifyAuditChain(vault.store.db).ok).toBe(true);
    } finally {
      await vault.close();
    }
  });
});
