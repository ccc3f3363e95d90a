// Load on deskkms serve: 32 concurrent official-SDK clients signing with EC_P256 for a fixed time
// (30 s by default; API_LOAD_SECONDS overrides), against a passphrase vault (no keychain needed),
// reported beside in-process baselines measured in the same run. Traffic goes to 127.0.0.1 only.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { dispatch } from '../../core/actions/dispatch.ts';
import { generateKey, signDigest } from '../../core/crypto/engine.ts';
import { KmsClient, SdkConfig, kmsSdk } from '../support/alibaba-sdk.ts';
import { apiCaller, describeSpec, type ClientSpec } from '../support/api-clients.ts';
import { Vault } from '../../core/vault/vault.ts';
import { fmt, opsPerSecond, printTable } from './measure.ts';
import { QUICK, record, say } from './summary.ts';

const BIN = resolve(import.meta.dirname, '../../core/hosts/cli/deskkms.ts');
const CLIENTS = 32;

/** CPU seconds a child process has used so far (user + system), from /proc; NaN where there is none. */
function childCpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds this process has used so far. */
function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/**
 * The same clients against a server that costs nothing: a child process answering every request
 * with a canned AsymmetricSign response at once. What any server could reach with these clients on
 * this machine (the clients and the server share its cores).
 */
