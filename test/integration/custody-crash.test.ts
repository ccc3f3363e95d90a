// Custody crash safety: changing the passphrase, moving between keychain and passphrase protection
// and rotating the data key (of a keychain vault and of a passphrase vault) are killed (SIGKILL) at
// random moments, round after round, while test/support/custody-churn.ts repeats each operation in
// a loop on a vault of its own. After every kill each vault must open with the last acknowledged
// secret or the one the interrupted operation was moving to (never neither), and nothing may be
// lost: every key made before the loop is listed and described, has the same public key and still
// signs (verified here with node:crypto against the public key taken at the start) or decrypts,
// the access key's secret still signs requests, no row fails its integrity check (no
// Vault.Corrupt), every acknowledged operation has its audit entry, the audit chain verifies and
// SQLite's integrity_check passes.
//
// One child churns all the vaults side by side, so one kill lands in every operation at once (a
// round costs one Node start, not four). Each round's kill is aimed at one operation in turn (right
// at or after one of its acknowledgements, or inside its first operation); the others are caught
// wherever their loops are. Each round's child first opens every vault and probes it: that is the
// check of what the last kill left (its report is checked here); the last kill is checked in this
// process.
//
// Reproduce a failure with the seed it prints: DESKKMS_CUSTODY_SEED=<seed> (with DESKKMS_CUSTODY_ROUNDS,
// and DESKKMS_CUSTODY_OPERATIONS=change-passphrase,... to churn only some operations). A seed
// replays the kill schedule, not the exact interleaving: where a kill lands depends on timing.
import { spawn, spawnSync } from 'node:child_process';
import { constants, createHmac, publicEncrypt, randomBytes, randomInt, verify } from 'node:crypto';
import { cpSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, it, type ExpectStatic } from 'vitest';
import { dispatch } from '../../core/actions/dispatch.ts';
import { deleteDataKey } from '../../core/keychain/data-key.ts';
import { KEYCHAIN_SERVICE } from '../../core/keychain/keychain.ts';
import { Vault } from '../../core/vault/vault.ts';
import {
  CHURN_ACTION,
  CHURN_OPERATIONS,
  custodyHeader,
  KDF_N,
  openWithCandidates,
  pemDigest,
  probeVault,
  protectionAt,
  secretAt,
  type ChurnConfig,
  type ChurnOperation,
  type ChurnVault,
  type ProbeReport,
  type ProbeRequest,
} from '../support/custody-churn.ts';
import { prng } from '../support/random.ts';
import { secretServiceOwner, startSecretService } from '../support/secret-service.ts';
import { tempDir } from './vault-helpers.ts';

const CHURN = resolve(import.meta.dirname, '../support/custody-churn.ts');
/**
 * Kills each operation must take while it runs (the issue asks for at least 50): rounds go on until
 * every operation has had that many (a kill can land before a vault has opened), at most twice as many.
 */
const ROUNDS = Number(process.env.DESKKMS_CUSTODY_ROUNDS ?? 50);
const MAX_ROUNDS = 2 * ROUNDS;
const SEED = process.env.DESKKMS_CUSTODY_SEED === undefined ? randomInt(2 ** 31) : Number(process.env.DESKKMS_CUSTODY_SEED);
const OPERATIONS: readonly ChurnOperation[] = process.env.DESKKMS_CUSTODY_OPERATIONS
  ? (process.env.DESKKMS_CUSTODY_OPERATIONS.split(',') as ChurnOperation[])
  : CHURN_OPERATIONS;
/** A round whose child has not been killed by then is a hang: kill it and fail. */
const ROUND_LIMIT_MS = 60_000;
const CALLER = 'custody-crash-test';

function where(operation: ChurnOperation | undefined, round: number): string {
  return (
    `(${operation ?? OPERATIONS.join(', ')}, seed ${SEED}, round ${round}; reproduce with DESKKMS_CUSTODY_SEED=${SEED} ` +
    `DESKKMS_CUSTODY_ROUNDS=${ROUNDS} DESKKMS_CUSTODY_OPERATIONS=${OPERATIONS.join(',')})`
  );
}

