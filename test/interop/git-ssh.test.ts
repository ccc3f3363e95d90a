// git signs commits and tags with a vault key through bin/deskkms-ssh-keygen (gpg.format=ssh,
// gpg.ssh.program), and git verifies them with the real ssh-keygen (which the program hands
// -Y find-principals / -Y verify to) and an allowed_signers file: commit -S + verify-commit,
// tag -s + verify-tag, user.signingKey as a .pub file and as a key:: literal, a tampered commit
// refused; the hand-over never reaches the program itself. git runs with a PATH whose `node` is
// the system's older Node: the launcher starts the project's own. The host's git configuration
// does not leak in (HOME, GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../core/actions/dispatch.ts';
import { listAuditEntries } from '../../core/audit/audit-log.ts';
import { allowedSignersLine, openSshPublicKey, parseSshPublicKey, sshFingerprint } from '../../core/formats/sshsig.ts';
import type { CliIO } from '../../core/hosts/cli/command.ts';
import { hasUnsafeText } from '../../core/contract/escape-text.ts';
import { findRealProgram } from '../../core/hosts/programs/hand-over.ts';
import { SSH_KEYGEN, runSshKeygen } from '../../core/hosts/programs/ssh-keygen.ts';
import { Vault } from '../../core/vault/vault.ts';
import { tempDir } from '../integration/vault-helpers.ts';
import { opensslKey, wrapWithOpenssl } from '../support/byok-wrap.ts';
import { loadedModules, moduleLoadHook, vaultSideModules } from '../support/module-loads.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const PROGRAM = join(ROOT, 'bin/deskkms-ssh-keygen');
const PRINCIPAL = 'alice@example.com';
const PASSPHRASE = 'git-ssh test passphrase';
// each signature starts the program (its own Node) and unlocks the vault, on a loaded 2-core machine
const SLOW = { timeout: 120_000 };

