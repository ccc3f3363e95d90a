// git signs commits and tags with a vault key through bin/deskkms-gpg (gpg.program), and the real
// gpg 2.2 verifies them (git verify-commit / verify-tag) with the certificate `deskkms pubkey
// --format openpgp` exported, imported into a temporary GNUPGHOME. git runs with a PATH whose
// `node` is the system's Node 20 (which cannot run the TypeScript program), so the launcher must
// start the project's own Node. A tampered commit object fails verification; an unknown key is
// refused the way gpg refuses it.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GPG, keySelector, parseSignRequest } from '../../core/hosts/programs/gpg.ts';
import { hasUnsafeText } from '../../core/contract/escape-text.ts';
import { findRealProgram } from '../../core/hosts/programs/hand-over.ts';
import { dispatch } from '../../core/actions/dispatch.ts';
import { listAuditEntries } from '../../core/audit/audit-log.ts';
import { Vault } from '../../core/vault/vault.ts';
import { loadedModules, moduleLoadHook, vaultSideModules } from '../support/module-loads.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const DESKKMS = join(ROOT, 'bin/deskkms');
const DESKKMS_GPG = join(ROOT, 'bin/deskkms-gpg');
const SYSTEM_PATH = '/usr/bin:/bin';
const PASSPHRASE = 'git openpgp test passphrase';

let work: string;
let repo: string;
let env: Record<string, string>;
const keys: Record<'EC_P256' | 'RSA_2048', { keyId: string; fingerprint: string }> = {} as never;

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], options: SpawnSyncOptions = {}): Run {
  const r = spawnSync(command, args, { cwd: repo ?? work, env, encoding: 'utf8', timeout: 120_000, ...options });
  if (r.error) throw r.error;
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

function ok(r: Run): Run {
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  return r;
}

const git = (...args: string[]): Run => run('git', args);
const signingGit = (key: string, ...args: string[]): Run => git('-c', `gpg.program=${DESKKMS_GPG}`, '-c', `user.signingkey=${key}`, ...args);

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'deskkms-git-openpgp-'));
  const home = join(work, 'home');
  const gnupg = join(work, 'gnupg');
  mkdirSync(home);
  mkdirSync(gnupg, { mode: 0o700 });
  const passphrase = join(work, 'vault-passphrase');
  writeFileSync(passphrase, `${PASSPHRASE}\n`, { mode: 0o600 });
  env = {
    PATH: SYSTEM_PATH,
    HOME: home,
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Release Bot',
    GIT_AUTHOR_EMAIL: 'release@deskkms.example',
    GIT_COMMITTER_NAME: 'Release Bot',
    GIT_COMMITTER_EMAIL: 'release@deskkms.example',
    GNUPGHOME: gnupg,
    DESKKMS_VAULT: join(work, 'vault'),
    DESKKMS_PASSPHRASE_FILE: passphrase,
  };
  // The premise: the system Node on this PATH is too old for the project's TypeScript.
  const systemNode = run('node', ['--version']);
  expect(systemNode.stdout).toMatch(/^v20\./);

  // The vault is made here with a light scrypt cost (as test/support/action-vault.ts does): every
  // git signature opens it anew, as `deskkms init`'s default cost would make each take seconds.
  const vault = await Vault.init(env.DESKKMS_VAULT!, { passphrase: Buffer.from(PASSPHRASE), kdfN: 2 ** 14 });
  const made: Record<string, string> = {};
  try {
    for (const spec of ['EC_P256', 'RSA_2048'] as const) {
      const created = await dispatch(vault, 'CreateKey', { KeySpec: spec, KeyUsage: 'SIGN/VERIFY' }, 'test');
      if (!created.ok) throw new Error(created.error.Message);
      made[spec] = created.body.KeyMetadata.KeyId;
    }
  } finally {
    await vault.close();
  }
  for (const spec of ['EC_P256', 'RSA_2048'] as const) {
    const keyId = made[spec]!;
    const certFile = join(work, `${spec}.asc`);
    const exported = JSON.parse(ok(run(DESKKMS, ['pubkey', keyId, '--format', 'openpgp', '--user-id', `Release Bot (${spec}) <release@deskkms.example>`, '-o', certFile])).stdout) as {
      Fingerprint: string;
    };
    keys[spec] = { keyId: keyId, fingerprint: exported.Fingerprint };
    const imported = ok(run('gpg', ['--batch', '--status-fd', '1', '--import', certFile]));
    expect(imported.stdout).toContain(`[GNUPG:] IMPORT_OK 1 ${exported.Fingerprint}`);
  }
  repo = join(work, 'repo');
  ok(run('git', ['init', '-q', '-b', 'main', repo], { cwd: work }));
  writeFileSync(join(repo, 'README'), 'release notes\n');
  ok(git('add', 'README'));
}, 180_000);