// --- What the vault holds before the loop -------------------------------------------------------

interface KnownVersion {
  readonly keyId: string;
  readonly keyVersionId: string;
  readonly spec: string;
  readonly usage: 'SIGN/VERIFY' | 'ENCRYPT/DECRYPT';
  readonly publicKey: string;
}

/** Signing keys: the Action's algorithm, and how node:crypto verifies its signature over the message. */
const SIGNING: Record<string, { algorithm: string; options: { padding?: number; saltLength?: number } }> = {
  EC_P256: { algorithm: 'ECDSA_SHA_256', options: {} },
  EC_P256K: { algorithm: 'ECDSA_SHA_256', options: {} },
  RSA_2048: { algorithm: 'RSA_PSS_SHA_256', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } },
};

// --- Outside looks at the vault -------------------------------------------------------------------

interface DiskLook {
  readonly integrity: string;
  readonly protection: string | undefined;
  readonly keychainAccount: string | undefined;
  /** The entries the header lists for deletion (custody-meta.ts keychain_cleanup). */
  readonly keychainCleanup: string[];
  readonly header: string;
  /** RequestId -> Action, of the audit entries with code OK. */
  readonly okEntries: Map<string, string>;
}

/** Read-only look at the database as the kill left it, before any writer opens it again. */
function lookAtDisk(vaultDir: string): DiskLook {
  const db = new Database(join(vaultDir, 'vault.db'), { readonly: true, fileMustExist: true });
  try {
    const integrity = String(db.pragma('integrity_check', { simple: true }));
    const rows = db.prepare('SELECT key, value FROM meta').all() as { key: string; value: unknown }[];
    const meta = new Map(rows.filter((r) => typeof r.value === 'string').map((r) => [r.key, r.value as string]));
    const okEntries = new Map(
      (db.prepare("SELECT request_id, action FROM audit_log WHERE code = 'OK'").all() as { request_id: string; action: string }[]).map((r) => [r.request_id, r.action]),
    );
    let keychainCleanup: string[] = [];
    try {
      // Listed entries, claimed by an unlock or not (a claim stays listed until its entry is deleted).
      keychainCleanup = ((JSON.parse(meta.get('keychain_cleanup') ?? '{}') as { entries?: { account: string }[] }).entries ?? []).map((e) => e.account);
    } catch {
      keychainCleanup = ['(unreadable)'];
    }
    return { integrity, protection: meta.get('protection'), keychainAccount: meta.get('keychain_account'), keychainCleanup, header: custodyHeader(meta), okEntries };
  } finally {
    db.close();
  }
}

/** Keychain entries that name this vault, whatever accounts the core gives them: removed at the end. */
function keychainAccounts(vaultId: string): string[] {
  const r = spawnSync('secret-tool', ['search', '--all', 'service', KEYCHAIN_SERVICE], { encoding: 'utf8' });
  const accounts = [...`${r.stdout}\n${r.stderr}`.matchAll(/^attribute\.username = (.*)$/gm)].map((m) => m[1]!.trim());
  return [...new Set(accounts.filter((a) => a.includes(vaultId)))];
}

// --- One operation's churn -----------------------------------------------------------------------

type Strategy = 'startup' | 'in-first-op' | 'at-ack' | 'after-acks';

interface Ack {
  readonly generation: number;
  readonly requestId: string;
  readonly header: string;
}

/** What one vault's loop said before the kill. */
interface VaultOutcome {
  report: ProbeReport | undefined;
  readonly acks: Ack[];
  /** unopenable and fail lines. */
  readonly refusals: string[];
}

/** One round's probe: what the child is asked to use, and the answers only this process knows. */
interface Probe {
  readonly request: ProbeRequest;
  readonly plaintexts: Map<string, Buffer>;
  readonly mac: string | undefined;
}

