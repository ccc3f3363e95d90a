// The README's "Signing releases" recipes, run as written: each ```sh block of the section in
// bash, in a release project's checkout (a git repository), with `npx deskkms` as this checkout's
// CLI and the package's bins on PATH as `npm link` puts them; the real gpg, ssh-keygen and git
// verify what they produce, and the test checks their verdicts (and that a changed byte fails).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compactVerify, importJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../core/actions/dispatch.ts';
import { Vault } from '../../core/vault/vault.ts';
import { tempDir } from './vault-helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
let dir: ReturnType<typeof tempDir>;
let work: string;
let env: NodeJS.ProcessEnv;
let blocks: string[];

interface Run {
  readonly status: number | null;
  readonly out: string;
}

/** A block in bash; `npx deskkms` is this checkout's launcher (npx would resolve the same bin). */
function sh(block: string): Run {
  const prelude = `set -euo pipefail\nnpx() { if [ "$1" != deskkms ]; then echo "npx $1: not in the recipe" >&2; return 127; fi; shift; "${ROOT}/bin/deskkms" "$@"; }\n`;
  const r = spawnSync('bash', ['-c', prelude + block], { cwd: work, env, encoding: 'utf8', timeout: 240_000 });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

function ran(block: string): string {
  const r = sh(block);
  expect(r.status, `${block}\n--- output\n${r.out}`).toBe(0);
  return r.out;
}

function stageChange(line: string): void {
  appendFileSync(join(work, 'CHANGELOG'), `${line}\n`);
  expect(spawnSync('git', ['add', 'CHANGELOG'], { cwd: work, env }).status).toBe(0);
}

beforeAll(async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Signing releases\n');
  expect(start).toBeGreaterThan(0);
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);

  dir = tempDir('deskkms-signing-recipes-');
  work = join(dir.path, 'project');
  const home = join(dir.path, 'home');
  const gnupg = join(dir.path, 'gnupg');
  mkdirSync(work);
  mkdirSync(home);
  mkdirSync(gnupg, { mode: 0o700 });
  const passFile = join(dir.path, 'vault-pass.txt');
  writeFileSync(passFile, 'signing recipes passphrase\n');
  const vaultDir = join(dir.path, 'vault');
  // The vault already holds the release key (EC_P256) and the API signing key (RSA_2048).
  const vault = await Vault.init(vaultDir, { passphrase: Buffer.from('signing recipes passphrase'), kdfN: 2 ** 14 });
  for (const [spec, alias] of [['EC_P256', 'alias/release'], ['RSA_2048', 'alias/api-signing']] as const) {
    const created = await dispatch(vault, 'CreateKey', { KeySpec: spec, KeyUsage: 'SIGN/VERIFY' }, 'test');
    if (!created.ok) throw new Error(created.error.Message);
    const alias_ = await dispatch(vault, 'CreateAlias', { KeyId: created.body.KeyMetadata.KeyId, AliasName: alias }, 'test');
    if (!alias_.ok) throw new Error(alias_.error.Message);
  }
  await vault.close();
  env = {
    // The bins on PATH as `npm link` puts them, before a system whose node is older (Node 20 here).
    PATH: `${join(ROOT, 'bin')}:/usr/local/bin:/usr/bin:/bin`,
    HOME: home,
    GNUPGHOME: gnupg,
    DESKKMS_VAULT: vaultDir,
    DESKKMS_PASSPHRASE_FILE: passFile,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Release Bot',
    GIT_AUTHOR_EMAIL: 'release@example.org',
    GIT_COMMITTER_NAME: 'Release Bot',
    GIT_COMMITTER_EMAIL: 'release@example.org',
    LANG: 'C.UTF-8',
  };
  // The release project: a git checkout with its artifacts.
  expect(spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: work, env }).status).toBe(0);
  const tarball = randomBytes(3 << 20);
  writeFileSync(join(work, 'app-1.4.2.tar.gz'), tarball);
  // The same artifact with one bit changed, which every verifier must refuse.
  tarball.writeUInt8(tarball.readUInt8(4096) ^ 0x20, 4096);
  writeFileSync(join(work, 'tampered.tar.gz'), tarball);
  writeFileSync(join(work, 'manifest.json'), `${JSON.stringify({ name: 'app', version: '1.4.2', files: ['app-1.4.2.tar.gz'] })}\n`);
}, 120_000);

