// Crash safety: `deskkms batch` is killed (SIGKILL) at random moments, hundreds of times, while it
// streams writes into one keychain-protected vault. Whatever a response line acknowledged must
// survive: every acknowledged key and key version exists and signs, every acknowledged alias
// exists, every acknowledged call has its audit entry, the database passes integrity_check and the
// audit chain verifies. Also, nothing half-done is left: each key row came with its first version
// and its CreateKey audit entry, in one transaction.
//
// Reproduce a failure with the seed it prints: DESKKMS_CRASH_SEED=<seed> (and DESKKMS_CRASH_ROUNDS).
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../core/actions/dispatch.ts';
import { deleteDataKey } from '../../core/keychain/data-key.ts';
import { Vault } from '../../core/vault/vault.ts';
import { requireSecretService, tempDir } from './vault-helpers.ts';
import { prng } from '../support/random.ts';

const BIN = resolve(import.meta.dirname, '../../core/hosts/cli/deskkms.ts');
const ROUNDS = Number(process.env.DESKKMS_CRASH_ROUNDS ?? 200);
const SEED = process.env.DESKKMS_CRASH_SEED === undefined ? randomInt(2 ** 31) : Number(process.env.DESKKMS_CRASH_SEED);
const CHECK_EVERY = 50;
/** Requests kept written ahead of the responses, so the writer is always busy (the batch pipelines 64). */
const WINDOW = 96;
/** A round that has not been killed by then is a hang: kill it and fail. */
const ROUND_LIMIT_MS = 15_000;

type Spec = 'EC_P256' | 'EC_SM2';
const ALGORITHM: Record<Spec, string> = { EC_P256: 'ECDSA_SHA_256', EC_SM2: 'SM2DSA' };


