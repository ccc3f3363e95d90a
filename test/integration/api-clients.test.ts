// The client matrix: `deskkms serve` (the real CLI process) driven by Alibaba Cloud's own client
// libraries, unchanged, in every signature scheme and transport they use
// (test/support/api-clients.ts): @alicloud/openapi-client with ACS3-HMAC-SHA256 (its default),
// ACS3-HMAC-SM3 and its RPC V1 path, and @alicloud/pop-core (V1), each by GET and by POST.
// Each row creates its keys, lists them (ListKeys with Filters), reads versions and public keys,
// signs (openssl verifies every signature over the message), encrypts and decrypts (and decrypts
// what openssl encrypted), and is refused a wrong secret and an unknown Action with Alibaba's codes.
// Last, the README's V3 signing script and its sh block, run as written.
// The official @alicloud/kms20160120 SDK has its own file (api-sdk.test.ts); the refusals of
// malformed, replayed or stale V3 requests are api-v3-auth.test.ts's.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EncryptionAlgorithm, KeySpec, KeyUsage, SigningAlgorithm } from '../../core/contract/specs.ts';
import { digestMessage, importPublicKey } from '../../core/crypto/public-key.ts';
import {
  CLIENT_MATRIX,
  apiCaller,
  describeSpec,
  startRecordingProxy,
  wireScheme,
  wireTransport,
  type ApiCaller,
  type ClientSpec,
  type Credentials,
} from '../support/api-clients.ts';
import { spawnUntilFirstLine, type RunningProcess } from '../support/child-process.ts';
import { requireSecretService, tempDir } from './vault-helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'core/hosts/cli/deskkms.ts');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let dir: ReturnType<typeof tempDir>;
let vaultDir: string;
let serve: RunningProcess | undefined;
let endpoint: URL;
let full: Credentials;
/** An access key whose policy allows ListKeys only: each scheme must authenticate it as itself. */
let listOnly: Credentials;

