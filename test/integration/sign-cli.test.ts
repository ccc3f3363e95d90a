// deskkms sign / verify / pubkey --format as an operator runs them: default names per ecosystem,
// nothing replaced without --force, stdin to stdout, the version chosen named on stderr, exit
// codes 0 valid / 1 invalid / 2 error with a Code, specs a format cannot carry refused with the
// reason, and the bins installed the documented way (npm install -g .) running on the system's
// older Node. Each format's own peers are in test/interop (sshsig, openpgp, sigstore-jws, git).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_ATTACHED_PAYLOAD } from '../../core/formats/jws.ts';
import type { CliIO } from '../../core/hosts/cli/command.ts';
import { runCli } from '../../core/hosts/cli/run.ts';
import { Vault } from '../../core/vault/vault.ts';
import { tempDir } from './vault-helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
let dir: ReturnType<typeof tempDir>;
let env: Record<string, string>;

interface Run {
  readonly status: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** The CLI in this process (no child start-up); stdout kept as bytes (raw signatures). */
async function cli(args: readonly string[], options: { stdin?: Uint8Array; cwd?: string } = {}): Promise<Run> {
  const out: Buffer[] = [];
  let stderr = '';
  const io = {
    stdout: { write: (data: string | Uint8Array) => (out.push(Buffer.from(data)), true) },
    stderr: { write: (text: string) => ((stderr += text), true) },
    stdin: Readable.from(options.stdin ? [Buffer.from(options.stdin)] : []),
    cwd: options.cwd ?? dir.path,
    env: { PATH: process.env.PATH, ...env },
  } as unknown as CliIO;
  const status = await runCli(args, io);
  return { status, stdout: Buffer.concat(out), stderr };
}

function ok(r: Run): Record<string, any> {
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.toString('utf8')) as Record<string, any>;
}

/** The {"Code","Message"} of a refusal: exit 2 for the command line's own problems, 1 for the vault's (a refused call, a disabled key). */
function refused(r: Run, status = 2): { Code: string; Message: string } {
  expect(r.status, `expected a refusal; stdout: ${r.stdout.toString()}`).toBe(status);
  const lines = r.stderr.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as { Code: string; Message: string };
}

async function makeKey(spec: string, alias?: string): Promise<{ keyId: string; versionId: string }> {
  const created = ok(await cli(['CreateKey', '--KeySpec', spec, '--KeyUsage', 'SIGN/VERIFY']));
  const keyId = created.KeyMetadata.KeyId as string;
  if (alias) ok(await cli(['CreateAlias', '--KeyId', keyId, '--AliasName', alias]));
  const versions = ok(await cli(['ListKeyVersions', '--KeyId', keyId]));
  return { keyId, versionId: versions.KeyVersions.KeyVersion[0].KeyVersionId as string };
}

function write(name: string, data: string | Uint8Array): string {
  const path = join(dir.path, name);
  writeFileSync(path, data);
  return path;
}

beforeAll(async () => {
  dir = tempDir('deskkms-sign-cli-');
  env = { DESKKMS_VAULT: join(dir.path, 'vault'), DESKKMS_PASSPHRASE_FILE: write('pass.txt', 'sign cli passphrase\n') };
  // A passphrase vault with a light scrypt cost: every command below unlocks it again.
  await (await Vault.init(env.DESKKMS_VAULT!, { passphrase: Buffer.from('sign cli passphrase'), kdfN: 2 ** 14 })).close();
}, 120_000);