// Two streams: the kill schedule (strategy and its parameters, round by round) depends on the seed
// only; each round's request mix has its own stream, so a round that got more responses than in
// another run does not shift the schedule of the rounds after it. (The exact moment a kill lands
// still depends on timing: a seed replays the schedule, not the interleaving.)
const schedule = prng(SEED);
let rng = schedule;
const pick = <T,>(items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const between = (lo: number, hi: number): number => lo + Math.floor(schedule() * (hi - lo + 1));
function randomDigest(): string {
  const bytes = Buffer.alloc(32);
  for (let i = 0; i < 32; i++) bytes[i] = Math.floor(rng() * 256);
  return bytes.toString('base64');
}

// --- What the vault has acknowledged (response line received) --------------------------------

interface AckedKey {
  readonly spec: Spec;
  readonly round: number;
}
interface AckedVersion {
  readonly keyId: string;
  readonly round: number;
}
const ackedKeys = new Map<string, AckedKey>();
const ackedVersions = new Map<string, AckedVersion>();
const ackedAliases = new Map<string, { keyId: string; round: number }>();
/** RequestId -> Action of every acknowledged successful call. */
const ackedRequests = new Map<string, string>();
/** Versions the stream can sign with: acknowledged CreateKeyVersion, plus first versions learned at checks. */
const signable: { keyId: string; keyVersionId: string; spec: Spec }[] = [];
const keyPool: string[] = [];
const anomalies: string[] = [];
let partialLines = 0;

function anomaly(round: number, text: string): void {
  if (anomalies.length < 50) anomalies.push(`round ${round}: ${text}`);
}

// --- The request stream -----------------------------------------------------------------------

interface Request {
  readonly action: string;
  readonly line: string;
  readonly spec?: Spec;
  readonly keyId?: string;
  readonly aliasName?: string;
}

function request(action: string, params: Record<string, unknown>, extra: Omit<Request, 'action' | 'line'> = {}): Request {
  return { action, line: `${JSON.stringify({ Action: action, ...params })}\n`, ...extra };
}

function nextRequest(round: number, index: number): Request {
  const r = rng();
  if (keyPool.length > 0) {
    const keyId = pick(keyPool);
    if (r < 0.2) return request('CreateKeyVersion', { KeyId: keyId }, { keyId });
    if (r < 0.35 && signable.length > 0) {
      const v = pick(signable);
      return request('AsymmetricSign', { KeyId: v.keyId, KeyVersionId: v.keyVersionId, Algorithm: ALGORITHM[v.spec], Digest: randomDigest() });
    }
    if (r < 0.42) {
      const aliasName = `alias/crash-${round}-${index}`;
      return request('CreateAlias', { KeyId: keyId, AliasName: aliasName }, { keyId, aliasName });
    }
    if (r < 0.47) return request('TagResource', { KeyId: keyId, Tags: JSON.stringify([{ TagKey: `t${index % 7}`, TagValue: `r${round}` }]) });
    if (r < 0.52) return request('UpdateKeyDescription', { KeyId: keyId, Description: `round ${round} request ${index}` });
    if (r < 0.55) return request('ListKeyVersions', { KeyId: keyId });
  }
  const spec: Spec = rng() < 0.6 ? 'EC_P256' : 'EC_SM2';
  return request('CreateKey', { KeySpec: spec, KeyUsage: 'SIGN/VERIFY', ...(rng() < 0.2 ? { Description: `crash round ${round}` } : {}) }, { spec });
}

/** Records what one response line acknowledges; flags anything a healthy vault would not answer. */
function acknowledge(round: number, req: Request, line: string): void {
  let body: Record<string, any>;
  try {
    body = JSON.parse(line) as Record<string, any>;
  } catch {
    anomaly(round, `unparsable response line for ${req.action}: ${line.slice(0, 200)}`);
    return;
  }
  if ('Code' in body) {
    // The only refusal the stream can provoke: a sixth alias on one key.
    if (!(req.action === 'CreateAlias' && body.Code === 'InvalidParameter' && /already has 5 aliases/.test(String(body.Message)))) {
      anomaly(round, `${req.action} failed: ${line.slice(0, 300)}`);
    }
    return;
  }
  if (typeof body.RequestId !== 'string') {
    anomaly(round, `${req.action} response without RequestId: ${line.slice(0, 200)}`);
    return;
  }
  ackedRequests.set(body.RequestId, req.action);
  switch (req.action) {
    case 'CreateKey': {
      const keyId = body.KeyMetadata?.KeyId;
      if (typeof keyId !== 'string' || body.KeyMetadata.KeySpec !== req.spec || body.KeyMetadata.KeyUsage !== 'SIGN/VERIFY') {
        anomaly(round, `CreateKey response does not match its request: ${line.slice(0, 300)}`);
        return;
      }
      ackedKeys.set(keyId, { spec: req.spec!, round });
      keyPool.push(keyId);
      break;
    }
    case 'CreateKeyVersion': {
      const v = body.KeyVersion;
      if (typeof v?.KeyVersionId !== 'string' || v.KeyId !== req.keyId) {
        anomaly(round, `CreateKeyVersion response does not match its request: ${line.slice(0, 300)}`);
        return;
      }
      ackedVersions.set(v.KeyVersionId, { keyId: v.KeyId, round });
      signable.push({ keyId: v.KeyId, keyVersionId: v.KeyVersionId, spec: ackedKeys.get(v.KeyId)!.spec });
      break;
    }
    case 'CreateAlias':
      ackedAliases.set(req.aliasName!, { keyId: req.keyId!, round });
      break;
    case 'AsymmetricSign':
      if (typeof body.Value !== 'string') anomaly(round, `AsymmetricSign without Value: ${line.slice(0, 200)}`);
      break;
  }
}

// --- One round: spawn, stream, kill -----------------------------------------------------------

type Strategy = 'startup' | 'after-acks' | 'timer-after-first-ack' | 'shutdown';

interface RoundOutcome {
  readonly strategy: Strategy;
  readonly sent: number;
  readonly answered: number;
  readonly killed: boolean;
  readonly elapsedMs: number;
}

let vaultDir = '';

function childEnv(): NodeJS.ProcessEnv {
  return { ...process.env, DESKKMS_VAULT: vaultDir };
}

function chooseStrategy(): Strategy {
  const r = schedule();
  if (r < 0.15) return 'startup';
  if (r < 0.6) return 'after-acks';
  if (r < 0.85) return 'timer-after-first-ack';
  return 'shutdown';
}

function runRound(round: number): Promise<RoundOutcome> {
  const strategy = chooseStrategy();
  // Drawn up front so the sequence of draws depends on the seed only, not on timing.
  const startupDelay = between(0, 700);
  const ackTarget = between(1, 40);
  const timerDelay = between(0, 120);
  const shutdownCount = between(1, 40);
  const shutdownDelay = between(0, shutdownCount * 3 + 120);
  rng = prng(SEED ^ Math.imul(round, 0x9e3779b9));

  const started = performance.now();
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [BIN, 'batch'], { env: childEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  const requests: Request[] = [];
  let answered = 0;
  let killed = false;
  let buffer = '';
  let stderr = '';
  const timers: NodeJS.Timeout[] = [];

  const kill = (): void => {
    if (killed || child.exitCode !== null || child.signalCode !== null) return;
    killed = true;
    child.kill('SIGKILL');
  };
  const send = (): void => {
    if (killed) return;
    const req = nextRequest(round, requests.length);
    requests.push(req);
    child.stdin.write(req.line);
  };

  child.stdin.on('error', () => undefined); // EPIPE once the child is dead
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      const req = requests[answered];
      if (!req) {
        anomaly(round, `response line ${answered + 1} but only ${requests.length} requests sent`);
        continue;
      }
      answered++;
      acknowledge(round, req, line);
      if (answered === 1 && strategy === 'timer-after-first-ack') timers.push(setTimeout(kill, timerDelay));
      if (answered === 1 && strategy === 'shutdown') timers.push(setTimeout(kill, shutdownDelay));
      if (strategy === 'after-acks' && answered >= ackTarget) kill();
      // Keep the pipeline full: one new request per response, while the child lives.
      if (strategy !== 'shutdown' && !killed) send();
    }
  });

  if (strategy === 'shutdown') {
    // A short batch with stdin closed: the kill lands during the last writes or while closing.
    for (let i = 0; i < shutdownCount; i++) send();
    child.stdin.end();
  } else {
    for (let i = 0; i < WINDOW; i++) send();
  }
  if (strategy === 'startup') timers.push(setTimeout(kill, startupDelay));
  timers.push(
    setTimeout(() => {
      anomaly(round, `${strategy}: no kill after ${ROUND_LIMIT_MS} ms (${answered} responses); stderr: ${stderr.slice(0, 300)}`);
      kill();
    }, ROUND_LIMIT_MS),
  );

  return new Promise((done) => {
    child.on('close', (code, signal) => {
      for (const t of timers) clearTimeout(t);
      // A short batch can finish in the instant between our kill() and its exit being noticed.
      if (killed && signal === null && strategy === 'shutdown' && (code === 0 || code === 1)) killed = false;
      // A line cut short by the kill acknowledges nothing (and cannot happen for lines under PIPE_BUF).
      if (buffer !== '') partialLines++;
      if (!killed && !(strategy === 'shutdown' && (code === 0 || code === 1))) {
        anomaly(round, `${strategy}: the child ended by itself (code ${code}, signal ${signal}); stderr: ${stderr.slice(0, 300)}`);
      }
      if (killed && signal !== 'SIGKILL') anomaly(round, `killed child reported code ${code}, signal ${signal}`);
      if (strategy === 'shutdown' && !killed && answered !== requests.length) {
        anomaly(round, `batch exited with ${answered} responses to ${requests.length} requests`);
      }
      if (!killed && /internal failure/i.test(stderr)) anomaly(round, `stderr: ${stderr.slice(0, 300)}`);
      done({ strategy, sent: requests.length, answered, killed, elapsedMs: performance.now() - started });
    });
  });
}

