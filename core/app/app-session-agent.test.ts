// The app's agent through AppSession.call (Agent.Status / Start / Stop / Pending / Answer) with a
// real passphrase vault, the real agent server on a socket in a temp dir, and the real OpenSSH
// tools as its clients: ssh-add -L lists the key, `ssh-keygen -Y sign -f key.pub` asks for a
// confirmation that Agent.Pending shows (key, program, "namespace git") and Agent.Answer approves
// (the signature checks with ssh-keygen -Y check-novalidate) or denies (no signature); locking the
// vault or stopping the agent denies what waits; close() stops the agent and removes its socket;
// and the parameters are validated before anything starts.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentConfirmView } from '../contract/app-api.ts';
import { AppSession } from './app-session.ts';
import { appCalls } from '../../test/support/app-calls.ts';

const PASSPHRASE = 'correct horse battery staple';
const ALIAS = 'alias/app-agent-git';
let dir: string;
let app: AppSession;
let socket: string;
let pub: string;
let key: { KeyId: string; KeyVersionId: string; SshFingerprint: string };
const logged: string[] = [];

const { value, refusal } = appCalls(() => app);

const sshEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: dir, LC_ALL: 'C', SSH_AUTH_SOCK: socket });

/** An OpenSSH tool as the agent's client: async, since the agent answers from this process's event loop. */
function run(command: string, args: readonly string[], input?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { env: sshEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end(input);
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

/** `ssh-keygen -Y sign -f key.pub -n git FILE` through the agent, running until it exits. */
function signThroughAgent(file: string): Promise<{ status: number | null; stderr: string }> {
  writeFileSync(file, `a commit to sign ${file}\n`);
  return run('ssh-keygen', ['-Y', 'sign', '-f', pub, '-n', 'git', file]);
}

/** Waits for the one confirmation the agent asks for. */
async function waitingRequest(): Promise<AgentConfirmView> {
  for (let i = 0; i < 400; i++) {
    const { Requests } = await value<{ Requests: AgentConfirmView[] }>('Agent.Pending');
    if (Requests.length > 0) {
      expect(Requests).toHaveLength(1);
      return Requests[0]!;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no confirmation was asked for; agent log:\n${logged.join('\n')}`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deskkms-app-agent-'));
  socket = join(dir, 'agent.sock');
  app = new AppSession({ vaultDir: join(dir, 'vault'), caller: 'test', log: (line) => logged.push(line), env: {} });
  await value('Vault.Create', { Protection: 'passphrase', Passphrase: PASSPHRASE });
  const { KeyMetadata } = await value('Kms.Call', { Action: 'CreateKey', Params: { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' } });
  await value('Kms.Call', { Action: 'CreateAlias', Params: { KeyId: KeyMetadata.KeyId, AliasName: ALIAS } });
  const [{ KeyVersionId }] = (await value('Kms.Call', { Action: 'ListKeyVersions', Params: { KeyId: KeyMetadata.KeyId } })).KeyVersions.KeyVersion;
  const { Identity } = await value('Kms.Call', { Action: 'AddAgentIdentity', Params: { KeyId: KeyMetadata.KeyId, KeyVersionId, Confirm: true } });
  key = { KeyId: KeyMetadata.KeyId, KeyVersionId, SshFingerprint: Identity.SshFingerprint };
  pub = join(dir, 'key.pub');
  writeFileSync(pub, `${Identity.SshPublicKey}\n`);
});

afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Agent.* through AppSession.call', () => {
  it('refuses malformed parameters and an answer to nothing, before anything starts', async () => {
    expect(await value('Agent.Status')).toEqual({ Running: false, ConfirmTimeoutSeconds: 30 });
    for (const [params, field] of [
      [{ Socket: 'relative/agent.sock' }, 'Socket'],
      [{ Socket: `/tmp/${'x'.repeat(120)}` }, 'Socket'],
      [{ Socket: '/tmp/a\nb' }, 'Socket'],
      [{ ConfirmTimeoutSeconds: 4 }, 'ConfirmTimeoutSeconds'],
      [{ ConfirmTimeoutSeconds: 601 }, 'ConfirmTimeoutSeconds'],
      [{ ConfirmTimeoutSeconds: 7.5 }, 'ConfirmTimeoutSeconds'],
      [{ Port: 22 }, 'Port'],
    ] as const) {
      const error = await refusal('Agent.Start', params);
      expect(error.Code).toBe('InvalidParameter');
      expect(error.Message).toContain(field);
    }
    expect((await refusal('Agent.Answer', { Id: 'not-an-id', Approve: true })).Code).toBe('InvalidParameter');
    expect((await refusal('Agent.Answer', { Id: key.KeyId })).Code).toMatch(/Parameter$/);
    const none = await refusal('Agent.Answer', { Id: '0b7c4c3e-8d8e-4f5a-9b1c-2d3e4f5a6b7c', Approve: false });
    expect(none).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringContaining('0b7c4c3e-8d8e-4f5a-9b1c-2d3e4f5a6b7c') });
    expect(await value('Agent.Status')).toEqual({ Running: false, ConfirmTimeoutSeconds: 30 });
    expect(existsSync(socket)).toBe(false);
  });

  it('starts only while the vault is unlocked, on the socket asked for (0600), and says so', async () => {
    await value('Vault.Lock');
    expect((await refusal('Agent.Start', { Socket: socket })).Code).toBe('Vault.Locked');
    await value('Vault.Unlock', { Passphrase: PASSPHRASE });
    expect(await value('Agent.Start', { Socket: socket, ConfirmTimeoutSeconds: 60 })).toEqual({ Running: true, Socket: socket, ConfirmTimeoutSeconds: 60 });
    expect(statSync(socket).isSocket()).toBe(true);
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    // The same settings again: the same agent.
    expect(await value('Agent.Start', { Socket: socket, ConfirmTimeoutSeconds: 60 })).toEqual({ Running: true, Socket: socket, ConfirmTimeoutSeconds: 60 });
    expect(await value('Agent.Status')).toEqual({ Running: true, Socket: socket, ConfirmTimeoutSeconds: 60 });

    const listed = await run('ssh-add', ['-L']);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(`deskkms:${key.KeyId}:${key.KeyVersionId}`);
  });

  it('shows the confirmation ssh-keygen asks for, and an approval makes a signature ssh-keygen accepts', async () => {
    const file = join(dir, 'approved.txt');
    const signing = signThroughAgent(file);
    const request = await waitingRequest();
    expect(request).toMatchObject({
      KeyId: key.KeyId,
      KeyVersionId: key.KeyVersionId,
      KeySpec: 'EC_P256',
      Aliases: [ALIAS],
      SshFingerprint: key.SshFingerprint,
      Program: 'ssh-keygen',
      Kind: 'sshsig',
      What: 'a git signature (namespace git)',
    });
    expect(request.Pid).toBeGreaterThan(1);
    expect(request.SecondsLeft).toBeGreaterThan(0);
    expect(request.SecondsLeft).toBeLessThanOrEqual(60);
    expect(await value('Agent.Answer', { Id: request.Id, Approve: true })).toEqual({ Answered: true });
    const signed = await signing;
    expect(signed.status, signed.stderr).toBe(0);
    expect(existsSync(`${file}.sig`)).toBe(true);
    const checked = await run('ssh-keygen', ['-Y', 'check-novalidate', '-n', 'git', '-s', `${file}.sig`], `a commit to sign ${file}\n`);
    expect(checked.status, checked.stderr).toBe(0);
    expect(checked.stdout + checked.stderr).toContain('Good "git" signature');
    expect((await value('Agent.Pending')).Requests).toEqual([]);
    // Answered: a second answer is refused.
    expect((await refusal('Agent.Answer', { Id: request.Id, Approve: true })).Code).toBe('InvalidParameter');
  });

  it('a denial refuses the signature', async () => {
    const file = join(dir, 'denied.txt');
    const signing = signThroughAgent(file);
    const request = await waitingRequest();
    await value('Agent.Answer', { Id: request.Id, Approve: false });
    const refused = await signing;
    expect(refused.status).not.toBe(0);
    expect(existsSync(`${file}.sig`)).toBe(false);
  });

  it('locking the vault denies what waits, and an approval needs the unlocked window', async () => {
    const file = join(dir, 'locked.txt');
    const signing = signThroughAgent(file);
    const request = await waitingRequest();
    await value('Vault.Lock');
    const refused = await signing;
    expect(refused.status).not.toBe(0);
    expect(existsSync(`${file}.sig`)).toBe(false);
    expect((await value('Agent.Pending')).Requests).toEqual([]);
    expect((await refusal('Agent.Answer', { Id: request.Id, Approve: true })).Code).toBe('Vault.Locked');
    // The agent keeps running while locked: it lists nothing.
    expect((await value('Agent.Status')).Running).toBe(true);
    const listed = await run('ssh-add', ['-L']);
    expect(listed.stdout).not.toContain(key.KeyId);
    await value('Vault.Unlock', { Passphrase: PASSPHRASE });
  });

  it('stopping the agent denies what waits and removes its socket; close() stops it too', async () => {
    const file = join(dir, 'stopped.txt');
    const signing = signThroughAgent(file);
    await waitingRequest();
    expect(await value('Agent.Stop')).toEqual({ Running: false, ConfirmTimeoutSeconds: 60 });
    const refused = await signing;
    expect(refused.status).not.toBe(0);
    expect(existsSync(`${file}.sig`)).toBe(false);
    expect(existsSync(socket)).toBe(false);
    expect((await value('Agent.Pending')).Requests).toEqual([]);
    expect(await value('Agent.Stop')).toEqual({ Running: false, ConfirmTimeoutSeconds: 60 });

    // A path the agent cannot use: refused with its Code, and Status keeps the failure.
    const blocked = join(dir, 'not-a-dir');
    writeFileSync(blocked, '');
    const failed = await refusal('Agent.Start', { Socket: join(blocked, 'agent.sock') });
    expect(failed.Code).not.toBe('InternalFailure');
    expect(await value('Agent.Status')).toMatchObject({ Running: false, Error: { Code: failed.Code } });

    await value('Agent.Start', { Socket: socket });
    expect(await value('Agent.Status')).toEqual({ Running: true, Socket: socket, ConfirmTimeoutSeconds: 30 });
    // When the agent served the vault is in its audit log: two starts (the same settings twice
    // started it once), one stop; a failed start records nothing.
    const events = async (action: string) => (await value('Audit.List', { Action: action })).Entries.map((e: { code: string; caller: string }) => `${e.code} ${e.caller}`);
    expect(await events('StartAgent')).toEqual(['OK test', 'OK test']);
    expect(await events('StopAgent')).toEqual(['OK test']);
    await app.close();
    expect(existsSync(socket)).toBe(false);
  });
});
