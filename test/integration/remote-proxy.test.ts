// Vault B uses vault A's keys through A's deskkms serve, via @alicloud/openapi-client inside B's
// remote provider, with each signature scheme a connection can have: V3 ACS3-HMAC-SHA256 (the
// default), V3 ACS3-HMAC-SM3, and V1 HMAC-SHA1 (the client's 'v2' RPC path). A's real server verifies
// each; a recording relay between B and A shows what went on the wire (the scheme; the parameters
// in the query of a POST, as Alibaba's generated KMS SDK sends them). The signature verifies with A's public key and openssl; A disabling the key makes
// B's call fail with Rejected.Disabled; A going away is a clear error naming the connection, and B's
// own keys keep working.
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listAuditEntries } from '../../core/audit/audit-log.ts';
import type { SignatureAlgorithm } from '../../core/contract/api-signatures.ts';
import { storeConnectionSecret } from '../../core/providers/connections.ts';
import { integrityMac } from '../../core/vault/integrity.ts';
import { MIGRATIONS } from '../../core/vault/schema.ts';
import { Vault } from '../../core/vault/vault.ts';
import { call, fails, requireSecretService, serveInProcess, tempDir } from './vault-helpers.ts';

let dir: ReturnType<typeof tempDir>;
let aDir: string;
let endpoint: URL;
let serverA: Awaited<ReturnType<typeof serveInProcess>> | undefined;
let relay: Server | undefined;
let relayHost: string;
let b: Vault;
let keyId: string;
let versionId: string;
let accessKey: { AccessKeyId: string; AccessKeySecret: string };

/** One request as it went from B to A: method, target, headers and body as sent, A's status. */
interface Seen {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
  status: number;
}
let seen: Seen[] = [];

const SCHEMES: readonly (readonly [SignatureAlgorithm, string])[] = [
  ['ACS3-HMAC-SHA256', 'a-v3'],
  ['ACS3-HMAC-SM3', 'a-sm3'],
  ['HMAC-SHA1', 'a-v1'],
];

/** Forwards every request to A unchanged (the Host header too: the signature covers it) and records it. */
function startRelay(): Promise<void> {
  relay = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const record: Seen = {
        method: req.method ?? '',
        url: new URL(req.url ?? '/', 'http://relay'),
        headers: req.headers,
        body,
        status: 0,
      };
      seen.push(record);
      const out = httpRequest({ host: endpoint.hostname, port: endpoint.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        record.status = answer.statusCode ?? 0;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      out.on('error', () => res.destroy());
      out.end(body);
    });
  });
  return new Promise((resolve) => relay!.listen(0, '127.0.0.1', () => ((relayHost = `127.0.0.1:${(relay!.address() as AddressInfo).port}`), resolve())));
}

beforeAll(async () => {
  requireSecretService();
  dir = tempDir('deskkms-remote-');
  aDir = join(dir.path, 'a');
  const a = await Vault.init(aDir);
  keyId = (await call(a, 'CreateKey', { KeySpec: 'EC_SM2', KeyUsage: 'SIGN/VERIFY' })).KeyMetadata.KeyId as string;
  versionId = (await call(a, 'ListKeyVersions', { KeyId: keyId })).KeyVersions.KeyVersion[0].KeyVersionId as string;
  await call(a, 'CreateAlias', { KeyId: keyId, AliasName: 'alias/team-signing' });
  const ak = await call(a, 'CreateAccessKey');
  accessKey = { AccessKeyId: ak.AccessKeyId as string, AccessKeySecret: ak.AccessKeySecret as string };
  await a.close();
  serverA = await serveInProcess(aDir);
  endpoint = serverA.endpoint;
  await startRelay();

  b = await Vault.init(join(dir.path, 'b'));
  for (const [algorithm, name] of SCHEMES) {
    await call(b, 'AddRemoteConnection', {
      Name: name,
      Endpoint: relayHost,
      Protocol: 'http',
      AccessKeyId: ak.AccessKeyId,
      AccessKeySecret: ak.AccessKeySecret,
      // The default (V3 SHA-256) is left to the schema.
      ...(algorithm === 'ACS3-HMAC-SHA256' ? {} : { SignatureAlgorithm: algorithm }),
    });
  }
});

afterAll(async () => {
  await serverA?.stop().catch(() => undefined);
  relay?.closeAllConnections();
  await new Promise((resolve) => (relay ? relay.close(resolve) : resolve(undefined)));
  await b?.close();
  dir?.remove();
});