// --- Checks -------------------------------------------------------------------------------------

const checkedKeys = new Set<string>();

const ms = (n: number): string => `${Math.round(n)} ms`;

function where(round: number): string {
  return `(seed ${SEED}, after round ${round}; reproduce with DESKKMS_CRASH_SEED=${SEED} DESKKMS_CRASH_ROUNDS=${ROUNDS})`;
}

/** Read-only look at the database as the last kill left it, before any writer opens it again. */
function checkDatabase(round: number): void {
  const db = new Database(join(vaultDir, 'vault.db'), { readonly: true, fileMustExist: true });
  try {
    expect(db.pragma('integrity_check', { simple: true }), `integrity_check ${where(round)}`).toBe('ok');
    expect(db.pragma('foreign_key_check'), `foreign_key_check ${where(round)}`).toEqual([]);
    const n = (sql: string): number => (db.prepare(sql).get() as { n: number }).n;
    // Key row, first version and CreateKey audit entry are one transaction; so are a version and its audit entry.
    const keys = n('SELECT count(*) AS n FROM keys');
    const createKeyOk = n("SELECT count(*) AS n FROM audit_log WHERE action = 'CreateKey' AND code = 'OK'");
    const createVersionOk = n("SELECT count(*) AS n FROM audit_log WHERE action = 'CreateKeyVersion' AND code = 'OK'");
    expect(keys, `key rows vs CreateKey OK audit entries ${where(round)}`).toBe(createKeyOk);
    expect(n('SELECT count(*) AS n FROM key_versions'), `version rows vs audited creates ${where(round)}`).toBe(createKeyOk + createVersionOk);
    expect(n('SELECT count(*) AS n FROM keys WHERE key_id NOT IN (SELECT key_id FROM key_versions)'), `keys without a version ${where(round)}`).toBe(0);
    const ackedCreates = [...ackedRequests.values()].filter((a) => a === 'CreateKey').length;
    expect(createKeyOk, `CreateKey OK audit entries vs acknowledged creates ${where(round)}`).toBeGreaterThanOrEqual(ackedCreates);

    const keyIds = new Set((db.prepare('SELECT key_id FROM keys').all() as { key_id: string }[]).map((r) => r.key_id));
    const lostKeys = [...ackedKeys].filter(([id]) => !keyIds.has(id)).map(([id, k]) => `${id} (round ${k.round})`);
    expect(lostKeys, `acknowledged keys missing ${where(round)}`).toEqual([]);
    const versionOwner = new Map((db.prepare('SELECT key_version_id, key_id FROM key_versions').all() as { key_version_id: string; key_id: string }[]).map((r) => [r.key_version_id, r.key_id]));
    const lostVersions = [...ackedVersions].filter(([id, v]) => versionOwner.get(id) !== v.keyId).map(([id, v]) => `${id} of ${v.keyId} (round ${v.round})`);
    expect(lostVersions, `acknowledged versions missing ${where(round)}`).toEqual([]);
    const aliasTarget = new Map((db.prepare('SELECT alias_name, key_id FROM aliases').all() as { alias_name: string; key_id: string }[]).map((r) => [r.alias_name, r.key_id]));
    const lostAliases = [...ackedAliases].filter(([name, a]) => aliasTarget.get(name) !== a.keyId).map(([name, a]) => `${name} (round ${a.round})`);
    expect(lostAliases, `acknowledged aliases missing ${where(round)}`).toEqual([]);
    const audited = new Map((db.prepare("SELECT request_id, action FROM audit_log WHERE code = 'OK'").all() as { request_id: string; action: string }[]).map((r) => [r.request_id, r.action]));
    const unaudited = [...ackedRequests].filter(([id, action]) => audited.get(id) !== action).map(([id, action]) => `${action} ${id}`);
    expect(unaudited.slice(0, 20), `acknowledged calls without their audit entry ${where(round)}`).toEqual([]);
  } finally {
    db.close();
  }
}