afterAll(() => {
  if (env?.GNUPGHOME) spawnSync('gpgconf', ['--kill', 'all'], { env });
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('git with gpg.program = deskkms-gpg', () => {
  it('signs a commit with the EC_P256 key (by fingerprint); real gpg verifies it; a tampered copy is BAD', async () => {
    const { fingerprint, keyId } = keys.EC_P256;
    const committed = signingGit(fingerprint, 'commit', '-S', '-m', 'Release 1.0');
    expect(committed.status, committed.stderr).toBe(0);
    const object = ok(git('cat-file', 'commit', 'HEAD')).stdout;
    expect(object).toMatch(/^gpgsig -----BEGIN PGP SIGNATURE-----\n \n /m);

    // Verified by the real gpg (git's default gpg.program), and through deskkms-gpg, which hands it on.
    for (const viaProgram of [false, true]) {
      const verified = viaProgram ? git('-c', `gpg.program=${DESKKMS_GPG}`, 'verify-commit', '--raw', 'HEAD') : git('verify-commit', '--raw', 'HEAD');
      expect(verified.status, verified.stderr).toBe(0);
      expect(verified.stderr).toContain(`[GNUPG:] GOODSIG ${fingerprint.slice(24)} Release Bot (EC_P256) <release@deskkms.example>`);
      expect(verified.stderr).toMatch(new RegExp(`\\[GNUPG:\\] VALIDSIG ${fingerprint} \\S+ \\d+ 0 4 0 19 8 00 ${fingerprint}`));
    }
    const human = ok(git('verify-commit', 'HEAD'));
    expect(human.stderr).toContain('Good signature from "Release Bot (EC_P256) <release@deskkms.example>"');
    expect(ok(git('log', '-1', '--format=%G? %GF')).stdout.trim()).toMatch(new RegExp(`^[GU] ${fingerprint}$`));

    // The vault audited the signature as the gpg program's OpenPGP signature.
    const vault = Vault.open(env.DESKKMS_VAULT!, { passphrase: Buffer.from(PASSPHRASE) });
    try {
      const signed = listAuditEntries(vault.store.db, { action: 'AsymmetricSign', keyId, newestFirst: true, limit: 5 });
      // Newest first: the commit's signature by this program, then the certificate's self-signature by `deskkms pubkey`.
      expect(signed.map((e) => [e.caller, e.code])).toEqual([
        ['gpg:openpgp', 'OK'],
        ['cli:openpgp', 'OK'],
      ]);
    } finally {
      await vault.close();
    }

    // The same signature over a changed commit object: gpg says BAD, git refuses.
    const tampered = object.replace('Release 1.0', 'Release 1.1');
    expect(tampered).not.toBe(object);
    const sha = ok(run('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], { input: tampered })).stdout.trim();
    const refused = git('verify-commit', '--raw', sha);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain(`[GNUPG:] BADSIG ${fingerprint.slice(24)}`);
    expect(refused.stderr).not.toContain('GOODSIG');
  });

  it('signs an annotated tag with the RSA_2048 key (by long key ID, 0x form); verify-tag passes; a changed tag object fails', () => {
    const { fingerprint } = keys.RSA_2048;
    const tagged = signingGit(`0x${fingerprint.slice(24)}`, 'tag', '-s', 'v1.0', '-m', 'Version 1.0');
    expect(tagged.status, tagged.stderr).toBe(0);
    const verified = git('verify-tag', '--raw', 'v1.0');
    expect(verified.status, verified.stderr).toBe(0);
    expect(verified.stderr).toMatch(new RegExp(`\\[GNUPG:\\] VALIDSIG ${fingerprint} \\S+ \\d+ 0 4 0 1 8 00 ${fingerprint}`));
    const object = ok(git('cat-file', 'tag', 'v1.0')).stdout;
    expect(object).toContain('-----BEGIN PGP SIGNATURE-----');
    const sha = ok(run('git', ['hash-object', '-t', 'tag', '-w', '--stdin'], { input: object.replace('Version 1.0', 'Version 6.6') })).stdout.trim();
    const refused = git('verify-tag', '--raw', sha);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('[GNUPG:] BADSIG');
  });

  it('a key the vault does not have is refused like gpg refuses it, and no commit is made', () => {
    const before = ok(git('rev-parse', 'HEAD')).stdout;
    const unknown = '0123456789ABCDEF0123456789ABCDEF01234567';
    for (const key of [unknown]) {
      // git 2.39 keeps the program's stderr (its status fd) to itself and says only that signing failed.
      const refused = signingGit(key, 'commit', '--allow-empty', '-S', '-m', 'never');
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toContain('error: gpg failed to sign the data');
    }
    expect(ok(git('rev-parse', 'HEAD')).stdout).toBe(before);
    // What the program says, run as git runs it.
    const direct = run(DESKKMS_GPG, ['--status-fd=2', '-bsau', unknown], { input: 'payload' });
    expect(direct.status).toBe(2);
    expect(direct.stdout).toBe('');
    expect(direct.stderr).toContain(`gpg: skipped "${unknown}": No secret key`);
    expect(direct.stderr).toContain('"Code":"Forbidden.KeyNotFound"');
    expect(direct.stderr).not.toContain('SIG_CREATED');
    const email = run(DESKKMS_GPG, ['--status-fd=2', '-bsau', 'release@deskkms.example'], { input: 'payload' });
    expect(email.status).toBe(2);
    expect(email.stderr).toMatch(/neither an OpenPGP fingerprint \(40 hex digits\) nor a long key ID/);
  });
});

describe('deskkms-gpg outside git', () => {
  it('reads the signing invocations gpg users and tools make, and hands every other one on', () => {
    expect(parseSignRequest(['--status-fd=2', '-bsau', 'KEY'])).toEqual({ key: 'KEY', armor: true, statusFd: 2 });
    expect(parseSignRequest(['-b', '-s', '-a', '-u', 'KEY'])).toEqual({ key: 'KEY', armor: true });
    expect(parseSignRequest(['-bsauKEY'])).toEqual({ key: 'KEY', armor: true });
    expect(parseSignRequest(['--detach-sign', '--armor', '--local-user=KEY', '--status-fd', '3', '--batch', '--yes', 'dist.tar.gz'])).toEqual({ key: 'KEY', armor: true, statusFd: 3, input: 'dist.tar.gz', yes: true });
    expect(parseSignRequest(['-bu', 'KEY', '-o', 'out.sig', '-'])).toEqual({ key: 'KEY', armor: false, output: 'out.sig' });
    // git's verification, key listings, anything that is not a detached signature: the real gpg's.
    expect(parseSignRequest(['--keyid-format=long', '--status-fd=1', '--verify', 'sig', '-'])).toBeUndefined();
    expect(parseSignRequest(['--list-keys', '--with-colons'])).toBeUndefined();
    expect(parseSignRequest(['--clearsign', '-u', 'KEY'])).toBeUndefined();
    // A signing request with an option it does not know, no key, or two files is refused.
    expect(() => parseSignRequest(['-bsau', 'KEY', '--encrypt'])).toThrow(/InvalidParameter|does not know --encrypt/);
    expect(() => parseSignRequest(['-bsax', 'KEY'])).toThrow(/does not know -x/);
    expect(() => parseSignRequest(['--status-fd=2', '-bsa'])).toThrow(/--local-user: name the signing key/);
    expect(() => parseSignRequest(['-bsau', 'KEY', 'a', 'b'])).toThrow(/one file/);
    expect(() => parseSignRequest(['--status-fd=x', '-bsau', 'KEY'])).toThrow(/--status-fd: x is not a file descriptor/);
    // Keys: a fingerprint (any case, 0x, spaces, gpg's "!"), a long key ID; nothing else.
    const fpr = 'CDFDEF7898FD31150A3F55E4F6321EAADE750C76';
    expect(keySelector(`0x${fpr.toLowerCase()}`)).toEqual({ fingerprint: fpr });
    expect(keySelector('CDFD EF78 98FD 3115 0A3F  55E4 F632 1EAA DE75 0C76')).toEqual({ fingerprint: fpr });
    expect(keySelector(`${fpr}!`)).toEqual({ fingerprint: fpr });
    expect(keySelector('0xF6321EAADE750C76')).toEqual({ keyId: 'F6321EAADE750C76' });
    expect(keySelector('DE750C76')).toBeUndefined();
    expect(keySelector('Release Bot <release@deskkms.example>')).toBeUndefined();
  });

  it('writes a binary detached signature of a file with -b -u FPR -o OUT FILE, which gpg verifies', () => {
    const { fingerprint } = keys.EC_P256;
    const file = join(work, 'dist.tar.gz');
    writeFileSync(file, 'release tarball bytes\n'.repeat(1000));
    const out = join(work, 'dist.tar.gz.sig');
    ok(run(DESKKMS_GPG, ['-b', '-u', fingerprint, '-o', out, file]));
    const verified = ok(run('gpg', ['--batch', '--status-fd', '1', '--verify', out, file]));
    expect(verified.stdout).toMatch(new RegExp(`\\[GNUPG:\\] VALIDSIG ${fingerprint} `));
    expect(run('gpg', ['--batch', '--list-packets', out]).stdout).toContain(':signature packet: algo 19');
  });

  it('an existing signature file is refused unless --yes is given; a symlink there is never written through', () => {
    const { fingerprint } = keys.EC_P256;
    const file = join(work, 'release.tar.gz');
    writeFileSync(file, 'release bytes\n'.repeat(100));
    const asc = `${file}.asc`; // what -a FILE writes without -o
    const verifies = (sig: string): void => {
      expect(ok(run('gpg', ['--batch', '--status-fd', '1', '--verify', sig, file])).stdout).toMatch(new RegExp(`\\[GNUPG:\\] VALIDSIG ${fingerprint} `));
    };

    // An existing FILE.asc: refused as gpg --batch refuses it, before anything is signed, and left as it was.
    writeFileSync(asc, 'an older signature\n');
    const refused = run(DESKKMS_GPG, ['--batch', '-bau', fingerprint, file]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('File exists; give --yes to replace it');
    expect(readFileSync(asc, 'utf8')).toBe('an older signature\n');
    // With --yes it is replaced by the signature.
    ok(run(DESKKMS_GPG, ['--batch', '--yes', '-bau', fingerprint, file]));
    verifies(asc);

    // A symlink planted at the target (here -o OUT) pointing at another file.
    const victim = join(work, 'victim.txt');
    writeFileSync(victim, 'not a signature\n');
    const out = join(work, 'planted.sig');
    symlinkSync(victim, out);
    const viaLink = run(DESKKMS_GPG, ['-b', '-u', fingerprint, '-o', out, file]);
    expect(viaLink.status).toBe(2);
    expect(viaLink.stderr).toContain('File exists');
    expect(readlinkSync(out)).toBe(victim);
    // A dangling one too (it would create the file it names).
    const nowhere = join(work, 'created-through-link.sig');
    const dangling = join(work, 'dangling.sig');
    symlinkSync(nowhere, dangling);
    expect(run(DESKKMS_GPG, ['-b', '-u', fingerprint, '-o', dangling, file]).status).toBe(2);
    expect(existsSync(nowhere)).toBe(false);
    // --yes replaces the link itself with the signature file; the file it pointed at is untouched.
    ok(run(DESKKMS_GPG, ['--yes', '-b', '-u', fingerprint, '-o', out, file]));
    expect(lstatSync(out).isSymbolicLink()).toBe(false);
    expect(readFileSync(victim, 'utf8')).toBe('not a signature\n');
    verifies(out);
    // No temporary file is left beside the targets.
    expect(readdirSync(work).filter((name) => name.endsWith('.partial'))).toEqual([]);
  });

  it('outside text on stderr is escaped: the key name and file names cannot drive the terminal', () => {
    const hostileKey = 'evil\x1b]0;owned\x07\u202e';
    const keyRefused = run(DESKKMS_GPG, ['--status-fd=2', '-bsau', hostileKey], { input: 'payload' });
    expect(keyRefused.status).toBe(2);
    expect(keyRefused.stderr).toContain('gpg: skipped "evil\\x1B]0;owned\\x07\\u202E": No secret key');
    const fileRefused = run(DESKKMS_GPG, ['-bau', keys.EC_P256.fingerprint, join(work, 'gone\x1b[2J.tar')]);
    expect(fileRefused.status).toBe(2);
    expect(fileRefused.stderr).toContain('gone\\x1B[2J.tar: ENOENT');
    for (const r of [keyRefused, fileRefused]) expect(hasUnsafeText(r.stderr.replaceAll('\n', ''))).toBe(false);
  });
});

describe('deskkms-gpg hands over to the real gpg, never to itself', () => {
  it('finds gpg past a symlink to itself, in absolute PATH directories only, and checks $DESKKMS_GPG', () => {
    const fake = join(work, 'fake-bin');
    mkdirSync(fake);
    symlinkSync(DESKKMS_GPG, join(fake, 'gpg')); // installed as "gpg" ahead of the real one
    const realGpg = (e: NodeJS.ProcessEnv): string => findRealProgram(GPG, e);
    expect(realGpg({ PATH: `${fake}:${SYSTEM_PATH}` })).toBe('/usr/bin/gpg');
    expect(() => realGpg({ PATH: fake })).toThrow(/no gpg or gpg2 in an absolute PATH directory other than deskkms-gpg/);
    expect(() => realGpg({ DESKKMS_GPG: join(fake, 'gpg'), PATH: SYSTEM_PATH })).toThrow(/deskkms-gpg itself/);
    expect(() => realGpg({ DESKKMS_GPG: DESKKMS_GPG, PATH: SYSTEM_PATH })).toThrow(/deskkms-gpg itself/);
    expect(() => realGpg({ DESKKMS_GPG: 'gpg', PATH: SYSTEM_PATH })).toThrow(/DESKKMS_GPG: gpg must be an absolute path/);
    expect(() => realGpg({ DESKKMS_GPG: join(work, 'no-such-gpg'), PATH: SYSTEM_PATH })).toThrow(/is not an executable file/);
    expect(realGpg({ DESKKMS_GPG: '/usr/bin/gpg', PATH: fake })).toBe('/usr/bin/gpg');

    // Run as git runs it: a relative $DESKKMS_GPG is refused, not looked up on PATH.
    const relative = run(DESKKMS_GPG, ['--version'], { env: { ...env, DESKKMS_GPG: 'gpg' } });
    expect(relative.status).toBe(2);
    expect(relative.stderr).toContain('"Code":"InvalidParameter"');
    expect(relative.stdout).not.toContain('GnuPG');
  });

  it('hands over without loading the vault side: git runs it for every signature it verifies', () => {
    const r = run(DESKKMS_GPG, ['--version'], { env: { ...env, NODE_OPTIONS: `--import=${moduleLoadHook(work)}` } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('gpg (GnuPG)');
    const loaded = loadedModules(r.stderr);
    expect(loaded).toContain('/core/hosts/programs/hand-over.ts');
    expect(vaultSideModules(loaded)).toEqual([]);
  });

  it('a gpg wrapper that calls deskkms-gpg back ends with an error, not a chain of processes', () => {
    const loop = join(work, 'loop-bin');
    mkdirSync(loop);
    // Counts its own nesting so that a missing guard fails the test instead of forking without end.
    writeFileSync(join(loop, 'gpg'), `#!/bin/sh\nn=$((\${WRAPPER_DEPTH:-0} + 1))\nexport WRAPPER_DEPTH=$n\nif [ $n -gt 3 ]; then echo "wrapper nested $n deep" >&2; exit 99; fi\nexec '${DESKKMS_GPG}' "$@"\n`, { mode: 0o755 });
    const looped = run(DESKKMS_GPG, ['--version'], { env: { ...env, PATH: `${loop}:${SYSTEM_PATH}` } });
    expect(looped.stderr).not.toContain('wrapper nested');
    expect(looped.status).toBe(2);
    expect(looped.stderr).toContain('came back to deskkms-gpg');
    // git's verification goes the same way.
    const verified = run('git', ['-c', `gpg.program=${DESKKMS_GPG}`, 'verify-commit', 'HEAD'], { env: { ...env, PATH: `${loop}:${SYSTEM_PATH}` } });
    expect(verified.status).not.toBe(0);
    expect(verified.stderr).not.toContain('wrapper nested');
  });

  it('never runs a gpg from the working directory (a repository): empty and relative PATH entries are skipped', () => {
    const planted = join(work, 'untrusted-repo');
    mkdirSync(join(planted, 'tools'), { recursive: true });
    const ran = join(work, 'planted-gpg-ran');
    for (const where of ['gpg', 'gpg2', 'tools/gpg']) {
      writeFileSync(join(planted, where), `#!/bin/sh\necho "$0" >> '${ran}'\nexit 0\n`, { mode: 0o755 });
    }
    for (const path of [`.:${SYSTEM_PATH}`, `:${SYSTEM_PATH}`, `tools:${SYSTEM_PATH}`]) {
      const r = run(DESKKMS_GPG, ['--version'], { cwd: planted, env: { ...env, PATH: path } });
      expect(r.status, `${path}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain('gpg (GnuPG)'); // the real gpg answered
    }
    expect(existsSync(ran)).toBe(false);
  });
});
