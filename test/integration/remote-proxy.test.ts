// Vault B uses vault A's keys through A's deskkms serve, via the official SDK inside B's remote
// provider: the signature verifies with A's public key and openssl; A disabling the key makes
// B's call fail with Rejected.Disabled; A going away is a clear error naming the connection,
// and B's own keys keep working.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEntries } from '../../core/audit/audit-log.ts';
import { Vault } from '../../core/vault/vault.ts';
import { call, fails, requireSecretService, serveInProcess, tempDir } from './vault-helpers.ts';

let dir: ReturnType<typeof tempDir>;
let aDir: string;
let endpoint: URL;
let serverA: Awaited<ReturnType<typeof serveInProcess>> | undefined;
let b: Vault;
let keyId: string;
let versionId: string;

async function startA(): Promise<void> {
  serverA = await serveInProcess(aDir);
  endpoint = serverA.endpoint;
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
  await a.close();
  await startA();

  b = await Vault.init(join(dir.path, 'b'));
  await call(b, 'AddRemoteConnection', { Name: 'vault-a', Endpoint: endpoint.host, Protocol: 'http', AccessKeyId: ak.AccessKeyId, AccessKeySecret: ak.AccessKeySecret });
});

afterAll(async () => {
  await serverA?.stop().catch(() => undefined);
  await b?.close();
  dir?.remove();
});

describe('remote KMS proxy', () => {
  it('lists the connection without its secret, and the remote keys with their connection', async () => {
    const { Connections: [conn] } = await call(b, 'ListRemoteConnections');
    expect(conn).toMatchObject({ Name: 'vault-a', Endpoint: endpoint.host, Protocol: 'http', RegionId: 'cn-hangzhou' });
    expect(JSON.stringify(conn)).not.toMatch(/secret/i);
    const stored = b.store.db.prepare('SELECT * FROM remote_connections').all();
    expect(JSON.stringify(stored)).not.toMatch(/Secret/);
    // ListRemoteKeys: the remote's ListKeys, each KeyId once in this vault's namespace, audited here.
    const listed = await call(b, 'ListRemoteKeys', { Connection: 'vault-a', PageSize: 100 });
    expect(listed).toMatchObject({ Connection: 'vault-a', TotalCount: 1, PageNumber: 1, PageSize: 100 });
    expect(listed.Keys.Key).toEqual([expect.objectContaining({ KeyId: `remote/vault-a/${keyId}`, RemoteKeyId: keyId })]);
    const [entry] = listAuditEntries(b.store.db, { action: 'ListRemoteKeys' });
    expect(entry).toMatchObject({ keyId: 'remote/vault-a', code: 'OK', requestId: listed.RequestId });
  });

  it('signs through B with A\'s key; the signature verifies with A\'s public key and openssl', async () => {
    const remote = `remote/vault-a/${keyId}`;
    const described = await call(b, 'DescribeKey', { KeyId: remote });
    expect(described.KeyMetadata).toMatchObject({ KeyId: remote, KeySpec: 'EC_SM2' });
    const message = Buffer.from('signed by a key that lives in vault A');
    const pem = (await call(b, 'GetPublicKey', { KeyId: remote, KeyVersionId: versionId })).PublicKey as string;
    writeFileSync(join(dir.path, 'a.pem'), pem);
    writeFileSync(join(dir.path, 'msg.bin'), message);
    const digest = execFileSync(process.execPath, [join(import.meta.dirname, '../../core/hosts/cli/deskkms.ts'), 'digest', '--algorithm', 'SM2DSA', '--in', join(dir.path, 'msg.bin'), '--public-key', join(dir.path, 'a.pem')], { encoding: 'utf8' }).trim();
    const signed = await call(b, 'AsymmetricSign', { KeyId: remote, KeyVersionId: versionId, Algorithm: 'SM2DSA', Digest: digest });
    expect(signed).toMatchObject({ KeyId: remote, KeyVersionId: versionId });
    writeFileSync(join(dir.path, 'sig.bin'), Buffer.from(signed.Value as string, 'base64'));
    const verdict = execFileSync('openssl', ['dgst', '-sm3', '-sigopt', 'distid:1234567812345678', '-verify', join(dir.path, 'a.pem'), '-signature', join(dir.path, 'sig.bin'), join(dir.path, 'msg.bin')]);
    expect(verdict.toString()).toContain('Verified OK');
    // An alias on A works through the prefix too.
    expect((await call(b, 'DescribeKey', { KeyId: 'remote/vault-a/alias/team-signing' })).KeyMetadata.KeyId).toBe(remote);
    // Audited locally in B against the remote key.
    expect(listAuditEntries(b.store.db, { keyId: remote, action: 'AsymmetricSign' })).toHaveLength(1);
  });

  it('a key disabled in A makes B\'s call fail with Rejected.Disabled', async () => {
    const a = Vault.open(aDir);
    try {
      await call(a, 'DisableKey', { KeyId: keyId });
    } finally {
      await a.close();
    }
    const refused = await fails(b, 'AsymmetricSign', { KeyId: `remote/vault-a/${keyId}`, KeyVersionId: versionId, Algorithm: 'SM2DSA', Digest: Buffer.alloc(32).toString('base64') });
    expect(refused.error.Code).toBe('Rejected.Disabled');
    expect(refused.error.Message).toMatch(/^remote KMS "vault-a"/);
    expect(listAuditEntries(b.store.db, { keyId: `remote/vault-a/${keyId}` }).at(-1)?.code).toBe('Rejected.Disabled');
  });

  it('refuses Actions a remote provider does not perform (UnsupportedOperation), and unknown connections', async () => {
    const unknown = await fails(b, 'DescribeKey', { KeyId: `remote/nowhere/${keyId}` });
    expect(unknown.error).toMatchObject({ Code: 'Forbidden.KeyNotFound' });
    expect(unknown.error.Message).toMatch(/no remote KMS connection named "nowhere"/);
    const alias = await fails(b, 'CreateAlias', { KeyId: `remote/vault-a/${keyId}`, AliasName: 'alias/x' });
    expect(alias.error.Code).toBe('UnsupportedOperation');
    expect(alias.error.Message).toMatch(/^CreateAlias is not supported by remote KMS "vault-a"/);
  });

  it('an unreachable remote is Remote.Unavailable naming the connection; local keys keep working', async () => {
    await serverA!.stop();
    const down = await fails(b, 'DescribeKey', { KeyId: `remote/vault-a/${keyId}` });
    expect(down.error.Code).toBe('Remote.Unavailable');
    expect(down.error.Message).toMatch(/remote KMS "vault-a" \(http:\/\/127\.0\.0\.1:\d+\) is unreachable/);
    expect(down.httpStatus).toBe(503);
    const local = await call(b, 'CreateKey', { KeySpec: 'EC_P256' });
    expect(local.KeyMetadata.KeyState).toBe('Enabled');
  });
});