function deskkms(args: readonly string[]): string {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, DESKKMS_VAULT: vaultDir } });
  if (r.status !== 0) throw new Error(`deskkms ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** openssl with `input` on stdin; its status, stdout (bytes) and stderr. */
function openssl(args: readonly string[], input?: Uint8Array): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync('openssl', args, { input, cwd: dir.path });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

beforeAll(async () => {
  requireSecretService();
  dir = tempDir('deskkms-api-clients-');
  vaultDir = join(dir.path, 'vault');
  deskkms(['init']);
  const key = JSON.parse(deskkms(['access-key', 'create', '--policy', '{"Actions":["*"],"Keys":["*"]}', '--description', 'client matrix'])) as {
    AccessKeyId: string;
    AccessKeySecret: string;
  };
  full = { accessKeyId: key.AccessKeyId, accessKeySecret: key.AccessKeySecret };
  const lister = JSON.parse(deskkms(['access-key', 'create', '--policy', '{"Actions":["ListKeys"],"Keys":["*"]}', '--description', 'list only'])) as typeof key;
  listOnly = { accessKeyId: lister.AccessKeyId, accessKeySecret: lister.AccessKeySecret };
  serve = await spawnUntilFirstLine(process.execPath, [BIN, 'serve'], { env: { ...process.env, DESKKMS_VAULT: vaultDir } });
  endpoint = new URL((JSON.parse(serve.firstLine) as { Endpoint: string }).Endpoint);
  expect(endpoint.hostname).toBe('127.0.0.1');
});

afterAll(async () => {
  const code = await serve?.stop();
  dir?.remove();
  expect(code ?? 0, serve?.stderr()).toBe(0);
});

/** Every key the file created, with what ListKeys' Filters select on: the expected answers. */
interface MadeKey {
  readonly keyId: string;
  readonly spec: KeySpec;
  readonly usage: KeyUsage;
  state: 'Enabled' | 'Disabled';
}
const made: MadeKey[] = [];

const ROLES = {
  rsaSign: ['RSA_2048', 'SIGN/VERIFY'],
  ecSign: ['EC_P256', 'SIGN/VERIFY'],
  sm2Sign: ['EC_SM2', 'SIGN/VERIFY'],
  rsaEncrypt: ['RSA_2048', 'ENCRYPT/DECRYPT'],
  sm2Encrypt: ['EC_SM2', 'ENCRYPT/DECRYPT'],
} as const satisfies Record<string, readonly [KeySpec, KeyUsage]>;
type Role = keyof typeof ROLES;

/** What `openssl pkey -pubin -text` prints for each spec. */
const OPENSSL_KEY_TEXT: Readonly<Record<'RSA_2048' | 'EC_P256' | 'EC_SM2', RegExp>> = {
  RSA_2048: /Public-Key: \(2048 bit\)/,
  EC_P256: /ASN1 OID: prime256v1/,
  EC_SM2: /ASN1 OID: SM2/,
};

/** The signatures each signing key makes, and how `openssl dgst` checks them over the message. */
const SIGNATURES: readonly { role: Role; algorithm: SigningAlgorithm; dgst: readonly string[] }[] = [
  { role: 'rsaSign', algorithm: 'RSA_PKCS1_SHA_256', dgst: ['-sha256'] },
  // The contract's PSS salt is 32 bytes; OpenSSL's default is not (README, Verifying with OpenSSL).
  { role: 'rsaSign', algorithm: 'RSA_PSS_SHA_256', dgst: ['-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32'] },
  { role: 'ecSign', algorithm: 'ECDSA_SHA_256', dgst: ['-sha256'] },
  // SM2DSA signs SM3(Z || M) with the default ID; OpenSSL's default ID is empty.
  { role: 'sm2Sign', algorithm: 'SM2DSA', dgst: ['-sm3', '-sigopt', 'distid:1234567812345678'] },
];

/** Encryption by the API and by openssl; OAEP's MGF1 uses the OAEP hash (Alibaba's table: "MGF1 with SHA-256"). */
const ENCRYPTIONS: readonly { role: Role; algorithm: EncryptionAlgorithm; pkeyopt: readonly string[] }[] = [
  { role: 'rsaEncrypt', algorithm: 'RSAES_OAEP_SHA_256', pkeyopt: ['rsa_padding_mode:oaep', 'rsa_oaep_md:sha256', 'rsa_mgf1_md:sha256'] },
  { role: 'rsaEncrypt', algorithm: 'RSAES_OAEP_SHA_1', pkeyopt: ['rsa_padding_mode:oaep', 'rsa_oaep_md:sha1', 'rsa_mgf1_md:sha1'] },
  // OpenSSL writes SM2 ciphertexts as the GM/T 0009 SEQUENCE (C1 x, y, C3, C2), as KMS does.
  { role: 'sm2Encrypt', algorithm: 'SM2PKE', pkeyopt: [] },
];

describe.each(CLIENT_MATRIX.map((spec) => [describeSpec(spec), spec] as const))('%s against deskkms serve', (name, spec: ClientSpec) => {
  let api: ApiCaller;
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>> | undefined;
  let work: string;
  const keys = {} as Record<Role, { keyId: string; versionId: string; pem: string; pemFile: string }>;

  beforeAll(async () => {
    // The row's client talks to the server through a recording pass-through proxy: the last test
    // checks that the library really signed with the row's scheme and sent the row's transport.
    proxy = await startRecordingProxy(endpoint);
    api = apiCaller(spec, proxy.endpoint, full);
    work = join(dir.path, name.replaceAll(/[^A-Za-z0-9]+/g, '-'));
    mkdirSync(work);
  });
  afterAll(() => proxy?.close());

  it('CreateKey: RSA_2048, EC_P256 and EC_SM2 signing keys, RSA_2048 and EC_SM2 encryption keys; a Description needing every kind of encoding', async () => {
    for (const [role, [keySpec, keyUsage]] of Object.entries(ROLES) as [Role, (typeof ROLES)[Role]][]) {
      // Characters each scheme encodes differently in its canonical string (RFC 3986 unreserved
      // -_.~ kept, '*' and ' ' as %2A and %20 not '+', '+' itself, sub-delims, '%', UTF-8 of 2, 3
      // and 4 bytes): a server canonicalising any of them otherwise than the client refuses the call.
      const description = `${name} ${role} -_.~*+!'()&=;,/?:@[]%25 é 中文 🔑`;
      const created = await api.call('CreateKey', { KeySpec: keySpec, KeyUsage: keyUsage, Description: description });
      expect(created.status).toBe(200);
      expect(created.body.RequestId).toMatch(UUID);
      expect(created.body.KeyMetadata).toMatchObject({ KeySpec: keySpec, KeyUsage: keyUsage, KeyState: 'Enabled', Description: description });
      const keyId = created.body.KeyMetadata.KeyId as string;
      made.push({ keyId, spec: keySpec, usage: keyUsage, state: 'Enabled' });
      keys[role] = { keyId, versionId: '', pem: '', pemFile: '' };
    }
  });

  it('ListKeyVersions and GetPublicKey: one version per key, a public key openssl reads as its spec', async () => {
    for (const role of Object.keys(ROLES) as Role[]) {
      const key = keys[role];
      const versions = await api.call('ListKeyVersions', { KeyId: key.keyId, PageNumber: '1', PageSize: '10' });
      expect(versions.body).toMatchObject({ TotalCount: 1, PageNumber: 1, PageSize: 10 });
      const [version] = versions.body.KeyVersions.KeyVersion as { KeyId: string; KeyVersionId: string }[];
      expect(version).toMatchObject({ KeyId: key.keyId, KeyVersionId: expect.stringMatching(UUID) });
      key.versionId = version!.KeyVersionId;

      const pub = await api.call('GetPublicKey', { KeyId: key.keyId, KeyVersionId: key.versionId });
      expect(pub.body).toMatchObject({ KeyId: key.keyId, KeyVersionId: key.versionId });
      key.pem = pub.body.PublicKey as string;
      key.pemFile = join(work, `${role}.pem`);
      writeFileSync(key.pemFile, key.pem);
      const text = openssl(['pkey', '-pubin', '-in', key.pemFile, '-noout', '-text']);
      expect(text.status, text.stderr).toBe(0);
      expect(text.stdout.toString()).toMatch(OPENSSL_KEY_TEXT[ROLES[role][0]]);
    }
  });

  it('AsymmetricSign: openssl verifies every signature over the message; AsymmetricVerify agrees and refuses another digest', async () => {
    const message = Buffer.from(`release artifact signed through ${name}`);
    const messageFile = join(work, 'message.bin');
    writeFileSync(messageFile, message);
    const other = join(work, 'other.bin');
    writeFileSync(other, Buffer.concat([message, Buffer.from('!')]));
    for (const { role, algorithm, dgst } of SIGNATURES) {
      const key = keys[role];
      const digest =
        algorithm === 'SM2DSA'
          ? Buffer.from(await digestMessage(importPublicKey(key.pem), algorithm, message)).toString('base64')
          : openssl(['dgst', '-sha256', '-binary'], message).stdout.toString('base64');
      const signed = await api.call('AsymmetricSign', { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: algorithm, Digest: digest });
      expect(signed.body).toMatchObject({ KeyId: key.keyId, KeyVersionId: key.versionId, RequestId: expect.stringMatching(UUID) });
      const signatureFile = join(work, `${algorithm}.sig`);
      writeFileSync(signatureFile, Buffer.from(signed.body.Value as string, 'base64'));

      const verdict = openssl(['dgst', ...dgst, '-verify', key.pemFile, '-signature', signatureFile, messageFile]);
      expect(verdict.stdout.toString(), `${algorithm}: ${verdict.stderr}`).toContain('Verified OK');
      expect(verdict.status).toBe(0);
      const forged = openssl(['dgst', ...dgst, '-verify', key.pemFile, '-signature', signatureFile, other]);
      expect(forged.stdout.toString(), algorithm).toContain('Verification failure');

      const verified = await api.call('AsymmetricVerify', { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: algorithm, Digest: digest, Value: signed.body.Value as string });
      expect(verified.body.Value, algorithm).toBe(true);
      const otherDigest = Buffer.from(digest, 'base64').map((b, i) => (i === 0 ? b ^ 1 : b));
      const refused = await api.call('AsymmetricVerify', {
        KeyId: key.keyId,
        KeyVersionId: key.versionId,
        Algorithm: algorithm,
        Digest: Buffer.from(otherDigest).toString('base64'),
        Value: signed.body.Value as string,
      });
      expect(refused.body.Value, algorithm).toBe(false);
    }
  });

  it('AsymmetricEncrypt then AsymmetricDecrypt round trip; a ciphertext openssl made decrypts', async () => {
    for (const { role, algorithm, pkeyopt } of ENCRYPTIONS) {
      const key = keys[role];
      const plaintext = Buffer.from(`${algorithm} secret for ${name}`);
      const encrypted = await api.call('AsymmetricEncrypt', { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: algorithm, Plaintext: plaintext.toString('base64') });
      expect(encrypted.body).toMatchObject({ KeyId: key.keyId, KeyVersionId: key.versionId });
      const blob = encrypted.body.CiphertextBlob as string;
      const decrypted = await api.call('AsymmetricDecrypt', { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: algorithm, CiphertextBlob: blob });
      expect(Buffer.from(decrypted.body.Plaintext as string, 'base64').toString(), algorithm).toBe(plaintext.toString());

      const byOpenssl = openssl(['pkeyutl', '-encrypt', '-pubin', '-inkey', key.pemFile, ...pkeyopt.flatMap((o) => ['-pkeyopt', o])], plaintext);
      expect(byOpenssl.status, byOpenssl.stderr).toBe(0);
      const opened = await api.call('AsymmetricDecrypt', { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: algorithm, CiphertextBlob: byOpenssl.stdout.toString('base64') });
      expect(Buffer.from(opened.body.Plaintext as string, 'base64').toString(), `${algorithm} (openssl)`).toBe(plaintext.toString());
    }
  });

  it('ListKeys with Filters: AND across Keys, OR within Values, KeyState after DisableKey; TotalCount counts the filtered keys', async () => {
    await api.call('DisableKey', { KeyId: keys.ecSign.keyId });
    made.find((k) => k.keyId === keys.ecSign.keyId)!.state = 'Disabled';
    const cases: { filters: { Key: 'KeySpec' | 'KeyUsage' | 'KeyState'; Values: string[] }[] }[] = [
      { filters: [{ Key: 'KeySpec', Values: ['EC_SM2'] }, { Key: 'KeyUsage', Values: ['ENCRYPT/DECRYPT'] }] },
      { filters: [{ Key: 'KeySpec', Values: ['RSA_2048', 'EC_P256'] }] },
      { filters: [{ Key: 'KeyState', Values: ['Disabled'] }] },
      { filters: [{ Key: 'KeyState', Values: ['Enabled'] }, { Key: 'KeyUsage', Values: ['SIGN/VERIFY'] }, { Key: 'KeySpec', Values: ['EC_P256', 'EC_SM2'] }] },
    ];
    const field = { KeySpec: 'spec', KeyUsage: 'usage', KeyState: 'state' } as const;
    for (const { filters } of cases) {
      const expected = made.filter((k) => filters.every((f) => f.Values.includes(k[field[f.Key]]))).map((k) => k.keyId);
      expect(expected.length, 'a filter that selects nothing proves little').toBeGreaterThan(0);
      const listed: string[] = [];
      for (let page = 1; ; page++) {
        const answer = await api.call('ListKeys', { Filters: JSON.stringify(filters), PageNumber: String(page), PageSize: '4' });
        expect(answer.body.TotalCount, JSON.stringify(filters)).toBe(expected.length);
        const got = (answer.body.Keys.Key as { KeyId: string; KeyArn: string }[]).map((k) => k.KeyId);
        listed.push(...got);
        if (got.length < 4 || listed.length >= expected.length) break;
      }
      expect(listed.toSorted(), JSON.stringify(filters)).toEqual(expected.toSorted());
    }
    await api.call('EnableKey', { KeyId: keys.ecSign.keyId });
    made.find((k) => k.keyId === keys.ecSign.keyId)!.state = 'Enabled';
  });

  it("refuses a wrong secret (SignatureDoesNotMatch), an Action outside the access key's policy (Forbidden.NoPermission) and an unknown Action (InvalidAction.NotFound, 404), with Alibaba's error body", async () => {
    const wrong = apiCaller(spec, proxy!.endpoint, { accessKeyId: full.accessKeyId, accessKeySecret: `${full.accessKeySecret}x` });
    const bad = await wrong.refusal('ListKeys', {});
    expect(bad).toMatchObject({ status: 400, code: 'SignatureDoesNotMatch' });
    expect(bad.body).toMatchObject({ Code: 'SignatureDoesNotMatch', RequestId: expect.stringMatching(UUID), HostId: expect.any(String) });

    // The policy of the access key the signature names applies, whatever the scheme.
    const limited = apiCaller(spec, proxy!.endpoint, listOnly);
    expect((await limited.call('ListKeys', { PageSize: '1' })).body.TotalCount).toBe(made.length);
    const denied = await limited.refusal('DescribeKey', { KeyId: keys.ecSign.keyId });
    expect(denied).toMatchObject({ status: 403, code: 'Forbidden.NoPermission' });

    const unknown = await api.refusal('FrobnicateKey', {});
    expect(unknown).toMatchObject({ status: 404, code: 'InvalidAction.NotFound' });
    expect(unknown.body.Message).toEqual(expect.stringContaining('FrobnicateKey'));
  });

  it(`on the wire: every request was signed with ${spec.scheme} and carried its parameters as ${spec.transport}`, () => {
    const sent = proxy!.requests;
    expect(sent.length).toBeGreaterThan(40);
    expect(new Set(sent.map(wireScheme))).toEqual(new Set([spec.scheme]));
    // Requests with parameters of their own (all but the bare ListKeys and FrobnicateKey) carry them as the row says.
    const transports = new Set(sent.map(wireTransport));
    transports.delete(`${spec.transport.split(' ')[0]} none`);
    expect(transports).toEqual(new Set([spec.transport]));
    if (spec.scheme !== 'HMAC-SHA1') {
      for (const request of sent) {
        expect(request.headers['x-acs-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
        expect(request.headers.authorization).toMatch(/^ACS3-HMAC-(SHA256|SM3) Credential=DKMS\w+,SignedHeaders=[a-z0-9;-]+,Signature=[0-9a-f]{64}$/);
      }
    }
  });
});