afterAll(() => {
  spawnSync('gpgconf', ['--kill', 'all'], { env });
  dir?.remove();
});

describe("the README's Signing releases recipes, run as written", { timeout: 300_000 }, () => {
  it('has the five recipes (six blocks: git signs with SSH and with OpenPGP)', () => {
    // tarball for gpg; git with SSH; git with OpenPGP; allowed_signers; sigstore; JWS.
    expect(blocks).toHaveLength(6);
  });

  it('signs a tarball gpg verifies, and gpg refuses a changed one', () => {
    const out = ran(blocks[0]!);
    expect(out).toMatch(/gpg: Good signature from "Example Releases <release@example\.org>"/);
    expect(out).toMatch(/^valid$/m); // deskkms verify, offline
    const bad = sh('gpg --verify app-1.4.2.tar.gz.asc tampered.tar.gz');
    expect(bad.status).not.toBe(0);
    expect(bad.out).toMatch(/BAD signature/);
  });

  it('signs git commits and tags with SSH signatures that git and ssh-keygen verify', () => {
    stageChange('1.4.2: first signed release');
    const out = ran(blocks[1]!);
    expect(out).toMatch(/Good "git" signature for release@example\.org with ECDSA key SHA256:/);
    const log = ran('git log --show-signature -1');
    expect(log).toMatch(/Good "git" signature/);
  });

  it('signs git commits with OpenPGP through deskkms-gpg, and git verifies with gpg', () => {
    stageChange('1.4.3: signed with OpenPGP');
    const out = ran(blocks[2]!);
    expect(out).toMatch(/gpg: Good signature from "Example Releases <release@example\.org>"/);
    // The commit object carries an OpenPGP signature, not an SSH one.
    expect(ran('git cat-file commit HEAD')).toMatch(/gpgsig -----BEGIN PGP SIGNATURE-----/);
    expect(ran('git cat-file tag v1.4.3')).toMatch(/-----BEGIN PGP SIGNATURE-----/);
    expect(out.match(/gpg: Good signature from/g)).toHaveLength(2); // the commit and the tag
  });

  it('publishes an allowed_signers line and signs a file ssh-keygen verifies', () => {
    const out = ran(blocks[3]!);
    expect(out).toMatch(/Good "file" signature for release@example\.org with ECDSA key SHA256:/);
    expect(readFileSync(join(work, 'ALLOWED_SIGNERS'), 'utf8')).toMatch(/^release@example\.org namespaces="git,file" ecdsa-sha2-nistp256 /);
    const bad = sh('ssh-keygen -Y verify -f ALLOWED_SIGNERS -I release@example.org -n file -s app-1.4.2.tar.gz.sshsig < tampered.tar.gz');
    expect(bad.status).not.toBe(0);
  });

  it('writes a sigstore bundle that verifies against the public key', () => {
    const out = ran(blocks[4]!);
    expect(out).toMatch(/^valid$/m);
    expect(out).toMatch(/^Verified OK$/m); // openssl, over what the cosign plugin signed
    const bundle = JSON.parse(readFileSync(join(work, 'app-1.4.2.tar.gz.sigstore.json'), 'utf8')) as { mediaType: string; messageSignature: object };
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(bundle.messageSignature).toBeDefined();
    const bad = sh('npx deskkms verify --format sigstore --in tampered.tar.gz --signature-file app-1.4.2.tar.gz.sigstore.json --public-key release.pem');
    expect(bad.status).toBe(1);
  });

  it('writes a JWS that jose verifies with the published JWK', async () => {
    const out = ran(blocks[5]!);
    expect(out.match(/^valid$/gm)).toHaveLength(2); // attached, and detached with the file
    const token = readFileSync(join(work, 'manifest.json.jws'), 'utf8').trim();
    const jwk = JSON.parse(readFileSync(join(work, 'api-signing.jwk'), 'utf8')) as JWK;
    const { payload, protectedHeader } = await compactVerify(token, await importJWK(jwk, 'RS256'));
    expect(protectedHeader.alg).toBe('RS256');
    expect(Buffer.from(payload).toString('utf8')).toBe(readFileSync(join(work, 'manifest.json'), 'utf8'));
  });
});
