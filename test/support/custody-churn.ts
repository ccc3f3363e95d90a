// The child program of test/integration/custody-crash.test.ts. For each vault it is given (one per
// custody operation), side by side: it opens the vault, uses everything the test put in it (the
// probe below), and then changes how the vault is protected, through dispatch like any host, in a
// loop that never ends on its own. The test kills the process (SIGKILL) at a random moment, which
// lands in every vault's operation at once, and starts the next round with another one. Opening
// and probing here, at the start of each round, is the test's check of what the last kill left.
// One process for all the vaults and the check: most of a round is Node starting (~1.5 s of CPU).
//
//   node test/support/custody-churn.ts '<ChurnConfig as JSON>'
//
// stdout, one line each (a pipe on Linux is written synchronously, so a line is out before the
// next operation starts), OP being the vault's operation:
//   opened OP {ProbeReport}                  the vault opened in generation n and was probed; its first operation starts now
//   ack OP {"generation":n,"requestId":...}  an operation was acknowledged: generation n is current
//   unopenable OP {...}                      no candidate secret opens the vault; that vault's loop stops
//   fail OP {...}                            an operation was refused; that vault's loop stops
// stderr: where each vault's loop got to before its first operation (shown when a round hangs).
//
// A vault's state is a generation number: each acknowledged operation moves it from n to n + 1,
// and the secret a generation is opened with is a function of the operation, the generation and
// the test's tag (secretAt below), so the test knows both the acknowledged secret and the one an
// interrupted operation was moving to, and passes them as the candidates.
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { dispatch } from '../../core/actions/dispatch.ts';
import { getAccessKey } from '../../core/vault/records.ts';
import { Vault } from '../../core/vault/vault.ts';

export const CHURN_OPERATIONS = ['change-passphrase', 'change-protection', 'rotate-keychain', 'rotate-passphrase'] as const;
export type ChurnOperation = (typeof CHURN_OPERATIONS)[number];

/** What to use in the vault once it is open: every version of every key made before the loop, and the access key. */
export interface ProbeRequest {
  readonly versions: readonly {
    readonly keyId: string;
    readonly keyVersionId: string;
    /** Signing keys: sign a fresh message's SHA-256 digest with this algorithm. */
    readonly signAlgorithm?: string;
    /** Encryption keys: decrypt this (base64; RSAES_OAEP_SHA_256 under the version's public key). */
    readonly ciphertext?: string;
  }[];
  readonly accessKeyId?: string;
  /** base64: HMAC-SHA1 it with the access key's secret, inside the key worker. */
  readonly macData?: string;
}

export interface ProbeReport {
  readonly generation: number;
  /** Calls that failed (Code and message), and keys ListKeys lacks. */
  readonly problems: string[];
  readonly versions: {
    readonly keyVersionId: string;
    /** SHA-256 (hex) of GetPublicKey's PEM. */
    readonly publicKey?: string;
    readonly message?: string;
    readonly signature?: string;
    readonly plaintext?: string;
  }[];
  readonly mac?: string;
  readonly auditChainOk?: boolean;
}

/** One vault and what to do with it. */
export interface ChurnVault {
  readonly vaultDir: string;
  readonly operation: ChurnOperation;
  /** Generations whose secrets may open the vault, tried in this order (the acknowledged one first). */
  readonly candidates: readonly number[];
  /** Makes this test run's passphrases its own. */
  readonly secretTag: string;
  readonly probe: ProbeRequest;
}

/** The vaults one child churns side by side (one kill lands in all their operations). */
export interface ChurnConfig {
  readonly vaults: readonly ChurnVault[];
}

/** The Action each churn calls. */
export const CHURN_ACTION: Readonly<Record<ChurnOperation, string>> = {
  'change-passphrase': 'ChangePassphrase',
  'change-protection': 'ChangeProtection',
  'rotate-keychain': 'RotateDataKey',
  'rotate-passphrase': 'RotateDataKey',
};

/** How generation n is protected: change-protection starts in the keychain and alternates. */
export function protectionAt(operation: ChurnOperation, generation: number): 'keychain' | 'passphrase' {
  switch (operation) {
    case 'change-passphrase':
    case 'rotate-passphrase':
      return 'passphrase';
    case 'rotate-keychain':
      return 'keychain';
    case 'change-protection':
      return generation % 2 === 0 ? 'keychain' : 'passphrase';
  }
}