beforeEach(() => {
  seen = [];
});

/** B's connection as ListRemoteConnections answers it. */
function connection(name: string): Promise<Record<string, string>> {
  return connectionIn(b, name);
}

async function connectionIn(vault: Vault, name: string): Promise<Record<string, string>> {
  const { Connections } = await call(vault, 'ListRemoteConnections');
  const found = (Connections as Record<string, string>[]).find((c) => c.Name === name);
  expect(found, name).toBeDefined();
  return found!;
}

/** Every request B sent was signed with `algorithm`: a POST, its parameters in the query, no body. */
function expectScheme(algorithm: SignatureAlgorithm, action: string, accessKeyId: string): void {
  expect(seen.length).toBeGreaterThan(0);
  for (const request of seen) {
    expect(request.method).toBe('POST');
    expect(request.body).toHaveLength(0);
    if (algorithm === 'HMAC-SHA1') {
      // V1: the signature and its parameters in the query, no Authorization header.
      expect(request.headers.authorization).toBeUndefined();
      expect(Object.fromEntries(request.url.searchParams)).toMatchObject({ SignatureMethod: 'HMAC-SHA1', SignatureVersion: '1.0', AccessKeyId: accessKeyId, Version: '2016-01-20' });
      expect(request.url.searchParams.get('Signature')).toMatch(/^[A-Za-z0-9+/]{27}=$/);
    } else {
      // V3: Authorization over the signed headers, the Action and Version in headers, no V1
      // parameters; x-acs-content-sha256 the hash of the (empty) body with the scheme's hash.
      const authorization = String(request.headers.authorization);
      expect(authorization.startsWith(`${algorithm} Credential=${accessKeyId},SignedHeaders=`)).toBe(true);
      expect(authorization).toMatch(/,Signature=[0-9a-f]{64}$/);
      const signed = /SignedHeaders=([^,]+)/.exec(authorization)![1]!.split(';');
      expect(signed).toEqual(expect.arrayContaining(['host', 'x-acs-action', 'x-acs-version', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256']));
      expect(request.headers['x-acs-version']).toBe('2016-01-20');
      expect(request.headers['x-acs-content-sha256']).toBe(createHash(algorithm === 'ACS3-HMAC-SM3' ? 'sm3' : 'sha256').update(request.body).digest('hex'));
      for (const v1 of ['Action', 'Version', 'Signature', 'SignatureMethod', 'AccessKeyId']) expect(request.url.searchParams.has(v1), v1).toBe(false);
    }
  }
  const last = seen.at(-1)!;
  expect(algorithm === 'HMAC-SHA1' ? last.url.searchParams.get('Action') : last.headers['x-acs-action']).toBe(action);
}

describe.each(SCHEMES)('remote KMS proxy signing with %s', (algorithm, name) => {
  const remote = () => `remote/${name}/${keyId}`;

  it('lists the connection with its scheme and without its secret, and the remote keys with their connection', async () => {
    const conn = await connection(name);
    expect(conn).toMatchObject({ Name: name, Endpoint: relayHost, Protocol: 'http', RegionId: 'cn-hangzhou', SignatureAlgorithm: algorithm });
    expect(JSON.stringify(conn)).not.toMatch(/secret/i);
    const stored = b.store.db.prepare('SELECT * FROM remote_connections WHERE name = ?').get(name) as Record<string, unknown>;
    expect(stored.signature_algorithm).toBe(algorithm);
    expect(JSON.stringify(stored)).not.toMatch(/Secret/);
    // ListRemoteKeys: the remote's ListKeys, each KeyId once in this vault's namespace, audited here.
    const listed = await call(b, 'ListRemoteKeys', { Connection: name, PageSize: 100 });
    expect(listed).toMatchObject({ Connection: name, TotalCount: 1, PageNumber: 1, PageSize: 100 });
    expect(listed.Keys.Key).toEqual([expect.objectContaining({ KeyId: remote(), RemoteKeyId: keyId })]);
    const [entry] = listAuditEntries(b.store.db, { action: 'ListRemoteKeys', keyId: `remote/${name}` });
    expect(entry).toMatchObject({ code: 'OK', requestId: listed.RequestId });
    expect(seen.map((s) => s.status)).toEqual([200]);
    expectScheme(algorithm, 'ListKeys', conn.AccessKeyId!);
    expect(seen[0]!.url.searchParams.get('PageSize')).toBe('100');
  });

  it("signs through B with A's key; the signature verifies with A's public key and openssl", async () => {
    const described = await call(b, 'DescribeKey', { KeyId: remote() });
    expect(described.KeyMetadata).toMatchObject({ KeyId: remote(), KeySpec: 'EC_SM2' });
    const message = Buffer.from(`signed by a key that lives in vault A, asked with ${algorithm}`);
    const pem = (await call(b, 'GetPublicKey', { KeyId: remote(), KeyVersionId: versionId })).PublicKey as string;
    writeFileSync(join(dir.path, 'a.pem'), pem);
    writeFileSync(join(dir.path, `msg-${name}.bin`), message);
    const digest = execFileSync(
      process.execPath,
      [join(import.meta.dirname, '../../core/hosts/cli/deskkms.ts'), 'digest', '--algorithm', 'SM2DSA', '--in', join(dir.path, `msg-${name}.bin`), '--public-key', join(dir.path, 'a.pem')],
      { encoding: 'utf8' },
    ).trim();
    seen = [];
    const signed = await call(b, 'AsymmetricSign', { KeyId: remote(), KeyVersionId: versionId, Algorithm: 'SM2DSA', Digest: digest });
    expect(signed).toMatchObject({ KeyId: remote(), KeyVersionId: versionId });
    const sent = seen[0]!;
    expectScheme(algorithm, 'AsymmetricSign', (await connection(name)).AccessKeyId!);
    // The parameters went in the query, the digest among them, exactly as given.
    expect(sent.url.searchParams.get('Digest')).toBe(digest);
    expect(sent.url.searchParams.get('KeyId')).toBe(keyId);
    writeFileSync(join(dir.path, `sig-${name}.bin`), Buffer.from(signed.Value as string, 'base64'));
    const verdict = execFileSync('openssl', [
      'dgst', '-sm3', '-sigopt', 'distid:1234567812345678', '-verify', join(dir.path, 'a.pem'), '-signature', join(dir.path, `sig-${name}.bin`), join(dir.path, `msg-${name}.bin`),
    ]);
    expect(verdict.toString()).toContain('Verified OK');
    // An alias on A works through the prefix too.
    expect((await call(b, 'DescribeKey', { KeyId: `remote/${name}/alias/team-signing` })).KeyMetadata.KeyId).toBe(remote());
    // Audited locally in B against the remote key.
    expect(listAuditEntries(b.store.db, { keyId: remote(), action: 'AsymmetricSign' })).toHaveLength(1);
  });

  it('text every encoder treats differently arrives unchanged (signed over what was sent, decoded by A as sent)', async () => {
    // Reserved and unreserved characters (RFC 3986), the ones encodeURIComponent leaves alone, '+' and
    // a space (form encoding), non-ASCII in two and four UTF-8 bytes.
    const description = `${algorithm}: a b+c*d~e!f'g(h)i&j=k/l?m%20n#o;p,q:r@s$t ü 中文 😀`;
    await call(b, 'UpdateKeyDescription', { KeyId: remote(), Description: description });
    expect(seen.map((s) => s.status)).toEqual([200]);
    expect(seen[0]!.url.searchParams.get('Description')).toBe(description);
    expect((await call(b, 'DescribeKey', { KeyId: remote() })).KeyMetadata.Description).toBe(description);
  });

  it("A's refusal reaches B as A's Code: a wrong secret is refused by A's verifier", async () => {
    // The same AccessKey id with another secret: A computes another signature and refuses.
    const wrong = `${name}-wrong`;
    const { AccessKeyId } = await connection(name);
    await call(b, 'AddRemoteConnection', { Name: wrong, Endpoint: relayHost, Protocol: 'http', AccessKeyId, AccessKeySecret: 'not-the-secret', SignatureAlgorithm: algorithm });
    try {
      const refused = await fails(b, 'DescribeKey', { KeyId: `remote/${wrong}/${keyId}` });
      expect(refused.error.Code).toBe('SignatureDoesNotMatch');
      expect(refused.error.Message).toMatch(new RegExp(`^remote KMS "${wrong}" \\(http://127\\.0\\.0\\.1:\\d+\\): `));
      expect(seen.map((s) => s.status)).toEqual([400]);
      expectScheme(algorithm, 'DescribeKey', AccessKeyId!);
    } finally {
      await call(b, 'RemoveRemoteConnection', { Name: wrong });
    }
  });
});

describe('a connection made before connections had a SignatureAlgorithm', () => {
  it('keeps working after the upgrade, signing with HMAC-SHA1 (V1); giving its row a scheme in the file is Vault.Corrupt', async () => {
    // Vault C as the DeskKMS before this column left it: the schema before its migration, the
    // row MACed over its six columns then (the integrity key is the vault's own, so C is unlocked to compute it).
    const cDir = join(dir.path, 'c');
    let c = await Vault.init(cDir);
    await c.ensureUnlocked();
    const row = { name: 'old-a', endpoint: relayHost, region_id: 'cn-hangzhou', protocol: 'http', access_key_id: accessKey.AccessKeyId, creation_date: '2026-01-02T03:04:05Z' };
    const oldMac = integrityMac(c.store.db, 'remote_connections', [row.name, row.endpoint, row.region_id, row.protocol, row.access_key_id, row.creation_date]);
    await c.close();
    const file = new Database(join(cDir, 'vault.db'));
    try {
      // The migrations from the one adding the column on (the keys' rotation columns came later) are undone.
      const signatureMigration = MIGRATIONS.findIndex((m) => m.includes('ADD COLUMN signature_algorithm'));
      file.exec('ALTER TABLE remote_connections DROP COLUMN signature_algorithm');
      file.exec('ALTER TABLE keys DROP COLUMN automatic_rotation');
      file.exec('ALTER TABLE keys DROP COLUMN rotation_interval');
      expect(signatureMigration).toBe(MIGRATIONS.length - 2);
      file.prepare('UPDATE schema_version SET version = ?').run(signatureMigration);
      file
        .prepare('INSERT INTO remote_connections (name, endpoint, region_id, protocol, access_key_id, creation_date, mac) VALUES (@name, @endpoint, @region_id, @protocol, @access_key_id, @creation_date, @mac)')
        .run({ ...row, mac: oldMac });
    } finally {
      file.close();
    }
    c = Vault.open(cDir); // migrates: the column comes back, NULL in the old row
    try {
      await storeConnectionSecret(c, 'old-a', accessKey.AccessKeySecret);
      expect(await connectionIn(c, 'old-a')).toMatchObject({ Name: 'old-a', SignatureAlgorithm: 'HMAC-SHA1' });
      expect(c.store.db.prepare("SELECT signature_algorithm FROM remote_connections WHERE name = 'old-a'").get()).toEqual({ signature_algorithm: null });
      const described = await call(c, 'DescribeKey', { KeyId: `remote/old-a/${keyId}` });
      expect(described.KeyMetadata.KeyId).toBe(`remote/old-a/${keyId}`);
      expectScheme('HMAC-SHA1', 'DescribeKey', accessKey.AccessKeyId);
      // The scheme is authenticated: setting one in the old row (here, V3 instead of V1) breaks its MAC.
      c.store.db.prepare("UPDATE remote_connections SET signature_algorithm = 'ACS3-HMAC-SHA256' WHERE name = 'old-a'").run();
      const refused = await fails(c, 'ListRemoteConnections');
      expect(refused.error.Code).toBe('Vault.Corrupt');
      expect(refused.error.Message).toMatch(/remote_connections row "old-a" fails its integrity check/);
      c.store.db.prepare("UPDATE remote_connections SET signature_algorithm = NULL WHERE name = 'old-a'").run();
      expect(await connectionIn(c, 'old-a')).toMatchObject({ SignatureAlgorithm: 'HMAC-SHA1' });
      await call(c, 'RemoveRemoteConnection', { Name: 'old-a' }); // and its secret leaves the keychain
    } finally {
      await c.close();
    }
  });
});

describe('deskkms remote add --signature-algorithm', () => {
  /** The CLI in a child process, asynchronously: A's server and the relay run in this one. */
  const cli = (vaultDir: string, args: string[]) =>
    new Promise<{ status: number | null; out: Record<string, any> }>((resolve) => {
      execFile(process.execPath, [join(import.meta.dirname, '../../core/hosts/cli/deskkms.ts'), ...args], { encoding: 'utf8', env: { ...process.env, DESKKMS_VAULT: vaultDir } }, (error, stdout, stderr) => {
        const status = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ status, out: JSON.parse(status === 0 ? stdout : stderr) as Record<string, any> });
      });
    });

  it('registers the scheme given, refuses one DeskKMS does not speak naming SignatureAlgorithm, and list-keys signs with it', async () => {
    const dDir = join(dir.path, 'd');
    expect((await cli(dDir, ['init'])).status).toBe(0);
    const secretFile = join(dir.path, 'd-secret.txt');
    writeFileSync(secretFile, `${accessKey.AccessKeySecret}\n`);
    const add = (name: string, algorithm: string) =>
      cli(dDir, ['remote', 'add', '--name', name, '--endpoint', relayHost, '--protocol', 'http', '--access-key-id', accessKey.AccessKeyId, '--access-key-secret-file', secretFile, '--signature-algorithm', algorithm]);
    const refused = await add('d-md5', 'HMAC-MD5');
    expect(refused.status).toBe(1); // AddRemoteConnection refused
    expect(refused.out).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringMatching(/^AddRemoteConnection: SignatureAlgorithm: must be one of ACS3-HMAC-SHA256, ACS3-HMAC-SM3, HMAC-SHA1/) as unknown });
    const added = await add('d-sm3', 'ACS3-HMAC-SM3');
    expect(added.status, JSON.stringify(added.out)).toBe(0);
    expect(added.out.Connection).toMatchObject({ Name: 'd-sm3', SignatureAlgorithm: 'ACS3-HMAC-SM3' });
    seen = [];
    const listed = await cli(dDir, ['remote', 'list-keys', '--name', 'd-sm3']);
    expect(listed.status, JSON.stringify(listed.out)).toBe(0);
    expect(listed.out.Keys.Key).toEqual([expect.objectContaining({ KeyId: `remote/d-sm3/${keyId}`, RemoteKeyId: keyId })]);
    expectScheme('ACS3-HMAC-SM3', 'ListKeys', accessKey.AccessKeyId);
    expect((await cli(dDir, ['remote', 'remove', '--name', 'd-sm3'])).status).toBe(0); // and its secret leaves the keychain
  });
});

