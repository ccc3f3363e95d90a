// deskkms serve as a real process: access keys issued with the CLI, the official SDK as client,
// loopback by default, a warning for other addresses, and a SIGTERM under load that loses no
// audit entry of an answered request.
import { spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEntries, verifyAuditChain } from '../../core/audit/audit-log.ts';
import { KmsClient, SdkConfig, kmsSdk } from '../support/alibaba-sdk.ts';
import { Vault } from '../../core/vault/vault.ts';
import { spawnUntilFirstLine } from '../support/child-process.ts';
import { requireSecretService, tempDir } from './vault-helpers.ts';

const BIN = resolve(import.meta.dirname, '../../core/hosts/cli/deskkms.ts');
let dir: ReturnType<typeof tempDir>;
let vaultDir: string;

function deskkms(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, DESKKMS_VAULT: vaultDir } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function startServe(args: string[] = []): Promise<{ child: ChildProcessWithoutNullStreams; endpoint: URL; stderr: () => string }> {
  const serve = await spawnUntilFirstLine(process.execPath, [BIN, 'serve', ...args], { env: { ...process.env, DESKKMS_VAULT: vaultDir } });
  return { child: serve.child, endpoint: new URL((JSON.parse(serve.firstLine) as { Endpoint: string }).Endpoint), stderr: serve.stderr };
}

function sdk(endpoint: URL, id: string, secret: string): KmsClient {
  return new KmsClient(new SdkConfig({ accessKeyId: id, accessKeySecret: secret, endpoint: endpoint.host, protocol: 'http', regionId: 'cn-hangzhou' }));
}

beforeAll(() => {
  requireSecretService();
  dir = tempDir('deskkms-serve-');
  vaultDir = join(dir.path, 'vault');
  expect(deskkms(['init']).status).toBe(0);
});
afterAll(() => dir?.remove());

describe('deskkms serve', () => {
  it('access-key create prints the secret once; list never shows it; a policy is validated', () => {
    const created = deskkms(['access-key', 'create', '--policy', '{"Actions":["*"],"Keys":["*"]}', '--description', 'ci']);
    expect(created.status, created.stderr).toBe(0);
    const key = JSON.parse(created.stdout) as { AccessKeyId: string; AccessKeySecret: string };
    expect(key.AccessKeyId).toMatch(/^DKMS[A-Za-z0-9]{20}$/);
    expect(key.AccessKeySecret).toMatch(/^[A-Za-z0-9]{30}$/);
    const listed = deskkms(['access-key', 'list']);
    expect(listed.stdout).toContain(key.AccessKeyId);
    expect(listed.stdout).not.toContain(key.AccessKeySecret);
    const bad = deskkms(['access-key', 'create', '--policy', '{"Actions":["Frobnicate"],"Keys":["*"]}']);
    expect(bad.status).toBe(1); // CreateAccessKey refused
    expect(bad.stderr).toMatch(/each action must be/);
  });

  it('binds loopback by default and warns for another address', async () => {
    const loop = await startServe();
    expect(loop.endpoint.hostname).toBe('127.0.0.1');
    expect(loop.stderr()).not.toMatch(/WARNING/);
    loop.child.kill('SIGTERM');
    await new Promise((done) => loop.child.once('exit', done));
    const wide = await startServe(['--listen', '0.0.0.0:0']);
    expect(wide.stderr()).toMatch(/WARNING: listening on 0\.0\.0\.0, reachable from other machines/);
    wide.child.kill('SIGTERM');
    await new Promise((done) => wide.child.once('exit', done));
    expect(deskkms(['serve', '--listen', 'nonsense']).status).toBe(2);
  });

  it('SIGTERM under load: answered requests are all audited, the chain verifies, the process exits 0', async () => {
    const key = JSON.parse(deskkms(['access-key', 'create']).stdout) as { AccessKeyId: string; AccessKeySecret: string };
    const created = JSON.parse(deskkms(['CreateKey', '--KeySpec', 'EC_P256']).stdout) as { KeyMetadata: { KeyId: string } };
    const keyId = created.KeyMetadata.KeyId;
    const versionId = (JSON.parse(deskkms(['ListKeyVersions', '--KeyId', keyId]).stdout) as { KeyVersions: { KeyVersion: { KeyVersionId: string }[] } })
      .KeyVersions.KeyVersion[0]!.KeyVersionId;
    const { child, endpoint } = await startServe();
    const exited = new Promise<number | null>((done) => child.once('exit', done));
    const answered: string[] = [];
    let refused = 0;
    const worker = async (n: number): Promise<void> => {
      const client = sdk(endpoint, key.AccessKeyId, key.AccessKeySecret);
      for (let i = 0; i < 200; i++) {
        try {
          const r = await client.asymmetricSign(
            new kmsSdk.AsymmetricSignRequest({ keyId, keyVersionId: versionId, algorithm: 'ECDSA_SHA_256', digest: Buffer.alloc(32, (n * 7 + i) & 0xff).toString('base64') }),
          );
          answered.push(r.requestId);
        } catch {
          refused++;
          return; // the server is going away
        }
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, (_, n) => worker(n)));
    await new Promise((done) => setTimeout(done, 400));
    child.kill('SIGTERM');
    await load;
    expect(await exited).toBe(0);
    expect(answered.length).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0); // the stop really landed mid-load

    const vault = Vault.open(vaultDir);
    try {
      const audited = new Set(listAuditEntries(vault.store.db, { action: 'AsymmetricSign' }).map((e) => e.requestId));
      const missing = answered.filter((id) => !audited.has(id));
      expect(missing).toEqual([]);
      expect(verifyAuditChain(vault.store.db).ok).toBe(true);
    } finally {
      await vault.close();
    }
  });
});
