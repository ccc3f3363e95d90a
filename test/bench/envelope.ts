// Symmetric Actions through the whole path (issue 18): Encrypt of 32 bytes and GenerateDataKey
// through `deskkms batch` (steady state: from the first answer to the last) and through
// `deskkms serve` (16 concurrent official-SDK clients), as ratios to in-process AES-256-GCM of 32
// bytes (node:crypto, this process, same run). Compared with Alibaba Cloud KMS's published quota
// for symmetric cryptographic operations (1,000 QPS per account; README cites it).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { gcmEncrypt } from '../../core/crypto/symmetric.ts';
import { KmsClient, SdkConfig, kmsSdk } from '../support/alibaba-sdk.ts';
import { runBatch, steadyRateOf } from './batch-run.ts';
import { fmt, opsPerSecond, printTable } from './measure.ts';

const BIN = resolve(import.meta.dirname, '../../core/hosts/cli/deskkms.ts');
const SECONDS = Math.max(1, Number(process.env.BENCH_SECONDS ?? 1));
const BATCH_LINES = Number(process.env.BENCH_ENVELOPE_LINES ?? 4000);
const SERVE_SECONDS = Number(process.env.BENCH_ENVELOPE_SERVE_SECONDS ?? 5);
const CLIENTS = 16;
/** Alibaba Cloud KMS: 1,000 QPS per account for symmetric cryptographic operations (README, performance). */
const ALIBABA_SYMMETRIC_QPS = 1000;

async function steadyRate(env: NodeJS.ProcessEnv, line: string, check: (body: Record<string, unknown>) => boolean): Promise<{ raw: number; steady: number }> {
  const many = await runBatch([], env, `${line}\n`.repeat(BATCH_LINES));
  if (many.code !== 0) throw new Error(`deskkms batch exited ${many.code}: ${many.stderr.slice(0, 500)}`);
  const bad = many.lines.filter((l) => !check(JSON.parse(l) as Record<string, unknown>)).length;
  if (many.lines.length !== BATCH_LINES || bad > 0) throw new Error(`deskkms batch answered ${many.lines.length} lines, ${bad} not as expected`);
  return { raw: BATCH_LINES / many.seconds, steady: steadyRateOf(many) };
}

export async function envelopeBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'deskkms-envelope-bench-'));
  const env = { ...process.env, DESKKMS_VAULT: join(dir, 'vault'), DESKKMS_PASSPHRASE_FILE: join(dir, 'pass') };
  writeFileSync(env.DESKKMS_PASSPHRASE_FILE, 'envelope bench passphrase\n');
  let server: ReturnType<typeof spawn> | undefined;
  try {
    const cli = (args: string[]) => {
      const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`deskkms ${args[0]}: ${r.stderr}`);
      return JSON.parse(r.stdout) as Record<string, any>;
    };
    cli(['init', '--passphrase-file', env.DESKKMS_PASSPHRASE_FILE]);
    const keyId = cli(['CreateKey', '--KeySpec', 'Aliyun_AES_256']).KeyMetadata.KeyId as string;

    const key = randomBytes(32);
    const plaintext = randomBytes(32);
    const aad = randomBytes(40);
    const baseline = opsPerSecond(() => gcmEncrypt('AES-256-GCM', key, randomBytes(12), plaintext, aad), SECONDS);

    const encryptLine = JSON.stringify({ Action: 'Encrypt', KeyId: keyId, Plaintext: plaintext.toString('base64') });
    const dataKeyLine = JSON.stringify({ Action: 'GenerateDataKey', KeyId: keyId });
    const batchEncrypt = await steadyRate(env, encryptLine, (b) => typeof b.CiphertextBlob === 'string');
    const batchDataKey = await steadyRate(env, dataKeyLine, (b) => typeof b.Plaintext === 'string');

    const ak = cli(['access-key', 'create']);
    server = spawn(process.execPath, [BIN, 'serve'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    const line = await new Promise<string>((done, fail) => {
      createInterface({ input: server!.stdout! }).once('line', done);
      server!.once('exit', (code) => fail(new Error(`serve exited ${code}`)));
    });
    const endpoint = new URL((JSON.parse(line) as { Endpoint: string }).Endpoint);
    const serveRate = async (call: (c: InstanceType<typeof KmsClient>) => Promise<unknown>): Promise<{ perSecond: number; errors: number }> => {
      let done = 0;
      let errors = 0;
      const until = performance.now() + SERVE_SECONDS * 1000;
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          const c = new KmsClient(new SdkConfig({ accessKeyId: ak.AccessKeyId, accessKeySecret: ak.AccessKeySecret, endpoint: endpoint.host, protocol: 'http', regionId: 'cn-hangzhou' }));
          while (performance.now() < until) {
            try {
              await call(c);
              done++;
            } catch {
              errors++;
            }
          }
        }),
      );
      return { perSecond: done / SERVE_SECONDS, errors };
    };
    const serveEncrypt = await serveRate((c) => c.encrypt(new kmsSdk.EncryptRequest({ keyId, plaintext: plaintext.toString('base64') })));
    const serveDataKey = await serveRate((c) => c.generateDataKey(new kmsSdk.GenerateDataKeyRequest({ keyId })));

    const ratio = (n: number) => (n / baseline).toFixed(4);
    const quota = (n: number) => `${(n / ALIBABA_SYMMETRIC_QPS).toFixed(2)}×`;
    printTable(
      `Symmetric operations per second (AES-256-GCM, 32 bytes; batch ${BATCH_LINES} lines, serve ${CLIENTS} SDK clients × ${SERVE_SECONDS} s)`,
      ['path', 'ops/s', 'ratio to in-process AES-GCM', 'vs Alibaba 1,000 QPS'],
      [
        ['in-process AES-256-GCM (node:crypto), baseline', fmt(baseline), '1', '-'],
        ['deskkms batch Encrypt (steady)', fmt(batchEncrypt.steady), ratio(batchEncrypt.steady), quota(batchEncrypt.steady)],
        ['deskkms batch GenerateDataKey (steady)', fmt(batchDataKey.steady), ratio(batchDataKey.steady), quota(batchDataKey.steady)],
        ['deskkms serve Encrypt (SDK)', `${fmt(serveEncrypt.perSecond)}${serveEncrypt.errors ? ` (${serveEncrypt.errors} errors)` : ''}`, ratio(serveEncrypt.perSecond), quota(serveEncrypt.perSecond)],
        ['deskkms serve GenerateDataKey (SDK)', `${fmt(serveDataKey.perSecond)}${serveDataKey.errors ? ` (${serveDataKey.errors} errors)` : ''}`, ratio(serveDataKey.perSecond), quota(serveDataKey.perSecond)],
      ],
    );
  } finally {
    server?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) await envelopeBench();