describe('deskkms sign --format raw and deskkms verify', () => {
  it('writes FILE.sig by default, names the version it chose, and openssl verifies it', async () => {
    const key = await makeKey('EC_P256', 'alias/release');
    const tarball = write('app-1.0.tar.gz', Buffer.alloc(3 << 20, 7));
    const signed = await cli(['sign', '--key', 'alias/release', '--format', 'raw', '--in', 'app-1.0.tar.gz']);
    const answer = ok(signed);
    expect(answer).toMatchObject({ Signature: `${tarball}.sig`, Format: 'raw', KeyId: key.keyId, KeyVersionId: key.versionId });
    expect(signed.stderr).toContain(`version ${key.versionId} (its newest`);
    expect(statSync(`${tarball}.sig`).mode & 0o777).toBe(0o644);
    const pem = write('release.pem', (await cli(['pubkey', 'alias/release', '--format', 'pem'])).stdout);
    expect(execFileSync('openssl', ['dgst', '-sha256', '-verify', pem, '-signature', `${tarball}.sig`, tarball], { encoding: 'utf8' })).toMatch(/Verified OK/);

    // verify: 0 valid, 1 invalid (a changed byte), 2 error with a Code.
    const verify = (file: string, ...extra: string[]) => cli(['verify', '--in', file, '--signature-file', `${tarball}.sig`, '--public-key', pem, ...extra]);
    const good = await verify(tarball);
    expect([good.status, good.stdout.toString()]).toEqual([0, 'valid\n']);
    const changed = Buffer.from(readFileSync(tarball));
    changed.writeUInt8(changed.readUInt8(1_500_000) ^ 1, 1_500_000);
    const bad = await verify(write('changed.tar.gz', changed));
    expect([bad.status, bad.stdout.toString()]).toEqual([1, 'invalid\n']);
    expect(refused(await verify(tarball, '--format', 'pgp'))).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringContaining('valid: raw, ssh, openpgp, sigstore, jws') });
    expect(refused(await cli(['verify', '--in', tarball, '--signature-file', write('empty.sig', ''), '--public-key', pem]))).toMatchObject({ Code: 'Format.Malformed' });
    expect(refused(await cli(['verify', '--in', tarball, '--signature-file', `${tarball}.sig`]))).toMatchObject({ Code: 'MissingParameter', Message: '--public-key is required' });
  });

  it('keeps an existing signature file unless --force, and signs nothing when it refuses', async () => {
    await makeKey('EC_P256', 'alias/keep');
    const file = write('keep.txt', 'first');
    ok(await cli(['sign', '--key', 'alias/keep', '--format', 'raw', '--in', 'keep.txt']));
    const first = readFileSync(`${file}.sig`);
    const keep = ok(await cli(['DescribeKey', '--KeyId', 'alias/keep'])).KeyMetadata.KeyId as string;
    const audit = async () => ok(await cli(['ListAuditEntries', '--KeyId', keep, '--Action', 'AsymmetricSign'])) as { Entries: { action: string; caller: string }[] };
    const signsBefore = (await audit()).Entries.filter((e) => e.action === 'AsymmetricSign' && e.caller === 'cli:raw').length;
    expect(signsBefore).toBeGreaterThan(0);
    const again = refused(await cli(['sign', '--key', 'alias/keep', '--format', 'raw', '--in', 'keep.txt']));
    expect(again).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringContaining('already exists; give --force') });
    expect(readFileSync(`${file}.sig`)).toEqual(first);
    expect((await audit()).Entries.filter((e) => e.action === 'AsymmetricSign' && e.caller === 'cli:raw').length).toBe(signsBefore);
    ok(await cli(['sign', '--key', 'alias/keep', '--format', 'raw', '--in', 'keep.txt', '--force']));
    expect(readFileSync(`${file}.sig`)).not.toEqual(first); // ECDSA: a new signature
    // No temporary file is left beside it.
    expect(execFileSync('ls', ['-a', dir.path], { encoding: 'utf8' })).not.toMatch(/\.partial/);
  });

  it('reads stdin and writes the signature to stdout; -o names the file', async () => {
    const key = await makeKey('RSA_2048');
    const message = Buffer.from('piped release notes\n');
    const piped = await cli(['sign', '--key', key.keyId, '--version', key.versionId, '--format', 'raw', '--in', '-'], { stdin: message });
    expect(piped.status, piped.stderr).toBe(0);
    expect(piped.stderr).toBe(''); // the version was named: nothing to say
    expect(piped.stdout.length).toBe(256);
    const pem = write('rsa.pem', (await cli(['pubkey', key.keyId, '--version', key.versionId, '--format', 'pem'])).stdout);
    const check = await cli(['verify', '--in', write('notes.txt', message), '--signature', piped.stdout.toString('base64'), '--public-key', pem, '--algorithm', 'RSA_PKCS1_SHA_256']);
    expect(check.status).toBe(0);
    ok(await cli(['sign', '--key', key.keyId, '--format', 'raw', '--in', 'notes.txt', '-o', 'custom.sig', '--algorithm', 'RSA_PSS_SHA_256']));
    expect(existsSync(join(dir.path, 'custom.sig'))).toBe(true);
    const pss = await cli(['verify', '--in', 'notes.txt', '--signature-file', 'custom.sig', '--public-key', pem, '--algorithm', 'RSA_PSS_SHA_256']);
    expect(pss.status).toBe(0);
    const wrongAlg = await cli(['verify', '--in', 'notes.txt', '--signature-file', 'custom.sig', '--public-key', pem]);
    expect(wrongAlg.status).toBe(1); // PKCS#1 v1.5 by default: the PSS signature does not match
  });

  it('refuses what cannot be signed, with the Code', async () => {
    write('x.txt', 'x');
    expect(refused(await cli(['sign', '--key', 'alias/nope', '--format', 'raw', '--in', 'x.txt']), 1)).toMatchObject({ Code: 'Forbidden.AliasNotFound' });
    expect(refused(await cli(['sign', '--key', 'alias/release', '--format', 'pgp', '--in', 'x.txt']))).toMatchObject({ Code: 'InvalidParameter' });
    expect(refused(await cli(['sign', '--key', 'alias/release', '--in', 'x.txt']))).toMatchObject({ Code: 'MissingParameter', Message: '--format is required' });
    expect(refused(await cli(['sign', '--key', 'alias/release', '--format', 'raw', '--in', 'missing.txt']))).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringContaining('no such file') });
    const disabled = await makeKey('EC_P256');
    ok(await cli(['DisableKey', '--KeyId', disabled.keyId]));
    expect(refused(await cli(['sign', '--key', disabled.keyId, '--format', 'raw', '--in', 'x.txt']), 1)).toMatchObject({ Code: 'Rejected.Disabled' });
  });
});

