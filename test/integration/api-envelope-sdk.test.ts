// Envelope encryption through deskkms serve with Alibaba's own clients, unchanged (issue 18 "Done
// when"): the official SDK @alicloud/kms20160120 (1.2.0: its encrypt, decrypt, generateDataKey,
// generateDataKeyWithoutPlaintext, updateRotationPolicy, createKey and describeKey models, every
// typed response field filled), and @alicloud/openapi-client's generic call (the client every
// newer SDK is generated on, V3 signature) for ReEncrypt, GenerateAndExportDataKey and
// ExportDataKey, which SDK 1.2.0 predates.
import { constants, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Vault } from '../../core/vault/vault.ts';
import { SdkConfig, kmsSdk } from '../support/alibaba-sdk.ts';
import { CLIENT_MATRIX, apiCaller } from '../support/api-clients.ts';
import { call, requireSecretService, serveInProcess, tempDir } from './vault-helpers.ts';

const kms = kmsSdk;
let dir: ReturnType<typeof tempDir>;
let endpoint: URL;
let server: Awaited<ReturnType<typeof serveInProcess>> | undefined;
let credentials: { accessKeyId: string; accessKeySecret: string };

function sdk() {
  return new kms.default(new SdkConfig({ accessKeyId: credentials.accessKeyId, accessKeySecret: credentials.accessKeySecret, endpoint: endpoint.host, protocol: 'http', regionId: 'cn-hangzhou' }));
}

function expectPopulated(model: object, path: string): void {
  for (const [name, value] of Object.entries(model)) {
    expect(value, `${path}.${name}`).not.toBeUndefined();
    expect(value, `${path}.${name}`).not.toBeNull();
    if (typeof value === 'object' && value !== null) expectPopulated(value as object, `${path}.${name}`);
  }
}

async function sdkError(promise: Promise<unknown>): Promise<{ code: string; data?: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string };
  }
  throw new Error('the SDK call succeeded');
}

beforeAll(async () => {
  requireSecretService();
  dir = tempDir('deskkms-envelope-sdk-');
  const vaultDir = join(dir.path, 'vault');
  const admin = await Vault.init(vaultDir);
  const a = await call(admin, 'CreateAccessKey');
  credentials = { accessKeyId: a.AccessKeyId, accessKeySecret: a.AccessKeySecret };
  await admin.close();
  server = await serveInProcess(vaultDir);
  endpoint = server.endpoint;
});

afterAll(async () => {
  await server?.stop();
  dir?.remove();
});

