// DeskKMS's own commands sign through a running agent (the local signing endpoint): the real
// server (startAgentServer) on a temporary socket serves a passphrase vault, and the real bins
// (deskkms sign, deskkms-ssh-keygen -Y sign, deskkms-gpg -bsau, sigstore-kms-deskkms) run with
// DESKKMS_AGENT_SOCK and WITHOUT the passphrase file: opening the vault themselves they would fail
// Vault.Locked, so a signature proves the agent made it, and the audit names the agent's caller.
// The peers check the outputs: ssh-keygen -Y verify, gpg --verify, openssl. A key the agent does
// not serve falls back to the vault (given the passphrase); a stock ssh-agent on SSH_AUTH_SOCK is
// passed over; so is an agent socket in a directory others can write to; DESKKMS_NO_AGENT=1 never
// asks the agent; a refused confirmation is the answer, never retried on the vault.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createPublicKey, verify as verifySignature } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../core/actions/dispatch.ts';
import { openpgpFingerprint } from '../../core/formats/openpgp.ts';
import { allowedSignersLine, openSshPublicKey } from '../../core/formats/sshsig.ts';
import { startAgentServer } from '../../core/hosts/agent/agent-server.ts';
import type { ConfirmAnswer, RunningAgent } from '../../core/hosts/agent/agent-types.ts';
import { Vault } from '../../core/vault/vault.ts';
import { tempDir } from './vault-helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = (name: string): string => join(ROOT, 'bin', name);
const PASSPHRASE = 'agent endpoint passphrase';
const SLOW = { timeout: 120_000 };

let dir: ReturnType<typeof tempDir>;
let vault: Vault;
let agent: RunningAgent;
let stock: ChildProcess | undefined;
let confirmAnswer: ConfirmAnswer = 'approved';
let baseEnv: Record<string, string>;
let passphraseFile: string;
let gnupg: string;

interface Key {
  readonly keyId: string;
  readonly versionId: string;
  readonly pem: string;
  readonly pub: string;
  readonly fingerprint: string;
}
let served: Key; // added to the agent
let outside: Key; // not added
let confirmed: Key; // added with Confirm

async function call(action: string, params: Record<string, unknown>): Promise<Record<string, any>> {
  const outcome = await dispatch(vault, action, params, 'test');
  if (!outcome.ok) throw new Error(`${action}: ${outcome.error.Code} ${outcome.error.Message}`);
  return outcome.body;
}

async function makeKey(name: string, agentIdentity?: { Confirm: boolean }): Promise<Key> {
  const keyId = (await call('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' })).KeyMetadata.KeyId as string;
  await call('CreateAlias', { KeyId: keyId, AliasName: `alias/${name}` });
  const versionId = (await call('ListKeyVersions', { KeyId: keyId })).KeyVersions.KeyVersion[0].KeyVersionId as string;
  const pem = (await call('GetPublicKey', { KeyId: keyId, KeyVersionId: versionId })).PublicKey as string;
  if (agentIdentity) await call('AddAgentIdentity', { KeyId: keyId, KeyVersionId: versionId, ...agentIdentity });
  const pub = join(dir.path, `${name}.pub`);
  writeFileSync(pub, `${openSshPublicKey(pem)}\n`);
  const version = (await call('DescribeKeyVersion', { KeyId: keyId, KeyVersionId: versionId })).KeyVersion as { CreationDate: string };
  const spki = new Uint8Array(createPublicKey(pem).export({ format: 'der', type: 'spki' }));
  const fingerprint = openpgpFingerprint({ keyId, keyVersionId: versionId, spec: 'EC_P256', spki, created: new Date(version.CreationDate) });
  return { keyId, versionId, pem, pub, fingerprint };
}

