// deskkms request across the air gap, judged by the peers nobody here wrote. Three machines:
// - two online machines with NO vault (their own HOME and XDG directories; A leaves the vault path
//   to its default, B points $DESKKMS_VAULT at a directory that does not exist): `request create`
//   and `request finish` run there as child processes of the real bin, and no vault may appear;
// - one station: a passphrase vault holding RSA_2048, EC_P256, EC_SM2 and an EC_P256 CA key with
//   its self-signed root; `request show` and `request approve --yes` run there (in this process).
// Only the request and response files cross, and the public keys the station publishes. Every
// format's output is checked by its own ecosystem's verifier: ssh-keygen -Y verify (allowed_signers
// built from the response's SSH key), gpg --verify and sq verify (the response's certificate),
// @sigstore/verify, jose (attached and detached tokens), openssl dgst -verify (RSA, P-256, SM2 with
// its distinguishing ID) and openssl verify -CAfile of an issued certificate. One round trip is
// carried by QR codes only: zbarimg (Debian's zbar) reads the PNG frames, and its lines are what
// the other side reads back. The README's claims about pinning (--public-key) are checked too.
import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { compactVerify, flattenedVerify, importJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../core/actions/dispatch.ts';
import { createAliasedKey } from '../support/aliased-key.ts';
import { SM2_DEFAULT_ID } from '../../core/contract/specs.ts';
import type { CliIO } from '../../core/hosts/cli/command.ts';
import { runCli } from '../../core/hosts/cli/run.ts';
import { Vault } from '../../core/vault/vault.ts';
import { tempDir } from './vault-helpers.ts';
import { isCompileCache } from '../support/compile-cache.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin', 'deskkms');
const PASSPHRASE = 'air gap station passphrase';
const USER_ID = 'Example Releases <release@example.org>';
/** sq (Sequoia) is a second OpenPGP peer where it is installed. */
const HAS_SQ = spawnSync('sq', ['--version']).status === 0;

let dir: ReturnType<typeof tempDir>;

interface Machine {
  readonly name: string;
  readonly root: string;
  /** Where the commands run: the release's files, and what crossed. */
  readonly work: string;
  readonly env: Record<string, string>;
  /** Its commands run as child processes of the real bin (else in this process). */
  readonly spawned: boolean;
}
let onlineA: Machine;
let onlineB: Machine;
let station: Machine;
let gnupg: string;

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const timings: Record<string, number> = {};
const figures: string[] = [];

/**
 * An online command with the machine's own HOME and no vault: on A the real bin in a child
 * process (its own process environment, as a user runs it), on B the CLI in this process with B's
 * environment (the same code, without a Node start-up per command).
 */
async function online(m: Machine, args: readonly string[]): Promise<Run> {
  const started = performance.now();
  const label = `${m.name} ${args.slice(0, 2).join(' ')}`;
  try {
    if (m.spawned) {
      const r = spawnSync(BIN, args, { cwd: m.work, env: m.env, encoding: 'utf8', timeout: 120_000 });
      if (r.error) throw r.error;
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    }
    return await inProcess(args, m);
  } finally {
    timings[label] = (timings[label] ?? 0) + performance.now() - started;
  }
}

/** The CLI in this process, with the machine's environment and working directory. */
async function inProcess(args: readonly string[], m: Machine): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (data: string | Uint8Array) => ((stdout += Buffer.from(data).toString('utf8')), true) },
    stderr: { write: (text: string) => ((stderr += text), true) },
    stdin: Readable.from([]),
    cwd: m.work,
    env: m.env,
  } as unknown as CliIO;
  const status = await runCli(args, io);
  return { status, stdout, stderr };
}

/** A station command: the CLI in this process, with the station's environment (its vault, its passphrase file). */
async function atStation(args: readonly string[]): Promise<Run> {
  const started = performance.now();
  try {
    return await inProcess(args, station);
  } finally {
    const label = `station ${args.slice(0, 2).join(' ')}`;
    timings[label] = (timings[label] ?? 0) + performance.now() - started;
  }
}

function ok(r: Run, what: string): Run {
  expect(r.status, `${what}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`).toBe(0);
  return r;
}

/** The refusal's {Code, Message}: the last stderr line of a run that exited 2. */
function refused(r: Run): { Code: string; Message: string } {
  expect(r.status, `expected a refusal\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`).not.toBe(0);
  const lines = r.stderr.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as { Code: string; Message: string };
}