describe('deskkms sign in each release format', () => {
  it("writes each ecosystem's file name, verifies it, and refuses a spec the format cannot carry with the reason", async () => {
    const key = await makeKey('EC_P256', 'alias/formats');
    write('formats.txt', 'one release, four formats\n');
    write('formats-changed.txt', 'one release, four formatz\n');
    const pem = write('formats.pem', (await cli(['pubkey', 'alias/formats', '--format', 'pem'])).stdout);
    const cert = write('formats.asc.pub', (await cli(['pubkey', 'alias/formats', '--format', 'openpgp', '--user-id', 'Formats <formats@example.org>'])).stdout);
    const signers = write('allowed_signers', (await cli(['pubkey', 'alias/formats', '--format', 'allowed-signers', '--principal', 'formats@example.org'])).stdout);
    const material: Record<string, string[]> = {
      ssh: ['--allowed-signers', signers, '--principal', 'formats@example.org'],
      openpgp: ['--certificate', cert],
      sigstore: ['--public-key', pem],
      jws: ['--public-key', pem],
    };
    const names: Record<string, string> = { ssh: '.sig', openpgp: '.asc', sigstore: '.sigstore.json', jws: '.jws' };
    for (const format of ['ssh', 'openpgp', 'sigstore', 'jws']) {
      const answer = ok(await cli(['sign', '--key', 'alias/formats', '--version', key.versionId, '--format', format, '--in', 'formats.txt', '--force']));
      expect(answer.Signature).toBe(join(dir.path, `formats.txt${names[format]!}`));
      const check = (file: string) => cli(['verify', '--format', format, '--in', file, '--signature-file', `formats.txt${names[format]!}`, ...material[format]!]);
      const good = await check('formats.txt');
      expect([format, good.status, good.stdout.toString()]).toEqual([format, 0, 'valid\n']);
      expect(good.stderr).toMatch(/^signed by /);
      const bad = await check('formats-changed.txt');
      expect([format, bad.status, bad.stdout.toString()]).toEqual([format, 1, 'invalid\n']);
      // A changed byte in the signature file itself is never valid: invalid (1), or an error (2)
      // with Format.Malformed when the file no longer parses (as gpg's 2 and ssh-keygen's 255).
      const sig = readFileSync(join(dir.path, `formats.txt${names[format]!}`));
      // (A sigstore bundle's public-key hint is not signed: its bytes are damaged inside the signature value.)
      const from = format === 'sigstore' ? sig.indexOf('"signature"') + 16 : 0;
      const span = format === 'sigstore' ? 40 : sig.length - 8;
      for (const at of [from + Math.floor(span / 3), from + Math.floor(span / 2), from + span - 1]) {
        const damaged = Buffer.from(sig);
        damaged.writeUInt8(damaged.readUInt8(at) ^ 0x04, at);
        write('damaged.sig', damaged);
        const r = await cli(['verify', '--format', format, '--in', 'formats.txt', '--signature-file', 'damaged.sig', ...material[format]!]);
        expect([format, at, r.status === 1 || r.status === 2]).toEqual([format, at, true]);
        if (r.status === 2) expect(refused(r).Code).toBe('Format.Malformed');
        else expect(r.stdout.toString()).toBe('invalid\n');
      }
    }
    // An option the format does not read is refused, never ignored.
    expect(refused(await cli(['sign', '--key', 'alias/formats', '--format', 'openpgp', '--in', 'formats.txt', '--namespace', 'git', '-o', 'x.asc']))).toMatchObject({
      Code: 'InvalidParameter',
      Message: '--namespace: is for the ssh format, not openpgp',
    });
    expect(refused(await cli(['sign', '--key', 'alias/formats', '--format', 'ssh', '--in', 'formats.txt', '--detached', '-o', 'x.sig']))).toMatchObject({ Code: 'InvalidParameter' });
    expect(refused(await cli(['sign', '--key', 'alias/formats', '--format', 'sigstore', '--in', 'formats.txt', '--algorithm', 'RSA_PSS_SHA_256', '-o', 'x.json']))).toMatchObject({ Code: 'InvalidParameter' });
    expect(refused(await cli(['verify', '--format', 'ssh', '--in', 'formats.txt', '--signature-file', 'formats.txt.sig', '--certificate', cert]))).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringContaining('--certificate') });
    expect(refused(await cli(['verify', '--format', 'ssh', '--in', 'formats.txt', '--signature-file', 'formats.txt.sig', '--public-key', pem, ...material.ssh!]))).toMatchObject({ Code: 'InvalidParameter' });
    // Every signature was one AsymmetricSign audited with its format.
    const entries = (ok(await cli(['ListAuditEntries', '--KeyId', key.keyId, '--Action', 'AsymmetricSign'])) as { Entries: { action: string; caller: string; keyId: string | null }[] }).Entries;
    const callers = entries.filter((e) => e.action === 'AsymmetricSign' && e.keyId === key.keyId).map((e) => e.caller);
    expect(callers.sort()).toEqual(['cli:jws', 'cli:openpgp', 'cli:openpgp', 'cli:sigstore', 'cli:ssh']); // the certificate's self-signature too

    const sm2 = await makeKey('EC_SM2');
    for (const format of ['ssh', 'openpgp', 'sigstore', 'jws']) {
      const refusal = refused(await cli(['sign', '--key', sm2.keyId, '--format', format, '--in', 'formats.txt', '-o', `sm2.${format}`]), 1);
      expect([format, refusal.Code]).toEqual([format, 'Format.UnsupportedKeySpec']);
      expect(refusal.Message).toMatch(/SM2/);
      expect(existsSync(join(dir.path, `sm2.${format}`))).toBe(false);
    }
  });
});