/** The passphrase that opens generation n (undefined: the keychain does). rotate-passphrase keeps generation 0's. */
export function secretAt(operation: ChurnOperation, tag: string, generation: number): Uint8Array | undefined {
  if (protectionAt(operation, generation) === 'keychain') return undefined;
  return new TextEncoder().encode(`custody ${tag} generation ${operation === 'rotate-passphrase' ? 0 : generation}`);
}

/** scrypt cost of the test's passphrase wraps (the default 2^17 costs ~0.35 s each on the build machine, 2^14 ~40 ms). */
export const KDF_N = 2 ** 14;

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
export const pemDigest = (pem: string): string => createHash('sha256').update(pem).digest('hex');

/** The parameters of the call that moves generation n to n + 1. */
export function churnParams(operation: ChurnOperation, tag: string, generation: number): Record<string, unknown> {
  const current = secretAt(operation, tag, generation);
  const next = secretAt(operation, tag, generation + 1);
  switch (operation) {
    case 'change-passphrase':
      return { Passphrase: b64(current!), NewPassphrase: b64(next!) };
    case 'change-protection':
      return next === undefined ? { Protection: 'keychain', Passphrase: b64(current!) } : { Protection: 'passphrase', NewPassphrase: b64(next) };
    case 'rotate-keychain':
      return {};
    case 'rotate-passphrase':
      return { Passphrase: b64(current!) };
  }
}

/**
 * A digest of the header rows that say how the vault is unlocked (not the audit anchor, which
 * moves with every entry, nor the keychain clean-up list, which an operation writes before its
 * commit and an unlock empties): it changes exactly when a custody operation commits.
 */
export function custodyHeader(meta: ReadonlyMap<string, string>): string {
  const rows = ['protection', 'verifier', 'wrapped_data_key', 'keychain_account'].map((key) => [key, meta.get(key) ?? null]);
  return createHash('sha256').update(JSON.stringify(rows)).digest('hex').slice(0, 16);
}

export function metaOf(db: Vault['store']['db']): Map<string, string> {
  const rows = db.prepare('SELECT key, value FROM meta').all() as { key: string; value: unknown }[];
  return new Map(rows.filter((r) => typeof r.value === 'string').map((r) => [r.key, r.value as string]));
}

const describeError = (error: unknown): string =>
  error instanceof Error ? `${(error as { code?: string }).code ?? error.name}: ${error.message}` : String(error);

/** Opens the vault with the first candidate generation whose secret unlocks it; the refusals when none does. */
export async function openWithCandidates(
  vaultDir: string,
  operation: ChurnOperation,
  tag: string,
  candidates: readonly number[],
): Promise<{ vault: Vault; generation: number } | { refusals: string[] }> {
  const vault = Vault.open(vaultDir, { startLocked: true, kdfN: KDF_N });
  const refusals: string[] = [];
  for (const generation of candidates) {
    try {
      await vault.unlockWith(secretAt(operation, tag, generation));
      return { vault, generation };
    } catch (error) {
      refusals.push(`generation ${generation} (${protectionAt(operation, generation)}): ${describeError(error)}`);
    }
  }
  await vault.close();
  return { refusals };
}

