// The vault as an ssh-agent, with real OpenSSH peers (issue 14): ssh-add lists the vault's
// identities, ssh-keygen -Y sign signs through SSH_AUTH_SOCK and ssh-keygen -Y verify accepts it,
// git commit -S (gpg.format=ssh, the stock ssh-keygen) signs and git verify-commit passes, ssh logs
// in to an sshd this test starts on 127.0.0.1 with EC_P256 and RSA (rsa-sha2-256), every
// signature audited as AsymmetricSign with caller "ssh-agent[PROGRAM PID]". Refusals: a locked
// vault, a disabled key, rsa-sha2-512 (what ssh-keygen -Y sign asks of RSA keys: refused, logged),
// ssh-add of a file key, ssh-add -D, another local user (refused by uid, not by file modes). Confirm
// on use through $SSH_ASKPASS: approve, deny and timeout. LOCK/UNLOCK (ssh-add -x / -X) lock and
// unlock the vault. The agent runs in this process; every peer is a child process run
// asynchronously (a synchronous one would block the agent it talks to).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../core/actions/dispatch.ts';
import { askpassConfirm } from '../../core/hosts/agent/askpass-confirm.ts';
import { startAgentServer } from '../../core/hosts/agent/agent-server.ts';
import type { RunningAgent } from '../../core/hosts/agent/agent-types.ts';
import { allowedSignersLine } from '../../core/formats/sshsig.ts';
import type { Vault } from '../../core/vault/vault.ts';
import { useActionVault, type MadeKey } from '../support/action-vault.ts';

const fx = useActionVault('ssh-agent');
const PRINCIPAL = 'alice@example.com';
const IS_ROOT = process.getuid?.() === 0;
const OTHER_USER = 'deskkmsagenttest';

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

let dir: string;
let env: Record<string, string>;
let agent: RunningAgent;
let socketPath: string;
let logLines: string[] = [];
let current: Vault | undefined;
let ec: MadeKey & { line: string; fingerprint: string; pub: string };
let rsa: MadeKey & { line: string; fingerprint: string; pub: string };
let allowedSigners: string;