/** "CALLER CODE" of the key's newest AsymmetricSign. */
async function lastSigner(key: Key): Promise<string | undefined> {
  const entries = (await call('ListAuditEntries', { KeyId: key.keyId, Action: 'AsymmetricSign', NewestFirst: true, Limit: 1 })).Entries as { caller: string; code: string }[];
  return entries[0] ? `${entries[0].caller} ${entries[0].code}` : undefined;
}

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A bin, asynchronously (the agent answers in this process), with the test's environment and `extra`. */
function run(program: string, args: readonly string[], extra: Record<string, string | undefined> = {}, input = ''): Promise<Run> {
  const env: Record<string, string> = { ...baseEnv };
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return new Promise((resolvePromise, reject) => {
    const child = spawn(program, args, { cwd: dir.path, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
    child.on('close', (status) => resolvePromise({ status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

const withPassphrase = { DESKKMS_PASSPHRASE_FILE: '' } as Record<string, string>;

function refusal(r: Run): { Code: string; Message: string } {
  const line = r.stderr.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  if (!line) throw new Error(`no refusal on stderr (status ${r.status}): ${r.stderr}`);
  return JSON.parse(line) as { Code: string; Message: string };
}

function sshVerify(key: Key, namespace: string, file: string, sig: string): Run {
  const allowed = join(dir.path, `allowed-${namespace}`);
  writeFileSync(allowed, `${allowedSignersLine(key.pem, 'release@example.org', { namespaces: [namespace] })}\n`);
  const r = spawnSync('ssh-keygen', ['-Y', 'verify', '-f', allowed, '-I', 'release@example.org', '-n', namespace, '-s', sig], { input: readFileSync(file), encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  dir = tempDir('deskkms-agent-endpoint-');
  const vaultDir = join(dir.path, 'vault');
  vault = await Vault.init(vaultDir, { passphrase: Buffer.from(PASSPHRASE), kdfN: 2 ** 14 });
  served = await makeKey('served', { Confirm: false });
  outside = await makeKey('outside');
  confirmed = await makeKey('confirmed', { Confirm: true });
  passphraseFile = join(dir.path, 'passphrase');
  writeFileSync(passphraseFile, `${PASSPHRASE}\n`, { mode: 0o600 });
  withPassphrase.DESKKMS_PASSPHRASE_FILE = passphraseFile;
  const socketPath = join(dir.path, 'agent', 'agent.sock');
  agent = await startAgentServer({ socketPath, vault: () => vault, confirm: () => Promise.resolve(confirmAnswer) });
  const runtime = join(dir.path, 'runtime');
  mkdirSync(runtime, { mode: 0o700 });
  const home = join(dir.path, 'home');
  mkdirSync(home);
  gnupg = join(dir.path, 'gnupg');
  mkdirSync(gnupg, { mode: 0o700 });
  baseEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    LANG: 'C',
    GNUPGHOME: gnupg,
    // No agent on the default socket: the tests name the one they mean.
    XDG_RUNTIME_DIR: runtime,
    DESKKMS_VAULT: vaultDir,
    DESKKMS_AGENT_SOCK: socketPath,
  };
}, SLOW.timeout);

afterAll(async () => {
  await agent?.close();
  stock?.kill();
  if (gnupg) spawnSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: gnupg } });
  await vault?.close();
  dir?.remove();
});

describe('the commands sign through a running DeskKMS agent', () => {
  it('deskkms sign: no passphrase, signed by the agent (audited ssh-agent[...]:cli:ssh); ssh-keygen verifies', SLOW, async () => {
    const file = join(dir.path, 'release.tar');
    writeFileSync(file, 'release bytes\n'.repeat(100));
    const signed = await run(BIN('deskkms'), ['sign', '--key', 'alias/served', '--format', 'ssh', '--in', file]);
    expect(signed.status, signed.stderr).toBe(0);
    expect(signed.stderr).toContain(`version ${served.versionId} (its newest; give --version to choose), through the DeskKMS agent`);
    expect(await lastSigner(served)).toMatch(/^ssh-agent\[\S+ \d+\]:cli:ssh OK$/);
    const verified = sshVerify(served, 'file', file, `${file}.sig`);
    expect(verified.status, verified.stderr).toBe(0);
    expect(verified.stdout).toContain('Good "file" signature for release@example.org');
  });

  it('deskkms-ssh-keygen -Y sign finds the key by its public key among the agent identities; ssh-keygen verifies', SLOW, async () => {
    const file = join(dir.path, 'commit.txt');
    writeFileSync(file, 'tree 0123\nauthor Alice\n\nRelease 1.0\n');
    const signed = await run(BIN('deskkms-ssh-keygen'), ['-Y', 'sign', '-n', 'git', '-f', served.pub, '-U'], {}, readFileSync(file, 'utf8'));
    expect(signed.status, signed.stderr).toBe(0);
    expect(signed.stderr).toBe('Signing data on standard input\n'); // as ssh-keygen says, nothing new
    expect(await lastSigner(served)).toMatch(/^ssh-agent\[\S+ \d+\]:ssh-keygen:ssh OK$/);
    const sig = join(dir.path, 'commit.txt.sig');
    writeFileSync(sig, signed.stdout);
    expect(sshVerify(served, 'git', file, sig).status).toBe(0);
  });

  it('deskkms-gpg -bsau FINGERPRINT signs through the agent; gpg verifies with the exported certificate', SLOW, async () => {
    const cert = join(dir.path, 'served.asc');
    const exported = await run(BIN('deskkms'), ['pubkey', served.keyId, '--format', 'openpgp', '--user-id', 'Release <release@example.org>', '-o', cert], withPassphrase);
    expect(exported.status, exported.stderr).toBe(0);
    expect(spawnSync('gpg', ['--batch', '--import', cert], { env: { ...baseEnv }, encoding: 'utf8' }).status).toBe(0);
    const payload = 'tree 4567\nauthor Alice\n\nRelease 2.0\n';
    const signed = await run(BIN('deskkms-gpg'), ['--status-fd=2', '-bsau', served.fingerprint], {}, payload);
    expect(signed.status, signed.stderr).toBe(0);
    expect(signed.stderr).toContain(`[GNUPG:] SIG_CREATED D 19 8 00 `);
    expect(await lastSigner(served)).toMatch(/^ssh-agent\[\S+ \d+\]:gpg:openpgp OK$/);
    const file = join(dir.path, 'payload');
    const sig = join(dir.path, 'payload.asc');
    writeFileSync(file, payload);
    writeFileSync(sig, signed.stdout);
    const verified = spawnSync('gpg', ['--batch', '--status-fd', '1', '--verify', sig, file], { env: { ...baseEnv }, encoding: 'utf8' });
    expect(verified.stdout).toMatch(new RegExp(`\\[GNUPG:\\] VALIDSIG ${served.fingerprint} `));
  });

  it('sigstore-kms-deskkms publicKey and signMessage go through the agent; openssl verifies the signature', SLOW, async () => {
    const init = { protocolVersion: 'v1', keyResourceID: 'deskkms://alias/served', hashFunc: 5 };
    const publicKey = await run(BIN('sigstore-kms-deskkms'), ['v1', JSON.stringify({ initOptions: init, methodName: 'publicKey', publicKey: {} })]);
    const pem = Buffer.from((JSON.parse(publicKey.stdout) as { publicKey: { publicKeyPEM: string } }).publicKey.publicKeyPEM, 'base64').toString('utf8');
    expect(pem).toBe(served.pem);
    const blob = 'a cosign blob\n';
    const signed = await run(BIN('sigstore-kms-deskkms'), ['v1', JSON.stringify({ initOptions: init, methodName: 'signMessage', signMessage: {} })], {}, blob);
    const reply = JSON.parse(signed.stdout) as { signMessage?: { signature: string }; errorMessage?: string };
    expect(reply.errorMessage).toBeUndefined();
    expect(await lastSigner(served)).toMatch(/^ssh-agent\[\S+ \d+\]:cosign:sigstore OK$/);
    const signature = Buffer.from(reply.signMessage!.signature, 'base64');
    const sigFile = join(dir.path, 'blob.sig');
    const blobFile = join(dir.path, 'blob');
    const pemFile = join(dir.path, 'served.pem');
    writeFileSync(sigFile, signature);
    writeFileSync(blobFile, blob);
    writeFileSync(pemFile, pem);
    const checked = spawnSync('openssl', ['dgst', '-sha256', '-verify', pemFile, '-signature', sigFile, blobFile], { encoding: 'utf8' });
    expect(checked.stdout).toContain('Verified OK');
    expect(verifySignature('sha256', Buffer.from(blob + 'x'), served.pem, signature)).toBe(false);
  });
});

describe('falling back to the vault', () => {
  it('a key the agent does not serve: the vault is opened (Vault.Locked without the passphrase, signed by the program itself with it)', SLOW, async () => {
    const file = join(dir.path, 'outside.txt');
    writeFileSync(file, 'outside\n');
    const locked = await run(BIN('deskkms'), ['sign', '--key', 'alias/outside', '--format', 'ssh', '--in', file]);
    expect(locked.status).toBe(1); // the vault's failure (usage errors exit 2)
    expect(refusal(locked).Code).toBe('Vault.Locked');
    const signed = await run(BIN('deskkms-ssh-keygen'), ['-Y', 'sign', '-n', 'file', '-f', outside.pub, file], withPassphrase);
    expect(signed.status, signed.stderr).toBe(0);
    expect(await lastSigner(outside)).toBe('ssh-keygen:ssh OK');
    expect(sshVerify(outside, 'file', file, `${file}.sig`).status).toBe(0);
  });

  it('a stock ssh-agent on SSH_AUTH_SOCK is passed over; DESKKMS_NO_AGENT=1 never asks the agent', SLOW, async () => {
    const stockSock = join(dir.path, 'stock.sock');
    stock = spawn('ssh-agent', ['-D', '-a', stockSock], { stdio: 'ignore' });
    for (let i = 0; i < 200 && !existsSync(stockSock); i++) await new Promise((r) => setTimeout(r, 50));
    const file = join(dir.path, 'stock.txt');
    writeFileSync(file, 'stock\n');
    const stockOnly = { DESKKMS_AGENT_SOCK: undefined, SSH_AUTH_SOCK: stockSock };
    const viaStock = await run(BIN('deskkms'), ['sign', '--key', 'alias/served', '--format', 'raw', '--in', file, '-o', '-'], stockOnly);
    expect(refusal(viaStock).Code).toBe('Vault.Locked');
    const noAgent = await run(BIN('deskkms'), ['sign', '--key', 'alias/served', '--format', 'raw', '--in', file, '-o', '-'], { DESKKMS_NO_AGENT: '1' });
    expect(refusal(noAgent).Code).toBe('Vault.Locked');
    const signed = await run(BIN('deskkms'), ['sign', '--key', 'alias/served', '--format', 'ssh', '--in', file], { ...withPassphrase, DESKKMS_NO_AGENT: '1' });
    expect(signed.status, signed.stderr).toBe(0);
    expect(signed.stderr).not.toContain('DeskKMS agent');
    expect(await lastSigner(served)).toBe('cli:ssh OK');
  });

  it("an agent socket in a directory others can write to is not trusted (review 14 F1): the vault is opened instead", SLOW, async () => {
    // The default socket's directory, made by someone else 0777; the socket in it is the real
    // agent's (a hard link): trusted, it would sign without the passphrase.
    const runtime = join(dir.path, 'runtime-shared');
    mkdirSync(join(runtime, 'deskkms'), { recursive: true, mode: 0o700 });
    linkSync(agent.socketPath, join(runtime, 'deskkms', 'agent.sock'));
    const file = join(dir.path, 'shared.txt');
    writeFileSync(file, 'shared\n');
    const viaDefault = { DESKKMS_AGENT_SOCK: undefined, XDG_RUNTIME_DIR: runtime };
    try {
      chmodSync(join(runtime, 'deskkms'), 0o777);
      const skipped = await run(BIN('deskkms'), ['sign', '--key', 'alias/served', '--format', 'ssh', '--in', file], viaDefault);
      expect(refusal(skipped).Code).toBe('Vault.Locked');
      // Said, since it may be someone's attempt to pose as this user's agent.
      expect(skipped.stderr).toContain(`deskkms: not using the agent socket ${join(runtime, 'deskkms', 'agent.sock')}`);
      const signed = await run(BIN('deskkms'), ['sign', '--key', 'alias/served', '--format', 'ssh', '--in', file], { ...viaDefault, ...withPassphrase });
      expect(signed.status, signed.stderr).toBe(0);
      expect(signed.stderr).not.toContain('DeskKMS agent');
      expect(await lastSigner(served)).toBe('cli:ssh OK');
      // The control: the same directory closed to others (700, as the agent makes it) is used.
      chmodSync(join(runtime, 'deskkms'), 0o700);
      const through = await run(BIN('deskkms'), ['sign', '--key', 'alias/served', '--format', 'ssh', '--in', file, '-o', `${file}.2.sig`], viaDefault);
      expect(through.status, through.stderr).toBe(0);
      expect(await lastSigner(served)).toMatch(/^ssh-agent\[\S+ \d+\]:cli:ssh OK$/);
    } finally {
      rmSync(runtime, { recursive: true, force: true });
    }
  });

  it('a refused confirmation is the answer: reported, never signed by the vault instead', SLOW, async () => {
    confirmAnswer = 'denied';
    const file = join(dir.path, 'confirm.txt');
    writeFileSync(file, 'confirm\n');
    const denied = await run(BIN('deskkms'), ['sign', '--key', 'alias/confirmed', '--format', 'ssh', '--in', file], withPassphrase);
    // Refused by the signer (the agent, for the vault), not a usage error: exit 1.
    expect(denied.status).toBe(1);
    expect(refusal(denied).Code).toBe('Agent.Denied');
    expect(existsSync(`${file}.sig`)).toBe(false);
    expect(await lastSigner(confirmed)).toMatch(/^ssh-agent\[\S+ \d+\]:cli:ssh Agent\.Denied$/);
    confirmAnswer = 'approved';
    const approved = await run(BIN('deskkms'), ['sign', '--key', 'alias/confirmed', '--format', 'ssh', '--in', file]);
    expect(approved.status, approved.stderr).toBe(0);
    expect(await lastSigner(confirmed)).toMatch(/^ssh-agent\[\S+ \d+\]:cli:ssh OK$/);
  });
});