function peer(command: string, args: readonly string[], options: { cwd: string; input?: Uint8Array; env?: NodeJS.ProcessEnv }): Run {
  const r = spawnSync(command, args, { cwd: options.cwd, input: options.input, env: options.env ?? { ...process.env, LC_ALL: 'C' }, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Carries a file across the gap (the USB stick): from one machine's work directory to the other's. */
function carry(from: Machine, to: Machine, name: string, as = name): string {
  copyFileSync(join(from.work, name), join(to.work, as));
  return join(to.work, as);
}

function artifact(m: Machine, name: string, size: number): Buffer {
  const bytes = randomBytes(size);
  writeFileSync(join(m.work, name), bytes);
  return bytes;
}

/** A copy of `name` with one bit changed, which every verifier must refuse. */
function tampered(m: Machine, name: string): string {
  const bytes = readFileSync(join(m.work, name));
  const at = Math.floor(bytes.length / 2);
  bytes.writeUInt8(bytes.readUInt8(at) ^ 0x08, at);
  const out = `tampered-${name}`;
  writeFileSync(join(m.work, out), bytes);
  return out;
}

interface Key {
  readonly keyId: string;
  readonly versionId: string;
  readonly alias: string;
  /** The published public key: SPKI PEM, the OpenSSH line and the JWK (where the spec has them). */
  readonly pem: string;
  readonly openssh?: string;
  readonly jwk?: unknown;
}
const keys: Record<'rsa' | 'p256' | 'sm2' | 'ca', Key> = {} as never;

/** What the station publishes for a key (GetPublicKeyBundle's, as `deskkms pubkey` writes it), in its work directory. */
function publish(key: Key, format: 'pem' | 'openssh' | 'jwk', name: string): string {
  const text = format === 'pem' ? key.pem : format === 'openssh' ? `${key.openssh}\n` : `${JSON.stringify(key.jwk)}\n`;
  writeFileSync(join(station.work, name), text);
  return text;
}

interface SigningResponseJson {
  RequestId: string;
  RequestSha256: string;
  KeyId: string;
  KeyVersionId: string;
  KeySpec: string;
  PublicKey: string;
  PublicMaterial: { SshPublicKey?: string; OpenPgpCertificate?: string; Jwk?: string; PublicKeyPem?: string; CertificateChain?: string };
  Files: { Name: string; Sha256: string; Signature: string }[];
}

/**
 * One round trip: `request create` on the online machine, the request carried to the station,
 * `request show` (its review JSON) when `show`, `request approve --yes` (which reviews it again
 * and prints the review on stderr), the response carried back, `request finish`. Returns the
 * review (when shown), the request and the response as written, and finish's output.
 */
async function roundTrip(
  m: Machine,
  name: string,
  createArgs: readonly string[],
  { finishArgs = [], show = false }: { finishArgs?: readonly string[]; show?: boolean } = {},
): Promise<{ review: Record<string, any>; response: SigningResponseJson; request: Record<string, any>; finished: Run }> {
  const started = performance.now();
  ok(await online(m, ['request', 'create', ...createArgs, '-o', `${name}.req.json`]), `request create ${createArgs.join(' ')}`);
  const request = JSON.parse(readFileSync(join(m.work, `${name}.req.json`), 'utf8')) as Record<string, any>;
  carry(m, station, `${name}.req.json`);
  let review: Record<string, any> = {};
  if (show) {
    review = JSON.parse(ok(await atStation(['request', 'show', `${name}.req.json`]), 'request show').stdout) as Record<string, any>;
    expect(review.Problems).toEqual([]);
  }
  const approved = ok(await atStation(['request', 'approve', `${name}.req.json`, '--yes', '-o', `${name}.resp.json`]), 'request approve');
  expect(approved.stderr).toContain(`Signing request ${request.RequestId}`); // the review the operator reads
  expect(JSON.parse(approved.stdout)).toMatchObject({ RequestId: request.RequestId, Files: request.Files.length });
  carry(station, m, `${name}.resp.json`);
  const response = JSON.parse(readFileSync(join(m.work, `${name}.resp.json`), 'utf8')) as SigningResponseJson;
  const finished = ok(await online(m, ['request', 'finish', '--request', `${name}.req.json`, '--response', `${name}.resp.json`, ...finishArgs]), 'request finish');
  timings[`round trip ${name}`] = performance.now() - started;
  return { review, response, request, finished };
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const spkiOf = (pem: string): string => createPublicKey(pem).export({ type: 'spki', format: 'der' }).toString('base64');

function machine(name: string, spawned: boolean, vaultEnv: (root: string) => Record<string, string>): Machine {
  const root = join(dir.path, name);
  const home = join(root, 'home');
  const work = join(root, 'work');
  mkdirSync(home, { recursive: true });
  mkdirSync(work, { recursive: true });
  return {
    name,
    root,
    work,
    spawned,
    env: {
      // The bins as `npm link` puts them, before a system whose node is older.
      PATH: `${join(ROOT, 'bin')}:/usr/local/bin:/usr/bin:/bin`,
      HOME: home,
      XDG_DATA_HOME: join(home, 'xdg-data'),
      XDG_CONFIG_HOME: join(home, 'xdg-config'),
      XDG_STATE_HOME: join(home, 'xdg-state'),
      XDG_CACHE_HOME: join(home, 'xdg-cache'),
      LANG: 'C.UTF-8',
      ...vaultEnv(root),
    },
  };
}

/** Every path under `root` (relative), to show nothing vault-like appeared on an online machine. */
function tree(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      out.push(relative(root, full));
      if (entry.isDirectory()) walk(full);
    }
  };
  walk(root);
  return out;
}

beforeAll(async () => {
  const started = performance.now();
  dir = tempDir('deskkms-airgap-peers-');
  // A: the vault path left to its default (under XDG_DATA_HOME); B: $DESKKMS_VAULT names a
  // directory that does not exist. Neither may be created.
  onlineA = machine('online-a', true, () => ({}));
  onlineB = machine('online-b', false, (root) => ({ DESKKMS_VAULT: join(root, 'no-vault-here') }));
  const stationVault = join(dir.path, 'station', 'vault');
  const passFile = join(dir.path, 'station-pass.txt');
  writeFileSync(passFile, `${PASSPHRASE}\n`);
  station = machine('station', false, () => ({ DESKKMS_VAULT: stationVault, DESKKMS_PASSPHRASE_FILE: passFile }));
  gnupg = join(dir.path, 'gnupg');
  mkdirSync(gnupg, { mode: 0o700 });

  const vault = await Vault.init(stationVault, { passphrase: Buffer.from(PASSPHRASE), kdfN: 2 ** 14 });
  try {
    const specs = { rsa: 'RSA_2048', p256: 'EC_P256', sm2: 'EC_SM2', ca: 'EC_P256' } as const;
    for (const [name, spec] of Object.entries(specs) as [keyof typeof specs, (typeof specs)[keyof typeof specs]][]) {
      const alias = `alias/${name}`;
      const { keyId, versionId } = await createAliasedKey(vault, spec, alias);
      const bundle = await dispatch(vault, 'GetPublicKeyBundle', { KeyId: keyId, KeyVersionId: versionId }, 'test');
      if (!bundle.ok) throw new Error(bundle.error.Message);
      keys[name] = { keyId, versionId, alias, pem: bundle.body.PublicKeyPem, openssh: bundle.body.OpenSsh, jwk: bundle.body.Jwk };
    }
    // The offline CA: a self-signed root attached to its version.
    const root = await dispatch(vault, 'CreateSelfSignedCertificate', { KeyId: keys.ca.keyId, KeyVersionId: keys.ca.versionId, Subject: 'CN=Example Offline Root,O=Example,C=CN', ValidityDays: 3650 }, 'test');
    if (!root.ok) throw new Error(root.error.Message);
    writeFileSync(join(station.work, 'ca.pem'), root.body.Certificate);
  } finally {
    await vault.close();
  }
  timings['station set-up'] = performance.now() - started;
}, 120_000);

afterAll(() => {
  spawnSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: gnupg } });
  console.log(`air gap peers: timings (ms)\n${Object.entries(timings).map(([k, v]) => `  ${k}: ${Math.round(v)}`).join('\n')}\n${figures.join('\n')}`);
  dir?.remove();
});

