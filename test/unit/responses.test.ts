// The response schemas (core/contract/responses.ts) describe what the handlers really answer:
// every Action runs at least once through dispatch on a real passphrase vault, and each body,
// without its RequestId, must parse with its Action's strict schema (an extra field, a missing
// one or a wrong type fails). (A new Action needs no call here: its own test beside its operation
// checks its answers through the same schemas, test/support/action-vault.ts.) And the field names are Alibaba's: for every Action the official
// SDK (@alicloud/kms20160120) models, the schema's fields (names, nesting, arrays, JSON types) are
// the SDK response model's, but for the DeskKMS extensions listed below.
import { createRequire } from 'node:module';
import { constants, createCipheriv, createPublicKey, generateKeyPairSync, publicEncrypt, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../core/actions/dispatch.ts';
import { ACTION_NAMES, ACTION_SCHEMAS, type ActionName, type ActionParams } from '../../core/contract/actions.ts';
import { RESPONSE_SCHEMAS, type ActionResponse } from '../../core/contract/responses.ts';
import type { z } from 'zod';
import type KmsModule from '@alicloud/kms20160120';
import { isProviderAction } from '../../core/providers/provider.ts';
import { Vault } from '../../core/vault/vault.ts';
import { tempDir } from '../integration/vault-helpers.ts';

const sdk = createRequire(import.meta.url)('@alicloud/kms20160120') as typeof KmsModule;
const PASSPHRASE = 'response schema passphrase';
const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

let dir: ReturnType<typeof tempDir>;
let vault: Vault;

beforeAll(async () => {
  dir = tempDir('deskkms-responses-');
  vault = await Vault.init(join(dir.path, 'vault'), { passphrase: Buffer.from(PASSPHRASE), kdfN: 2 ** 14 });
});
afterAll(async () => {
  await vault?.close();
  dir?.remove();
});

/** Runs `action` through dispatch and returns its body parsed by the Action's response schema. */
async function ok<A extends ActionName>(action: A, params: ActionParams<A>): Promise<ActionResponse<A>> {
  const outcome = await dispatch(vault, action, params, 'test');
  if (!outcome.ok) throw new Error(`${action} failed: ${outcome.error.Code}: ${outcome.error.Message}`);
  const { RequestId, ...body } = outcome.body;
  expect(RequestId).toMatch(/^[0-9a-f-]{36}$/);
  const parsed = RESPONSE_SCHEMAS[action].safeParse(body);
  if (!parsed.success) throw new Error(`${action} answered outside its schema: ${JSON.stringify(parsed.error.issues)}\n${JSON.stringify(body)}`);
  return parsed.data as ActionResponse<A>;
}

describe('every Action answers what its response schema says', () => {
  let signKey: string;
  let signVersion: string;
  let secondVersion: string;

  it('keys, versions and public keys', async () => {
    const created = await ok('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY', Description: 'signs', Tags: [{ TagKey: 'team', TagValue: 'ops' }], Exportable: true });
    signKey = created.KeyMetadata.KeyId;
    expect(created.KeyMetadata).toMatchObject({ KeySpec: 'EC_P256', KeyState: 'Enabled', Exportable: true });
    expect((await ok('DescribeKey', { KeyId: signKey })).KeyMetadata.KeyId).toBe(signKey);
    expect((await ok('ListKeys', {})).Keys.Key.map((k) => k.KeyId)).toContain(signKey);
    await ok('UpdateKeyDescription', { KeyId: signKey, Description: 'signs releases' });
    secondVersion = (await ok('CreateKeyVersion', { KeyId: signKey })).KeyVersion.KeyVersionId;
    const versions = await ok('ListKeyVersions', { KeyId: signKey, PageSize: 10 });
    expect(versions.TotalCount).toBe(2);
    signVersion = versions.KeyVersions.KeyVersion.find((v) => v.KeyVersionId !== secondVersion)!.KeyVersionId;
    expect((await ok('DescribeKeyVersion', { KeyId: signKey, KeyVersionId: signVersion })).KeyVersion.KeyId).toBe(signKey);
    expect((await ok('GetPublicKey', { KeyId: signKey, KeyVersionId: signVersion })).PublicKey).toContain('BEGIN PUBLIC KEY');
  });

  it('sign, verify, encrypt, decrypt', async () => {
    const digest = b64(randomBytes(32));
    const signed = await ok('AsymmetricSign', { KeyId: signKey, KeyVersionId: signVersion, Algorithm: 'ECDSA_SHA_256', Digest: digest });
    const verified = await ok('AsymmetricVerify', { KeyId: signKey, KeyVersionId: signVersion, Algorithm: 'ECDSA_SHA_256', Digest: digest, Value: signed.Value });
    expect(verified.Value).toBe(true);

    const rsa = (await ok('CreateKey', { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT/DECRYPT' })).KeyMetadata.KeyId;
    const [version] = (await ok('ListKeyVersions', { KeyId: rsa })).KeyVersions.KeyVersion;
    const ref = { KeyId: rsa, KeyVersionId: version!.KeyVersionId, Algorithm: 'RSAES_OAEP_SHA_256' };
    const encrypted = await ok('AsymmetricEncrypt', { ...ref, Plaintext: b64(Buffer.from('secret')) });
    expect(Buffer.from((await ok('AsymmetricDecrypt', { ...ref, CiphertextBlob: encrypted.CiphertextBlob })).Plaintext, 'base64').toString()).toBe('secret');
  });

  it('aliases, state and tags', async () => {
    const other = (await ok('CreateKey', { KeySpec: 'EC_P256' })).KeyMetadata.KeyId;
    await ok('CreateAlias', { KeyId: signKey, AliasName: 'alias/release' });
    await ok('UpdateAlias', { KeyId: other, AliasName: 'alias/release' });
    expect((await ok('ListAliases', {})).Aliases.Alias).toEqual([expect.objectContaining({ KeyId: other, AliasName: 'alias/release' })]);
    expect((await ok('ListAliasesByKeyId', { KeyId: other })).TotalCount).toBe(1);
    await ok('DeleteAlias', { AliasName: 'alias/release' });

    await ok('DisableKey', { KeyId: other });
    await ok('EnableKey', { KeyId: other });
    await ok('ScheduleKeyDeletion', { KeyId: other, PendingWindowInDays: 7 });
    expect((await ok('DescribeKey', { KeyId: other })).KeyMetadata.DeleteDate).not.toBe('');
    await ok('CancelKeyDeletion', { KeyId: other });

    await ok('TagResource', { KeyId: other, Tags: [{ TagKey: 'env', TagValue: 'prod' }] });
    expect((await ok('ListResourceTags', { KeyId: other })).Tags.Tag).toEqual([{ KeyId: other, TagKey: 'env', TagValue: 'prod' }]);
    await ok('UntagResource', { KeyId: other, TagKeys: ['env'] });
  });

  it('encrypted export and import of a version', async () => {
    const passphrase = b64(Buffer.from('export passphrase'));
    const exported = await ok('ExportKeyVersion', { KeyId: signKey, KeyVersionId: signVersion, Passphrase: passphrase, Kdf: 'pbkdf2' });
    const target = (await ok('CreateKey', { KeySpec: 'EC_P256' })).KeyMetadata.KeyId;
    const imported = await ok('ImportKeyVersion', { KeyId: target, EncryptedPrivateKey: exported.EncryptedPrivateKey, Passphrase: passphrase });
    expect(imported.KeyVersion.KeyId).toBe(target);
  });

  it('bring your own key and public-key-only versions', async () => {
    const external = (await ok('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY', Origin: 'EXTERNAL' })).KeyMetadata;
    expect(external).toMatchObject({ KeyState: 'PendingImport', LastRotationDate: '' });
    const params = await ok('GetParametersForImport', { KeyId: external.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256_AES_256_ECB_PKCS7_PAD', WrappingKeySpec: 'RSA_2048' });
    // Alibaba's wrapping: an AES-256 key under RSAES-OAEP-SHA-256, then the PKCS#8 under AES-256-ECB/PKCS#7.
    const material = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'der' });
    const aes = randomBytes(32);
    const wrappingKey = createPublicKey({ key: Buffer.from(params.PublicKey, 'base64'), format: 'der', type: 'spki' });
    const wrapped = publicEncrypt({ key: wrappingKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, aes);
    const cipher = createCipheriv('aes-256-ecb', aes, null);
    const body = Buffer.concat([cipher.update(material), cipher.final()]);
    const imported = await ok('ImportKeyMaterial', { KeyId: external.KeyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: b64(Buffer.concat([wrapped, body])) });
    expect(imported.KeyId).toBe(external.KeyId);
    await ok('DeleteKeyMaterial', { KeyId: external.KeyId });

    const publicOnly = (await ok('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY', Origin: 'EXTERNAL_PUBLIC_KEY' })).KeyMetadata.KeyId;
    const spki = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect((await ok('ImportPublicKeyVersion', { KeyId: publicOnly, PublicKey: spki })).KeyVersion.KeyId).toBe(publicOnly);
  });

  it('public-key bundles, CSRs and certificates', async () => {
    const ca = { KeyId: signKey, KeyVersionId: signVersion };
    const leaf = { KeyId: signKey, KeyVersionId: secondVersion };
    expect(await ok('GetPublicKeyBundle', ca)).not.toHaveProperty('CertificateChain');
    await ok('CreateSelfSignedCertificate', { ...ca, Subject: 'CN=Test CA,O=DeskKMS', ValidityDays: 30, PathLen: 0 });
    const csr = await ok('CreateCertificateSigningRequest', {
      ...leaf,
      Subject: 'CN=leaf.example',
      SubjectAlternativeNames: ['DNS:leaf.example'],
      KeyUsage: ['digitalSignature'],
      ExtendedKeyUsage: ['serverAuth'],
      BasicConstraints: { CA: false },
    });
    const issued = await ok('IssueCertificate', { ...ca, Csr: csr.Csr, ValidityDays: 7 });
    expect((await ok('AttachCertificate', { ...leaf, CertificateChain: issued.CertificateChain })).CertificateCount).toBe(2);
    const certificates = (await ok('GetCertificates', leaf)).Certificates;
    expect(certificates.map((c) => c.IsCa)).toEqual([false, true]);
    const bundle = await ok('GetPublicKeyBundle', leaf);
    expect(bundle).toMatchObject({ Jwk: { kty: 'EC', crv: 'P-256' }, Omitted: {} });
    expect(bundle.CertificateChain).toBe(issued.CertificateChain);

    // SM2 has neither a JWK curve nor an OpenSSH key type: the bundle says why.
    const sm2 = (await ok('CreateKey', { KeySpec: 'EC_SM2', KeyUsage: 'SIGN/VERIFY' })).KeyMetadata.KeyId;
    const [sm2Version] = (await ok('ListKeyVersions', { KeyId: sm2 })).KeyVersions.KeyVersion;
    const sm2Bundle = await ok('GetPublicKeyBundle', { KeyId: sm2, KeyVersionId: sm2Version!.KeyVersionId });
    expect(sm2Bundle).not.toHaveProperty('Jwk');
    expect(sm2Bundle.Omitted).toEqual({ Jwk: expect.any(String), OpenSsh: expect.any(String) });
  });

  it('the schemas are strict: an extra, a missing or a mistyped field is refused', async () => {
    const { RequestId, ...body } = await dispatch(vault, 'DescribeKey', { KeyId: signKey }, 'test').then((o) => (o.ok ? o.body : expect.fail(o.error.Message)));
    expect(RequestId).toBeTypeOf('string');
    const schema = RESPONSE_SCHEMAS.DescribeKey;
    expect(schema.safeParse(body).success).toBe(true);
    const metadata = body.KeyMetadata as Record<string, unknown>;
    expect(schema.safeParse({ ...body, Extra: 1 }).success).toBe(false);
    expect(schema.safeParse({ KeyMetadata: { ...metadata, Rotation: 'x' } }).success).toBe(false);
    const withoutArn = { ...metadata };
    delete withoutArn.Arn;
    expect(schema.safeParse({ KeyMetadata: withoutArn }).success).toBe(false);
    expect(schema.safeParse({ KeyMetadata: { ...metadata, Exportable: 'true' } }).success).toBe(false);
    expect(RESPONSE_SCHEMAS.EnableKey.safeParse({ KeyId: signKey }).success).toBe(false);
  });

  it('administration: access keys and the audit log', async () => {
    const created = await ok('CreateAccessKey', { Policy: { Actions: ['AsymmetricSign'], Keys: ['alias/release'] }, Description: 'ci' });
    expect(created).toMatchObject({ State: 'Enabled', Description: 'ci' });
    expect((await ok('ListAccessKeys', {})).AccessKeys.map((k) => k.AccessKeyId)).toContain(created.AccessKeyId);
    expect((await ok('DisableAccessKey', { AccessKeyId: created.AccessKeyId })).State).toBe('Disabled');
    expect((await ok('EnableAccessKey', { AccessKeyId: created.AccessKeyId })).State).toBe('Enabled');
    expect(await ok('DeleteAccessKey', { AccessKeyId: created.AccessKeyId })).toEqual({ AccessKeyId: created.AccessKeyId });
    const listed = await ok('ListAuditEntries', { Action: 'DeleteAccessKey', Limit: 1 });
    expect(listed).toMatchObject({ Truncated: false, Entries: [{ action: 'DeleteAccessKey', keyId: created.AccessKeyId }] });
    expect((await ok('VerifyAuditChain', {})).Verdict).toMatchObject({ ok: true });
    // A cut tail, acknowledged: the vault works again and the verdict carries the break.
    const db = new Database(join(dir.path, 'vault', 'vault.db'));
    db.prepare('DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)').run();
    db.close();
    expect((await ok('AcknowledgeAuditBreak', {})).Acknowledged).toMatchObject({ ok: false });
    expect((await ok('VerifyAuditChain', {})).Verdict.acknowledged).toHaveLength(1);
  });
});

// A field tree: JSON type names at the leaves, arrays as [element], objects by field name.
type Tree = string | Tree[] | { [field: string]: Tree };

/** An SDK model class: its wire names and its types by property. */
interface SdkModel {
  names(): Record<string, string>;
  types(): Record<string, unknown>;
}

/** The wire fields of an SDK model class (its names() and types()). */
function sdkTree(model: SdkModel): Tree {
  const types = model.types();
  const tree: Record<string, Tree> = {};
  for (const [property, wire] of Object.entries(model.names())) {
    const type = types[property];
    const node = (t: unknown): Tree => (typeof t === 'function' ? sdkTree(t as unknown as SdkModel) : String(t));
    tree[wire] = typeof type === 'object' && type !== null && (type as { type?: unknown }).type === 'array' ? [node((type as { itemType: unknown }).itemType)] : node(type);
  }
  return tree;
}

/** The same tree of a response schema (strings, enums and string literals are "string"). */
function schemaTree(schema: z.ZodType): Tree {
  const def = schema.def as unknown as { type: string; shape?: Record<string, z.ZodType>; element?: z.ZodType; innerType?: z.ZodType; options?: z.ZodType[]; values?: unknown[] };
  switch (def.type) {
    case 'object':
      return Object.fromEntries(Object.entries(def.shape!).map(([field, inner]) => [field, schemaTree(inner)]));
    case 'array':
      return [schemaTree(def.element!)];
    case 'optional':
    case 'nullable':
    case 'readonly':
      return schemaTree(def.innerType!);
    case 'union': {
      const options = [...new Set(def.options!.map((o) => JSON.stringify(schemaTree(o))))];
      return options.length === 1 ? (JSON.parse(options[0]!) as Tree) : `union(${options.join('|')})`;
    }
    case 'enum':
      return 'string';
    case 'literal':
      return typeof def.values![0];
    default:
      return def.type;
  }
}

/**
 * DeskKMS's additions to Alibaba's answers, by Action: dotted paths of the fields Alibaba has not.
 * Besides these, every Action on a key may answer RemoteRequestId (a remote KMS's RequestId).
 */
const EXTENSIONS: Partial<Record<ActionName, readonly string[]>> = {
  CreateKey: ['KeyMetadata.Exportable', 'KeyVersionId'],
  DescribeKey: ['KeyMetadata.Exportable'],
  ImportKeyMaterial: ['KeyId', 'KeyVersionId'],
};

function without(tree: Tree, paths: readonly string[]): Tree {
  if (typeof tree !== 'object' || Array.isArray(tree)) return tree;
  const copy = { ...tree };
  for (const path of paths) {
    const [head, ...rest] = path.split('.');
    if (rest.length === 0) delete copy[head!];
    else copy[head!] = without(copy[head!]!, [rest.join('.')]);
  }
  return copy;
}

describe("the response schemas use Alibaba Cloud KMS's field names", () => {
  const models = sdk as unknown as Record<string, SdkModel | undefined>;
  const modelled = ACTION_NAMES.filter((action) => models[`${action}Response`] !== undefined);

  it('the SDK models the Alibaba Actions (the rest are DeskKMS extensions)', () => {
    // 27, and Encrypt, Decrypt, GenerateDataKey(WithoutPlaintext), UpdateRotationPolicy (SDK 1.2.0 predates the other symmetric Actions).
    expect(modelled).toHaveLength(32);
    expect(modelled).toEqual(expect.arrayContaining(['CreateKey', 'AsymmetricSign', 'GetParametersForImport', 'ListResourceTags']));
  });

  it.each(modelled)('%s: the fields, nesting and JSON types of the SDK response model', (action) => {
    const sdkFields = without(sdkTree(models[`${action}Response`]!), ['RequestId']);
    expect(without(schemaTree(RESPONSE_SCHEMAS[action]), [...(EXTENSIONS[action] ?? []), 'RemoteRequestId'])).toEqual(sdkFields);
  });

  it('RemoteRequestId is in the answers of exactly the Actions a remote KMS may perform: the provider Actions naming a KeyId', () => {
    const onKey = ACTION_NAMES.filter((action) => isProviderAction(action) && Object.hasOwn(ACTION_SCHEMAS[action].shape, 'KeyId'));
    expect(onKey).toEqual(expect.arrayContaining(['DescribeKey', 'AsymmetricSign', 'EnableKey', 'ListResourceTags', 'GetCertificates']));
    const answers = (action: ActionName, field: string): boolean => {
      const tree = schemaTree(RESPONSE_SCHEMAS[action]);
      return typeof tree === 'object' && !Array.isArray(tree) && Object.hasOwn(tree, field);
    };
    expect(ACTION_NAMES.filter((action) => answers(action, 'RemoteRequestId'))).toEqual(onKey);
    expect(RESPONSE_SCHEMAS.EnableKey.safeParse({ RemoteRequestId: 'remote-1' }).success).toBe(true);
    expect(RESPONSE_SCHEMAS.CreateAlias.safeParse({ RemoteRequestId: 'remote-1' }).success).toBe(false);
  });

  it('each extension names a field the schema has', () => {
    for (const [action, paths] of Object.entries(EXTENSIONS) as [ActionName, readonly string[]][]) {
      const tree = schemaTree(RESPONSE_SCHEMAS[action]);
      for (const path of paths) expect(path.split('.').reduce<Tree | undefined>((t, k) => (t as Record<string, Tree> | undefined)?.[k], tree), `${action} ${path}`).toBeDefined();
    }
  });
});