/** Uses everything the probe names, through dispatch (and the access key's secret in the key worker); the test checks the answers. */
export async function probeVault(vault: Vault, generation: number, probe: ProbeRequest, caller: string): Promise<ProbeReport> {
  const problems: string[] = [];
  const call = async (action: string, params: Record<string, unknown>): Promise<Record<string, any> | undefined> => {
    const outcome = await dispatch(vault, action, params, caller);
    if (outcome.ok) return outcome.body;
    problems.push(`${action} ${JSON.stringify(params).slice(0, 120)}: ${outcome.error.Code} ${outcome.error.Message}`);
    return undefined;
  };
  const listed = await call('ListKeys', { PageSize: 100 });
  const listedIds = new Set(((listed?.Keys.Key ?? []) as { KeyId: string }[]).map((k) => k.KeyId));
  for (const keyId of new Set(probe.versions.map((v) => v.keyId))) {
    if (listed && !listedIds.has(keyId)) problems.push(`ListKeys lacks ${keyId}`);
    const described = await call('DescribeKey', { KeyId: keyId });
    if (described && described.KeyMetadata.KeyState !== 'Enabled') problems.push(`${keyId} is ${described.KeyMetadata.KeyState}`);
  }
  const versions: ProbeReport['versions'][number][] = [];
  for (const v of probe.versions) {
    const ref = { KeyId: v.keyId, KeyVersionId: v.keyVersionId };
    const pub = await call('GetPublicKey', ref);
    const report: { -readonly [K in keyof ProbeReport['versions'][number]]: ProbeReport['versions'][number][K] } = { keyVersionId: v.keyVersionId };
    if (pub) report.publicKey = pemDigest(pub.PublicKey as string);
    if (v.signAlgorithm) {
      const message = randomBytes(32);
      const signed = await call('AsymmetricSign', { ...ref, Algorithm: v.signAlgorithm, Digest: createHash('sha256').update(message).digest('base64') });
      report.message = b64(message);
      if (signed) report.signature = signed.Value as string;
    }
    if (v.ciphertext) {
      const decrypted = await call('AsymmetricDecrypt', { ...ref, Algorithm: 'RSAES_OAEP_SHA_256', CiphertextBlob: v.ciphertext });
      if (decrypted) report.plaintext = decrypted.Plaintext as string;
    }
    versions.push(report);
  }
  let mac: string | undefined;
  if (probe.accessKeyId && probe.macData) {
    // The secret is sealed under the data key: after a rotation it must still be the same secret.
    try {
      const row = getAccessKey(vault.store.db, probe.accessKeyId);
      if (!row) problems.push(`access key ${probe.accessKeyId} is gone`);
      else mac = b64((await vault.worker.request({ op: 'accessKeyMac', accessKeyId: row.access_key_id, sealed: row.sealed_secret, algorithm: 'HMAC-SHA1', data: Buffer.from(probe.macData, 'base64') })).mac);
    } catch (error) {
      problems.push(`access key ${probe.accessKeyId}: ${describeError(error)}`);
    }
  }
  const verdict = await call('VerifyAuditChain', {});
  if (verdict && verdict.Verdict.ok !== true) problems.push(`audit chain: ${JSON.stringify(verdict.Verdict).slice(0, 300)}`);
  return { generation, problems, versions, ...(mac === undefined ? {} : { mac }), ...(verdict ? { auditChainOk: verdict.Verdict.ok === true } : {}) };
}

/** One vault's loop: open and probe, then the operation, again and again. Stops only on a refusal. */
async function churn(config: ChurnVault, started: number): Promise<void> {
  const write = (word: string, body: object): void => void process.stdout.write(`${word} ${config.operation} ${JSON.stringify(body)}\n`);
  // Where a round that hangs got to (the test shows stderr when it gives up waiting).
  const progress = (what: string): void => void process.stderr.write(`${config.operation}: ${what} at ${Math.round(performance.now() - started)} ms\n`);
  progress('opening');
  const opened = await openWithCandidates(config.vaultDir, config.operation, config.secretTag, config.candidates);
  if ('refusals' in opened) {
    write('unopenable', { candidates: config.candidates, refusals: opened.refusals });
    return;
  }
  const { vault } = opened;
  let generation = opened.generation;
  progress(`opened generation ${generation}, probing`);
  write('opened', await probeVault(vault, generation, config.probe, 'custody-churn'));
  const action = CHURN_ACTION[config.operation];
  for (;;) {
    const outcome = await dispatch(vault, action, churnParams(config.operation, config.secretTag, generation), 'cli', {
      onInternalError: (name, requestId, error) => process.stderr.write(`${name} ${requestId}: ${error instanceof Error ? error.stack : String(error)}\n`),
    });
    if (!outcome.ok) {
      write('fail', { generation, action, ...outcome.error });
      return;
    }
    generation++;
    write('ack', { generation, requestId: outcome.body.RequestId, header: custodyHeader(metaOf(vault.store.db)) });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const config = JSON.parse(process.argv[2] ?? '') as ChurnConfig;
  process.stderr.write(`modules loaded at ${Math.round(started)} ms after the process started\n`);
  for (const vault of config.vaults) {
    churn(vault, started).catch((error: unknown) => {
      process.stderr.write(`custody-churn ${vault.operation}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.stdout.write(`fail ${vault.operation} ${JSON.stringify({ Code: 'Uncaught', Message: error instanceof Error ? error.message : String(error) })}\n`);
    });
  }
}