class Churn {
  readonly operation: ChurnOperation;
  readonly tag = randomBytes(6).toString('hex');
  readonly dir = tempDir('deskkms-custody-crash-');
  readonly vaultDir = join(this.dir.path, 'vault');
  vaultId = '';
  /** The last generation known current: opened in, or acknowledged since. */
  generation = 0;
  /** An operation may have committed after `generation` without its acknowledgement (it was in flight at the kill). */
  private uncertain = false;
  /** The custody header as of `generation` (from its acknowledgement, or as read since). */
  private header = '';
  private readonly versions: KnownVersion[] = [];
  private accessKey: { id: string; secret: string } | undefined;
  /** Acknowledged operations: RequestId -> round. */
  private readonly acked = new Map<string, number>();
  /** How long one operation takes (between acknowledgements): where to aim a kill inside one. */
  opEstimateMs = 40;
  /** Keychain entries the vault neither used nor listed for deletion, and where they were first seen. */
  readonly orphans = new Map<string, string>();
  /** What the last round's kill interrupted (for the orphans' story). */
  lastKill = '';
  /** This round's probe and candidates. */
  private pending: { probe: Probe; candidates: number[] } | undefined;
  readonly stats = {
    aimedAt: new Map<Strategy, number>(),
    killsInFlight: 0,
    acks: 0,
    checks: 0,
    committedUnacknowledged: 0,
    openedWithNext: 0,
    signatures: 0,
    decryptions: 0,
  };

  constructor(operation: ChurnOperation) {
    this.operation = operation;
  }

  private async call(vault: Vault, action: string, params: Record<string, unknown>, problems: string[]): Promise<Record<string, any> | undefined> {
    const outcome = await dispatch(vault, action, params, CALLER);
    if (outcome.ok) return outcome.body;
    problems.push(`${action} ${JSON.stringify(params).slice(0, 160)}: ${outcome.error.Code} ${outcome.error.Message}`);
    return undefined;
  }

  /** A vault in generation 0 with keys of several specs (one with two versions) and an access key. */
  async setUp(): Promise<void> {
    const passphrase = secretAt(this.operation, this.tag, 0);
    const vault = await Vault.init(this.vaultDir, { ...(passphrase ? { passphrase, kdfN: KDF_N } : {}), caller: CALLER });
    this.vaultId = vault.vaultId;
    const problems: string[] = [];
    try {
      const keys: [string, 'SIGN/VERIFY' | 'ENCRYPT/DECRYPT', number][] = [
        ['EC_P256', 'SIGN/VERIFY', 2],
        ['EC_P256K', 'SIGN/VERIFY', 1],
        ['RSA_2048', 'SIGN/VERIFY', 1],
        ['RSA_2048', 'ENCRYPT/DECRYPT', 1],
      ];
      for (const [spec, usage, count] of keys) {
        const created = await this.call(vault, 'CreateKey', { KeySpec: spec, KeyUsage: usage }, problems);
        if (!created) continue;
        const keyId = created.KeyMetadata.KeyId as string;
        for (let i = 1; i < count; i++) await this.call(vault, 'CreateKeyVersion', { KeyId: keyId }, problems);
        const listed = await this.call(vault, 'ListKeyVersions', { KeyId: keyId, PageSize: 100 }, problems);
        const versionIds = ((listed?.KeyVersions.KeyVersion ?? []) as { KeyVersionId: string }[]).map((v) => v.KeyVersionId);
        if (versionIds.length !== count) problems.push(`${keyId}: ${versionIds.length} versions listed, ${count} made`);
        for (const keyVersionId of versionIds) {
          const pub = await this.call(vault, 'GetPublicKey', { KeyId: keyId, KeyVersionId: keyVersionId }, problems);
          if (pub) this.versions.push({ keyId, keyVersionId, spec, usage, publicKey: pub.PublicKey as string });
        }
      }
      const ak = await this.call(vault, 'CreateAccessKey', { Description: 'custody crash test' }, problems);
      if (ak) this.accessKey = { id: ak.AccessKeyId as string, secret: ak.AccessKeySecret as string };
    } finally {
      await vault.close();
    }
    if (problems.length > 0) throw new Error(`setting up the ${this.operation} vault: ${problems.join('; ')}`);
    this.header = lookAtDisk(this.vaultDir).header;
  }