describe('an attached JWS at its size limit', () => {
  it('signs the largest file an attached token carries, and deskkms verify reads that token back', async () => {
    await makeKey('EC_P256', 'alias/jws-limit');
    write('limit.bin', Buffer.alloc(MAX_ATTACHED_PAYLOAD, 0x5a));
    ok(await cli(['sign', '--key', 'alias/jws-limit', '--format', 'jws', '--in', 'limit.bin']));
    const jwk = write('limit.jwk', (await cli(['pubkey', 'alias/jws-limit', '--format', 'jwk'])).stdout);
    const r = await cli(['verify', '--format', 'jws', '--signature-file', 'limit.bin.jws', '--public-key', jwk]);
    expect([r.status, r.stdout.toString()], r.stderr).toEqual([0, 'valid\n']);
    write('over.bin', Buffer.alloc(MAX_ATTACHED_PAYLOAD + 1, 0x5a));
    expect(refused(await cli(['sign', '--key', 'alias/jws-limit', '--format', 'jws', '--in', 'over.bin']))).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringContaining('--detached') });
    expect(existsSync(join(dir.path, 'over.bin.jws'))).toBe(false);
  });
});

describe('deskkms pubkey --format', () => {
  it('prints the public key as PEM, OpenSSH and JWK, and refuses a form the spec has not', async () => {
    const key = await makeKey('EC_P256', 'alias/publish');
    const pem = (await cli(['pubkey', 'alias/publish', '--format', 'pem'])).stdout.toString();
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const ssh = (await cli(['pubkey', 'alias/publish', '--version', key.versionId, '--format', 'openssh'])).stdout.toString();
    expect(ssh).toMatch(/^ecdsa-sha2-nistp256 AAAA[A-Za-z0-9+/=]+/);
    const sshFile = write('publish.pub', ssh);
    expect(execFileSync('ssh-keygen', ['-l', '-f', sshFile], { encoding: 'utf8' })).toMatch(/^256 SHA256:/);
    const jwk = JSON.parse((await cli(['pubkey', 'alias/publish', '--format', 'jwk'])).stdout.toString()) as Record<string, string>;
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256' });
    const sm2 = await makeKey('EC_SM2');
    expect(refused(await cli(['pubkey', sm2.keyId, '--format', 'openssh']), 1)).toMatchObject({ Code: 'Format.UnsupportedKeySpec', Message: expect.stringContaining('EC_SM2') });
    expect(refused(await cli(['pubkey', 'alias/publish', '--format', 'x509']))).toMatchObject({ Code: 'InvalidParameter' });
    expect(refused(await cli(['pubkey', 'alias/publish']))).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringContaining('exactly one of --bundle') });
    // -o writes the file whole and says what it wrote.
    const written = ok(await cli(['pubkey', 'alias/publish', '--format', 'pem', '-o', 'publish.pem']));
    expect(written).toMatchObject({ Format: 'pem', KeyId: key.keyId, KeyVersionId: key.versionId });
    expect(readFileSync(join(dir.path, 'publish.pem'), 'utf8')).toBe(pem);
    // A published file is kept unless --force.
    expect(refused(await cli(['pubkey', 'alias/publish', '--format', 'openssh', '-o', 'publish.pem']))).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringContaining('--force') });
    expect(readFileSync(join(dir.path, 'publish.pem'), 'utf8')).toBe(pem);
    ok(await cli(['pubkey', 'alias/publish', '--format', 'openssh', '-o', 'publish.pem', '--force']));
    expect(readFileSync(join(dir.path, 'publish.pem'), 'utf8')).toBe(ssh);
  });
});