let dir: ReturnType<typeof tempDir>;
let vaultDir: string;
let repo: string;
let env: Record<string, string>;
let keys: Record<'ec' | 'rsa', { keyId: string; pem: string; pub: string }>;
let allowed: string;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: readonly string[], input?: string, extraEnv: Record<string, string> = {}): Run {
  const r = spawnSync(command, args, { cwd: repo, env: { ...env, ...extraEnv }, input, encoding: 'utf8', timeout: 90_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const git = (args: readonly string[], input?: string): Run => run('git', args, input);

function ok(r: Run): string {
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

/** git -c options that sign with the vault key `key` (a .pub path or a key:: literal). */
function signing(key: string): string[] {
  return ['-c', 'gpg.format=ssh', '-c', `gpg.ssh.program=${PROGRAM}`, '-c', `user.signingKey=${key}`];
}
/** git -c options that verify through the program's hand-over to the real ssh-keygen. */
const verifying = (): string[] => ['-c', `gpg.ssh.program=${PROGRAM}`, '-c', `gpg.ssh.allowedSignersFile=${allowed}`];
/** git -c options that verify with the real ssh-keygen directly (fewer program starts: each is seconds on a loaded machine). */
const verifyingDirectly = (): string[] => ['-c', `gpg.ssh.allowedSignersFile=${allowed}`];

async function call(vault: Vault, action: string, params: Record<string, unknown>): Promise<Record<string, any>> {
  const outcome = await dispatch(vault, action, params, 'test');
  if (!outcome.ok) throw new Error(`${action}: ${outcome.error.Code} ${outcome.error.Message}`);
  return outcome.body;
}

beforeAll(async () => {
  dir = tempDir('deskkms-git-ssh-');
  vaultDir = join(dir.path, 'vault');
  // The vault is made here, in-process, with a light scrypt (as test/support/action-vault.ts does);
  // the program then opens it as the CLI does, from $DESKKMS_VAULT and $DESKKMS_PASSPHRASE_FILE.
  const vault = await Vault.init(vaultDir, { passphrase: Buffer.from(PASSPHRASE), kdfN: 2 ** 14 });
  const made = {} as typeof keys;
  for (const [name, spec] of [
    ['ec', 'EC_P256'],
    ['rsa', 'RSA_2048'],
  ] as const) {
    const keyId = (await call(vault, 'CreateKey', { KeySpec: spec, KeyUsage: 'SIGN/VERIFY' })).KeyMetadata.KeyId as string;
    const versionId = (await call(vault, 'ListKeyVersions', { KeyId: keyId })).KeyVersions.KeyVersion[0].KeyVersionId as string;
    const pem = (await call(vault, 'GetPublicKey', { KeyId: keyId, KeyVersionId: versionId })).PublicKey as string;
    const pub = join(dir.path, `${name}.pub`);
    writeFileSync(pub, `${openSshPublicKey(pem, `deskkms:${keyId}:${versionId}`)}\n`);
    made[name] = { keyId, pem, pub };
  }
  keys = made;
  await vault.close();

  const passphraseFile = join(dir.path, 'passphrase');
  writeFileSync(passphraseFile, PASSPHRASE, { mode: 0o600 });
  allowed = join(dir.path, 'allowed_signers');
  writeFileSync(allowed, `${allowedSignersLine(keys.ec.pem, PRINCIPAL, { namespaces: ['git'] })}\n${allowedSignersLine(keys.rsa.pem, PRINCIPAL, { namespaces: ['git'] })}\n`);

  // PATH: the system's Node 20 first, so a launcher that used `node` from PATH would fail.
  const oldNode = join(dir.path, 'old-node-bin');
  mkdirSync(oldNode);
  symlinkSync('/usr/bin/node', join(oldNode, 'node'));
  const home = join(dir.path, 'home');
  mkdirSync(home);
  env = {
    PATH: `${oldNode}:/usr/bin:/bin`,
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'Alice',
    GIT_AUTHOR_EMAIL: PRINCIPAL,
    GIT_COMMITTER_NAME: 'Alice',
    GIT_COMMITTER_EMAIL: PRINCIPAL,
    GIT_AUTHOR_DATE: '2026-12-01T12:00:00Z',
    GIT_COMMITTER_DATE: '2026-12-01T12:00:00Z',
    LANG: 'C',
    DESKKMS_VAULT: vaultDir,
    DESKKMS_PASSPHRASE_FILE: passphraseFile,
  };
  repo = join(dir.path, 'repo');
  mkdirSync(repo);
  expect(spawnSync('node', ['--version'], { env, encoding: 'utf8' }).stdout).toMatch(/^v20\./);
  ok(git(['init', '-q', '-b', 'main']));
  writeFileSync(join(repo, 'README'), 'release notes\n');
  ok(git(['add', 'README']));
}, SLOW.timeout);

afterAll(() => dir?.remove());

describe('git with gpg.format=ssh and deskkms-ssh-keygen', () => {
  it('commit -S with the vault key signs; verify-commit accepts it through the real ssh-keygen; a tampered commit is refused', SLOW, async () => {
    ok(run('git', [...signing(keys.ec.pub), 'commit', '-q', '-S', '-m', 'Release 1.0']));
    const raw = ok(git(['cat-file', 'commit', 'HEAD']));
    expect(raw).toContain('gpgsig -----BEGIN SSH SIGNATURE-----');

    const verified = git([...verifying(), 'verify-commit', 'HEAD']);
    expect(verified.status, verified.stderr).toBe(0);
    expect(verified.stderr).toContain(`Good "git" signature for ${PRINCIPAL} with ECDSA key ${sshFingerprint(keys.ec.pem)}`);

    // the same commit object with another message: the signature no longer matches
    const tampered = raw.replace('Release 1.0', 'Release 6.6');
    expect(tampered).not.toBe(raw);
    const id = ok(git(['hash-object', '-w', '-t', 'commit', '--stdin'], tampered)).trim();
    const refused = git([...verifyingDirectly(), 'verify-commit', id]);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).not.toContain('Good "git" signature');

    // one AsymmetricSign, audited as the program's caller and the format
    const vault = Vault.open(vaultDir, { passphrase: Buffer.from(PASSPHRASE) });
    try {
      const signs = listAuditEntries(vault.store.db, { action: 'AsymmetricSign' });
      expect(signs).toHaveLength(1);
      expect(signs[0]).toMatchObject({ caller: 'ssh-keygen:ssh', code: 'OK', keyId: keys.ec.keyId });
    } finally {
      await vault.close();
    }
  });

  it('tag -s and verify-tag with an RSA key', SLOW, () => {
    ok(run('git', [...signing(keys.rsa.pub), 'tag', '-s', '-m', 'v1.0', 'v1.0']));
    expect(ok(git(['cat-file', 'tag', 'v1.0']))).toContain('-----BEGIN SSH SIGNATURE-----');
    const verified = git([...verifying(), 'verify-tag', 'v1.0']);
    expect(verified.status, verified.stderr).toBe(0);
    expect(verified.stderr).toContain(`Good "git" signature for ${PRINCIPAL} with RSA key ${sshFingerprint(keys.rsa.pem)}`);
  });

  it('user.signingKey as a key:: literal', SLOW, () => {
    const literal = `key::${readFileSync(keys.ec.pub, 'utf8').trim()}`;
    writeFileSync(join(repo, 'README'), 'release notes, literal key\n');
    ok(git(['add', 'README']));
    ok(run('git', [...signing(literal), 'commit', '-q', '-S', '-m', 'Signed with a literal key']));
    const verified = git([...verifyingDirectly(), 'verify-commit', 'HEAD']);
    expect(verified.status, verified.stderr).toBe(0);
    expect(verified.stderr).toContain(`Good "git" signature for ${PRINCIPAL} with ECDSA key`);
  });

  it('a key the vault does not hold: Forbidden.KeyNotFound and exit 255, as ssh-keygen exits', SLOW, () => {
    const foreign = join(dir.path, 'id_foreign');
    expect(spawnSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-b', '256', '-N', '', '-f', foreign]).status).toBe(0);
    const direct = run(PROGRAM, ['-Y', 'sign', '-n', 'git', '-f', `${foreign}.pub`, join(repo, 'README')]);
    expect(direct.status).toBe(255);
    expect(direct.stderr).toContain('"Code":"Forbidden.KeyNotFound"');
    expect(direct.stderr).toContain(sshFingerprint(parseSshPublicKey(readFileSync(`${foreign}.pub`))));
  });

  it('-U and standard input: the armored signature on stdout, which ssh-keygen checks', SLOW, () => {
    const data = 'signed from standard input\n';
    const signed = run(PROGRAM, ['-Y', 'sign', '-n', 'file', '-f', keys.ec.pub, '-U', '-q', '-'], data);
    expect(signed.status, signed.stderr).toBe(0);
    expect(signed.stdout).toMatch(/^-----BEGIN SSH SIGNATURE-----\n[\s\S]+\n-----END SSH SIGNATURE-----\n$/);
    const sig = join(dir.path, 'stdin.sig');
    writeFileSync(sig, signed.stdout);
    const checked = spawnSync('ssh-keygen', ['-Y', 'check-novalidate', '-n', 'file', '-s', sig], { input: data, encoding: 'utf8' });
    expect(checked.status, checked.stderr).toBe(0);
    expect(checked.stdout).toBe(`Good "file" signature with ECDSA key ${sshFingerprint(keys.ec.pem)}\n`);
    const changed = spawnSync('ssh-keygen', ['-Y', 'check-novalidate', '-n', 'file', '-s', sig], { input: `${data}.`, encoding: 'utf8' });
    expect(changed.status).toBe(255);
  });

  it('hands every other use to the real ssh-keygen, never to itself', SLOW, () => {
    const fake = join(dir.path, 'fake-bin');
    mkdirSync(fake);
    symlinkSync(PROGRAM, join(fake, 'ssh-keygen')); // installed as "ssh-keygen" ahead of the real one
    const realSshKeygen = (e: NodeJS.ProcessEnv): string => findRealProgram(SSH_KEYGEN, e);
    expect(realSshKeygen({ PATH: `${fake}:/usr/bin:/bin` })).toBe('/usr/bin/ssh-keygen');
    expect(() => realSshKeygen({ PATH: fake })).toThrow(/no ssh-keygen in an absolute PATH directory other than deskkms-ssh-keygen/);
    expect(() => realSshKeygen({ DESKKMS_SSH_KEYGEN: join(fake, 'ssh-keygen') })).toThrow(/deskkms-ssh-keygen itself/);
    expect(() => realSshKeygen({ DESKKMS_SSH_KEYGEN: 'ssh-keygen', PATH: '/usr/bin' })).toThrow(/must be an absolute path/);
    expect(realSshKeygen({ DESKKMS_SSH_KEYGEN: '/usr/bin/ssh-keygen', PATH: fake })).toBe('/usr/bin/ssh-keygen');

    const listed = run(PROGRAM, ['-l', '-f', keys.ec.pub], undefined, { PATH: `${fake}:${env.PATH}`, NODE_OPTIONS: `--import=${moduleLoadHook(dir.path)}` });
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(sshFingerprint(keys.ec.pem));
    // Handing over loads nothing of the vault side (git runs this program for every verification).
    const loaded = loadedModules(listed.stderr);
    expect(loaded).toContain('/core/hosts/programs/hand-over.ts');
    expect(vaultSideModules(loaded)).toEqual([]);

    // a wrapper script (not a symlink) that calls the program back: the loop is caught, not run forever
    const loop = join(dir.path, 'loop-bin');
    mkdirSync(loop);
    writeFileSync(join(loop, 'ssh-keygen'), `#!/bin/sh\nexec '${PROGRAM}' "$@"\n`, { mode: 0o755 });
    const looped = run(PROGRAM, ['-l', '-f', keys.ec.pub], undefined, { PATH: `${loop}:${env.PATH}` });
    expect(looped.status).toBe(255);
    expect(looped.stderr).toContain('came back to deskkms-ssh-keygen');
  });

  it('never runs an ssh-keygen from the working directory (a repository): empty and relative PATH entries are skipped', SLOW, () => {
    const planted = join(dir.path, 'untrusted-repo');
    mkdirSync(join(planted, 'tools'), { recursive: true });
    const ran = join(dir.path, 'planted-ssh-keygen-ran');
    for (const where of ['ssh-keygen', 'tools/ssh-keygen']) {
      writeFileSync(join(planted, where), `#!/bin/sh\necho "$0" >> '${ran}'\nexit 0\n`, { mode: 0o755 });
    }
    for (const path of [`.:${env.PATH}`, `:${env.PATH}`, `tools:${env.PATH}`]) {
      const r = spawnSync(PROGRAM, ['-l', '-f', keys.ec.pub], { cwd: planted, env: { ...env, PATH: path }, encoding: 'utf8', timeout: 90_000 });
      expect(r.status, `${path}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(sshFingerprint(keys.ec.pem)); // the real ssh-keygen answered
    }
    expect(existsSync(ran)).toBe(false);
  });

  it('refuses sign arguments as ssh-keygen does, before opening the vault', SLOW, async () => {
    const inProcess = async (args: readonly string[]): Promise<{ status: number; stderr: string }> => {
      let stderr = '';
      const io = {
        stdout: { write: () => true },
        stderr: { write: (text: string) => ((stderr += text), true) },
        stdin: process.stdin,
        cwd: repo,
        env,
      } as unknown as CliIO;
      return { status: await runSshKeygen(args, io), stderr };
    };
    const file = join(repo, 'README');
    expect(await inProcess(['-Y', 'sign', '-f', keys.ec.pub, file])).toEqual({ status: 1, stderr: 'Too few arguments for sign: missing namespace\n' });
    expect(await inProcess(['-Y', 'sign', '-n', 'git', file])).toEqual({ status: 1, stderr: 'Too few arguments for sign: missing key\n' });
    expect(await inProcess(['-Y', 'sign', '-n', 'git', '-f', keys.ec.pub, '-O', 'hashalg=sha256', file])).toMatchObject({ status: 255, stderr: expect.stringContaining('Invalid option "hashalg=sha256"') });
    expect(await inProcess(['-Y', 'sign', '-n', 'git', '-f', keys.ec.pub, '-', file])).toEqual({ status: 255, stderr: 'Cannot sign mix of paths and standard input\n' });
    const badNamespace = await inProcess(['-Y', 'sign', '-n', 'a b', '-f', keys.ec.pub, file]);
    expect(badNamespace.status).toBe(255);
    expect(JSON.parse(badNamespace.stderr)).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringContaining('-n: must be') });
    const notAKey = await inProcess(['-Y', 'sign', '-n', 'git', '-f', file, file]);
    expect(notAKey.status).toBe(255);
    expect(JSON.parse(notAKey.stderr)).toMatchObject({ Code: 'Format.Malformed', Message: expect.stringContaining('names no OpenSSH public key') });
    // a file name from outside is escaped on stderr: no control character reaches the terminal
    const hostile = await inProcess(['-Y', 'sign', '-n', 'git', '-f', keys.ec.pub, 'gone\x1b]0;owned\x07\u202efile']);
    expect(hostile.status).toBe(255);
    expect(hostile.stderr).toContain('Signing file gone\\x1B]0;owned\\x07\\u202Efile\n');
    expect(hasUnsafeText(hostile.stderr.replaceAll('\n', ''))).toBe(false);
  });

  it('refuses to choose when several vault key versions have the public key (the same material imported twice), naming their KeyIds', SLOW, async () => {
    let n = 0;
    const scratch = (name: string): string => join(dir.path, `byok-${n++}-${name}`);
    const material = opensslKey('EC_P256', scratch);
    const vault = Vault.open(vaultDir, { passphrase: Buffer.from(PASSPHRASE) });
    const keyIds: string[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const keyId = (await call(vault, 'CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY', Origin: 'EXTERNAL' })).KeyMetadata.KeyId as string;
        const params = await call(vault, 'GetParametersForImport', { KeyId: keyId, WrappingKeySpec: 'RSA_2048', WrappingAlgorithm: 'RSAES_OAEP_SHA_256_AES_256_ECB_PKCS7_PAD' });
        const wrapped = wrapWithOpenssl(params.PublicKey as string, 'RSAES_OAEP_SHA_256_AES_256_ECB_PKCS7_PAD', material.pkcs8, scratch);
        await call(vault, 'ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: wrapped.toString('base64'), ImportToken: params.ImportToken });
        keyIds.push(keyId);
      }
    } finally {
      await vault.close();
    }
    const pub = join(dir.path, 'imported-twice.pub');
    writeFileSync(pub, `${openSshPublicKey(material.publicPem, 'imported twice')}\n`);
    const file = join(dir.path, 'to-sign.txt');
    writeFileSync(file, 'release\n');
    const refused = run(PROGRAM, ['-Y', 'sign', '-n', 'file', '-f', pub, file]);
    expect(refused.status).toBe(255);
    const failure = JSON.parse(refused.stderr.trim().split('\n').at(-1)!) as { Code: string; Message: string };
    expect(failure.Code).toBe('InvalidParameter');
    expect(failure.Message).toMatch(/belongs to 2 key versions/);
    for (const keyId of keyIds) expect(failure.Message).toContain(keyId);
    expect(existsSync(`${file}.sig`)).toBe(false);
  });
});
