// deskkms request create | show | approve | reject | finish: signing across an air gap
// (core/airgap). create runs on the online machine without a vault: the files are hashed once
// into a small request (a file, or QR frames). show/approve/reject run on the station with the
// vault: the operator sees the key, the files and their SHA-256s, the note and the age, and
// approves explicitly; each signature is an AsymmetricSign audited as "cli:request:<id>:<format>".
// finish runs online again: the response is checked against the request and the files, then the
// signature files are written, whole or not at all.
import { promises as fs } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { KmsError, invalidParameter, isErrorCode, missingParameter } from '../../../contract/errors.ts';
import { escapeJsonText, escapeText } from '../../../contract/escape-text.ts';
import { SIGNING_ALGORITHMS, isSigningAlgorithm } from '../../../contract/specs.ts';
import type { RequestInputFile } from '../../../airgap/online.ts';
import { OPTIONS_OF_FORMAT, sha256Hex } from '../../../airgap/request-file.ts';
import { REQUEST_FORMATS, type RequestFormat, type RequestOptions, type RequestReview } from '../../../contract/signing-requests.ts';
import type { StationOptions } from '../../../airgap/station.ts';
import { CLI_CALLER } from '../actions-cli.ts';
import { EXIT_OK, type CliIO, type Command, type FlagSpec, type FlagValues } from '../command.ts';
import { describeFsError, openStream, progressReporter, readSmallFile } from '../inputs.ts';
import { prepareOutputFile, writeFilesAtomically } from '../output-file.ts';
import { internalErrorReporter } from '../report-error.ts';
import { VAULT_FLAGS, withVault } from '../vault-session.ts';

// The air-gap modules (QR codes, PNG, CBOR, X.509 parsing) load only when a request command runs:
// every other deskkms command starts without them.
const carried = () => import('../../../airgap/carried.ts');
const qr = () => import('../../../airgap/qr.ts');
const station = () => import('../../../airgap/station.ts');