describe('remote KMS proxy', () => {
  it("a key disabled in A makes B's call fail with Rejected.Disabled, whichever the scheme", async () => {
    const a = Vault.open(aDir);
    try {
      await call(a, 'DisableKey', { KeyId: keyId });
    } finally {
      await a.close();
    }
    for (const [, name] of SCHEMES) {
      const remote = `remote/${name}/${keyId}`;
      const refused = await fails(b, 'AsymmetricSign', { KeyId: remote, KeyVersionId: versionId, Algorithm: 'SM2DSA', Digest: Buffer.alloc(32).toString('base64') });
      expect(refused.error.Code, name).toBe('Rejected.Disabled');
      expect(refused.error.Message).toMatch(new RegExp(`^remote KMS "${name}"`));
      expect(listAuditEntries(b.store.db, { keyId: remote }).at(-1)?.code).toBe('Rejected.Disabled');
    }
  });

  it('refuses Actions a remote provider does not perform (UnsupportedOperation), and unknown connections', async () => {
    const unknown = await fails(b, 'DescribeKey', { KeyId: `remote/nowhere/${keyId}` });
    expect(unknown.error).toMatchObject({ Code: 'Forbidden.KeyNotFound' });
    expect(unknown.error.Message).toMatch(/no remote KMS connection named "nowhere"/);
    const alias = await fails(b, 'CreateAlias', { KeyId: `remote/a-v3/${keyId}`, AliasName: 'alias/x' });
    expect(alias.error.Code).toBe('UnsupportedOperation');
    expect(alias.error.Message).toMatch(/^CreateAlias is not supported by remote KMS "a-v3"/);
    expect(seen).toEqual([]);
  });

  it('an unreachable remote is Remote.Unavailable naming the connection; local keys keep working', async () => {
    relay!.closeAllConnections();
    await new Promise((resolve) => relay!.close(resolve));
    relay = undefined;
    const down = await fails(b, 'DescribeKey', { KeyId: `remote/a-v3/${keyId}` });
    expect(down.error.Code).toBe('Remote.Unavailable');
    expect(down.error.Message).toMatch(/remote KMS "a-v3" \(http:\/\/127\.0\.0\.1:\d+\) is unreachable/);
    expect(down.httpStatus).toBe(503);
    const local = await call(b, 'CreateKey', { KeySpec: 'EC_P256' });
    expect(local.KeyMetadata.KeyState).toBe('Enabled');
  });
});