/** A child process, run asynchronously (the agent answering it runs in this process). */
function run(command: string, args: readonly string[], options: { env?: Record<string, string>; input?: string; cwd?: string; uid?: number; gid?: number } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? env,
      cwd: options.cwd ?? dir,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: 60_000,
      ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

function ok(r: Run): string {
  expect(r.status, `${r.stdout}\n${r.stderr}\nagent log:\n${logLines.join('\n')}`).toBe(0);
  return r.stdout;
}

async function auditOf(keyId: string): Promise<{ caller: string; code: string }[]> {
  // ListAuditEntries records nothing when it succeeds, so the fixture's call() (which checks the entry) does not fit.
  const outcome = await dispatch(fx.vault, 'ListAuditEntries', { KeyId: keyId, Action: 'AsymmetricSign', Limit: 100 }, 'test');
  if (!outcome.ok) throw new Error(`${outcome.error.Code}: ${outcome.error.Message}`);
  return outcome.body.Entries;
}

async function signFile(pub: string, name: string, extraEnv: Record<string, string> = {}): Promise<Run> {
  const message = join(dir, name);
  writeFileSync(message, `message ${name}\n`);
  return run('ssh-keygen', ['-Y', 'sign', '-f', pub, '-n', 'file', message], { env: { ...env, ...extraEnv } });
}

function verifyFile(name: string): Promise<Run> {
  const message = join(dir, name);
  return run('ssh-keygen', ['-Y', 'verify', '-f', allowedSigners, '-I', PRINCIPAL, '-n', 'file', '-s', `${message}.sig`], { input: readFileSync(message, 'utf8') });
}

async function identity(made: MadeKey, pub: string): Promise<MadeKey & { line: string; fingerprint: string; pub: string }> {
  await fx.call('AddAgentIdentity', { KeyId: made.keyId, KeyVersionId: made.versionId });
  const listed = (await fx.call('ListAgentIdentities', {})).Identities as { KeyVersionId: string; SshPublicKey: string; SshFingerprint: string }[];
  const view = listed.find((i) => i.KeyVersionId === made.versionId)!;
  writeFileSync(pub, `${view.SshPublicKey}\n`);
  return { ...made, line: view.SshPublicKey, fingerprint: view.SshFingerprint, pub };
}

beforeAll(async () => {
  dir = fx.file('work');
  mkdirSync(dir, { mode: 0o700 });
  const home = join(dir, 'home');
  mkdirSync(home);
  socketPath = join(dir, 'agent', 'agent.sock');
  ec = await identity(await fx.makeKey('EC_P256', 'SIGN/VERIFY'), join(dir, 'ec.pub'));
  rsa = await identity(await fx.makeKey('RSA_2048', 'SIGN/VERIFY'), join(dir, 'rsa.pub'));
  allowedSigners = join(dir, 'allowed_signers');
  writeFileSync(allowedSigners, `${allowedSignersLine(ec.pem, PRINCIPAL)}\n${allowedSignersLine(rsa.pem, PRINCIPAL)}\n`);
  env = { PATH: '/usr/bin:/bin', HOME: home, LANG: 'C', SSH_AUTH_SOCK: socketPath };
  current = fx.vault;
  agent = await startAgentServer({
    socketPath,
    vault: () => current,
    log: (line) => logLines.push(line),
    lock: () => fx.vault.lock(),
    unlock: async (password) => {
      await fx.vault.unlockWith(password);
      return true;
    },
  });
});

afterAll(async () => {
  await agent?.close();
});

describe('ssh-add lists the vault identities', () => {
  it('ssh-add -L prints the lines ListAgentIdentities shows, oldest first', async () => {
    expect(ok(await run('ssh-add', ['-L'])).trim().split('\n')).toEqual([ec.line, rsa.line]);
    expect(ec.line).toMatch(new RegExp(`^ecdsa-sha2-nistp256 [A-Za-z0-9+/=]+ deskkms:${ec.keyId}:${ec.versionId}$`));
    expect(rsa.line).toMatch(new RegExp(`^ssh-rsa [A-Za-z0-9+/=]+ deskkms:${rsa.keyId}:${rsa.versionId}$`));
  });

  it('ssh-add -l prints their fingerprints', async () => {
    const lines = ok(await run('ssh-add', ['-l'])).trim().split('\n');
    expect(lines).toEqual([`256 ${ec.fingerprint} deskkms:${ec.keyId}:${ec.versionId} (ECDSA)`, `2048 ${rsa.fingerprint} deskkms:${rsa.keyId}:${rsa.versionId} (RSA)`]);
  });
});

describe('ssh-keygen -Y sign through the agent', () => {
  it('an EC_P256 signature that ssh-keygen -Y verify accepts, audited with the caller ssh-agent[ssh-keygen PID]', async () => {
    ok(await signFile(ec.pub, 'ec-message'));
    expect(ok(await verifyFile('ec-message'))).toContain(`Good "file" signature for ${PRINCIPAL} with ECDSA key ${ec.fingerprint}`);
    const audit = await auditOf(ec.keyId);
    expect(audit.some((e) => e.code === 'OK' && /^ssh-agent\[ssh-keygen \d+\]$/.test(e.caller))).toBe(true);
  });

  it('RSA: ssh-keygen asks for rsa-sha2-512, which the agent refuses with a log line naming it', async () => {
    logLines = [];
    const r = await signFile(rsa.pub, 'rsa-message');
    expect(r.status).not.toBe(0);
    expect(existsSync(join(dir, 'rsa-message.sig'))).toBe(false);
    expect(logLines.join('\n')).toMatch(new RegExp(`refused SIGN_REQUEST from ssh-keygen\\[\\d+\\]: key ${rsa.keyId}:${rsa.versionId} was asked for an rsa-sha2-512 signature`));
  });
});
