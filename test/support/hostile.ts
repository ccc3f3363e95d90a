// Hostile input for the three ways in: the KMS API server (unauthenticated, and signed with a real
// access key), the app's AppSession.call (the path behind the browser host and Electron's IPC),
// and `deskkms batch` (JSON Lines). Seeded (mulberry32, test/support/random.ts): a failure
// replays with HOSTILE_SEED=<the seed printed>. Shared by test/integration/hostile-input.test.ts
// (bounded) and the benchmark (test/bench/hostile-fuzz.ts, a longer run).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { ACTION_NAMES } from '../../core/contract/actions.ts';
import { isErrorCode } from '../../core/contract/errors.ts';
import { percentEncode, rpcSignature, rpcStringToSign } from '../../core/hosts/http/rpc-signature.ts';
import type { AppSession } from '../../core/app/app-session.ts';
import { prng } from './random.ts';

export const BIN = resolve(import.meta.dirname, '../../core/hosts/cli/deskkms.ts');

/** HOSTILE_SEED, or a fresh one; printed so a failing run can be replayed. */
export function hostileSeed(label: string): number {
  const seed = process.env.HOSTILE_SEED === undefined ? Math.floor(Math.random() * 2 ** 32) : Number(process.env.HOSTILE_SEED);
  console.error(`${label}: seed ${seed} (replay with HOSTILE_SEED=${seed})`);
  return seed;
}

/** Actions worth calling with real-looking parameters: cheap ones (no RSA key generation). */
const CHEAP_ACTIONS = ['ListKeys', 'DescribeKey', 'GetPublicKey', 'AsymmetricSign', 'AsymmetricVerify', 'DescribeKeyVersion', 'ListKeyVersions',
  'ListAliases', 'ListAliasesByKeyId', 'ListResourceTags', 'UpdateKeyDescription', 'TagResource', 'UntagResource', 'CreateAlias', 'DeleteAlias',
  'UpdateAlias', 'GetCertificates', 'EnableKey'].filter((a) => (ACTION_NAMES as string[]).includes(a));
const PARAM_NAMES = ['KeyId', 'KeyVersionId', 'Algorithm', 'Digest', 'Value', 'PageNumber', 'PageSize', 'AliasName', 'Description', 'Tags', 'TagKeys',
  'KeySpec', 'KeyUsage', 'Plaintext', 'CiphertextBlob', 'Origin', 'Exportable', 'PendingWindowInDays'];
const PIECES = ['\u0000', '\u0001', '\u0007', '\b', '\t', '\n', '\r', '\u001b[2J', '\u007f', '\u0085', '\u009b', '\uD800', '\uDBFF', '\uDC00', '\uDFFF',
  '\u202E', '\u202A', '\u202D', '\u2066', '\u2067', '\u2069', '\u061C', '\u200B', '\u200E', '\u200F', '\uFEFF', '\u2028', '\u2029', '\u00A0', '\u{E0041}',
  '\uFFFF', '\uE000', '\\', '\\x01', '\\u202E', '"', "'", '%', '%00', '&', '=', '+', '/', '..', '(none)', '(', ')', '{', '}', '[', ']', '<script>', 'alias/',
  'acs:kms:x:y:key/', 'key/', 'remote/', 'remote/x/', 'DKMS', '😀', '中文', 'é', ' ', 'A', 'z', '0', '-', '__proto__', 'constructor', "'; DROP TABLE audit_log;--"];

function wellFormed(text: string): string {
  return text.replace(/\p{Cs}/gu, '\uFFFD');
}

/** A key of the vault under test, so some calls get past validation to the handlers. */
export interface KnownKey {
  readonly keyId: string;
  readonly keyVersionId: string;
}

/** The generators, over one seeded PRNG. */
export class Hostile {
  readonly random: () => number;
  private readonly known: KnownKey | undefined;

