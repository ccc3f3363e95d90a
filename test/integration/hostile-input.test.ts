// Hostile input through every way in, against one real passphrase vault: `deskkms serve` (run in
// this process, so the test can shorten nothing but the refusal log's per-Code allowance), the
// app's AppSession.call (the browser host's and Electron's path), and `deskkms batch` as a child
// process. 10,000 seeded requests in all (HOSTILE_SEED replays a run): every one answered with
// a success or a proper Code (never InternalFailure), every one accounted for in the audit log
// (one entry per call; refused unauthenticated requests one entry each or counted in a summary),
// and the chain intact. Then a flood of 5,000 unauthenticated requests: the log grows by a bounded
// number of entries, whose summaries count every refusal.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../core/actions/dispatch.ts';
import { rpcSignature, rpcStringToSign, percentEncode } from '../../core/hosts/http/rpc-signature.ts';
import { AppSession } from '../../core/app/app-session.ts';
import { listAuditEntries, verifyAuditChain } from '../../core/audit/audit-log.ts';
import type { ServeOptions } from '../../core/hosts/cli/commands/serve.ts';
import { hasUnsafeText } from '../../core/contract/escape-text.ts';
import { Vault } from '../../core/vault/vault.ts';
import { BIN, Hostile, countAudit, fuzzApi, fuzzApp, fuzzBatch, hostileBatchLine, hostileSeed, rowsOf, type ApiCredentials, type AuditCount, type KnownKey } from '../support/hostile.ts';
import { serveInProcess, tempDir } from './vault-helpers.ts';

const SEED = hostileSeed('hostile-input');
const N_API = 3_600;
const N_APP = 3_400;
const N_BATCH = 3_000;
const FLOOD = 5_000;
const PASSPHRASE = 'hostile input passphrase';

let dir: ReturnType<typeof tempDir>;
let vaultDir: string;
let passFile: string;
let env: NodeJS.ProcessEnv;
let key: ApiCredentials;
let known: KnownKey;

function audit(): { count: AuditCount; chainOk: boolean; unsafeRows: number } {
  const vault = Vault.open(vaultDir);
  try {
    const rows = listAuditEntries(vault.store.db);
    const unsafeRows = rows.filter((e) => [e.action, e.caller, e.code, e.keyId ?? '', e.keyVersionId ?? ''].some(hasUnsafeText)).length;
    return { count: countAudit(vault.store.db), chainOk: verifyAuditChain(vault.store.db).ok, unsafeRows };
  } finally {
    void vault.close();
  }
}

function startServe(options: ServeOptions = {}): ReturnType<typeof serveInProcess> {
  return serveInProcess(vaultDir, { env: { DESKKMS_PASSPHRASE_FILE: passFile }, options });
}

function delta(after: AuditCount, before: AuditCount, kind: string): number {
  return rowsOf(after, kind) - rowsOf(before, kind);
}

beforeAll(async () => {
  dir = tempDir('deskkms-hostile-');
  vaultDir = join(dir.path, 'vault');
  passFile = join(dir.path, 'pass');
  writeFileSync(passFile, `${PASSPHRASE}\n`);
  env = { ...process.env, DESKKMS_VAULT: vaultDir, DESKKMS_PASSPHRASE_FILE: passFile };
  const vault = await Vault.init(vaultDir, { passphrase: Buffer.from(PASSPHRASE), kdfN: 2 ** 14 });
  try {
    const created = await dispatch(vault, 'CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' }, 'test');
    if (!created.ok) throw new Error(created.error.Message);
    const keyId = (created.body.KeyMetadata as { KeyId: string }).KeyId;
    const versions = await dispatch(vault, 'ListKeyVersions', { KeyId: keyId }, 'test');
    if (!versions.ok) throw new Error(versions.error.Message);
    known = { keyId, keyVersionId: (versions.body.KeyVersions as { KeyVersion: { KeyVersionId: string }[] }).KeyVersion[0]!.KeyVersionId };
    expect((await dispatch(vault, 'CreateAlias', { KeyId: keyId, AliasName: 'alias/fuzz' }, 'test')).ok).toBe(true);
    const ak = await dispatch(vault, 'CreateAccessKey', {}, 'test');
    if (!ak.ok) throw new Error(ak.error.Message);
    key = { accessKeyId: ak.body.AccessKeyId, secret: ak.body.AccessKeySecret };
  } finally {
    await vault.close();
  }
});