const SUBCOMMANDS = ['create', 'show', 'approve', 'reject', 'finish'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

const FLAGS: Readonly<Record<string, FlagSpec>> = {
  ...VAULT_FLAGS,
  key: { type: 'string', value: 'KEY', description: 'create: KeyId, alias/NAME or ARN of the station\'s SIGN/VERIFY key (the CA key for csr)' },
  version: { type: 'string', value: 'V', description: 'create: the KeyVersionId (default: the station takes the newest, or the --public-key\'s)' },
  'public-key': { type: 'string', value: 'FILE', description: 'create, finish: the key version\'s public key (SPKI PEM/DER, OpenSSH .pub line, JWK): the station and finish refuse another key' },
  format: { type: 'string', value: 'FORMAT', description: `create: one of ${REQUEST_FORMATS.join(', ')}` },
  in: { type: 'string', value: 'FILE', multiple: true, description: 'create: a file to sign (repeat for more; csr: the one CSR, PEM); streamed once, never copied into the request' },
  note: { type: 'string', value: 'TEXT', description: 'create: a note the station operator sees (what and why)' },
  namespace: { type: 'string', value: 'NS', description: 'create, ssh: the SSHSIG namespace (default "file"; git uses "git")' },
  'user-id': { type: 'string', value: 'UID', description: 'create, openpgp: a User ID; the response then carries the key\'s certificate (written as KEY.asc)' },
  detached: { type: 'boolean', description: 'create, jws: finish writes the token without its payload' },
  algorithm: { type: 'string', value: 'ALG', description: 'create, raw and jws with RSA keys: RSA_PKCS1_SHA_256 (default) or RSA_PSS_SHA_256' },
  'validity-days': { type: 'string', value: 'N', description: 'create, csr: the certificate\'s validity in days (default 365)' },
  ca: { type: 'boolean', description: 'create, csr: issue an intermediate CA certificate' },
  'path-len': { type: 'string', value: 'N', description: 'create, csr --ca: basicConstraints pathLen' },
  policy: { type: 'string', value: 'P', description: 'create, csr: copy-requested-extensions (default) or leaf-defaults' },
  qr: { type: 'string', value: 'DIR', description: 'create, approve: also write the request/response as QR frames DIR/NAME-01.png...' },
  out: { type: 'string', value: 'PATH', short: 'o', description: 'create: the request file; approve: the response file; finish: the directory to write into (default --dir)' },
  force: { type: 'boolean', description: 'create, approve, finish: replace existing output files' },
  'max-age': { type: 'string', value: 'D', description: 'show, approve: the oldest request accepted, e.g. 90m, 12h, 7d (default 24h)' },
  yes: { type: 'boolean', description: 'approve: sign without asking (the review is still printed on stderr)' },
  certificate: { type: 'string', value: 'FILE', description: "finish, openpgp: the signer's certificate, when the request had no --user-id (the response then carries none)" },
  request: { type: 'string', value: 'REQ', description: 'finish: the request (its JSON file, a text file of UR parts, or a directory of QR PNG frames)' },
  response: { type: 'string', value: 'RESP', description: 'finish: the response (the same three forms)' },
  dir: { type: 'string', value: 'SRC', description: 'finish: where the signed files are (default: the current directory)' },
};

/** Which subcommands read each flag: another is refused, never ignored. */
const FLAG_SUBCOMMANDS: Readonly<Record<string, readonly Subcommand[]>> = {
  vault: ['show', 'approve', 'reject'],
  'passphrase-file': ['show', 'approve', 'reject'],
  key: ['create'],
  version: ['create'],
  'public-key': ['create', 'finish'],
  format: ['create'],
  in: ['create'],
  note: ['create'],
  namespace: ['create'],
  'user-id': ['create'],
  detached: ['create'],
  algorithm: ['create'],
  'validity-days': ['create'],
  ca: ['create'],
  'path-len': ['create'],
  policy: ['create'],
  qr: ['create', 'approve'],
  out: ['create', 'approve', 'finish'],
  force: ['create', 'approve', 'finish'],
  'max-age': ['show', 'approve', 'reject'],
  yes: ['approve'],
  certificate: ['finish'],
  request: ['finish'],
  response: ['finish'],
  dir: ['finish'],
};

/** The request option each create flag sets. */
const OPTION_FLAGS: Readonly<Record<string, keyof RequestOptions>> = {
  namespace: 'Namespace',
  'user-id': 'UserId',
  detached: 'Detached',
  algorithm: 'Algorithm',
  'validity-days': 'ValidityDays',
  ca: 'IsCa',
  'path-len': 'PathLen',
  policy: 'Policy',
};

/** "90m", "12h", "7d" in milliseconds (InvalidParameter naming --max-age otherwise). */
export function parseDuration(text: string, flag = '--max-age'): number {
  const m = /^([1-9][0-9]{0,5})([mhd])$/.exec(text);
  if (!m) throw invalidParameter(flag, `${escapeText(text, 32)} is not a duration; give minutes, hours or days, e.g. 90m, 12h, 7d`);
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
  const ms = Number(m[1]) * unit;
  if (ms > 365 * 86_400_000) throw invalidParameter(flag, `${text} is over 365 days`);
  return ms;
}

function wholeNumber(flags: FlagValues, flag: string, min: number, max: number): number | undefined {
  const value = flags[flag];
  if (typeof value !== 'string') return undefined;
  if (!/^[0-9]{1,6}$/.test(value) || Number(value) < min || Number(value) > max) throw invalidParameter(`--${flag}`, `${escapeText(value, 32)} is not a whole number from ${min} to ${max}`);
  return Number(value);
}

function requestFormatOf(flags: FlagValues): RequestFormat {
  const format = flags.format;
  if (typeof format !== 'string') throw missingParameter('--format');
  if (!(REQUEST_FORMATS as readonly string[]).includes(format)) throw invalidParameter('--format', `${escapeText(format, 32)} is not a request format; valid: ${REQUEST_FORMATS.join(', ')}`);
  return format as RequestFormat;
}

function optionsOf(flags: FlagValues, format: RequestFormat): RequestOptions {
  for (const [flag, option] of Object.entries(OPTION_FLAGS)) {
    if (flags[flag] !== undefined && !OPTIONS_OF_FORMAT[format].includes(option)) {
      const formats = REQUEST_FORMATS.filter((f) => OPTIONS_OF_FORMAT[f].includes(option));
      throw invalidParameter(`--${flag}`, `is for the ${formats.join(' and ')} format${formats.length > 1 ? 's' : ''}, not ${format}`);
    }
  }
  const algorithm = flags.algorithm;
  if (algorithm !== undefined && !isSigningAlgorithm(algorithm)) throw invalidParameter('--algorithm', `${escapeText(String(algorithm), 64)} is not a signing algorithm; valid: ${SIGNING_ALGORITHMS.join(', ')}`);
  const policy = flags.policy;
  if (policy !== undefined && policy !== 'copy-requested-extensions' && policy !== 'leaf-defaults') {
    throw invalidParameter('--policy', `${escapeText(String(policy), 64)} is not valid; valid: copy-requested-extensions, leaf-defaults`);
  }
  const pathLen = wholeNumber(flags, 'path-len', 0, 100);
  if (pathLen !== undefined && flags.ca !== true) throw invalidParameter('--path-len', 'applies only with --ca');
  const validityDays = wholeNumber(flags, 'validity-days', 1, 36500);
  return {
    ...(typeof flags.namespace === 'string' ? { Namespace: flags.namespace } : {}),
    ...(flags.detached === true ? { Detached: true } : {}),
    ...(typeof algorithm === 'string' ? { Algorithm: algorithm } : {}),
    ...(typeof flags['user-id'] === 'string' ? { UserId: flags['user-id'] } : {}),
    ...(validityDays !== undefined ? { ValidityDays: validityDays } : {}),
    ...(flags.ca === true ? { IsCa: true } : {}),
    ...(pathLen !== undefined ? { PathLen: pathLen } : {}),
    ...(policy === 'copy-requested-extensions' || policy === 'leaf-defaults' ? { Policy: policy } : {}),
  };
}

const refuseExisting = (flag: string) => (path: string) => invalidParameter(flag, `${path} already exists; give --force to replace it, or another name`);

/** Writes outputs all or none, each whole; a directory that is missing or not writable is named with the flag. */
async function writeOutputs(files: readonly { target: string; data: Uint8Array }[], force: boolean, flag = '--out'): Promise<void> {
  try {
    await writeFilesAtomically(files, { mode: 0o644, replace: force, exists: refuseExisting(flag) });
  } catch (error) {
    if (error instanceof KmsError) throw error;
    throw invalidParameter(flag, `${files.map((f) => f.target).join(', ')}: cannot be written (${describeFsError(error)})`);
  }
}

const writeOutput = (target: string, bytes: Uint8Array, force: boolean, flag = '--out') => writeOutputs([{ target, data: bytes }], force, flag);

async function exists(path: string): Promise<boolean> {
  try {
    await fs.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** A file to hash, checked now and opened only when its turn comes (a request may name a thousand files). */
async function inputFile(path: string, io: CliIO): Promise<RequestInputFile> {
  if (path === '-') throw invalidParameter('--in', "'-' (stdin) cannot be signed across the gap: finish re-reads each file by its name");
  const { chunks, size } = await openStream('in', path, io);
  return { name: basename(resolve(io.cwd, path)), size: size ?? 0, chunks };
}

/** The file's name without a .json extension: the QR frames' stem. */
function stemOf(path: string): string {
  return basename(path).replace(/\.json$/i, '') || 'frames';
}

/** QR frames of `bytes`: PNGs in --qr DIR, and one terminal code on stderr when it is a terminal and one frame fits. */
async function showFrames(flags: FlagValues, io: CliIO, bytes: Uint8Array, target: string): Promise<{ Frames: number; QrPngs?: string[] }> {
  const { terminalQr, urFrames, writeQrPngs } = await qr();
  const frames = urFrames(bytes);
  let pngs: string[] | undefined;
  if (typeof flags.qr === 'string') pngs = await writeQrPngs(frames, resolve(io.cwd, flags.qr), stemOf(target));
  if (io.stderr.isTTY === true && frames.length === 1) {
    const columns = (io.stderr as { columns?: number }).columns ?? 80;
    const art = await terminalQr(frames[0]!, columns);
    if (art !== undefined) io.stderr.write(`${art}\n`);
  }
  return { Frames: frames.length, ...(pngs ? { QrPngs: pngs } : {}) };
}

function size(n: number): string {
  return n >= 1 << 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

function age(seconds: number): string {
  const s = Math.abs(seconds);
  const text = s >= 86400 ? `${(s / 86400).toFixed(1)} d` : s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${Math.round(s / 60)} min` : `${s} s`;
  return seconds < 0 ? `${text} in the future` : `${text} ago`;
}

/** The review as the operator reads it (stderr); every outside string escaped. */
export function reviewSummary(review: RequestReview): string {
  const e = (text: string, max = 256) => escapeText(text, max);
  const k = review.Key;
  const options = Object.entries(review.Options)
    .map(([name, value]) => `${name}=${e(String(value), 256)}`)
    .join(', ');
  const lines = [
    `Signing request ${review.RequestId}`,
    `  request SHA-256  ${review.RequestSha256}`,
    `  created          ${review.Created} (${age(review.AgeSeconds)}; accepted up to ${age(review.MaxAgeSeconds).replace(' ago', '')} old)`,
    `  key              ${e(k.Reference)}${k.KeyId !== undefined ? ` = key ${k.KeyId} version ${k.KeyVersionId ?? '?'}${k.Newest ? ' (its newest)' : ''}` : ' (not in this vault)'}`,
  ];
  if (k.KeyId !== undefined) {
    lines.push(`                   ${k.KeySpec ?? '?'}, ${k.KeyState ?? '?'}${k.Aliases && k.Aliases.length > 0 ? `, ${k.Aliases.map((a) => e(a)).join(', ')}` : ''}${k.Description ? `, "${e(k.Description)}"` : ''}`);
    lines.push(`  public key       SHA-256 ${k.SpkiSha256 ?? '?'}${k.Pinned === true ? ' (pinned by the request)' : ''}`);
    if (k.FormatFingerprint !== undefined) lines.push(`  fingerprint      ${e(k.FormatFingerprint)}`);
  }
  lines.push(`  format           ${review.Format}${options ? ` (${options})` : ''}`);
  if (review.Note !== undefined) lines.push(`  note             ${e(review.Note, 1024)}`);
  if (review.Csr) {
    const c = review.Csr;
    lines.push(`  certificate      subject ${e(c.Subject, 1024)}`);
    lines.push(`                   names ${c.SubjectAltNames.map((n) => e(n)).join(', ') || '(none)'}`);
    lines.push(`                   key usage ${c.KeyUsages.join(', ') || '(none)'}; extended ${c.ExtendedKeyUsages.map((n) => e(n)).join(', ') || '(none)'}`);
    lines.push(`                   ${c.PublicKeySpec} key, ${c.ValidityDays} days, ${c.IsCa ? 'a CA certificate' : 'not a CA'}`);
  }
  lines.push(`  files            ${review.Files.length}, ${size(review.TotalSize)} in all:`);
  for (const f of review.Files) lines.push(`    ${f.Sha256}  ${String(f.Size).padStart(12)}  ${e(f.Name)}${f.Bound ? '' : '  (unchecked *)'}`);
  if (review.Files.some((f) => !f.Bound)) {
    lines.push('    * the station cannot check that what it signs for this file is over the SHA-256 shown (jws, raw over SM2): it trusts the online machine');
  }
  for (const d of review.Decisions) lines.push(`  earlier          ${d.Event} at ${d.Time} by ${e(d.Caller)}`);
  if (review.Problems.length > 0) {
    lines.push('  cannot be approved:');
    for (const p of review.Problems) lines.push(`    ${p.Code}: ${e(p.Message, 1024)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** One line from a terminal (the operator's answer). */
async function askLine(io: CliIO, question: string): Promise<string> {
  io.stderr.write(question);
  const rl = createInterface({ input: io.stdin, terminal: false });
  try {
    for await (const line of rl) return line.trim();
    return '';
  } finally {
    rl.close();
  }
}

function stationOptions(flags: FlagValues, io: CliIO): StationOptions {
  return {
    host: CLI_CALLER,
    ...(typeof flags['max-age'] === 'string' ? { maxAgeMs: parseDuration(flags['max-age']) } : {}),
    dispatchOptions: { onInternalError: internalErrorReporter(io) },
  };
}

async function readRequestArg(positionals: readonly string[], io: CliIO): Promise<Uint8Array> {
  const path = positionals[1];
  if (path === undefined || positionals.length > 2) throw missingParameter('REQ (the request file, its UR parts text file, or its QR frames directory)');
  return (await carried()).readCarried(resolve(io.cwd, path), 'request');
}

async function create(flags: FlagValues, io: CliIO): Promise<number> {
  if (typeof flags.key !== 'string' || flags.key === '') throw missingParameter('--key');
  const format = requestFormatOf(flags);
  const options = optionsOf(flags, format);
  const paths = (flags.in as string[] | undefined) ?? [];
  if (paths.length === 0) throw missingParameter('--in');
  if (typeof flags.out !== 'string') throw missingParameter('-o/--out (the request file to write)');
  const target = resolve(io.cwd, flags.out);
  if (flags.force !== true && (await exists(target))) throw refuseExisting('--out')(target);
  const publicKey = typeof flags['public-key'] === 'string' ? await readSmallFile('public-key', flags['public-key'], io) : undefined;
  if (publicKey === undefined) {
    io.stderr.write("deskkms: warning: no --public-key pins the station's key: finish will trust the key the response carries; pin it with --public-key (the key's published public key file)\n");
  }
  const files: RequestInputFile[] = [];
  for (const path of paths) files.push(await inputFile(path, io));
  const total = files.reduce((sum, f) => sum + f.size, 0);
  const progress = progressReporter(io, 'hashing', total);
  const { createRequest } = await import('../../../airgap/online.ts');
  const { request, bytes } = await createRequest(
    {
      key: flags.key,
      ...(typeof flags.version === 'string' ? { keyVersionId: flags.version } : {}),
      ...(publicKey ? { publicKey } : {}),
      format,
      options,
      ...(typeof flags.note === 'string' ? { note: flags.note } : {}),
      files,
    },
    (done) => progress.update(done),
  );
  progress.done();
  await writeOutput(target, bytes, flags.force === true);
  const frames = await showFrames(flags, io, bytes, target);
  io.stdout.write(
    `${escapeJsonText(JSON.stringify(
      { Request: target, RequestId: request.RequestId, RequestSha256: sha256Hex(bytes), Format: format, Key: request.Key, Files: request.Files.length, Bytes: bytes.length, ...frames },
      null,
      2,
    ))}\n`,
  );
  return EXIT_OK;
}

async function approve(flags: FlagValues, io: CliIO, positionals: readonly string[]): Promise<number> {
  if (typeof flags.out !== 'string') throw missingParameter('-o/--out (the response file to write)');
  const target = resolve(io.cwd, flags.out);
  if (flags.force !== true && (await exists(target))) throw refuseExisting('--out')(target);
  const requestBytes = await readRequestArg(positionals, io);
  const o = stationOptions(flags, io);
  const { approveRequest, rejectRequest, reviewRequest } = await station();
  // The response's temp file is made before anything is signed: a missing or read-only directory
  // is refused here, not after the signatures exist.
  let output: Awaited<ReturnType<typeof prepareOutputFile>>;
  try {
    output = await prepareOutputFile(target, { mode: 0o644, replace: flags.force === true, exists: refuseExisting('--out') });
  } catch (error) {
    throw invalidParameter('--out', `${target}: cannot be written (${describeFsError(error)}); nothing was signed`);
  }
  try {
    return await withVault(flags, io, async (vault) => {
      const review = await reviewRequest(vault, requestBytes, o);
      io.stderr.write(reviewSummary(review));
      if (review.Problems.length === 0 && flags.yes !== true) {
        if ((io.stdin as { isTTY?: boolean }).isTTY !== true) {
          throw new KmsError('MissingParameter', '--yes is required: stdin is not a terminal to confirm on, and nothing is signed without a confirmation');
        }
        const answer = await askLine(io, `Sign ${review.Files.length} file(s) with key ${review.Key.KeyId ?? '?'} version ${review.Key.KeyVersionId ?? '?'}? Type "yes" to sign (anything else rejects the request):\n`);
        if (answer !== 'yes') {
          await rejectRequest(vault, requestBytes, o);
          throw new KmsError('Request.Rejected', `the operator answered ${JSON.stringify(escapeText(answer, 32))}, not "yes": the request was rejected and nothing was signed`);
        }
      }
      // With Problems, approveRequest records the refusal (its Code) and throws: nothing is signed.
      const { response, bytes } = await approveRequest(vault, requestBytes, { ...o, reviewedSha256: review.RequestSha256, reviewedKeyVersionId: review.Key.KeyVersionId ?? null });
      try {
        await output.commit(bytes);
      } catch (error) {
        const why = error instanceof KmsError ? error.message : describeFsError(error);
        throw new KmsError(
          error instanceof KmsError ? error.code : 'InvalidParameter',
          `--out: the files were signed and the approval audited, but the response could not be written to ${target} (${why}): nothing reaches finish; free the name or the space and approve the request again`,
        );
      }
      const frames = await showFrames(flags, io, bytes, target);
      io.stdout.write(
        `${escapeJsonText(JSON.stringify({ Response: target, RequestId: response.RequestId, Format: response.Format, KeyId: response.KeyId, KeyVersionId: response.KeyVersionId, Files: response.Files.length, Bytes: bytes.length, ...frames }, null, 2))}\n`,
      );
      return EXIT_OK;
    });
  } finally {
    await output.discard();
  }
}

async function finish(flags: FlagValues, io: CliIO): Promise<number> {
  if (typeof flags.request !== 'string') throw missingParameter('--request');
  if (typeof flags.response !== 'string') throw missingParameter('--response');
  const source = resolve(io.cwd, typeof flags.dir === 'string' ? flags.dir : '.');
  const outDir = typeof flags.out === 'string' ? resolve(io.cwd, flags.out) : source;
  const { readCarried } = await carried();
  const { finishRequest } = await import('../../../airgap/finish.ts');
  const request = await readCarried(resolve(io.cwd, flags.request), 'request');
  const response = await readCarried(resolve(io.cwd, flags.response), 'response');
  const publicKey = typeof flags['public-key'] === 'string' ? await readSmallFile('public-key', flags['public-key'], io) : undefined;
  const certificate = typeof flags.certificate === 'string' ? await readSmallFile('certificate', flags.certificate, io) : undefined;
  let progress: ReturnType<typeof progressReporter> | undefined;
  const result = await finishRequest({
    request,
    response,
    ...(publicKey ? { publicKey } : {}),
    ...(certificate ? { certificate } : {}),
    openFile: async (name) => (await openStream('dir', join(source, name), io)).chunks,
    onProgress: (done, total) => {
      progress ??= progressReporter(io, 'checking', total);
      progress.update(done);
    },
  });
  progress?.done();
  // Every target is checked before any is written: nothing is replaced without --force, and an
  // existing file with the same bytes (the same public key published before) is kept as it is.
  const targets = [...result.outputs, ...result.publicMaterial].map((o) => ({ path: join(outDir, o.FileName), bytes: o.Bytes }));
  const toWrite: typeof targets = [];
  for (const t of targets) {
    let existing: Buffer | undefined;
    try {
      existing = await fs.readFile(t.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw invalidParameter('--out', `${t.path}: ${describeFsError(error)}`);
    }
    if (existing !== undefined && Buffer.compare(existing, t.bytes) === 0) continue;
    if (existing !== undefined && flags.force !== true) throw refuseExisting('--out')(t.path);
    toWrite.push(t);
  }
  if (toWrite.length > 0 && typeof flags.out === 'string') {
    try {
      await fs.mkdir(outDir, { recursive: true });
    } catch (error) {
      throw invalidParameter('--out', `${outDir}: cannot be created (${describeFsError(error)})`);
    }
  }
  // All or none: a failure on any file (a name that appeared meanwhile, a full disk) removes the ones already written.
  await writeOutputs(toWrite.map((t) => ({ target: t.path, data: t.bytes })), flags.force === true);
  io.stderr.write(`deskkms: signed by ${escapeText(result.Signer, 512)}; key ${result.KeyId} version ${result.KeyVersionId}, public key SHA-256 ${result.SpkiSha256}\n`);
  if (!result.Pinned) {
    io.stderr.write(`deskkms: unpinned: the response's key SHA256:${result.SpkiSha256} was trusted (anyone who can write the response could have put their own key in it): compare it with the key you published, and pin it with --public-key\n`);
  }
  io.stdout.write(
    `${escapeJsonText(JSON.stringify(
      {
        Signer: result.Signer,
        SpkiSha256: result.SpkiSha256,
        Pinned: result.Pinned,
        KeyId: result.KeyId,
        KeyVersionId: result.KeyVersionId,
        Files: result.outputs.map((o) => ({ Name: o.Name, Output: join(outDir, o.FileName) })),
        PublicMaterial: result.publicMaterial.map((m) => join(outDir, m.FileName)),
      },
      null,
      2,
    ))}\n`,
  );
  return EXIT_OK;
}

export const requestCommand: Command = {
  name: 'request',
  usage:
    'deskkms request create --key KEY [--version V] [--public-key FILE] --format ssh|openpgp|sigstore|jws|raw|csr --in FILE [--in FILE ...] [--note TEXT] [--namespace NS] [--user-id UID] [--detached] [--algorithm ALG] [--validity-days N] [--ca [--path-len N]] [--policy P] [--qr DIR] -o REQ [--force]\n' +
    '       deskkms request show REQ [--max-age D]\n' +
    '       deskkms request approve REQ -o RESP [--yes] [--qr DIR] [--max-age D] [--force]\n' +
    '       deskkms request reject REQ [--max-age D]\n' +
    '       deskkms request finish --request REQ --response RESP [--dir SRC] [-o DIR] [--public-key FILE] [--certificate FILE] [--force]',
  flags: FLAGS,
  positionals: ['create|show|approve|reject|finish', 'REQ'],
  details:
    'REQ and RESP are the JSON files, a text file of their UR parts (one per line, as a QR scanner types them) or a directory of their QR PNG frames. ' +
    'show prints the review JSON on stdout and a summary on stderr, and fails with the first Problem\'s Code (Request.Expired, Forbidden.KeyNotFound, Rejected.Disabled, Request.Mismatch...). ' +
    'approve asks to type "yes" on a terminal unless --yes; without a terminal and without --yes nothing is signed (MissingParameter). ' +
    'finish re-hashes every file, verifies every signature with the response\'s key (and the --public-key or the request\'s pinned key), and only then writes FILE.sig/.asc/.sigstore.json/.jws (csr: NAME.crt) and the public key (KEY.pub/.asc/.jwk/.pem); it prints the signer.',
  async run(flags, io, positionals = []) {
    const sub = positionals[0] as Subcommand | undefined;
    if (sub === undefined || !SUBCOMMANDS.includes(sub)) throw invalidParameter('request', `give one of ${SUBCOMMANDS.join(', ')}`);
    for (const [flag, subs] of Object.entries(FLAG_SUBCOMMANDS)) {
      if (flags[flag] !== undefined && !subs.includes(sub)) throw invalidParameter(`--${flag}`, `is for request ${subs.join(' and ')}, not request ${sub}`);
    }
    if (sub !== 'show' && sub !== 'approve' && sub !== 'reject' && positionals.length > 1) {
      throw invalidParameter('request', `request ${sub} takes no REQ argument (${sub === 'finish' ? 'give --request and --response' : 'give -o REQ'})`);
    }
    switch (sub) {
      case 'create':
        return create(flags, io);
      case 'show': {
        const requestBytes = await readRequestArg(positionals, io);
        const o = stationOptions(flags, io);
        const { reviewRequest } = await station();
        return withVault(flags, io, async (vault) => {
          const review = await reviewRequest(vault, requestBytes, o);
          io.stdout.write(`${escapeJsonText(JSON.stringify(review, null, 2))}\n`);
          io.stderr.write(reviewSummary(review));
          const first = review.Problems[0];
          if (first) throw new KmsError(isErrorCode(first.Code) ? first.Code : 'InternalFailure', first.Message);
          return EXIT_OK;
        });
      }
      case 'approve':
        return approve(flags, io, positionals);
      case 'reject': {
        const requestBytes = await readRequestArg(positionals, io);
        const o = stationOptions(flags, io);
        const { rejectRequest } = await station();
        return withVault(flags, io, async (vault) => {
          const review = await rejectRequest(vault, requestBytes, o);
          io.stderr.write(reviewSummary(review));
          io.stdout.write(`${JSON.stringify({ RequestId: review.RequestId, Result: 'Rejected' })}\n`);
          return EXIT_OK;
        });
      }
      case 'finish':
        return finish(flags, io);
    }
  },
};
