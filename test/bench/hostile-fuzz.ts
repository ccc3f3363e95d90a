// The hostile-input fuzz of test/integration/hostile-input.test.ts, longer: HOSTILE_REQUESTS in all
// (default 60,000) over deskkms serve, AppSession.call and deskkms batch, against a passphrase vault,
// then a flood of unauthenticated requests. Reports, per path, answers that were not a success or a
// proper Code (must be 0), calls the audit log does not account for (must be 0), the chain verdict,
// and throughput against well-formed calls on the same path in the same run. HOSTILE_SEED replays.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dispatch } from '../../core/actions/dispatch.ts';
import { rpcSignature, rpcStringToSign, percentEncode } from '../../core/hosts/http/rpc-signature.ts';
import { AppSession } from '../../core/app/app-session.ts';
import { verifyAuditChain } from '../../core/audit/audit-log.ts';
import { serve } from '../../core/hosts/cli/commands/serve.ts';
import type { CliIO } from '../../core/hosts/cli/command.ts';
import { Vault } from '../../core/vault/vault.ts';
import { Hostile, countAudit, fuzzApi, fuzzApp, fuzzBatch, hostileBatchLine, hostileSeed, rowsOf, type AuditCount, type Tally } from '../support/hostile.ts';
import { fmt, printTable } from './measure.ts';
import { say } from './summary.ts';

const PASSPHRASE = 'bench hostile passphrase';