  private newProbe(): Probe {
    const plaintexts = new Map<string, Buffer>();
    const versions = this.versions.map((v) => {
      if (v.usage === 'SIGN/VERIFY') return { keyId: v.keyId, keyVersionId: v.keyVersionId, signAlgorithm: SIGNING[v.spec]!.algorithm };
      const plaintext = randomBytes(32);
      plaintexts.set(v.keyVersionId, plaintext);
      const ciphertext = publicEncrypt({ key: v.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, plaintext);
      return { keyId: v.keyId, keyVersionId: v.keyVersionId, ciphertext: ciphertext.toString('base64') };
    });
    const macData = randomBytes(40);
    const mac = this.accessKey && createHmac('sha1', `${this.accessKey.secret}&`).update(macData).digest('base64');
    return { request: { versions, ...(this.accessKey ? { accessKeyId: this.accessKey.id, macData: macData.toString('base64') } : {}) }, plaintexts, mac };
  }

  /** What is wrong in a probe's answers: checked against what was made before the loop, outside the vault. */
  private reportProblems(report: ProbeReport, probe: Probe): string[] {
    const problems = [...report.problems];
    for (const v of this.versions) {
      const got = report.versions.find((r) => r.keyVersionId === v.keyVersionId);
      const name = `${v.spec} ${v.keyId}/${v.keyVersionId}`;
      if (!got) {
        problems.push(`${name}: not probed`);
        continue;
      }
      if (got.publicKey !== pemDigest(v.publicKey)) problems.push(`${name}: the public key ${got.publicKey === undefined ? 'is not answered' : 'changed'}`);
      if (v.usage === 'SIGN/VERIFY') {
        if (got.signature === undefined || got.message === undefined) problems.push(`${name}: no signature`);
        else if (!verify('sha256', Buffer.from(got.message, 'base64'), { key: v.publicKey, ...SIGNING[v.spec]!.options }, Buffer.from(got.signature, 'base64'))) {
          problems.push(`${name}: the signature does not verify against the public key`);
        } else this.stats.signatures++;
      } else if (got.plaintext === undefined) problems.push(`${name}: no decryption`);
      else if (!Buffer.from(got.plaintext, 'base64').equals(probe.plaintexts.get(v.keyVersionId)!)) problems.push(`${name}: decrypts to something else`);
      else this.stats.decryptions++;
    }
    if (probe.mac !== undefined && report.mac !== probe.mac) problems.push(`access key ${this.accessKey!.id}: ${report.mac === undefined ? 'no HMAC' : 'its secret changed'}`);
    if (report.auditChainOk !== true) problems.push('the audit chain was not verified ok');
    return problems;
  }

  /**
   * Before a child opens the vault again: the database as the last kill left it. Answers the
   * generations that may open it: the current one, and the next when an operation was in flight,
   * as far as the header's protection allows.
   */
  private lookBeforeOpening(at: string, expect: ExpectStatic): number[] {
    const disk = lookAtDisk(this.vaultDir);
    expect(disk.integrity, `integrity_check ${at}`).toBe('ok');
    const action = CHURN_ACTION[this.operation];
    const unaudited = [...this.acked].filter(([id]) => disk.okEntries.get(id) !== action).map(([id, r]) => `${action} ${id} (round ${r})`);
    expect(unaudited, `acknowledged operations without their audit entry ${at}`).toEqual([]);
    if (disk.header !== this.header) {
      // An operation committed and was killed before its acknowledgement went out.
      expect(this.uncertain, `the custody header changed although no operation was in flight ${at}`).toBe(true);
      this.stats.committedUnacknowledged++;
      this.header = disk.header;
    }
    // Each committed operation has its audit entry, acknowledged or not (one transaction).
    const audited = [...disk.okEntries.values()].filter((a) => a === action).length;
    expect(audited, `${action} audit entries vs operations committed ${at}`).toBe(this.stats.acks + this.stats.committedUnacknowledged);
    // Every keychain entry of the vault is the one in use or listed for deletion: one that is neither
    // stays in the keychain for good. Looked at before the next unlock deletes the listed ones.
    const inUse = disk.protection === 'keychain' ? (disk.keychainAccount ?? `vault-${this.vaultId}`) : undefined;
    const orphans = keychainAccounts(this.vaultId).filter((a) => a !== inUse && !disk.keychainCleanup.includes(a) && !this.orphans.has(a));
    for (const a of orphans) this.orphans.set(a, `first seen ${at} after a kill (${this.lastKill})`);
    const candidates = (this.uncertain ? [this.generation, this.generation + 1] : [this.generation]).filter(
      (g) => protectionAt(this.operation, g) === disk.protection,
    );
    expect(candidates.length, `the header says ${disk.protection}: neither generation ${this.generation}'s protection nor the next's ${at}`).toBeGreaterThan(0);
    return candidates;
  }

  private opened(report: ProbeReport, candidates: readonly number[], probe: Probe, at: string, expect: ExpectStatic): void {
    expect(candidates, `the churn opened generation ${report.generation}, not a candidate ${at}`).toContain(report.generation);
    if (report.generation !== this.generation) this.stats.openedWithNext++;
    this.generation = report.generation;
    this.uncertain = false;
    this.stats.checks++;
    expect(this.reportProblems(report, probe).slice(0, 20), `using the vault after the kill ${at}`).toEqual([]);
  }

  private keep(): string {
    const kept = `${this.dir.path}-kept`;
    cpSync(this.dir.path, kept, { recursive: true });
    return kept;
  }

  /** Before a round: the look at the disk, and this vault's part of the child's config. */
  prepare(round: number, expect: ExpectStatic): ChurnVault {
    const candidates = this.lookBeforeOpening(where(this.operation, round), expect);
    const probe = this.newProbe();
    this.pending = { probe, candidates };
    return { vaultDir: this.vaultDir, operation: this.operation, candidates, secretTag: this.tag, probe: probe.request };
  }

  /** After the kill: what this vault's loop reported and acknowledged. */
  take(round: number, outcome: VaultOutcome, aimed: Strategy | undefined, expect: ExpectStatic): void {
    const at = where(this.operation, round);
    const { probe, candidates } = this.pending!;
    if (outcome.refusals.some((r) => r.startsWith('unopenable'))) {
      expect.fail(`the vault opens with neither the acknowledged secret nor the next ${at}: ${outcome.refusals.join('; ')} (vault kept in ${this.keep()})`);
    }
    expect(outcome.refusals, `refusals ${at}`).toEqual([]);
    if (aimed) this.stats.aimedAt.set(aimed, (this.stats.aimedAt.get(aimed) ?? 0) + 1);
    this.lastKill = `${aimed ?? 'not aimed at it'}, ${outcome.report ? 'opened' : 'not opened'}, ${outcome.acks.length} acknowledged`;
    if (outcome.report) {
      this.opened(outcome.report, candidates, probe, at, expect);
      // Its first operation started right after the report: from here one may be in flight at any moment.
      this.uncertain = true;
      this.stats.killsInFlight++;
    }
    for (const [i, ack] of outcome.acks.entries()) {
      expect(ack.generation, `acknowledged generation ${at}`).toBe(this.generation + 1);
      if (i === 0) expect(outcome.report, `an acknowledgement before the vault was opened ${at}`).toBeDefined();
      this.acked.set(ack.requestId, round);
      this.generation = ack.generation;
      this.header = ack.header;
      this.stats.acks++;
    }
  }

  /** The last kill, checked in this process: the same look, open and probe as a round's start. */
  async finalCheck(round: number, expect: ExpectStatic): Promise<void> {
    const at = `${where(this.operation, round)}, final check`;
    const candidates = this.lookBeforeOpening(at, expect);
    const result = await openWithCandidates(this.vaultDir, this.operation, this.tag, candidates);
    if ('refusals' in result) {
      expect.fail(`the vault opens with neither the acknowledged secret nor the next ${at}: ${result.refusals.join('; ')} (vault kept in ${this.keep()})`);
    }
    const probe = this.newProbe();
    try {
      this.opened(await probeVault(result.vault, result.generation, probe.request, CALLER), candidates, probe, at, expect);
    } finally {
      await result.vault.close();
    }
    const disk = lookAtDisk(this.vaultDir);
    expect(disk.integrity, `integrity_check after the final check ${at}`).toBe('ok');
  }

  /**
   * After the final check's unlock, which deletes what interrupted operations left in the keychain:
   * the entries naming this vault besides the one in use (none, unless a kill orphaned some).
   */
  strayKeychainEntries(): { stray: string[]; listed: string[] } {
    const disk = lookAtDisk(this.vaultDir);
    const inUse = disk.protection === 'keychain' ? (disk.keychainAccount ?? `vault-${this.vaultId}`) : undefined;
    return { stray: keychainAccounts(this.vaultId).filter((a) => a !== inUse), listed: disk.keychainCleanup };
  }

  async cleanUp(): Promise<string[]> {
    if (!this.vaultId) return [];
    const left = keychainAccounts(this.vaultId);
    for (const account of left) spawnSync('secret-tool', ['clear', 'service', KEYCHAIN_SERVICE, 'username', account]);
    await deleteDataKey(`vault-${this.vaultId}`).catch(() => undefined);
    this.dir.remove();
    return left;
  }
}

// --- Rounds ------------------------------------------------------------------------------------

const schedule = prng(SEED);
const between = (lo: number, hi: number): number => lo + Math.floor(schedule() * (hi - lo + 1));
let startupEstimateMs = 2000;
/** Times gnome-keyring-daemon died under the churn. */
let keyringDeaths = 0;

function chooseStrategy(): Strategy {
  const r = schedule();
  if (r < 0.05) return 'startup';
  if (r < 0.4) return 'in-first-op';
  if (r < 0.65) return 'at-ack';
  return 'after-acks';
}

/**
 * One round: every vault looked at, one child that opens, probes and churns them all, killed at a
 * moment aimed at one operation (`aim`), and what each vault's loop said handed to its Churn.
 */
async function runRound(round: number, churns: readonly Churn[], expect: ExpectStatic): Promise<Strategy> {
  const config: ChurnConfig = { vaults: churns.map((c) => c.prepare(round, expect)) };
  const aim = churns[(round - 1) % churns.length]!;
  const strategy = chooseStrategy();
  // Drawn up front, so the sequence of draws depends on the seed only, not on timing.
  const fraction = schedule();
  const ackTarget = between(1, 4);

  const keyring = secretServiceOwner();
  const started = performance.now();
  const child = spawn(process.execPath, [CHURN, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const outcomes = new Map<ChurnOperation, VaultOutcome>(churns.map((c) => [c.operation, { report: undefined, acks: [], refusals: [] }]));
  const lastAt = new Map<ChurnOperation, number>();
  const anomalies: string[] = [];
  let killed = false;
  let buffer = '';
  let stderr = '';
  const timers: NodeJS.Timeout[] = [];
  const kill = (): void => {
    if (killed || child.exitCode !== null || child.signalCode !== null) return;
    killed = true;
    child.kill('SIGKILL');
  };
  const later = (ms: number): void => void timers.push(setTimeout(kill, Math.max(0, Math.round(ms))));

  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      const now = performance.now();
      const match = /^(\w+) ([\w-]+) (.*)$/.exec(line);
      const operation = match?.[2] as ChurnOperation | undefined;
      const outcome = operation === undefined ? undefined : outcomes.get(operation);
      if (!match || !outcome) {
        anomalies.push(`the churn said: ${line.slice(0, 400)}`);
        continue;
      }
      const churn = churns.find((c) => c.operation === operation)!;
      const [, word, , body] = match;
      if (word === 'opened') {
        outcome.report = JSON.parse(body!) as ProbeReport;
        lastAt.set(operation!, now);
        if (churn === aim) {
          startupEstimateMs = 0.7 * startupEstimateMs + 0.3 * (now - started);
          if (strategy === 'in-first-op') later(fraction * 1.5 * churn.opEstimateMs);
        }
      } else if (word === 'ack') {
        // A line read after kill() was still written before the child died: it acknowledges too.
        outcome.acks.push(JSON.parse(body!) as Ack);
        if (killed) continue;
        churn.opEstimateMs = 0.8 * churn.opEstimateMs + 0.2 * (now - (lastAt.get(operation!) ?? now));
        lastAt.set(operation!, now);
        if (churn === aim && outcome.acks.length === ackTarget) {
          if (strategy === 'at-ack') kill();
          if (strategy === 'after-acks') later(fraction * churn.opEstimateMs);
        }
      } else {
        outcome.refusals.push(`${word}: ${body!.slice(0, 1500)}`);
        kill(); // the round is lost: look at it now
      }
    }
  });
  if (strategy === 'startup') later(fraction * 1.2 * startupEstimateMs);
  timers.push(
    setTimeout(() => {
      const acks = [...outcomes].map(([op, o]) => `${op} ${o.report ? 'opened' : 'not opened'}, ${o.acks.length} acknowledged`).join('; ');
      anomalies.push(`${strategy} aimed at ${aim.operation}: no kill after ${ROUND_LIMIT_MS} ms (${acks}); stderr: ${stderr.slice(-1500)}`);
      kill();
    }, ROUND_LIMIT_MS),
  );