async function clientCeiling(clients: number, seconds: number): Promise<number> {
  const stub = spawn(
    process.execPath,
    [
      '-e',
      `const body = JSON.stringify({ RequestId: 'r', KeyId: 'k', KeyVersionId: 'v', Value: 'AAAA' });
       const s = require('node:http').createServer((q, a) => { q.resume(); q.on('end', () => a.writeHead(200, { 'content-type': 'application/json' }).end(body)); });
       s.listen(0, '127.0.0.1', () => console.log(s.address().port));`,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  try {
    const port = await new Promise<string>((done) => createInterface({ input: stub.stdout }).once('line', done));
    let n = 0;
    const deadline = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        const client = new KmsClient(new SdkConfig({ accessKeyId: 'AK', accessKeySecret: 'SK', endpoint: `127.0.0.1:${port}`, protocol: 'http', regionId: 'cn-hangzhou' }));
        for (let i = 0; performance.now() < deadline; i++) {
          await client.asymmetricSign(new kmsSdk.AsymmetricSignRequest({ keyId: 'k', keyVersionId: 'v', algorithm: 'ECDSA_SHA_256', digest: Buffer.alloc(32, (c * 31 + i) & 0xff).toString('base64') }));
          n++;
        }
      }),
    );
    return n / seconds;
  } finally {
    stub.kill();
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export async function apiLoad(seconds = Number(process.env.API_LOAD_SECONDS ?? 30)): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'deskkms-api-load-'));
  const vaultDir = join(dir, 'vault');
  const passFile = join(dir, 'pass');
  writeFileSync(passFile, 'bench passphrase\n');
  const env = { ...process.env, DESKKMS_VAULT: vaultDir, DESKKMS_PASSPHRASE_FILE: passFile };
  const run = (args: string[]): Record<string, any> => {
    const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`deskkms ${args[0]} failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, any>;
  };
  let child: ReturnType<typeof spawn> | undefined;
  try {
    run(['init']);
    const created = run(['CreateKey', '--KeySpec', 'EC_P256']);
    const keyId = created.KeyMetadata.KeyId as string;
    const versionId = created.KeyVersionId as string;
    const ak = run(['access-key', 'create']);
    // stderr carries an access-log line per request: it must be drained (or ignored), or serve blocks on the full pipe.
    const server = spawn(process.execPath, [BIN, 'serve'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    child = server;
    const line = await new Promise<string>((done, fail) => {
      createInterface({ input: server.stdout }).once('line', done);
      server.once('exit', (code) => fail(new Error(`serve exited ${code}`)));
    });
    const endpoint = new URL((JSON.parse(line) as { Endpoint: string }).Endpoint);

    const latencies: number[] = [];
    const errors: string[] = [];
    const cpuBefore = { server: childCpuSeconds(server.pid), clients: ownCpuSeconds() };
    const deadline = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, n) => {
        const client = new KmsClient(new SdkConfig({ accessKeyId: ak.AccessKeyId, accessKeySecret: ak.AccessKeySecret, endpoint: endpoint.host, protocol: 'http', regionId: 'cn-hangzhou' }));
        for (let i = 0; performance.now() < deadline; i++) {
          const digest = Buffer.alloc(32, (n * 31 + i) & 0xff).toString('base64');
          const t0 = performance.now();
          try {
            await client.asymmetricSign(new kmsSdk.AsymmetricSignRequest({ keyId, keyVersionId: versionId, algorithm: 'ECDSA_SHA_256', digest }));
            latencies.push(performance.now() - t0);
          } catch (error) {
            errors.push(String((error as Error).message).slice(0, 120));
          }
        }
      }),
    );
    const cpu = { server: childCpuSeconds(server.pid) - cpuBefore.server, clients: ownCpuSeconds() - cpuBefore.clients };
    // Each signature scheme's cost through the server: a few clients per library and scheme, each
    // row for the same time, as a ratio to the official SDK's V1 row measured here too.
    const schemeSeconds = Math.max(2, Math.round(seconds / 6));
    const schemeClients = 8;
    const credentials = { accessKeyId: ak.AccessKeyId as string, accessKeySecret: ak.AccessKeySecret as string };
    const schemeRows: { name: string; perSecond: number; errors: number }[] = [];
    const measureScheme = async (name: string, sign: (digest: string) => Promise<unknown>): Promise<void> => {
      let done = 0;
      let failed = 0;
      const until = performance.now() + schemeSeconds * 1000;
      await Promise.all(
        Array.from({ length: schemeClients }, async (_, n) => {
          for (let i = 0; performance.now() < until; i++) {
            try {
              await sign(Buffer.alloc(32, (n * 17 + i) & 0xff).toString('base64'));
              done++;
            } catch {
              failed++;
            }
          }
        }),
      );
      schemeRows.push({ name, perSecond: done / schemeSeconds, errors: failed });
    };
    // --quick: the load figure only.
    if (!QUICK) {
      const sdk = new KmsClient(new SdkConfig({ ...credentials, endpoint: endpoint.host, protocol: 'http', regionId: 'cn-hangzhou' }));
      await measureScheme('@alicloud/kms20160120 HMAC-SHA1 GET query', (digest) =>
        sdk.asymmetricSign(new kmsSdk.AsymmetricSignRequest({ keyId, keyVersionId: versionId, algorithm: 'ECDSA_SHA_256', digest })),
      );
      const specs: ClientSpec[] = [
        { library: 'openapi-client', scheme: 'ACS3-HMAC-SHA256', transport: 'POST query' },
        { library: 'openapi-client', scheme: 'ACS3-HMAC-SM3', transport: 'POST query' },
        { library: 'openapi-client', scheme: 'HMAC-SHA1', transport: 'POST query' },
        { library: 'pop-core', scheme: 'HMAC-SHA1', transport: 'POST form' },
      ];
      for (const spec of specs) {
        const caller = apiCaller(spec, endpoint, credentials);
        await measureScheme(describeSpec(spec), (digest) => caller.call('AsymmetricSign', { KeyId: keyId, KeyVersionId: versionId, Algorithm: 'ECDSA_SHA_256', Digest: digest }));
      }
    }

    server.kill('SIGTERM');
    await new Promise((done) => server.once('exit', done));
    child = undefined;

    // Baselines in this process: the bare engine, and the whole in-process path (dispatch: validation, audit, worker).
    const key = await generateKey('EC_P256');
    const digest = Buffer.alloc(32, 1);
    const engine = opsPerSecond(() => signDigest(key, 'ECDSA_SHA_256', digest), QUICK ? 0.5 : 2);
    const vault = Vault.open(vaultDir, { passphrase: Buffer.from('bench passphrase') });
    const inProcess = await (async () => {
      const params = { KeyId: keyId, KeyVersionId: versionId, Algorithm: 'ECDSA_SHA_256', Digest: digest.toString('base64') };
      await dispatch(vault, 'AsymmetricSign', params, 'bench');
      const until = performance.now() + (QUICK ? 500 : 2000);
      let n = 0;
      const t0 = performance.now();
      while (performance.now() < until) {
        await Promise.all(Array.from({ length: 64 }, () => dispatch(vault, 'AsymmetricSign', params, 'bench')));
        n += 64;
      }
      return n / ((performance.now() - t0) / 1000);
    })();
    await vault.close();

    const ceiling = await clientCeiling(CLIENTS, QUICK ? Math.min(seconds, 3) : Math.min(seconds, 10));

    latencies.sort((a, b) => a - b);
    const throughput = latencies.length / seconds;
    const microseconds = (cpuSeconds: number): string => (Number.isFinite(cpuSeconds) ? `${Math.round((cpuSeconds / latencies.length) * 1e6)} µs` : '-');
    printTable(`deskkms serve under load: ${CLIENTS} official-SDK clients, EC_P256 AsymmetricSign, ${seconds} s`, ['path', 'sig/s', 'p50 ms', 'p99 ms', 'errors', 'ratio to engine'], [
      ['HTTP API (SDK -> serve -> worker)', fmt(throughput), percentile(latencies, 50).toFixed(1), percentile(latencies, 99).toFixed(1), errors.length, (throughput / engine).toFixed(2)],
      ['in-process dispatch (64 in flight)', fmt(inProcess), '-', '-', 0, (inProcess / engine).toFixed(2)],
      ['engine signDigest (one thread)', fmt(engine), '-', '-', 0, '1.00'],
      ['the same SDK clients against a server that answers at once (the ceiling of this setup)', fmt(ceiling), '-', '-', 0, (ceiling / engine).toFixed(2)],
    ]);
    say(`CPU per signature through serve: the server ${microseconds(cpu.server)} (main thread and key worker), the ${CLIENTS} SDK clients ${microseconds(cpu.clients)}`);
    const p99 = percentile(latencies, 99);
    record({ id: 'serve.ratio', what: `deskkms serve, ${CLIENTS} SDK clients, EC_P256 AsymmetricSign`, value: throughput / engine, against: 'engine signDigest, one thread, same run', goal: { atLeast: 0.8 } });
    record({ id: 'serve.client-ceiling.ratio', what: `the same ${CLIENTS} SDK clients against a server that answers at once, in the same run (no server can beat this here)`, value: ceiling / engine, against: 'engine signDigest, one thread, same run' });
    record({ id: 'serve.p99.ms', what: `deskkms serve p99 latency at ${CLIENTS} clients`, value: p99, against: 'milliseconds', goal: { atMost: 50 } });
    record({ id: 'serve.alibaba.ratio', what: 'deskkms serve signatures/s', value: throughput / 200, against: "Alibaba Cloud KMS's 200 QPS asymmetric limit per account" });
    record({ id: 'serve.aws.ratio', what: 'deskkms serve signatures/s', value: throughput / 1000, against: "AWS KMS's 1,000/s ECC quota" });
    if (errors.length > 0) say(`first errors: ${[...new Set(errors)].slice(0, 3).join(' | ')}`);
    const baseline = schemeRows[0]?.perSecond ?? Number.NaN;
    if (schemeRows.length > 0) printTable(`deskkms serve per signature scheme: ${schemeClients} clients each, EC_P256 AsymmetricSign, ${schemeSeconds} s each`, ['client and scheme', 'sig/s', 'errors', 'ratio to the official SDK (V1)'], schemeRows.map((row) => [row.name, fmt(row.perSecond), row.errors, (row.perSecond / baseline).toFixed(2)]));
  } finally {
    child?.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}
if (import.meta.main) await apiLoad();