export async function hostileFuzz(total = Number(process.env.HOSTILE_REQUESTS ?? 60_000)): Promise<void> {
  const seed = hostileSeed('bench hostile-fuzz');
  const dir = mkdtempSync(join(tmpdir(), 'deskkms-bench-hostile-'));
  const vaultDir = join(dir, 'vault');
  const passFile = join(dir, 'pass');
  writeFileSync(passFile, PASSPHRASE);
  const env = { ...process.env, DESKKMS_VAULT: vaultDir, DESKKMS_PASSPHRASE_FILE: passFile };
  const audit = (): { count: AuditCount; ok: boolean } => {
    const vault = Vault.open(vaultDir);
    try {
      return { count: countAudit(vault.store.db), ok: verifyAuditChain(vault.store.db).ok };
    } finally {
      void vault.close();
    }
  };
  try {
    const vault = await Vault.init(vaultDir, { passphrase: Buffer.from(PASSPHRASE), kdfN: 2 ** 14 });
    let keyId: string;
    let keyVersionId: string;
    let key: { accessKeyId: string; secret: string };
    try {
      const created = await dispatch(vault, 'CreateKey', { KeySpec: 'EC_P256' }, 'bench');
      keyId = (created.ok ? (created.body.KeyMetadata as { KeyId: string }) : { KeyId: '' }).KeyId;
      const versions = await dispatch(vault, 'ListKeyVersions', { KeyId: keyId }, 'bench');
      keyVersionId = versions.ok ? (versions.body.KeyVersions as { KeyVersion: { KeyVersionId: string }[] }).KeyVersion[0]!.KeyVersionId : '';
      await dispatch(vault, 'CreateAlias', { KeyId: keyId, AliasName: 'alias/fuzz' }, 'bench');
      const ak = await dispatch(vault, 'CreateAccessKey', {}, 'bench');
      if (!ak.ok) throw new Error(`CreateAccessKey: ${ak.error.Code}`);
      key = { accessKeyId: ak.body.AccessKeyId, secret: ak.body.AccessKeySecret };
    } finally {
      await vault.close();
    }
    const known = { keyId, keyVersionId };
    const perPath = Math.ceil(total / 3);
    const rows: (string | number)[][] = [];
    const row = (path: string, tally: Tally, seconds: number, unaccounted: number, chainOk: boolean, baseline: number): void => {
      const rate = tally.sent / seconds;
      rows.push([path, tally.sent, tally.ok, tally.improper.length, unaccounted, chainOk ? 'ok' : 'BROKEN', fmt(rate), fmt(baseline), (rate / baseline).toFixed(2)]);
      for (const line of tally.improper.slice(0, 3)) say(`  improper (${path}): ${line}`);
    };

    // The API server: a baseline of well-formed signed ListKeys, then the hostile mix.
    const server = await serveHere(env);
    const baselineApi = await timed(async () => {
      let n = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          for (let i = 0; i < 100; i++, n++) {
            const params: Record<string, string> = { Format: 'JSON', Version: '2016-01-20', SignatureMethod: 'HMAC-SHA1', SignatureVersion: '1.0', SignatureNonce: `${n}-${Math.random()}`, Timestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), AccessKeyId: key.accessKeyId, Action: 'ListKeys' };
            params.Signature = rpcSignature(rpcStringToSign('GET', params), key.secret);
            await (await fetch(`${server.endpoint.origin}/?${Object.entries(params).map(([k, v]) => `${k}=${percentEncode(v)}`).join('&')}`)).arrayBuffer();
          }
        }),
      );
      return n;
    });
    let before = audit().count;
    const api = await timed(() => fuzzApi(server.endpoint, new Hostile(seed, known), key, perPath));
    await server.stop();
    let after = audit();
    const accounted = rowsOf(after.count, 'api') - rowsOf(before, 'api') + rowsOf(after.count, 'refused') - rowsOf(before, 'refused') + after.count.summarized - before.summarized;
    row('deskkms serve (HTTP API)', api.result, api.seconds, perPath - accounted, after.ok, baselineApi.result / baselineApi.seconds);

    // The app: AppSession.call, as the browser host and IPC call it.
    const session = new AppSession({ vaultDir, caller: 'ui' });
    try {
      await session.call({ method: 'Vault.Unlock', params: { Passphrase: PASSPHRASE } });
      const baselineApp = await timed(async () => {
        for (let i = 0; i < 20; i++) await Promise.all(Array.from({ length: 32 }, () => session.call({ method: 'Kms.Call', params: { Action: 'DescribeKey', Params: { KeyId: 'alias/fuzz' } } })));
        return 640;
      });
      before = audit().count;
      const app = await timed(() => fuzzApp(session, new Hostile(seed + 1, known), perPath));
      after = audit();
      row('AppSession.call (browser host, IPC)', app.result, app.seconds, app.result.audited - (rowsOf(after.count, 'ui') - rowsOf(before, 'ui')), after.ok, baselineApp.result / baselineApp.seconds);
    } finally {
      await session.close();
    }

    // deskkms batch: one process over all the lines.
    const h = new Hostile(seed + 2, known);
    const lines = Array.from({ length: perPath }, () => hostileBatchLine(h));
    const baselineBatch = await timed(async () => (await fuzzBatch(Array.from({ length: 2000 }, () => '{"Action":"DescribeKey","KeyId":"alias/fuzz"}'), env)).sent);
    before = audit().count;
    const batch = await timed(() => fuzzBatch(lines, env));
    after = audit();
    row('deskkms batch (JSON Lines)', batch.result, batch.seconds, perPath - (rowsOf(after.count, 'cli') - rowsOf(before, 'cli')), after.ok, baselineBatch.result / baselineBatch.seconds);

    printTable(`Hostile input (seed ${seed}): answers and audit accounting`, ['path', 'requests', 'ok', 'improper', 'unaudited', 'chain', 'req/s', 'well-formed req/s', 'ratio'], rows);

    // A flood of unauthenticated requests: how far the audit log grows.
    const flood = Number(process.env.HOSTILE_FLOOD ?? 30_000);
    const floodServer = await serveHere(env);
    before = audit().count;
    const sent = await timed(async () => {
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < flood) {
            const i = next++;
            await (await fetch(`${floodServer.endpoint.origin}/?Action=ListKeys&Version=2016-01-20&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&Timestamp=2026-01-01T00:00:00Z&SignatureNonce=${i}&AccessKeyId=DKMSflood${i % 97}&Signature=x`)).arrayBuffer();
          }
        }),
      );
      return flood;
    });
    await floodServer.stop();
    after = audit();
    const entries = rowsOf(after.count, 'refused') - rowsOf(before, 'refused') + rowsOf(after.count, 'summary') - rowsOf(before, 'summary');
    printTable('Flood of unauthenticated requests (one Code)', ['requests', 'seconds', 'req/s', 'audit entries', 'in summaries', 'entries per 1,000 requests'], [
      [sent.result, sent.seconds.toFixed(1), fmt(sent.result / sent.seconds), entries, after.count.summarized - before.summarized, ((entries / sent.result) * 1000).toFixed(2)],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function timed<T>(run: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const started = performance.now();
  const result = await run();
  return { result, seconds: (performance.now() - started) / 1000 };
}

/** deskkms serve in this process (as test/integration/vault-helpers.ts does; that module needs vitest). */
async function serveHere(env: NodeJS.ProcessEnv): Promise<{ endpoint: URL; stop(): Promise<number> }> {
  let out = '';
  let listening: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (listening = resolve));
  let stop: (signal: string) => void = () => undefined;
  const io = { stdout: { write: (s: string) => ((out += s), listening(), true) }, stderr: { write: () => true }, stdin: process.stdin, cwd: process.cwd(), env } as unknown as CliIO;
  const served = serve({}, io, new Promise((resolve) => (stop = resolve)));
  await ready;
  return { endpoint: new URL((JSON.parse(out) as { Endpoint: string }).Endpoint), stop: () => (stop('bench'), served) };
}