  constructor(seed: number, known?: KnownKey) {
    this.random = prng(seed);
    this.known = known;
  }

  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  /** Control characters, lone surrogates, bidi and zero-width characters, quotes, long runs... */
  string(): string {
    const r = this.random();
    if (r < 0.04) return '';
    if (r < 0.1) return this.pick(PIECES).repeat(1 + this.int(this.chance(0.5) ? 200 : 20_000)); // very long
    if (r < 0.2) return String.fromCharCode(this.int(0x10000)) + String.fromCharCode(this.int(0x10000)); // any code units
    if (r < 0.3) return this.pick(CHEAP_ACTIONS) + this.pick(PIECES);
    let s = '';
    for (let i = 1 + this.int(8); i > 0; i--) s += this.pick(PIECES);
    return s;
  }

  /** Hostile text that is well-formed Unicode (lone surrogates replaced): what can be signed. */
  signable(): string {
    return wellFormed(this.string());
  }

  /** An Action: mostly hostile text, sometimes a real one. */
  action(): string {
    return this.chance(0.35) ? this.pick(CHEAP_ACTIONS) : this.string();
  }

  /** Any JSON value a caller could send where a string belongs. */
  value(depth = 0): unknown {
    const r = this.random();
    if (r < 0.5) return this.string();
    if (r < 0.58) return this.pick([0, -1, 1.5, -0, 1e308, -1e308, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER, 1e21, 123456789]);
    if (r < 0.62) return this.pick([true, false, null]);
    if (r < 0.75 && depth < 3) return Array.from({ length: this.int(4) }, () => this.value(depth + 1));
    if (r < 0.85 && depth < 3) return this.params(depth + 1);
    return this.string();
  }

  /**
   * A call that is right but for one hostile field (sometimes none), so it reaches the handler:
   * the key's KeyId, alias or ARN, a page size, a digest, a description, tags.
   */
  call(): { Action: string; params: Record<string, unknown> } {
    const keyId = this.known?.keyId ?? 'alias/fuzz';
    const versionId = this.known?.keyVersionId ?? '00000000-0000-4000-8000-000000000000';
    const ref = this.pick([keyId, 'alias/fuzz', `acs:kms:cn-hangzhou:1:key/${keyId}`, `acs:kms:cn-hangzhou:1:alias/fuzz`]);
    const digest = Buffer.alloc(32, this.int(256)).toString('base64');
    const calls: [string, Record<string, unknown>][] = [
      ['DescribeKey', { KeyId: this.chance(0.7) ? this.string() : ref }],
      ['ListKeys', { PageSize: this.value(), PageNumber: this.chance(0.5) ? 1 : this.value() }],
      ['GetPublicKey', { KeyId: ref, KeyVersionId: this.chance(0.5) ? versionId : this.string() }],
      ['AsymmetricSign', { KeyId: ref, KeyVersionId: versionId, Algorithm: this.chance(0.5) ? 'ECDSA_SHA_256' : this.value(), Digest: this.chance(0.5) ? digest : this.value() }],
      ['UpdateKeyDescription', { KeyId: ref, Description: this.string() }],
      ['TagResource', { KeyId: ref, Tags: this.chance(0.5) ? JSON.stringify([{ TagKey: this.string(), TagValue: this.string() }]) : this.value() }],
      ['ListAliasesByKeyId', { KeyId: this.chance(0.5) ? `alias/${this.string()}` : ref }],
      ['DeleteAlias', { AliasName: `alias/${this.string()}` }],
    ];
    const [Action, params] = this.pick(calls);
    return { Action, params };
  }

  params(depth = 0): Record<string, unknown> {
    const params: Record<string, unknown> = {};
    for (let i = this.int(5); i > 0; i--) params[this.chance(0.75) ? this.pick(PARAM_NAMES) : this.string()] = this.value(depth);
    return params;
  }
}

// --- answers ---------------------------------------------------------------------------------------

export interface Tally {
  sent: number;
  ok: number;
  /** Answers by Code. */
  readonly codes: Map<string, number>;
  /** Answers that are not a success or an error with a known Code (or InternalFailure): should stay empty. */
  readonly improper: string[];
}