describe('envelope encryption with the official SDK against deskkms serve', () => {
  it.each(['Aliyun_AES_256', 'Aliyun_SM4'])('creates a %s key and round-trips encrypt, decrypt, generateDataKey and generateDataKeyWithoutPlaintext', async (keySpec) => {
    const c = sdk();
    const created = await c.createKey(new kms.CreateKeyRequest({ keySpec, description: 'envelope' }));
    const keyId = created.keyMetadata.keyId;
    const described = await c.describeKey(new kms.DescribeKeyRequest({ keyId }));
    expectPopulated(described.keyMetadata, 'describeKey.keyMetadata');
    expect(described.keyMetadata).toMatchObject({ keySpec, keyUsage: 'ENCRYPT/DECRYPT', automaticRotation: 'Disabled' });
    expect(described.keyMetadata.primaryKeyVersion).toMatch(/^[0-9a-f-]{36}$/);

    const context = { purpose: 'sdk', tenant: 'a' };
    const plaintext = Buffer.from('a database password').toString('base64');
    const encrypted = await c.encrypt(new kms.EncryptRequest({ keyId, plaintext, encryptionContext: context }));
    expectPopulated(encrypted, 'encrypt');
    expect(encrypted).toMatchObject({ keyId, keyVersionId: described.keyMetadata.primaryKeyVersion });
    const decrypted = await c.decrypt(new kms.DecryptRequest({ ciphertextBlob: encrypted.ciphertextBlob, encryptionContext: context }));
    expectPopulated(decrypted, 'decrypt');
    expect(decrypted).toMatchObject({ keyId, keyVersionId: encrypted.keyVersionId, plaintext });
    // Another context: Alibaba's InvalidCiphertext, as the SDK reports it.
    expect((await sdkError(c.decrypt(new kms.DecryptRequest({ ciphertextBlob: encrypted.ciphertextBlob, encryptionContext: { purpose: 'other' } })))).data).toMatchObject({ Code: 'InvalidCiphertext', HttpStatus: 400 });

    const dataKey = await c.generateDataKey(new kms.GenerateDataKeyRequest({ keyId, keySpec: 'AES_128', encryptionContext: context }));
    expectPopulated(dataKey, 'generateDataKey');
    expect(Buffer.from(dataKey.plaintext, 'base64').length).toBe(16);
    expect((await c.decrypt(new kms.DecryptRequest({ ciphertextBlob: dataKey.ciphertextBlob, encryptionContext: context }))).plaintext).toBe(dataKey.plaintext);
    const bare = await c.generateDataKeyWithoutPlaintext(new kms.GenerateDataKeyWithoutPlaintextRequest({ keyId, numberOfBytes: 48 }));
    expectPopulated(bare, 'generateDataKeyWithoutPlaintext');
    expect(Buffer.from((await c.decrypt(new kms.DecryptRequest({ ciphertextBlob: bare.ciphertextBlob }))).plaintext, 'base64').length).toBe(48);
  });

  it('turns automatic rotation on with updateRotationPolicy (describeKey shows it)', async () => {
    const c = sdk();
    const keyId = (await c.createKey(new kms.CreateKeyRequest({ keySpec: 'Aliyun_AES_256' }))).keyMetadata.keyId;
    const updated = await c.updateRotationPolicy(new kms.UpdateRotationPolicyRequest({ keyId, enableAutomaticRotation: true, rotationInterval: '30d' }));
    expect(updated.requestId).toBeTruthy();
    const meta = (await c.describeKey(new kms.DescribeKeyRequest({ keyId }))).keyMetadata;
    expect(meta).toMatchObject({ automaticRotation: 'Enabled', rotationInterval: '2592000s' });
    expect(Date.parse(meta.nextRotationDate) - Date.parse(meta.lastRotationDate)).toBe(30 * 86_400_000);
  });

  it('ReEncrypt, GenerateAndExportDataKey and ExportDataKey through openapi-client (V3), decrypted back through the SDK', async () => {
    const c = sdk();
    const api = apiCaller(CLIENT_MATRIX[0]!, endpoint, credentials);
    const from = (await c.createKey(new kms.CreateKeyRequest({ keySpec: 'Aliyun_AES_256' }))).keyMetadata.keyId;
    const to = (await c.createKey(new kms.CreateKeyRequest({ keySpec: 'Aliyun_SM4' }))).keyMetadata.keyId;
    const plaintext = Buffer.from('moved between keys').toString('base64');
    const blob = (await c.encrypt(new kms.EncryptRequest({ keyId: from, plaintext, encryptionContext: { v: '1' } }))).ciphertextBlob;
    const moved = (await api.call('ReEncrypt', { CiphertextBlob: blob, DestinationKeyId: to, SourceEncryptionContext: '{"v":"1"}', DestinationEncryptionContext: '{"v":"2"}' })).body;
    expect(moved).toMatchObject({ KeyId: to, SourceKeyId: from });
    expect((await c.decrypt(new kms.DecryptRequest({ ciphertextBlob: moved.CiphertextBlob as string, encryptionContext: { v: '2' } }))).plaintext).toBe(plaintext);

    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const spki = rsa.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const made = (await api.call('GenerateAndExportDataKey', { KeyId: from, PublicKeyBlob: spki, WrappingKeySpec: 'RSA_2048', WrappingAlgorithm: 'RSAES_OAEP_SHA_256' })).body;
    const exported = privateDecrypt({ key: rsa.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(made.ExportedDataKey as string, 'base64'));
    expect((await c.decrypt(new kms.DecryptRequest({ ciphertextBlob: made.CiphertextBlob as string }))).plaintext).toBe(exported.toString('base64'));
    const again = (await api.call('ExportDataKey', { CiphertextBlob: made.CiphertextBlob as string, PublicKeyBlob: spki, WrappingKeySpec: 'RSA_2048', WrappingAlgorithm: 'RSAES_OAEP_SHA_1' })).body;
    expect(privateDecrypt({ key: rsa.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(again.ExportedDataKey as string, 'base64')).equals(exported)).toBe(true);
  });
});
