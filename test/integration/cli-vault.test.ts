// The vault from the deskkms command line, as a user runs it (child processes, real keychain).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_NAMES } from '../../core/contract/actions.ts';
import { requireSecretService, tempDir } from './vault-helpers.ts';

const BIN = resolve(import.meta.dirname, '../../core/hosts/cli/deskkms.ts');
let dir: ReturnType<typeof tempDir>;
let vaultDir: string;

function deskkms(args: string[], options: { input?: string; env?: Record<string, string> } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    input: options.input,
    encoding: 'utf8',
    env: { ...process.env, DESKKMS_VAULT: vaultDir, ...options.env },
    maxBuffer: 64 << 20,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json(out: string): Record<string, any> {
  return JSON.parse(out) as Record<string, any>;
}

beforeAll(() => {
  requireSecretService();
  dir = tempDir('deskkms-cli-vault-');
  vaultDir = join(dir.path, 'vault');
});
afterAll(() => dir?.remove());

describe('deskkms vault commands', () => {
  it('init creates a keychain-protected vault and status reports it honestly', () => {
    const init = deskkms(['init']);
    expect(init.status, init.stderr).toBe(0);
    expect(json(init.stdout)).toMatchObject({ VaultPath: vaultDir, KeyCount: 0, Locked: false });
    expect(json(init.stdout).Protection).toMatch(/^OS keychain: Secret Service \(gnome-keyring/);
    const again = deskkms(['init']);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/already holds a vault/);
    const status = json(deskkms(['status']).stdout);
    expect(status).toMatchObject({ VaultPath: vaultDir, KeyCount: 0, Locked: false });
  });

  it('runs Actions with --Param value and prints the response JSON', () => {
    const created = deskkms(['CreateKey', '--KeySpec', 'EC_P256', '--Description', 'release key', '--Tags', '[{"TagKey":"team","TagValue":"rel"}]']);
    expect(created.status, created.stderr).toBe(0);
    const meta = json(created.stdout).KeyMetadata;
    expect(meta).toMatchObject({ KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY', Description: 'release key' });
    expect(json(created.stdout).RequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(deskkms(['CreateAlias', '--KeyId', meta.KeyId, '--AliasName=alias/release']).status).toBe(0);
    const versions = json(deskkms(['ListKeyVersions', '--KeyId', 'alias/release']).stdout);
    const versionId = versions.KeyVersions.KeyVersion[0].KeyVersionId as string;
    const digest = Buffer.alloc(32, 0xab).toString('base64');
    const signed = deskkms(['AsymmetricSign', '--KeyId', 'alias/release', '--KeyVersionId', versionId, '--Algorithm', 'ECDSA_SHA_256', '--Digest', digest]);
    expect(signed.status, signed.stderr).toBe(0);
    const verified = deskkms(['AsymmetricVerify', '--KeyId', 'alias/release', '--KeyVersionId', versionId, '--Algorithm', 'ECDSA_SHA_256', '--Digest', digest, '--Value', json(signed.stdout).Value as string]);
    expect(json(verified.stdout).Value).toBe(true);
    // The offline verify command agrees, with the public key from GetPublicKey.
    const pem = json(deskkms(['GetPublicKey', '--KeyId', meta.KeyId, '--KeyVersionId', versionId]).stdout).PublicKey as string;
    writeFileSync(join(dir.path, 'pub.pem'), pem);
    const offline = deskkms(['verify', '--public-key', join(dir.path, 'pub.pem'), '--algorithm', 'ECDSA_SHA_256', '--digest', digest, '--signature', json(signed.stdout).Value as string]);
    expect(offline).toMatchObject({ status: 0, stdout: 'valid\n' });
  });

  it('operation errors exit 1 with {"Code","Message","RequestId"}; usage errors exit 2', () => {
    const notFound = deskkms(['DescribeKey', '--KeyId', 'alias/none']);
    expect(notFound.status).toBe(1);
    const error = json(notFound.stderr);
    expect(Object.keys(error)).toEqual(['Code', 'Message', 'RequestId']);
    expect(error.Code).toBe('Forbidden.AliasNotFound');
    // Parameter names are the command line's: checked before the vault opens, usage errors (exit 2).
    const missing = deskkms(['CreateKey']);
    expect(missing.status).toBe(2);
    expect(json(missing.stderr)).toMatchObject({ Code: 'MissingParameter', Message: '--KeySpec is required; run "deskkms CreateKey --help"' });
    const unknownParam = deskkms(['CreateKey', '--KeySpec', 'EC_P256', '--Colour', 'blue']);
    expect(unknownParam.status).toBe(2);
    expect(json(unknownParam.stderr)).toMatchObject({ Code: 'InvalidParameter', Message: '--Colour is not a parameter of CreateKey; run "deskkms CreateKey --help"' });
    const dangling = deskkms(['CreateKey', '--KeySpec']);
    expect(dangling.status).toBe(2);
    expect(json(dangling.stderr).Message).toBe('--KeySpec needs a value');
    const stray = deskkms(['CreateKey', 'EC_P256']);
    expect(stray.status).toBe(2);
    const noVault = deskkms(['ListKeys'], { env: { DESKKMS_VAULT: join(dir.path, 'nowhere') } });
    expect(noVault.status).toBe(1);
    expect(json(noVault.stderr).Message).toMatch(/holds no vault; create one with "deskkms init/);
  });

  it('documents every Action in --help, with its parameters', () => {
    const help = deskkms(['--help']).stdout;
    for (const action of ACTION_NAMES) expect(help).toContain(action);
    const createKeyHelp = deskkms(['CreateKey', '--help']);
    expect(createKeyHelp.status).toBe(0);
    expect(createKeyHelp.stdout).toMatch(/--KeySpec +required; one of RSA_2048/);
    expect(createKeyHelp.stdout).toMatch(/--Tags +optional/);
  });

  it('batch: one response per line, in order, errors in place, one unlock for all (more lines than it keeps in flight)', () => {
    const keyId = json(deskkms(['CreateKey', '--KeySpec', 'RSA_2048', '--KeyUsage', 'SIGN/VERIFY']).stdout).KeyMetadata.KeyId as string;
    const versionId = json(deskkms(['ListKeyVersions', '--KeyId', keyId]).stdout).KeyVersions.KeyVersion[0].KeyVersionId as string;
    const lines: string[] = [];
    // 1,100 signatures, past twice the 512 requests batch keeps in flight, with failures among them
    for (let i = 0; i < 1100; i++) {
      const digest = createHash('sha256').update(`line ${i}`).digest('base64');
      lines.push(JSON.stringify({ Action: 'AsymmetricSign', KeyId: keyId, KeyVersionId: versionId, Algorithm: 'RSA_PKCS1_SHA_256', Digest: digest }));
      if (i === 50) lines.push('{not json');
      if (i === 100) lines.push(JSON.stringify({ Action: 'DescribeKey', KeyId: 'alias/none' }));
      if (i === 300) lines.push(JSON.stringify({ Action: 'DescribeKey', KeyId: 'alias/also-none' }));
    }
    const run = deskkms(['batch'], { input: `${lines.join('\n')}\n` });
    expect(run.status).toBe(1); // three lines failed
    const out = run.stdout.trim().split('\n').map((l) => json(l));
    expect(out).toHaveLength(1103);
    expect(out[51]).toMatchObject({ Code: 'InvalidParameter', Message: 'line 52: not valid JSON' });
    expect(out[102]).toMatchObject({ Code: 'Forbidden.AliasNotFound', Message: expect.stringContaining('alias/none') });
    expect(out[303]).toMatchObject({ Code: 'Forbidden.AliasNotFound', Message: expect.stringContaining('alias/also-none') });
    // Order: PKCS#1 v1.5 is deterministic, so each response can be matched to its request.
    const signedOnly = out.filter((o) => 'Value' in o);
    expect(signedOnly).toHaveLength(1100);
    for (const i of [150, 600, 1099]) {
      const digest = createHash('sha256').update(`line ${i}`).digest('base64');
      const single = json(deskkms(['AsymmetricSign', '--KeyId', keyId, '--KeyVersionId', versionId, '--Algorithm', 'RSA_PKCS1_SHA_256', '--Digest', digest]).stdout);
      expect(signedOnly[i]!.Value, `line of signature ${i}`).toBe(single.Value);
    }
    expect(new Set(signedOnly.map((o) => o.Value)).size).toBe(1100);
  });

  it('batch answers each request as soon as it is done, so a co-process can wait for every answer', async () => {
    const child = spawn(process.execPath, [BIN, 'batch'], { env: { ...process.env, DESKKMS_VAULT: vaultDir } });
    const rl = createInterface({ input: child.stdout });
    const next = () => new Promise<string>((done) => rl.once('line', done));
    for (let i = 0; i < 3; i++) {
      const answer = next();
      child.stdin.write(`${JSON.stringify({ Action: 'ListKeys', PageSize: 1 })}\n`); // stdin stays open
      expect(json(await answer).TotalCount).toBeGreaterThan(0);
    }
    child.stdin.end();
    expect(await new Promise((done) => child.once('exit', done))).toBe(0);
  });

  it('batch sees another process disable a key before the next request it is sent (its view of the vault is renewed as input arrives)', async () => {
    const created = json(deskkms(['CreateKey', '--KeySpec', 'EC_P256']).stdout);
    const keyId = created.KeyMetadata.KeyId as string;
    const child = spawn(process.execPath, [BIN, 'batch'], { env: { ...process.env, DESKKMS_VAULT: vaultDir } });
    const rl = createInterface({ input: child.stdout });
    const ask = (request: Record<string, unknown>) => {
      const answer = new Promise<string>((done) => rl.once('line', done));
      child.stdin.write(`${JSON.stringify(request)}\n`);
      return answer.then(json);
    };
    const sign = () => ask({ Action: 'AsymmetricSign', KeyId: keyId, KeyVersionId: created.KeyVersionId, Algorithm: 'ECDSA_SHA_256', Digest: Buffer.alloc(32, 7).toString('base64') });
    expect(await sign()).toHaveProperty('Value');
    expect(await sign()).toHaveProperty('Value'); // the key's rows are served from memory now
    expect(deskkms(['DisableKey', '--KeyId', keyId]).status).toBe(0);
    expect(await sign()).toMatchObject({ Code: 'Rejected.Disabled' });
    expect(deskkms(['EnableKey', '--KeyId', keyId]).status).toBe(0);
    expect(await sign()).toHaveProperty('Value');
    child.stdin.end();
    expect(await new Promise((done) => child.once('exit', done))).toBe(1); // one request failed
  });

  it('csr: a PKCS#10 request signed inside the vault that openssl verifies; disabled keys are refused', () => {
    for (const [spec, verifyOpts] of [
      ['EC_SM2', ['-vfyopt', 'distid:1234567812345678']],
      ['RSA_3072', []],
    ] as const) {
      const keyId = json(deskkms(['CreateKey', '--KeySpec', spec, '--KeyUsage', 'SIGN/VERIFY']).stdout).KeyMetadata.KeyId as string;
      const versionId = json(deskkms(['ListKeyVersions', '--KeyId', keyId]).stdout).KeyVersions.KeyVersion[0].KeyVersionId as string;
      const out = join(dir.path, `${spec}.csr`);
      const made = deskkms(['csr', keyId, '--version', versionId, '--subject', 'CN=release.example.com,O=Example\\, Inc.,C=CN', '--san', 'DNS:release.example.com', '--san', 'IP:192.0.2.7', '--ext-key-usage', 'codeSigning', '-o', out]);
      expect(made.status, made.stderr).toBe(0);
      const verified = spawnSync('openssl', ['req', '-verify', '-noout', '-in', out, ...verifyOpts], { encoding: 'utf8' });
      expect(verified.stderr).toMatch(/verify OK/); // openssl 3.0 exits 0 even on failure: read its verdict
      const text = spawnSync('openssl', ['req', '-text', '-noout', '-in', out], { encoding: 'utf8' }).stdout;
      expect(text).toContain('DNS:release.example.com');
      expect(text).toContain('IP Address:192.0.2.7');
      expect(text).toMatch(/O = "Example, Inc\."/);
      expect(text).toContain(spec === 'EC_SM2' ? 'SM2-with-SM3' : 'sha256WithRSAEncryption');
      deskkms(['DisableKey', '--KeyId', keyId]);
      const refused = deskkms(['csr', keyId, '--version', versionId, '--subject', 'CN=x']);
      expect(refused.status).toBe(1); // a refused Action (usage errors exit 2)
      expect(json(refused.stderr)).toMatchObject({ Code: 'Rejected.Disabled' });
    }
  });

  it('pubkey --bundle writes every format; ssh-keygen and openssl read them', () => {
    const keyId = json(deskkms(['CreateKey', '--KeySpec', 'EC_P256']).stdout).KeyMetadata.KeyId as string;
    const versionId = json(deskkms(['ListKeyVersions', '--KeyId', keyId]).stdout).KeyVersions.KeyVersion[0].KeyVersionId as string;
    const bundleDir = join(dir.path, 'bundle');
    const made = deskkms(['pubkey', keyId, '--version', versionId, '--bundle', bundleDir]);
    expect(made.status, made.stderr).toBe(0);
    const manifest = json(made.stdout).Manifest;
    expect(manifest).toMatchObject({ KeyId: keyId, KeyVersionId: versionId, KeySpec: 'EC_P256' });
    const ssh = spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(bundleDir, `${versionId}.pub`)], { encoding: 'utf8' });
    expect(ssh.status).toBe(0);
    expect(ssh.stdout).toContain(manifest.fingerprints.openssh as string);
    expect(spawnSync('openssl', ['pkey', '-pubin', '-inform', 'DER', '-in', join(bundleDir, `${versionId}.pub.der`), '-noout']).status).toBe(0);
    const again = deskkms(['pubkey', keyId, '--version', versionId, '--bundle', bundleDir]);
    expect(again.status).toBe(2); // never overwrites a bundle
  });

  it('two processes writing one vault at the same time lose nothing and keep one chain', async () => {
    const before = json(deskkms(['ListKeys']).stdout).TotalCount as number;
    const requests = Array.from({ length: 40 }, (_, i) => JSON.stringify({ Action: 'CreateKey', KeySpec: i % 2 ? 'EC_P256' : 'EC_SM2', KeyUsage: 'SIGN/VERIFY' })).join('\n');
    const runBatch = () =>
      new Promise<{ status: number | null; stdout: string }>((done) => {
        const child = spawn(process.execPath, [BIN, 'batch'], { env: { ...process.env, DESKKMS_VAULT: vaultDir } });
        let stdout = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.on('close', (status) => done({ status, stdout }));
        child.stdin.end(`${requests}\n`);
      });
    const [a, b] = await Promise.all([runBatch(), runBatch()]);
    expect([a.status, b.status]).toEqual([0, 0]);
    const ids = [...a.stdout.trim().split('\n'), ...b.stdout.trim().split('\n')].map((l) => json(l).KeyMetadata.KeyId as string);
    expect(new Set(ids).size).toBe(80);
    expect(json(deskkms(['ListKeys']).stdout).TotalCount).toBe(before + 80);
    for (const id of [ids[0]!, ids[79]!]) expect(deskkms(['DescribeKey', '--KeyId', id]).status).toBe(0);
    expect(deskkms(['audit', 'verify']).status).toBe(0);
  });

  it('access-key and remote are their Actions: refused ones (bad policy, bad endpoint, taken name) are in audit list with their Code', () => {
    const badPolicy = deskkms(['access-key', 'create', '--policy', '{"Actions":["CreateAccessKey"],"Keys":["*"]}']);
    expect(badPolicy.status).toBe(1);
    expect(json(badPolicy.stderr)).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringMatching(/^CreateAccessKey: Policy: CreateAccessKey is a local-only DeskKMS Action/) as unknown });
    const created = deskkms(['access-key', 'create', '--description', 'cli']);
    expect(created.status, created.stderr).toBe(0);
    const key = json(created.stdout) as { AccessKeyId: string; AccessKeySecret: string; RequestId: string };
    const disabled = deskkms(['access-key', 'disable', '--id', key.AccessKeyId]);
    expect(json(disabled.stdout)).toMatchObject({ AccessKeyId: key.AccessKeyId, Result: 'Disabled' });
    expect(json(deskkms(['access-key', 'list']).stdout).AccessKeys).toEqual([expect.objectContaining({ AccessKeyId: key.AccessKeyId, State: 'Disabled' })]);
    expect(json(deskkms(['access-key', 'delete', '--id', key.AccessKeyId]).stdout)).toMatchObject({ Result: 'Deleted' });
    expect(deskkms(['access-key', 'delete', '--id', key.AccessKeyId]).status).toBe(1);

    const secretFile = join(dir.path, 'ak-secret.txt');
    writeFileSync(secretFile, 'cli-remote-secret\n');
    const remote = (name: string, endpoint: string) =>
      deskkms(['remote', 'add', '--name', name, '--endpoint', endpoint, '--access-key-id', 'LTAIexample', '--access-key-secret-file', secretFile]);
    const badEndpoint = remote('prod', 'https://kms.example.com/');
    expect(badEndpoint.status).toBe(1);
    expect(json(badEndpoint.stderr)).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringMatching(/^AddRemoteConnection: Endpoint: must be host or host:port/) as unknown });
    const added = remote('prod', 'kms.cn-hangzhou.aliyuncs.com');
    expect(added.status, added.stderr).toBe(0);
    expect(json(added.stdout).Connection).toMatchObject({ Name: 'prod', Endpoint: 'kms.cn-hangzhou.aliyuncs.com', Protocol: 'https', RegionId: 'cn-hangzhou' });
    const taken = remote('prod', 'evil.example.com');
    expect(taken.status).toBe(1);
    expect(json(taken.stderr).Message).toMatch(/a connection named "prod" already exists/);
    expect(json(deskkms(['remote', 'list']).stdout).Connections).toEqual([expect.objectContaining({ Name: 'prod', Endpoint: 'kms.cn-hangzhou.aliyuncs.com' })]);
    expect(json(deskkms(['remote', 'remove', '--name', 'prod']).stdout)).toMatchObject({ Connection: 'prod', Result: 'Removed' });

    const audited = (action: string) => (json(deskkms(['audit', 'list', '--action', action]).stdout).Entries as { code: string; keyId: string | null; caller: string }[]).map((e) => [e.code, e.keyId]);
    expect(audited('CreateAccessKey')).toEqual([
      ['InvalidParameter', null],
      ['OK', key.AccessKeyId],
    ]);
    expect(audited('DeleteAccessKey')).toEqual([
      ['OK', key.AccessKeyId],
      ['InvalidAccessKeyId.NotFound', key.AccessKeyId],
    ]);
    expect(audited('AddRemoteConnection')).toEqual([
      ['InvalidParameter', null],
      ['OK', 'remote/prod'],
      ['InvalidParameter', 'remote/prod'],
    ]);
    expect(audited('RemoveRemoteConnection')).toEqual([['OK', 'remote/prod']]);
    const log = deskkms(['audit', 'list']).stdout;
    expect(log).not.toContain('cli-remote-secret');
    expect(log).not.toContain(key.AccessKeySecret);
  });

  it('audit list filters and audit verify proves the chain; a tampered log fails verify with exit 1', async () => {
    const list = deskkms(['audit', 'list', '--action', 'AsymmetricSign']);
    expect(list.status).toBe(0);
    const entries = json(list.stdout).Entries as { action: string; code: string; caller: string }[];
    expect(entries.length).toBeGreaterThanOrEqual(201);
    expect(entries.every((e) => e.action === 'AsymmetricSign' && e.caller === 'cli')).toBe(true);
    const table = deskkms(['audit', 'list', '--format', 'table', '--limit', '3']);
    expect(table.stdout).toMatch(/SEQ\s+TIME\s+ACTION/);
    expect(deskkms(['audit', 'list', '--since', 'yesterday']).status).toBe(1);
    const verify = deskkms(['audit', 'verify']);
    expect(verify.status).toBe(0);
    expect(json(verify.stdout)).toMatchObject({ ok: true });

    const Database = (await import('better-sqlite3')).default;
    const db = new Database(join(vaultDir, 'vault.db'));
    db.prepare("UPDATE audit_log SET caller = 'someone-else' WHERE seq = 5").run();
    db.close();
    const broken = deskkms(['audit', 'verify']);
    expect(broken.status).toBe(1);
    expect(json(broken.stdout)).toMatchObject({ ok: false, firstBroken: 5 });
  });
});