export function newTally(): Tally {
  return { sent: 0, ok: 0, codes: new Map(), improper: [] };
}

/** Counts one answer; anything but a success or a proper error (a known Code, not InternalFailure) is improper. */
export function tallyAnswer(tally: Tally, what: string, answer: unknown): void {
  const a = answer as { Code?: unknown; Message?: unknown; RequestId?: unknown } | undefined;
  if (a && a.Code === undefined && typeof a.RequestId === 'string') {
    tally.ok++;
    return;
  }
  const code = a?.Code;
  tally.codes.set(String(code), (tally.codes.get(String(code)) ?? 0) + 1);
  if (!isErrorCode(code) || code === 'InternalFailure' || typeof a?.Message !== 'string') {
    if (tally.improper.length < 20) tally.improper.push(`${what} -> ${JSON.stringify(answer)?.slice(0, 300)}`);
  }
}

// --- the API server ----------------------------------------------------------------------------------

/** Percent-encodes any string: a lone surrogate as the (invalid) UTF-8 a careless client would send. */
function pct(text: string): string {
  let out = '';
  for (const char of text) {
    const cp = char.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) out += `%${(0xe0 | (cp >> 12)).toString(16)}%${(0x80 | ((cp >> 6) & 0x3f)).toString(16)}%${(0x80 | (cp & 0x3f)).toString(16)}`.toUpperCase();
    else out += percentEncode(char);
  }
  return out;
}

function common(accessKeyId: string): Record<string, string> {
  return {
    Format: 'JSON',
    Version: '2016-01-20',
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: randomUUID(),
    Timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    AccessKeyId: accessKeyId,
  };
}

export interface ApiCredentials {
  readonly accessKeyId: string;
  readonly secret: string;
}