describe("the README's signing script (Signature schemes and clients), run as written", () => {
  it('signs with ACS3-HMAC-SHA256 and ACS3-HMAC-SM3 through the access key the recipe creates; openssl verifies both signatures', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf('\n### Signature schemes and clients\n');
    expect(start).toBeGreaterThan(0);
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    const scripts = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect([scripts.length, blocks.length]).toEqual([1, 1]);

    // The user's side: alias/release an EC_P256 key (made through the API: a CLI start is seconds),
    // app.tar.gz, the script saved as the text says.
    const admin = apiCaller(CLIENT_MATRIX[0]!, endpoint, full);
    const keyId = (await admin.call('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' })).body.KeyMetadata.KeyId as string;
    await admin.call('CreateAlias', { KeyId: keyId, AliasName: 'alias/release' });
    const work = join(dir.path, 'recipe');
    mkdirSync(work);
    writeFileSync(join(work, 'kms-sign.cjs'), scripts[0]!);
    writeFileSync(join(work, 'app.tar.gz'), randomBytes(300_000));

    // `npx deskkms` is this checkout's CLI; the script's packages resolve from this checkout's
    // node_modules (NODE_PATH: the user's project has them installed); the README's port is the
    // test server's.
    const prelude =
      'set -euo pipefail\n' +
      `npx() { if [ "$1" != deskkms ]; then echo "npx $1: not in the recipe" >&2; return 127; fi; shift; "${ROOT}/bin/deskkms" "$@"; }\n`;
    const block = blocks[0]!.replaceAll('127.0.0.1:9443', endpoint.host);
    const env = {
      ...process.env,
      DESKKMS_VAULT: vaultDir,
      NODE_PATH: join(ROOT, 'node_modules'),
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      ALIBABA_CLOUD_ACCESS_KEY_ID: '',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: '',
    };
    const r = spawnSync('bash', ['-c', prelude + block], { cwd: work, env, encoding: 'utf8', timeout: 120_000 });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(r.status, `${block}\n--- output\n${out}`).toBe(0);
    expect(out.match(/^Verified OK$/gm), out).toHaveLength(2);

    // Both signatures were made through the API by the recipe's access key, and are distinct
    // (ECDSA is randomised): the script really called the server twice.
    const accessKeyId = (JSON.parse(readFileSync(join(work, 'release-ak.json'), 'utf8')) as { AccessKeyId: string }).AccessKeyId;
    const audit = JSON.parse(deskkms(['audit', 'list', '--key-id', keyId, '--action', 'AsymmetricSign'])) as { Entries: { caller: string; code: string }[] };
    expect(audit.Entries.map((e) => `${e.code} ${e.caller}`)).toEqual([`OK api:${accessKeyId}`, `OK api:${accessKeyId}`]);
    expect(readFileSync(join(work, 'app.tar.gz.sig')).equals(readFileSync(join(work, 'app.tar.gz.sm3.sig')))).toBe(false);
  });
});