describe('the bins, installed with npm install -g . on a machine whose node is older', () => {
  it('start the project\'s own Node', () => {
    const prefix = join(dir.path, 'global');
    const install = spawnSync('npm', ['install', '-g', '.', '--prefix', prefix, '--no-audit', '--no-fund'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(install.status, install.stderr).toBe(0);
    // PATH as an older system has it: /usr/bin/node (Node 20 here) and no node_modules/.bin.
    const path = `${join(prefix, 'bin')}:/usr/local/bin:/usr/bin:/bin`;
    const systemNode = spawnSync('node', ['--version'], { env: { PATH: path }, encoding: 'utf8' });
    const version = spawnSync('deskkms', ['--version'], { env: { PATH: path, HOME: dir.path }, encoding: 'utf8' });
    expect(version.status, `${version.stderr} (system node ${systemNode.stdout})`).toBe(0);
    expect(version.stdout).toBe('0.1.0\n');
    // Every bin the package declares is a launcher that works from there (git, cosign and age call them by name).
    const bins = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin;
    expect(Object.keys(bins).sort()).toEqual(['age-plugin-deskkms', 'deskkms', 'deskkms-gpg', 'deskkms-ssh-keygen', 'sigstore-kms-deskkms']);
    for (const name of Object.keys(bins)) expect(existsSync(join(prefix, 'bin', name)), name).toBe(true);
    const help = spawnSync('deskkms-ssh-keygen', ['-l', '-f', join(ROOT, 'test/vectors/wycheproof/README.md')], { env: { PATH: path, HOME: dir.path }, encoding: 'utf8' });
    expect(help.stderr).not.toMatch(/node: not found|ERR_UNKNOWN_FILE_EXTENSION|SyntaxError/);
    // A checkout without its node_modules says what to do instead of failing obscurely.
    const bare = join(dir.path, 'bare');
    execFileSync('mkdir', ['-p', bare]);
    execFileSync('cp', ['-r', join(ROOT, 'bin'), bare]);
    const missing = spawnSync(join(bare, 'bin', 'deskkms-gpg'), ['--version'], { env: { PATH: path }, encoding: 'utf8' });
    expect(missing.status).toBe(127);
    expect(missing.stderr).toContain('node_modules/node/bin/node is missing: run "npm ci"');
  }, 180_000);
});