describe('across the air gap, verified by each format\'s own peer', { timeout: 120_000 }, () => {
  it('ssh: three files in one request, the SSH key pinned; ssh-keygen -Y verify accepts each with the response\'s key and refuses a changed file', async () => {
    const m = onlineA;
    const files = ['app-1.4.2.tar.gz', 'app-1.4.2.zip', 'SHA256SUMS'];
    const bytes = [artifact(m, files[0]!, 400_000), artifact(m, files[1]!, 250_001), artifact(m, files[2]!, 300)];
    // The online machine pins the key it expects (the station published its OpenSSH line once).
    const published = publish(keys.p256, 'openssh', 'pinned-p256.pub');
    carry(station, m, 'pinned-p256.pub');
    const { review, response, request, finished } = await roundTrip(m, 'ssh3', [
      '--key', keys.p256.alias, '--public-key', 'pinned-p256.pub', '--format', 'ssh',
      ...files.flatMap((f) => ['--in', f]), '--note', 'Release 1.4.2',
    ], { show: true });
    // What crossed: names, sizes and SHA-256s, never the files.
    expect(request.Files.map((f: { Name: string; Size: number; Sha256: string }) => [f.Name, f.Size, f.Sha256])).toEqual(files.map((f, i) => [f, bytes[i]!.length, sha256(bytes[i]!)]));
    expect(readFileSync(join(m.work, 'ssh3.req.json')).length).toBeLessThan(4096);
    expect(review).toMatchObject({ Format: 'ssh', Note: 'Release 1.4.2', TotalSize: bytes.reduce((n, b) => n + b.length, 0) });
    expect(review.Key).toMatchObject({ KeyId: keys.p256.keyId, KeyVersionId: keys.p256.versionId, Pinned: true });
    // The station checked that what it signs is over each SHA-256 it shows.
    expect(review.Files.map((f: { Bound: boolean }) => f.Bound)).toEqual([true, true, true]);
    expect(response.PublicMaterial.SshPublicKey!.split(' ').slice(0, 2)).toEqual(published.trim().split(' ').slice(0, 2));

    // finish names the signer: the key ssh-keygen fingerprints, and its SPKI's SHA-256.
    const fingerprint = /SHA256:[A-Za-z0-9+/]{43}/.exec(peer('ssh-keygen', ['-l', '-f', 'pinned-p256.pub'], { cwd: m.work }).stdout)![0];
    expect(finished.stderr).toContain(fingerprint);
    expect(finished.stderr).toContain(createHash('sha256').update(Buffer.from(response.PublicKey, 'base64')).digest('hex'));
    // allowed_signers from the response's own SSH public key.
    const [type, blob] = response.PublicMaterial.SshPublicKey!.split(' ');
    writeFileSync(join(m.work, 'allowed_signers'), `release@example.org namespaces="file" ${type} ${blob}\n`);
    for (const [i, f] of files.entries()) {
      const good = peer('ssh-keygen', ['-Y', 'verify', '-f', 'allowed_signers', '-I', 'release@example.org', '-n', 'file', '-s', `${f}.sig`], { cwd: m.work, input: bytes[i] });
      expect(good.status, good.stderr).toBe(0);
      expect(good.stdout).toMatch(/^Good "file" signature for release@example\.org with ECDSA key SHA256:/);
    }
    const changed = readFileSync(join(m.work, tampered(m, files[0]!)));
    const bad = peer('ssh-keygen', ['-Y', 'verify', '-f', 'allowed_signers', '-I', 'release@example.org', '-n', 'file', '-s', `${files[0]}.sig`], { cwd: m.work, input: changed });
    expect(bad.status).not.toBe(0);
    // One signature per file, in the same order, each bound to its file's SHA-256.
    expect(response.Files.map((f) => [f.Name, f.Sha256])).toEqual(files.map((f, i) => [f, sha256(bytes[i]!)]));
  });

  it('ssh with a namespace of its own, RSA: ssh-keygen accepts it under that namespace only', async () => {
    const m = onlineB;
    const data = artifact(m, 'firmware.bin', 120_000);
    const { response } = await roundTrip(m, 'ssh-ns', ['--key', keys.rsa.alias, '--version', keys.rsa.versionId, '--format', 'ssh', '--namespace', 'firmware@example.org', '--in', 'firmware.bin']);
    const [type, blob] = response.PublicMaterial.SshPublicKey!.split(' ');
    expect(type).toBe('ssh-rsa');
    expect(response.PublicMaterial.SshPublicKey!.split(' ').slice(0, 2)).toEqual((publish(keys.rsa, 'openssh', 'rsa.pub')).trim().split(' ').slice(0, 2));
    writeFileSync(join(m.work, 'allowed_signers'), `fw@example.org ${type} ${blob}\n`);
    const verify = (ns: string, input: Uint8Array) => peer('ssh-keygen', ['-Y', 'verify', '-f', 'allowed_signers', '-I', 'fw@example.org', '-n', ns, '-s', 'firmware.bin.sig'], { cwd: m.work, input });
    const good = verify('firmware@example.org', data);
    expect(good.status, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/^Good "firmware@example\.org" signature for fw@example\.org with RSA key SHA256:/);
    expect(verify('file', data).status).not.toBe(0);
    expect(verify('firmware@example.org', readFileSync(join(m.work, tampered(m, 'firmware.bin')))).status).not.toBe(0);
  });

  it('openpgp with --user-id: gpg and sq accept three signatures with the certificate the response carries', async () => {
    const m = onlineB;
    const files = ['tool-2.0.tar.xz', 'tool-2.0.tar.xz.sha256', 'NOTES.md'];
    for (const [i, f] of files.entries()) artifact(m, f, [300_000, 80, 2000][i]!);
    const { response, request, finished } = await roundTrip(m, 'pgp3', ['--key', keys.p256.alias, '--format', 'openpgp', '--user-id', USER_ID, ...files.flatMap((f) => ['--in', f])]);
    const certificate = response.PublicMaterial.OpenPgpCertificate!;
    expect(certificate).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
    writeFileSync(join(m.work, 'release-key.asc'), certificate);
    const env = { ...process.env, GNUPGHOME: gnupg, LC_ALL: 'C' };
    const gpg = (...args: string[]) => peer('gpg', ['--batch', '--no-tty', '--status-fd', '1', ...args], { cwd: m.work, env });
    const imported = gpg('--import', 'release-key.asc');
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/IMPORT_OK/);
    const created = Math.floor(Date.parse(request.Created as string) / 1000);
    for (const f of files) {
      const good = gpg('--trust-model', 'always', '--verify', `${f}.asc`, f);
      expect(good.status, good.stderr).toBe(0);
      expect(good.stdout).toContain(`GOODSIG`);
      expect(good.stdout).toContain(USER_ID);
      // The signature time is the request's Created (made online, signed at the station).
      expect(good.stdout).toMatch(new RegExp(`VALIDSIG [0-9A-F]{40} \\d{4}-\\d\\d-\\d\\d ${created} `));
      // finish named the same OpenPGP fingerprint gpg found.
      expect(finished.stderr.toUpperCase().replace(/ /g, '')).toContain(/VALIDSIG ([0-9A-F]{40})/.exec(good.stdout)![1]);
      if (HAS_SQ) {
        const sq = peer('sq', ['verify', '--signer-cert', 'release-key.asc', '--detached', `${f}.asc`, f], { cwd: m.work });
        expect(sq.status, sq.stderr).toBe(0);
        expect(sq.stderr).toMatch(/1 good signature/);
      }
    }
    const bad = gpg('--trust-model', 'always', '--verify', `${files[0]}.asc`, tampered(m, files[0]!));
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain('BADSIG');
  });

  it('openpgp over RSA without --user-id: finish takes the certificate the station published; gpg and sq accept it', async () => {
    const m = onlineB;
    artifact(m, 'rsa-release.tar.gz', 200_000);
    // Published once by the station, as the Signing releases recipe does.
    ok(await atStation(['pubkey', keys.rsa.alias, '--format', 'openpgp', '--user-id', 'RSA Releases <rsa@example.org>', '-o', 'rsa-key.asc']), 'pubkey openpgp');
    carry(station, m, 'rsa-key.asc');
    const { response } = await roundTrip(m, 'pgp-rsa', ['--key', keys.rsa.alias, '--format', 'openpgp', '--in', 'rsa-release.tar.gz'], { finishArgs: ['--certificate', 'rsa-key.asc'] });
    expect(response.PublicMaterial.OpenPgpCertificate).toBeUndefined();
    // Without a certificate, finish cannot name the OpenPGP key it checks against.
    const bare = refused(await online(m, ['request', 'finish', '--request', 'pgp-rsa.req.json', '--response', 'pgp-rsa.resp.json', '--force']));
    expect(bare).toMatchObject({ Code: 'MissingParameter', Message: expect.stringContaining('--certificate') });
    const env = { ...process.env, GNUPGHOME: gnupg, LC_ALL: 'C' };
    expect(peer('gpg', ['--batch', '--import', 'rsa-key.asc'], { cwd: m.work, env }).status).toBe(0);
    const good = peer('gpg', ['--batch', '--status-fd', '1', '--trust-model', 'always', '--verify', 'rsa-release.tar.gz.asc', 'rsa-release.tar.gz'], { cwd: m.work, env });
    expect(good.status, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/VALIDSIG [0-9A-F]{40} \S+ \d+ 0 4 0 1 8 00 /); // RSA (1), SHA-256 (8), binary document
    const changed = tampered(m, 'rsa-release.tar.gz');
    const bad = peer('gpg', ['--batch', '--status-fd', '1', '--trust-model', 'always', '--verify', 'rsa-release.tar.gz.asc', changed], { cwd: m.work, env });
    expect(bad.stdout).toContain('BADSIG');
    if (HAS_SQ) {
      const sq = peer('sq', ['verify', '--signer-cert', 'rsa-key.asc', '--detached', 'rsa-release.tar.gz.asc', 'rsa-release.tar.gz'], { cwd: m.work });
      expect(sq.status, sq.stderr).toBe(0);
      expect(peer('sq', ['verify', '--signer-cert', 'rsa-key.asc', '--detached', 'rsa-release.tar.gz.asc', changed], { cwd: m.work }).status).not.toBe(0);
    }
  });

  it('sigstore: @sigstore/verify accepts the bundle with only the response\'s public key trusted', async () => {
    const m = onlineB;
    const data = artifact(m, 'image.tar', 500_000);
    const { response } = await roundTrip(m, 'sigstore', ['--key', keys.p256.alias, '--format', 'sigstore', '--in', 'image.tar']);
    const pem = response.PublicMaterial.PublicKeyPem!;
    expect(spkiOf(pem)).toBe(spkiOf(publish(keys.p256, 'pem', 'p256.pem')));
    const bundleJson = JSON.parse(readFileSync(join(m.work, 'image.tar.sigstore.json'), 'utf8'));
    const hint = bundleJson.verificationMaterial.publicKey.hint as string;
    expect(hint).toBe(createHash('sha256').update(Buffer.from(response.PublicKey, 'base64')).digest('base64'));
    const verify = (message: Uint8Array): string => {
      const trust = toTrustMaterial({ mediaType: '', certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [] }, (wanted) => {
        if (wanted !== hint) throw new Error(`no trusted key with hint ${wanted}`);
        return { publicKey: createPublicKey(pem), validFor: () => true };
      });
      try {
        new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(bundleFromJSON(bundleJson), Buffer.from(message)));
        return 'verified';
      } catch (error) {
        return String(error);
      }
    };
    expect(verify(data)).toBe('verified');
    expect(verify(readFileSync(join(m.work, tampered(m, 'image.tar'))))).toMatch(/signature verification failed/);
  });

  it('jws needs the key pinned; with a JWK (attached) or a PEM (detached) jose verifies the tokens', async () => {
    // Without the key, the header (alg, kid) cannot be made online.
    const m = onlineA;
    const manifest = Buffer.from(`${JSON.stringify({ name: 'api', version: '3.1.0', sha256: sha256(randomBytes(32)) })}\n`);
    writeFileSync(join(m.work, 'manifest.json'), manifest);
    const refusal = refused(await online(m, ['request', 'create', '--key', keys.rsa.alias, '--format', 'jws', '--in', 'manifest.json', '-o', 'jws-nokey.req.json']));
    expect(refusal.Code).toBe('Request.NeedsPublicKey');
    expect(refusal.Message).toMatch(/--public-key/);
    expect(existsSync(join(m.work, 'jws-nokey.req.json'))).toBe(false);

    // Attached, RS256: the JWK the station publishes (its kid is the KeyVersionId), on the other online machine.
    const b = onlineB;
    writeFileSync(join(b.work, 'manifest.json'), manifest);
    const jwkText = publish(keys.rsa, 'jwk', 'pinned-rsa.jwk');
    carry(station, b, 'pinned-rsa.jwk');
    // No --version: the JWK's kid names it. The header comes first in what is signed, so the
    // station cannot check the digest against the file's SHA-256, and its review says so.
    const { review } = await roundTrip(b, 'jws', ['--key', keys.rsa.alias, '--public-key', 'pinned-rsa.jwk', '--format', 'jws', '--in', 'manifest.json'], { show: true });
    expect(review.Files).toEqual([{ Name: 'manifest.json', Size: manifest.length, Sha256: sha256(manifest), Bound: false }]);
    const jwk = JSON.parse(jwkText) as JWK;
    const token = readFileSync(join(b.work, 'manifest.json.jws'), 'utf8').trim();
    const { payload, protectedHeader } = await compactVerify(token, await importJWK(jwk, 'RS256'), { algorithms: ['RS256'] });
    expect(protectedHeader).toEqual({ alg: 'RS256', kid: keys.rsa.versionId });
    expect(Buffer.from(payload).equals(manifest)).toBe(true);
    const [h, , sig] = token.split('.');
    await expect(compactVerify(`${h}.${Buffer.concat([manifest, Buffer.from(' ')]).toString('base64url')}.${sig}`, await importJWK(jwk, 'RS256'))).rejects.toMatchObject({ code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });

    // Detached, ES256, the key given as PEM: the token has no payload; jose verifies it with the file.
    writeFileSync(join(b.work, 'api-manifest.json'), manifest);
    publish(keys.p256, 'pem', 'p256.pem');
    carry(station, b, 'p256.pem');
    const { response } = await roundTrip(b, 'jws-detached', ['--key', keys.p256.alias, '--version', keys.p256.versionId, '--public-key', 'p256.pem', '--format', 'jws', '--detached', '--in', 'api-manifest.json']);
    const detached = readFileSync(join(b.work, 'api-manifest.json.jws'), 'utf8').trim();
    const [header, middle, signature] = detached.split('.');
    expect(middle).toBe('');
    const es256 = await importJWK(JSON.parse(response.PublicMaterial.Jwk!) as JWK, 'ES256');
    const verified = await flattenedVerify({ protected: header!, payload: manifest.toString('base64url'), signature: signature! }, es256, { algorithms: ['ES256'] });
    expect(verified.protectedHeader).toEqual({ alg: 'ES256', kid: keys.p256.versionId });
    await expect(flattenedVerify({ protected: header!, payload: Buffer.concat([manifest, Buffer.from(' ')]).toString('base64url'), signature: signature! }, es256)).rejects.toMatchObject({ code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
  });

  it('raw: openssl dgst -verify accepts RSA and P-256 signatures, and SM2 (SM3 with the distinguishing ID) when the request pinned the key', async () => {
    const m = onlineB;
    artifact(m, 'blob.bin', 256_000);
    for (const key of [keys.rsa, keys.p256]) {
      const name = `raw-${key.alias.slice(6)}`;
      const { response } = await roundTrip(m, name, ['--key', key.alias, '--format', 'raw', '--in', 'blob.bin'], { finishArgs: ['--force'] });
      writeFileSync(join(m.work, `${name}.pem`), response.PublicMaterial.PublicKeyPem!);
      expect(spkiOf(response.PublicMaterial.PublicKeyPem!)).toBe(spkiOf(publish(key, 'pem', `${name}.pem`)));
      const good = peer('openssl', ['dgst', '-sha256', '-verify', `${name}.pem`, '-signature', 'blob.bin.sig', 'blob.bin'], { cwd: m.work });
      expect(good.stdout.trim(), good.stderr).toBe('Verified OK');
      const bad = peer('openssl', ['dgst', '-sha256', '-verify', `${name}.pem`, '-signature', 'blob.bin.sig', tampered(m, 'blob.bin')], { cwd: m.work });
      expect(bad.status).not.toBe(0);
    }

    // SM2 signs SM3(Z_A || M), and Z_A needs the public key: a request without it cannot be signed.
    const a = onlineA;
    artifact(a, 'sm2.bin', 100_000);
    ok(await online(a, ['request', 'create', '--key', keys.sm2.alias, '--format', 'raw', '--in', 'sm2.bin', '-o', 'sm2-nokey.req.json']), 'create sm2 without key');
    carry(a, station, 'sm2-nokey.req.json');
    const shown = await atStation(['request', 'show', 'sm2-nokey.req.json']);
    expect(refused(shown).Code).toBe('Request.NeedsPublicKey');
    expect((JSON.parse(shown.stdout) as { Problems: { Code: string }[] }).Problems.map((p) => p.Code)).toEqual(['Request.NeedsPublicKey']);
    expect(refused(await atStation(['request', 'approve', 'sm2-nokey.req.json', '--yes', '-o', 'sm2-nokey.resp.json'])).Code).toBe('Request.NeedsPublicKey');
    expect(existsSync(join(station.work, 'sm2-nokey.resp.json'))).toBe(false);

    // With the station's SM2 key pinned (--public-key), the request carries Z_A and openssl verifies.
    copyFileSync(join(a.work, 'sm2.bin'), join(m.work, 'sm2.bin'));
    publish(keys.sm2, 'pem', 'sm2.pem');
    carry(station, m, 'sm2.pem');
    const { response, review } = await roundTrip(m, 'raw-sm2', ['--key', keys.sm2.alias, '--public-key', 'sm2.pem', '--format', 'raw', '--in', 'sm2.bin'], { show: true });
    // SM3(Z_A || M) does not start with the file: the station cannot check it against the SHA-256 shown.
    expect(review.Files[0].Bound).toBe(false);
    expect(response.KeySpec).toBe('EC_SM2');
    const verify = (file: string, id: string) =>
      peer('openssl', ['dgst', '-sm3', '-verify', 'sm2.pem', '-signature', 'sm2.bin.sig', '-sigopt', `distid:${id}`, file], { cwd: m.work });
    const good = verify('sm2.bin', SM2_DEFAULT_ID);
    expect(good.stdout.trim(), good.stderr).toBe('Verified OK');
    expect(verify('sm2.bin', '1234567812345679').status).not.toBe(0); // another ID, another Z_A
    expect(verify(tampered(m, 'sm2.bin'), SM2_DEFAULT_ID).status).not.toBe(0);
  });

  it('csr: the station\'s CA issues a certificate for an openssl CSR; show lists its names and usages, openssl verify accepts the chain', async () => {
    const m = onlineB;
    const req = peer('openssl', [
      'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'host.key', '-out', 'host.csr',
      '-subj', '/CN=build.example.org/O=Example',
      '-addext', 'subjectAltName=DNS:build.example.org,DNS:ci.example.org,IP:192.0.2.10',
      '-addext', 'keyUsage=critical,digitalSignature',
      '-addext', 'extendedKeyUsage=serverAuth,clientAuth',
    ], { cwd: m.work });
    expect(req.status, req.stderr).toBe(0);
    carry(station, m, 'ca.pem');
    const { review, response } = await roundTrip(m, 'csr', ['--key', keys.ca.alias, '--format', 'csr', '--in', 'host.csr', '--validity-days', '90'], { show: true });
    expect(review.Csr).toMatchObject({
      SubjectAltNames: expect.arrayContaining([expect.stringContaining('build.example.org'), expect.stringContaining('ci.example.org'), expect.stringContaining('192.0.2.10')]),
      KeyUsages: expect.arrayContaining([expect.stringMatching(/digitalSignature/i)]),
      ExtendedKeyUsages: expect.arrayContaining([expect.stringMatching(/serverAuth/i), expect.stringMatching(/clientAuth/i)]),
      ValidityDays: 90,
      IsCa: false,
    });
    expect(review.Csr.Subject).toMatch(/build\.example\.org/);
    const chain = response.PublicMaterial.CertificateChain!;
    expect(chain.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2); // the certificate, then the CA's root
    const issued = readdirSync(m.work).filter((f) => /\.(crt|pem)$/.test(f) && f !== 'ca.pem' && readFileSync(join(m.work, f), 'utf8').includes('BEGIN CERTIFICATE'));
    expect(issued.length, readdirSync(m.work).join(' ')).toBeGreaterThan(0);
    for (const f of issued) {
      const verified = peer('openssl', ['verify', '-CAfile', 'ca.pem', f], { cwd: m.work });
      expect(verified.stdout.trim(), verified.stderr).toBe(`${f}: OK`);
    }
    const text = peer('openssl', ['x509', '-noout', '-text', '-in', issued[0]!], { cwd: m.work }).stdout;
    expect(text).toMatch(/Issuer: C = CN, O = Example, CN = Example Offline Root/);
    expect(text).toMatch(/DNS:build\.example\.org, DNS:ci\.example\.org, IP Address:192\.0\.2\.10/);
    expect(text).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
    // The certificate is for the CSR's key (its private half never left the online machine).
    const certKey = peer('openssl', ['x509', '-noout', '-pubkey', '-in', issued[0]!], { cwd: m.work }).stdout;
    const hostKey = peer('openssl', ['pkey', '-pubout', '-in', 'host.key'], { cwd: m.work }).stdout;
    expect(certKey).toBe(hostKey);
    // A root with the same name but another key does not verify it.
    const other = peer('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'other-ca.key', '-out', 'other-ca.pem', '-days', '30', '-subj', '/C=CN/O=Example/CN=Example Offline Root'], { cwd: m.work });
    expect(other.status, other.stderr).toBe(0);
    expect(peer('openssl', ['verify', '-CAfile', 'other-ca.pem', issued[0]!], { cwd: m.work }).status).not.toBe(0);
  });

  it('a ten-file request carried by QR codes only: zbarimg reads every frame, and both sides accept the text it prints', async () => {
    const m = onlineA;
    const files = Array.from({ length: 10 }, (_, i) => `part-${String(i + 1).padStart(2, '0')}-of-the-release.tar.gz`);
    const bytes = files.map((f, i) => artifact(m, f, 20_000 + i * 1000));
    const started = performance.now();
    ok(await online(m, ['request', 'create', '--key', keys.p256.alias, '--format', 'ssh', ...files.flatMap((f) => ['--in', f]), '--qr', 'request-qr', '-o', 'qr10.req.json']), 'create --qr');
    const requestBytes = readFileSync(join(m.work, 'qr10.req.json'));
    const frames = readdirSync(join(m.work, 'request-qr')).filter((f) => f.endsWith('.png')).sort();
    expect(frames.length).toBeGreaterThan(0);
    // zbarimg: one line per code, the UR parts the station's scanner would type. QR codes only:
    // zbar also looks for 1D barcodes and once read a response frame's modules as a 16-digit one.
    const zbar = (d: string, pngs: string[]): Run => {
      const at = performance.now();
      const r = peer('zbarimg', ['--raw', '-q', '-Sdisable', '-Sqrcode.enable', ...pngs.map((f) => join(d, f))], { cwd: m.work });
      timings[`zbarimg ${pngs.length} frames`] = performance.now() - at;
      return r;
    };
    const scanned = zbar(join(m.work, 'request-qr'), frames);
    expect(scanned.status, scanned.stderr).toBe(0);
    const parts = scanned.stdout.trim().split('\n');
    expect(parts).toHaveLength(frames.length);
    for (const part of parts) expect(part).toMatch(/^UR:BYTES\//i);
    // Only the text crosses: the station never sees the JSON file.
    writeFileSync(join(station.work, 'qr10.req.txt'), `${parts.join('\n')}\n`);
    const review = JSON.parse(ok(await atStation(['request', 'show', 'qr10.req.txt']), 'show from QR').stdout) as Record<string, any>;
    expect(review.RequestSha256).toBe(sha256(requestBytes));
    expect(review.Files).toHaveLength(10);
    ok(await atStation(['request', 'approve', 'qr10.req.txt', '--yes', '--qr', 'response-qr', '-o', 'qr10.resp.json']), 'approve --qr');
    const responseFrames = readdirSync(join(station.work, 'response-qr')).filter((f) => f.endsWith('.png')).sort();
    const back = zbar(join(station.work, 'response-qr'), responseFrames);
    expect(back.status, back.stderr).toBe(0);
    expect(back.stdout.trim().split('\n')).toHaveLength(responseFrames.length);
    writeFileSync(join(m.work, 'qr10.resp.txt'), back.stdout);
    const finished = ok(await online(m, ['request', 'finish', '--request', 'qr10.req.json', '--response', 'qr10.resp.txt']), 'finish from QR');
    timings['round trip qr10'] = performance.now() - started;
    const response = JSON.parse(readFileSync(join(station.work, 'qr10.resp.json'), 'utf8')) as SigningResponseJson;
    const [type, blob] = response.PublicMaterial.SshPublicKey!.split(' ');
    writeFileSync(join(m.work, 'qr_signers'), `qr@example.org ${type} ${blob}\n`);
    for (const [i, f] of files.entries()) {
      const good = peer('ssh-keygen', ['-Y', 'verify', '-f', 'qr_signers', '-I', 'qr@example.org', '-n', 'file', '-s', `${f}.sig`], { cwd: m.work, input: bytes[i] });
      expect(good.status, `${f}: ${good.stderr}\n${finished.stderr}`).toBe(0);
    }
    figures.push(
      `QR: a 10-file ssh request of ${requestBytes.length} bytes = ${frames.length} frames; its response of ${statSync(join(station.work, 'qr10.resp.json')).size} bytes = ${responseFrames.length} frames`,
    );
    // The bound the README gives: n pure frames of 250 bytes of CBOR (the file and a head of at
    // most 9 bytes), half as many again of fountain parts, and one or two more. zbarimg's parts say n.
    const bound = (bytes: number, parts: string[]): number => {
      const pure = Math.ceil((bytes + 9) / 250);
      expect(Number(/^UR:BYTES\/\d+-(\d+)\//i.exec(parts[0]!)![1])).toBeLessThanOrEqual(pure);
      return pure + Math.ceil(pure / 2) + 2;
    };
    expect(frames.length).toBeLessThanOrEqual(bound(requestBytes.length, parts));
    expect(responseFrames.length).toBeLessThanOrEqual(bound(statSync(join(station.work, 'qr10.resp.json')).size, back.stdout.trim().split('\n')));
  });

  it('the pin holds: the station refuses a request pinned to another key, finish a response from a key other than --public-key', async () => {
    const m = onlineB;
    artifact(m, 'pinned.bin', 5000);
    publish(keys.p256, 'pem', 'pin-p256.pem');
    carry(station, m, 'pin-p256.pem');
    // alias/rsa named, the P-256 key pinned: nothing is signed.
    ok(await online(m, ['request', 'create', '--key', keys.rsa.alias, '--public-key', 'pin-p256.pem', '--format', 'raw', '--in', 'pinned.bin', '-o', 'pin-other.req.json']), 'create pinned to another key');
    carry(m, station, 'pin-other.req.json');
    expect(refused(await atStation(['request', 'approve', 'pin-other.req.json', '--yes', '-o', 'pin-other.resp.json'])).Code).toBe('Request.Mismatch');
    expect(existsSync(join(station.work, 'pin-other.resp.json'))).toBe(false);
    // A good response, but finish pinned to the P-256 key while the RSA key signed: nothing is written.
    ok(await online(m, ['request', 'create', '--key', keys.rsa.alias, '--format', 'raw', '--in', 'pinned.bin', '-o', 'pin-late.req.json']), 'create unpinned');
    carry(m, station, 'pin-late.req.json');
    ok(await atStation(['request', 'approve', 'pin-late.req.json', '--yes', '-o', 'pin-late.resp.json']), 'approve unpinned');
    carry(station, m, 'pin-late.resp.json');
    const late = refused(await online(m, ['request', 'finish', '--request', 'pin-late.req.json', '--response', 'pin-late.resp.json', '--public-key', 'pin-p256.pem']));
    expect(late.Code).toBe('Request.Mismatch');
    expect(existsSync(join(m.work, 'pinned.bin.sig'))).toBe(false);
  });

  it('the online machines never had a vault: none was opened, none was created', () => {
    for (const m of [onlineA, onlineB]) {
      const everything = tree(m.root);
      // bin/run-with-node's compile cache (compiled DeskKMS modules, no vault data) is no vault.
      const compileCache = isCompileCache(relative(m.root, m.env.XDG_CACHE_HOME!));
      expect(everything.filter((p) => /deskkms|vault|no-vault-here/i.test(p) && !compileCache(p)), m.name).toEqual([]);
      expect(existsSync(join(m.env.XDG_DATA_HOME!, 'deskkms'))).toBe(false);
      expect(existsSync(join(m.env.HOME!, '.local', 'share', 'deskkms'))).toBe(false);
    }
    expect(existsSync(join(onlineB.root, 'no-vault-here'))).toBe(false);
  });
});