  await new Promise<void>((done) => {
    child.on('close', (code, signal) => {
      for (const t of timers) clearTimeout(t);
      // A line the kill cut short (only a report can be longer than PIPE_BUF) acknowledges nothing.
      if (!killed) anomalies.push(`the churn ended by itself (code ${code}, signal ${signal}); stderr: ${stderr.slice(-1500)}`);
      else if (signal !== 'SIGKILL') anomalies.push(`the killed churn reported code ${code}, signal ${signal}; stderr: ${stderr.slice(-1500)}`);
      done();
    });
  });
  expect(anomalies, `anomalies ${where(undefined, round)}`).toEqual([]);
  if (secretServiceOwner() !== keyring) {
    // gnome-keyring-daemon 42 sometimes dies (SIGTRAP inside GLib) while its clients are killed
    // mid-call: the keyring's bug, not the vault's, and keychain calls failing then are its doing.
    // The bus of test/setup/with-secret-service.sh starts another, login keyring unlocked; asked for
    // it now, the next round checks that every vault still opens and lost nothing.
    keyringDeaths++;
    const restored = startSecretService();
    console.log(`custody-crash: round ${round}: the Secret Service (pid ${keyring}) died; restored as pid ${restored}`);
    expect(restored, `restarting the Secret Service ${where(undefined, round)}`).toBeDefined();
    for (const outcome of outcomes.values()) {
      const excused = outcome.refusals.filter((r) => /Vault\.KeychainUnavailable/.test(r));
      if (excused.length > 0) console.log(`custody-crash: round ${round}: excused with the keyring gone: ${excused.join('; ').slice(0, 600)}`);
      outcome.refusals.splice(0, outcome.refusals.length, ...outcome.refusals.filter((r) => !excused.includes(r)));
    }
  }
  for (const churn of churns) churn.take(round, outcomes.get(churn.operation)!, churn === aim ? strategy : undefined, expect);
  return strategy;
}