/** One hostile request's method, path-and-query, and optional form body. */
export function hostileApiRequest(h: Hostile, key: ApiCredentials): { method: string; path: string; body?: string; headers?: Record<string, string> } {
  const r = h.random();
  if (r < 0.45) {
    // Signed with the real secret: hostile Action and parameter values reach dispatch.
    const params: Record<string, string> = { ...common(key.accessKeyId), Action: wellFormed(h.action()) };
    if (h.chance(0.4)) {
      const call = h.call();
      params.Action = call.Action;
      for (const [name, value] of Object.entries(call.params)) params[name] = wellFormed(typeof value === 'string' ? value : JSON.stringify(value) ?? '');
    } else {
      for (let i = h.int(4); i > 0; i--) params[h.pick(PARAM_NAMES)] = h.signable();
      if (h.chance(0.3)) params.KeyId = h.pick(['alias/fuzz', 'alias/nope', `key/${randomUUID()}`, h.signable()]);
    }
    const method = h.chance(0.5) ? 'GET' : 'POST';
    params.Signature = rpcSignature(rpcStringToSign(method, params), key.secret);
    return { method, path: `/?${Object.entries(params).map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&')}` };
  }
  if (r < 0.85) {
    // Unauthenticated: hostile AccessKeyId and Action, a signature that cannot match; protocol fields sometimes missing or wrong.
    const params: Record<string, string> = { ...common(h.chance(0.2) ? key.accessKeyId : h.string()), Action: h.action(), Signature: h.string() };
    for (const name of ['Version', 'SignatureMethod', 'SignatureVersion', 'Timestamp', 'SignatureNonce', 'Format']) {
      if (h.chance(0.06)) delete params[name];
      else if (h.chance(0.04)) params[name] = h.string();
    }
    const query = Object.entries(params).map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&');
    return { method: h.chance(0.5) ? 'GET' : 'POST', path: `/?${query}` };
  }
  // Malformed at the HTTP or form level: arrays for strings, bad escapes, names, paths, bodies.
  const base = Object.entries(common(h.string())).map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&');
  const variants = [
    () => ({ method: 'GET', path: `/?${base}&Action=ListKeys&Action=${pct(h.string())}` }),
    () => ({ method: 'GET', path: `/?${base}&Action=${h.pick(['%zz', '%', '%C3%28', '%ED%A0%80', '%00%01'])}` }),
    () => ({ method: 'GET', path: `/?${base}&${pct(h.string()) || '%01'}=1&Action=A` }),
    () => ({ method: 'GET', path: `/${h.pick(['kms', '%2F', '..', '%00'])}?${base}&Action=A` }),
    () => ({ method: h.pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE']), path: `/?${base}&Action=A` }),
    () => ({ method: 'POST', path: `/?${base}`, body: JSON.stringify({ Action: h.value() }), headers: { 'content-type': 'application/json' } }),
    () => ({ method: 'POST', path: `/?${base}`, body: `Action=${pct(h.string())}&KeyId=${pct(h.string())}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    () => ({ method: 'GET', path: `/?${base}&Action=A&Pad=${'x'.repeat(17_000)}` }),
  ];
  return h.pick(variants)();
}

/** Sends `n` hostile requests, `concurrency` at a time, tallying the answers. */
export async function fuzzApi(endpoint: URL, h: Hostile, key: ApiCredentials, n: number, concurrency = 16): Promise<Tally> {
  const tally = newTally();
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      const req = hostileApiRequest(h, key);
      tally.sent++;
      const { status, text } = await send(endpoint, agent, req);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = { Code: `(HTTP ${status}, not JSON)`, Message: text.slice(0, 200) };
      }
      tallyAnswer(tally, `${req.method} ${req.path.slice(0, 200)}`, body);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return tally;
}

function send(endpoint: URL, agent: Agent, req: { method: string; path: string; body?: string; headers?: Record<string, string> }): Promise<{ status: number; text: string }> {
  return new Promise((done, fail) => {
    const r = request(
      { host: endpoint.hostname, port: endpoint.port, method: req.method, path: req.path, agent, headers: { ...req.headers, ...(req.body !== undefined ? { 'content-length': Buffer.byteLength(req.body) } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', fail);
      },
    );
    r.on('error', fail);
    r.end(req.body);
  });
}

// --- the app (AppSession.call, behind the browser host and IPC) ------------------------------------

/** A request for AppSession.call, and whether it must leave one audit entry (a Kms.Call in a valid envelope). */
export function hostileAppRequest(h: Hostile): { raw: unknown; audited: boolean } {
  const r = h.random();
  if (r < 0.35) {
    const call = h.call();
    return { raw: { method: 'Kms.Call', params: { Action: call.Action, Params: call.params } }, audited: true };
  }
  if (r < 0.85) {
    const params = h.chance(0.9) ? { Action: h.chance(0.9) ? h.action() : h.value(), Params: h.chance(0.85) ? h.params() : h.value() } : h.value();
    if (h.chance(0.05) && typeof params === 'object' && params !== null) (params as Record<string, unknown>)[h.string()] = h.value();
    return { raw: { method: 'Kms.Call', params }, audited: true };
  }
  const envelopes = [
    () => ({ method: h.string(), params: h.params() }),
    () => ({ method: h.value() }),
    () => h.value(),
    () => ({ method: 'Kms.Call', params: { Action: 'ListKeys' }, [h.pick(['extra', '__proto__', h.string() || 'x'])]: h.value() }),
    () => ({ method: `Kms.Call${h.pick(PIECES)}`, params: { Action: 'ListKeys' } }),
  ];
  return { raw: h.pick(envelopes)(), audited: false };
}

export async function fuzzApp(session: AppSession, h: Hostile, n: number): Promise<Tally & { audited: number }> {
  const tally = { ...newTally(), audited: 0 };
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const { raw, audited } = hostileAppRequest(h);
    tally.sent++;
    if (audited) tally.audited++;
    inFlight.push(
      session.call(raw).then((result) => {
        const answer = result.ok ? { RequestId: (result.value as { RequestId?: unknown } | undefined)?.RequestId ?? 'app' } : result.error;
        tallyAnswer(tally, JSON.stringify(raw)?.slice(0, 200) ?? String(raw), answer);
      }),
    );
    if (inFlight.length >= 32) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
  return tally;
}

// --- deskkms batch (JSON Lines) ------------------------------------------------------------------------

/** One batch line: a JSON object with hostile members, or text that is not one. Never blank, one line. */
export function hostileBatchLine(h: Hostile): string {
  const r = h.random();
  if (r < 0.3) {
    const call = h.call();
    return JSON.stringify({ ...call.params, Action: call.Action });
  }
  if (r < 0.75) return JSON.stringify({ Action: h.chance(0.9) ? h.action() : h.value(), ...h.params() });
  const raw = [
    () => `{"Action":${JSON.stringify(h.action())},"PageSize":${h.pick(['1e999', '-0', '123456789012345678901234567890', '1e-400', '0x10'])}}`,
    () => `{"Action":"\\ud800","KeyId":"\\udfff\\u0000"}`,
    () => `{"Action":"ListKeys","Action":${JSON.stringify(h.string())}}`,
    () => `{"__proto__":{"Action":"ListKeys"},"constructor":1,"Action":${JSON.stringify(h.action())}}`,
    () => `x${h.string().replace(/[\r\n]/g, '')}`,
    () => `${JSON.stringify(h.value())}`.replace(/^\s*$/, 'null'),
    () => `{"Action":"ListKeys"`,
    () => `${'['.repeat(5000)}${']'.repeat(5000)}`,
    () => `{"Action":${'['.repeat(2000)}1${']'.repeat(2000)}}`,
  ];
  const line = h.pick(raw)();
  return line.trim() === '' || /[\r\n]/.test(line) ? 'null' : line;
}

/** Runs `deskkms batch` once over `lines`; every line must get exactly one answer line. */
export async function fuzzBatch(lines: readonly string[], env: NodeJS.ProcessEnv): Promise<Tally & { answers: number; exit: number | null }> {
  const child = spawn(process.execPath, [BIN, 'batch'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exit = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  child.stdin.on('error', () => undefined);
  child.stdin.end(`${lines.join('\n')}\n`);
  const code = await exit;
  const tally = { ...newTally(), answers: 0, exit: code };
  const out = stdout.split('\n').filter((l) => l !== '');
  tally.sent = lines.length;
  tally.answers = out.length;
  out.forEach((line, i) => {
    let answer: unknown;
    try {
      answer = JSON.parse(line);
    } catch {
      answer = { Code: '(not JSON)', Message: line.slice(0, 200) };
    }
    tallyAnswer(tally, `line ${i + 1}: ${lines[i]?.slice(0, 200)}`, answer);
  });
  if (stderr.includes('internal failure')) tally.improper.push(`stderr: ${stderr.slice(0, 500)}`);
  return tally;
}

// --- the audit log's side ----------------------------------------------------------------------------

export interface AuditCount {
  /** Rows per caller kind: 'api' (authenticated), 'refused' (one refusal each), 'summary' (counted refusals), or the caller itself. */
  readonly rows: Map<string, number>;
  /** Refusals a summary entry counts. */
  readonly summarized: number;
}

const SUMMARY = /^api-unauthenticated:\((\d+) more since [0-9TZ:.-]+\)$/;

export function countAudit(db: Database.Database): AuditCount {
  const rows = new Map<string, number>();
  let summarized = 0;
  for (const { caller, action, n } of db.prepare<[], { caller: string; action: string; n: number }>('SELECT caller, action, count(*) AS n FROM audit_log GROUP BY caller, action').all()) {
    const summary = SUMMARY.exec(caller);
    const kind = summary && action === '(refusal summary)' ? 'summary' : caller.startsWith('api-unauthenticated:') ? 'refused' : caller.startsWith('api:') ? 'api' : caller;
    rows.set(kind, (rows.get(kind) ?? 0) + n);
    if (kind === 'summary') summarized += Number(summary![1]) * n;
  }
  return { rows, summarized };
}

export function rowsOf(count: AuditCount, kind: string): number {
  return count.rows.get(kind) ?? 0;
}