afterAll(() => dir?.remove());

describe('hostile input is answered with a Code and audited, escaped', () => {
  it("the issue's examples: a control character in AccessKeyId or Action, over the API and in batch", async () => {
    const server = await startServe();
    const common = { Format: 'JSON', Version: '2016-01-20', SignatureMethod: 'HMAC-SHA1', SignatureVersion: '1.0', SignatureNonce: 'n', Timestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
    const query = (p: Record<string, string>) => Object.entries(p).map(([k, v]) => `${k}=${percentEncode(v)}`).join('&');
    const unknownKey = await fetch(`${server.endpoint.origin}/?${query({ ...common, Action: 'ListKeys', AccessKeyId: '\u0001\u202E', Signature: 'x' })}`);
    expect(unknownKey.status).toBe(404);
    expect(await unknownKey.json()).toMatchObject({ Code: 'InvalidAccessKeyId.NotFound', Message: 'Specified access key is not found: \\x01\\u202E' });
    const signed = { ...common, SignatureNonce: 'n2', Action: 'X\u0001', AccessKeyId: key.accessKeyId };
    const hostileAction = await fetch(`${server.endpoint.origin}/?${query({ ...signed, Signature: rpcSignature(rpcStringToSign('GET', signed), key.secret) })}`);
    expect(hostileAction.status).toBe(404);
    expect(await hostileAction.json()).toMatchObject({ Code: 'InvalidAction.NotFound', Message: 'Specified api is not found, please check your url and method: "X\\x01" is not an Action of this vault' });
    await server.stop();

    const batch = await fuzzBatch(['{"Action":"\\u0001"}', '{"Action":"\\ud800\\u202e"}', 'not json'], env);
    expect(batch.improper).toEqual([]);
    expect(batch.answers).toBe(3);

    const vault = Vault.open(vaultDir);
    try {
      const entries = listAuditEntries(vault.store.db, { newestFirst: true, limit: 5 }).reverse();
      expect(entries.map((e) => [e.action, e.code, e.caller])).toEqual([
        ['ListKeys', 'InvalidAccessKeyId.NotFound', 'api-unauthenticated:\\x01\\u202E'],
        ['X\\x01', 'InvalidAction.NotFound', `api:${key.accessKeyId}`],
        ['\\x01', 'InvalidAction.NotFound', 'cli'],
        ['\\uD800\\u202E', 'InvalidAction.NotFound', 'cli'],
        ['(not JSON)', 'InvalidParameter', 'cli'],
      ]);
    } finally {
      await vault.close();
    }
    // What `audit list` prints, as table or JSON, holds the escapes, never the raw characters.
    for (const format of ['table', 'json']) {
      const out = execFileSync(process.execPath, [BIN, 'audit', 'list', '--format', format], { env, encoding: 'utf8' });
      expect(out).toContain(format === 'table' ? 'api-unauthenticated:\\x01\\u202E' : 'api-unauthenticated:\\\\x01\\\\u202E');
      expect(hasUnsafeText(out.replace(/\n/g, ''))).toBe(false);
    }
  });

  it(`${N_API} requests to deskkms serve, signed and not: a Code for each, each one audited or counted`, async () => {
    const before = audit().count;
    // A small allowance per Code, so both the entries of single refusals and the summaries are exercised.
    const server = await startServe({ refusals: { perWindow: 5 } });
    const tally = await fuzzApi(server.endpoint, new Hostile(SEED, known), key, N_API);
    await server.stop(); // writes the summaries still owed
    const { count: after, chainOk, unsafeRows } = audit();
    console.log(`hostile-input API: ${tally.sent} sent, ${tally.ok} ok; codes ${JSON.stringify(Object.fromEntries(tally.codes))}`);
    expect(tally.improper, `seed ${SEED}`).toEqual([]);
    expect(tally.sent).toBe(N_API);
    const authenticated = delta(after, before, 'api');
    const refused = delta(after, before, 'refused');
    const summarized = after.summarized - before.summarized;
    console.log(`hostile-input API audit: ${authenticated} calls, ${refused} refusals one by one, ${summarized} counted in ${delta(after, before, 'summary')} summaries`);
    expect(authenticated + refused + summarized, `seed ${SEED}`).toBe(N_API);
    expect(authenticated).toBeGreaterThan(N_API / 4);
    expect(summarized).toBeGreaterThan(0);
    expect(chainOk).toBe(true);
    expect(unsafeRows).toBe(0);
  });

  it(`${N_APP} app calls through AppSession.call: a Code for each, every Kms.Call audited`, async () => {
    const session = new AppSession({ vaultDir, caller: 'ui' });
    try {
      expect(await session.call({ method: 'Vault.Unlock', params: { Passphrase: PASSPHRASE } })).toMatchObject({ ok: true });
      const before = audit().count;
      const tally = await fuzzApp(session, new Hostile(SEED + 1, known), N_APP);
      const { count: after, chainOk, unsafeRows } = audit();
      console.log(`hostile-input app: ${tally.sent} sent (${tally.audited} Kms.Call), ${tally.ok} ok; codes ${JSON.stringify(Object.fromEntries(tally.codes))}`);
      expect(tally.improper, `seed ${SEED}`).toEqual([]);
      expect(delta(after, before, 'ui'), `seed ${SEED}`).toBe(tally.audited);
      expect(tally.audited).toBeGreaterThan(N_APP / 2);
      expect(chainOk).toBe(true);
      expect(unsafeRows).toBe(0);
    } finally {
      await session.close();
    }
  });

  it(`${N_BATCH} lines of deskkms batch: one answer with a Code per line, every line audited`, async () => {
    const h = new Hostile(SEED + 2, known);
    const lines = Array.from({ length: N_BATCH }, () => hostileBatchLine(h));
    const before = audit().count;
    const tally = await fuzzBatch(lines, env);
    const { count: after, chainOk, unsafeRows } = audit();
    console.log(`hostile-input batch: ${tally.sent} lines, ${tally.answers} answers, ${tally.ok} ok; codes ${JSON.stringify(Object.fromEntries(tally.codes))}`);
    expect(tally.improper, `seed ${SEED}`).toEqual([]);
    expect(tally.answers).toBe(N_BATCH);
    expect(tally.exit).toBe(1); // some failed
    expect(delta(after, before, 'cli'), `seed ${SEED}`).toBe(N_BATCH);
    expect(chainOk).toBe(true);
    expect(unsafeRows).toBe(0);
  });

  it(`a flood of ${FLOOD} unauthenticated requests grows the log by a bounded number of entries, and the summaries count them all`, async () => {
    const before = audit().count;
    const server = await startServe(); // the defaults: 60 s windows, 10 entries per Code
    const started = performance.now();
    const kinds: ((i: number) => string)[] = [
      (i) => `Action=ListKeys&Version=2016-01-20&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&Timestamp=2026-01-01T00:00:00Z&SignatureNonce=${i}&AccessKeyId=DKMSnobody${i}&Signature=x`,
      (i) => `Action=ListKeys&SignatureNonce=${i}`, // no Version
      (i) => `Action=ListKeys&Version=2016-01-20&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&Timestamp=${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}&SignatureNonce=f${i}&AccessKeyId=${key.accessKeyId}&Signature=forged${i}`,
    ];
    const codes = new Map<string, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < FLOOD) {
          const i = next++;
          const response = await fetch(`${server.endpoint.origin}/?${kinds[i % kinds.length]!(i)}`);
          const { Code } = (await response.json()) as { Code: string };
          codes.set(Code, (codes.get(Code) ?? 0) + 1);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    await server.stop();
    const { count: after, chainOk } = audit();
    const entries = delta(after, before, 'refused') + delta(after, before, 'summary');
    const windows = Math.ceil(seconds / 60) + 1; // fixed 60 s windows: the run spans at most this many
    console.log(`hostile-input flood: ${FLOOD} requests in ${seconds.toFixed(1)} s (${JSON.stringify(Object.fromEntries(codes))}) -> ${entries} audit entries, ${after.summarized - before.summarized} refusals in summaries`);
    expect([...codes.keys()].sort()).toEqual(['InvalidAccessKeyId.NotFound', 'MissingParameter', 'SignatureDoesNotMatch']);
    expect(entries).toBeLessThanOrEqual(windows * codes.size * (10 + 1));
    expect(delta(after, before, 'refused') + after.summarized - before.summarized).toBe(FLOOD);
    expect(delta(after, before, 'api')).toBe(0);
    expect(chainOk).toBe(true);
  });
});