// --- The tests ----------------------------------------------------------------------------------

const churns: Churn[] = [];

beforeAll(() => {
  if (process.env.DESKKMS_TEST_SECRET_SERVICE !== '1' || !process.env.DBUS_SESSION_BUS_ADDRESS) {
    throw new Error(
      'the custody crash test moves data keys in and out of the keychain: run it inside the private Secret Service, ' +
        '`bash test/setup/with-secret-service.sh npx vitest run test/integration/custody-crash.test.ts` (npm test does).',
    );
  }
  console.log(`custody-crash: seed ${SEED}, ${ROUNDS} kills in flight for each of ${OPERATIONS.join(', ')} (reproduce with DESKKMS_CUSTODY_SEED=${SEED} DESKKMS_CUSTODY_ROUNDS=${ROUNDS})`);
});

afterAll(async () => {
  for (const churn of churns) {
    const left = await churn.cleanUp();
    if (left.length > 1) console.log(`custody-crash: ${churn.operation}: ${left.length} keychain entries named the vault: ${left.join(', ')}`);
  }
});

describe('custody operations under kill -9', () => {
  it(
    `${OPERATIONS.join(', ')}: SIGKILL at random moments leaves vaults that open with the old or the new secret and have lost nothing (${ROUNDS} kills each)`,
    { timeout: 1_800_000 },
    async ({ expect }) => {
      expect(ROUNDS).toBeGreaterThanOrEqual(1);
      for (const operation of OPERATIONS) churns.push(new Churn(operation));
      await Promise.all(churns.map((c) => c.setUp()));
      const started = performance.now();
      const strategies = new Map<Strategy, number>();
      let round = 0;
      // Until each operation has taken ROUNDS kills mid-loop AND completed ROUNDS operations (under a
      // loaded machine a slow operation, a passphrase rotation, completes fewer per round).
      const short = (c: Churn): boolean => c.stats.killsInFlight < ROUNDS || c.stats.acks < ROUNDS;
      while (churns.some(short)) {
        round++;
        const behind = churns.filter(short).map((c) => `${c.operation} ${c.stats.killsInFlight} kills, ${c.stats.acks} acknowledged`);
        expect(round, `after ${MAX_ROUNDS} rounds: ${behind.join('; ')} ${where(undefined, round)}`).toBeLessThanOrEqual(MAX_ROUNDS);
        const strategy = await runRound(round, churns, expect);
        strategies.set(strategy, (strategies.get(strategy) ?? 0) + 1);
      }
      for (const churn of churns) await churn.finalCheck(round, expect);
      const strays = churns.map((c) => ({ operation: c.operation, ...c.strayKeychainEntries() })).filter((c) => c.stray.length > 0);
      const lines = [
        `custody-crash: seed ${SEED}: ${round} kill rounds in ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
          `kills by strategy: ${[...strategies].map(([k, n]) => `${k} ${n}`).join(', ')}; a child opens and probes in ~${Math.round(startupEstimateMs)} ms; ` +
          `the Secret Service died ${keyringDeaths} times`,
      ];
      for (const { operation, generation, opEstimateMs, stats: s } of churns) {
        lines.push(
          `  ${operation}: ${s.acks} operations acknowledged (generation ${generation}, ~${Math.round(opEstimateMs)} ms each); ${s.killsInFlight} kills landed while it ran ` +
            `(aimed at it: ${[...s.aimedAt].map(([k, n]) => `${k} ${n}`).join(', ')}); committed but killed before the acknowledgement: ` +
            `${s.committedUnacknowledged}; opened with the next secret: ${s.openedWithNext}; ${s.checks} checks: ${s.signatures} signatures ` +
            `verified against the original public keys, ${s.decryptions} decryptions`,
        );
      }
      console.log(lines.join('\n'));
      // A data key's entry the vault neither uses nor lists for deletion stays in the keychain for
      // good (for a rotation, the old key). Not asserted when the keyring itself died meanwhile.
      const strayText = strays
        .map((c) => {
          const orphans = churns.find((x) => x.operation === c.operation)!.orphans;
          const story = c.stray.map((a) => `${a}${orphans.has(a) ? ` (${orphans.get(a)})` : ''}`);
          return `${c.operation}: ${story.join(', ')} (listed for deletion: ${c.listed.join(', ') || 'none'})`;
        })
        .join('; ');
      if (keyringDeaths > 0 && strays.length > 0) console.log(`custody-crash: keychain entries left after the keyring died: ${strayText}`);
      else expect(strayText, `keychain entries left behind after the final unlock ${where(undefined, round)}`).toBe('');
      for (const { operation, stats: s } of churns) {
        expect(s.acks, `${operation} acknowledged too few operations ${where(operation, round)}`).toBeGreaterThanOrEqual(ROUNDS);
      }
    },
  );
});