/**
 * After every kill: a quick_check of the database as the kill left it (a read-only connection, so
 * nothing is repaired first), and the audit head. Every request the batch ran appends exactly one
 * audit entry, answered or not, so entries beyond the responses are writes the kill interrupted
 * between their COMMIT and their response line.
 */
function probe(round: number): number {
  const db = new Database(join(vaultDir, 'vault.db'), { readonly: true, fileMustExist: true });
  try {
    expect(db.pragma('quick_check', { simple: true }), `quick_check ${where(round)}`).toBe('ok');
    return (db.prepare('SELECT coalesce(max(seq), 0) AS n FROM audit_log').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

function checkAuditChain(round: number): number {
  const r = spawnSync(process.execPath, [BIN, 'audit', 'verify'], { env: childEnv(), encoding: 'utf8', maxBuffer: 16 << 20 });
  expect(r.status, `deskkms audit verify ${where(round)}: ${r.stdout}${r.stderr}`).toBe(0);
  const verdict = JSON.parse(r.stdout) as { ok: boolean; entries: number };
  expect(verdict.ok).toBe(true);
  return verdict.entries;
}

/** Signs with every version of the given keys, in process, and verifies each signature. Returns how many. */
async function checkSigning(round: number, keyIds: readonly string[]): Promise<number> {
  const ackedVersionsByKey = new Map<string, string[]>();
  for (const [id, v] of ackedVersions) ackedVersionsByKey.set(v.keyId, [...(ackedVersionsByKey.get(v.keyId) ?? []), id]);
  const vault = Vault.open(vaultDir);
  let signatures = 0;
  const failures: string[] = [];
  try {
    const call = async (action: string, params: Record<string, unknown>): Promise<Record<string, any> | undefined> => {
      const outcome = await dispatch(vault, action, params, 'crash-test');
      if (outcome.ok) return outcome.body;
      failures.push(`${action} ${JSON.stringify(params).slice(0, 160)}: ${outcome.error.Code} ${outcome.error.Message}`);
      return undefined;
    };
    const checkKey = async (keyId: string): Promise<void> => {
      const spec = ackedKeys.get(keyId)!.spec;
      const listed = await call('ListKeyVersions', { KeyId: keyId, PageSize: 100 });
      if (!listed) return;
      const versions = (listed.KeyVersions.KeyVersion as { KeyVersionId: string }[]).map((v) => v.KeyVersionId);
      if (versions.length === 0 || listed.TotalCount !== versions.length) failures.push(`${keyId}: ${versions.length} of ${listed.TotalCount} versions listed`);
      for (const id of ackedVersionsByKey.get(keyId) ?? []) {
        if (!versions.includes(id)) failures.push(`${keyId}: acknowledged version ${id} is not listed`);
      }
      if (!checkedKeys.has(keyId)) {
        checkedKeys.add(keyId);
        // Its first version becomes signable by later rounds' streams.
        signable.push({ keyId, keyVersionId: versions[0]!, spec });
      }
      for (const keyVersionId of versions) {
        const digest = randomBytes(32).toString('base64');
        const signed = await call('AsymmetricSign', { KeyId: keyId, KeyVersionId: keyVersionId, Algorithm: ALGORITHM[spec], Digest: digest });
        if (!signed) continue;
        const verified = await call('AsymmetricVerify', { KeyId: keyId, KeyVersionId: keyVersionId, Algorithm: ALGORITHM[spec], Digest: digest, Value: signed.Value });
        if (verified && verified.Value !== true) failures.push(`${keyId}/${keyVersionId}: signature does not verify`);
        signatures++;
      }
    };
    // Many calls in flight, as a host would issue them: the worker signs while this thread verifies,
    // and their audit entries share group commits.
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < keyIds.length) await checkKey(keyIds[next++]!);
    };
    await Promise.all(Array.from({ length: 64 }, lane));
  } finally {
    await vault.close();
  }
  expect(failures.slice(0, 20), `signing with acknowledged keys ${where(round)}`).toEqual([]);
  const extraVersions = keyIds.reduce((n, id) => n + (ackedVersionsByKey.get(id)?.length ?? 0), 0);
  expect(signatures).toBeGreaterThanOrEqual(keyIds.length + extraVersions);
  return signatures;
}

// --- The test -----------------------------------------------------------------------------------

let dir: ReturnType<typeof tempDir>;
let vaultId = '';

beforeAll(() => {
  requireSecretService();
  dir = tempDir('deskkms-crash-');
  vaultDir = join(dir.path, 'vault');
  const init = spawnSync(process.execPath, [BIN, 'init'], { env: childEnv(), encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`deskkms init failed: ${init.stderr}`);
  vaultId = (JSON.parse(init.stdout) as { VaultId: string; Protection: string }).VaultId;
  expect(JSON.parse(init.stdout).Protection).toMatch(/^OS keychain: Secret Service/);
});

afterAll(async () => {
  if (vaultId) await deleteDataKey(`vault-${vaultId}`).catch(() => undefined);
  dir?.remove();
});

describe('crash safety', () => {
  it(`SIGKILL at random moments never loses an acknowledged write nor corrupts the vault (${ROUNDS} rounds)`, { timeout: 600_000 }, async () => {
    expect(ROUNDS).toBeGreaterThanOrEqual(1);
    console.log(`crash-safety: seed ${SEED}, ${ROUNDS} rounds (reproduce with DESKKMS_CRASH_SEED=${SEED} DESKKMS_CRASH_ROUNDS=${ROUNDS})`);
    const started = performance.now();
    const byStrategy = new Map<Strategy, number>();
    let inFlightKills = 0; // killed with requests sent and not answered
    let activeWriterKills = 0; // ...and at least one answered, so the vault was unlocked and writing
    let cleanExits = 0;
    let sent = 0;
    let answered = 0;
    let signatures = 0;
    let checks = 0;
    let checkMs = 0;
    let probeMs = 0;
    let committedUnanswered = 0; // kills after a COMMIT whose responses never went out
    let committedUnansweredRounds = 0;
    let auditHead = probe(0);

    const checkpoint = async (round: number, all: boolean): Promise<void> => {
      const t0 = performance.now();
      checkDatabase(round);
      const t1 = performance.now();
      const keys = all ? [...ackedKeys.keys()] : [...ackedKeys.keys()].filter((id) => !checkedKeys.has(id));
      signatures += await checkSigning(round, keys);
      const t2 = performance.now();
      checkAuditChain(round);
      const t3 = performance.now();
      checks++;
      checkMs += t3 - t0;
      console.log(`crash-safety: check after round ${round}: database ${ms(t1 - t0)}, signing with ${keys.length} keys ${ms(t2 - t1)}, audit verify ${ms(t3 - t2)}`);
    };

    for (let round = 1; round <= ROUNDS; round++) {
      const outcome = await runRound(round);
      const t = performance.now();
      const head = probe(round);
      probeMs += performance.now() - t;
      const unanswered = head - auditHead - outcome.answered;
      auditHead = head;
      expect(unanswered, `audit entries vs responses ${where(round)}`).toBeGreaterThanOrEqual(0);
      if (unanswered > 0) {
        committedUnanswered += unanswered;
        committedUnansweredRounds++;
      }
      byStrategy.set(outcome.strategy, (byStrategy.get(outcome.strategy) ?? 0) + 1);
      sent += outcome.sent;
      answered += outcome.answered;
      if (!outcome.killed) cleanExits++;
      else if (outcome.sent > outcome.answered) {
        inFlightKills++;
        if (outcome.answered > 0) activeWriterKills++;
      }
      expect(anomalies, `anomalies ${where(round)}`).toEqual([]);
      if (round % CHECK_EVERY === 0 || round === ROUNDS) {
        await checkpoint(round, round === ROUNDS);
        auditHead = probe(round); // the in-process checks audit their own calls
      }
    }
    const entries = checkAuditChain(ROUNDS);

    const seconds = (performance.now() - started) / 1000;
    const count = (action: string): number => [...ackedRequests.values()].filter((a) => a === action).length;
    console.log(
      [
        `crash-safety: seed ${SEED}: ${ROUNDS} rounds in ${seconds.toFixed(1)} s (${checks} full checks ${(checkMs / 1000).toFixed(1)} s, per-kill quick_check ${(probeMs / 1000).toFixed(1)} s)`,
        `  kills by strategy: ${[...byStrategy].map(([s, n]) => `${s} ${n}`).join(', ')}; ${cleanExits} batches exited before their kill`,
        `  kills with requests in flight: ${inFlightKills} (of which ${activeWriterKills} after the vault had answered, i.e. mid-stream of writes)`,
        `  kills that cut off committed calls before their response: ${committedUnansweredRounds} rounds, ${committedUnanswered} calls`,
        `  response lines cut short by a kill: ${partialLines}`,
        `  requests sent ${sent}, answered ${answered}; acknowledged: ${count('CreateKey')} CreateKey, ${count('CreateKeyVersion')} CreateKeyVersion, ` +
          `${count('CreateAlias')} CreateAlias, ${count('AsymmetricSign')} AsymmetricSign`,
        `  verified: ${ackedKeys.size} keys, ${ackedVersions.size} acknowledged extra versions, ${ackedAliases.size} aliases, ${signatures} signatures (in-process), audit chain of ${entries} entries`,
      ].join('\n'),
    );
    expect(activeWriterKills, 'too few kills landed while writes were in flight').toBeGreaterThanOrEqual(Math.floor(ROUNDS / 3));
  });
});
