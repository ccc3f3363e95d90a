// deskkms agent as an operator runs it, through the bins (bin/deskkms) with the real OpenSSH
// clients as its peers: add/list/remove choose what it serves; `deskkms agent --socket S` in the
// foreground serves it to ssh-add and ssh-keygen -Y sign (verified by ssh-keygen -Y verify),
// audits each signature with the requesting program; keys added with --confirm ask $SSH_ASKPASS
// (approve, deny, no answer in time); ssh-add -x locks the vault and ssh-add -X unlocks it with
// the passphrase (both reading it from SSH_ASKPASS, as ssh-add does without a terminal); a
// passphrase vault opened without its passphrase starts locked; SIGINT and SIGHUP close and
// remove the socket.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../core/actions/dispatch.ts';
import { createAliasedKey } from '../support/aliased-key.ts';
import type { CliIO } from '../../core/hosts/cli/command.ts';
import { runCli } from '../../core/hosts/cli/run.ts';
import { Vault } from '../../core/vault/vault.ts';
import { spawnUntilFirstLine, type RunningProcess } from '../support/child-process.ts';
import { requireSecretService, tempDir } from './vault-helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const DESKKMS = join(ROOT, 'bin', 'deskkms');
const PASSPHRASE = 'agent cli passphrase';

let dir: ReturnType<typeof tempDir>;
let env: Record<string, string>;
const keys: Record<'login' | 'rsa' | 'confirm' | 'sm2', { keyId: string; versionId: string }> = {} as never;

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], extraEnv: Record<string, string> = {}, input?: string): Run {
  const r = spawnSync(command, args, { cwd: dir.path, env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 60_000, ...(input !== undefined ? { input } : {}) });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const deskkms = (args: readonly string[], extraEnv: Record<string, string> = {}): Run => run(DESKKMS, args, extraEnv);

/** The same CLI in this process (no Node start-up), for the calls that only look. */
async function cli(args: readonly string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (text: string) => ((stdout += text), true) },
    stderr: { write: (text: string) => ((stderr += text), true) },
    stdin: Readable.from([]),
    cwd: dir.path,
    env,
  } as unknown as CliIO;
  const status = await runCli(args, io);
  return { status, stdout, stderr };
}

/** Waits (at most 10 s) until the process has written something matching `pattern` on stderr. */
async function stderrOf(process_: RunningProcess, pattern: RegExp): Promise<string> {
  for (let waited = 0; !pattern.test(process_.stderr()) && waited < 10_000; waited += 50) await new Promise((done) => setTimeout(done, 50));
  return process_.stderr();
}

function ok(r: Run): string {
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

/** Exit 2 for the command line's own problems, 1 for a refused call (command.ts: exitStatusOf). */
function refused(r: Run, code: string, status = 2): string {
  expect(r.status, r.stdout).toBe(status);
  const lines = r.stderr.trim().split('\n');
  const error = JSON.parse(lines[lines.length - 1]!) as { Code: string; Message: string };
  expect(error.Code, error.Message).toBe(code);
  return error.Message;
}

function file(name: string, text: string, mode = 0o644): string {
  const path = join(dir.path, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

/** An SSH_ASKPASS program that prints `answer` (what ssh-add reads as a password). */
function askpassPrinting(name: string, answer: string): string {
  return file(name, `#!/bin/sh\nprintf '%s\\n' '${answer}'\n`, 0o755);
}

beforeAll(async () => {
  dir = tempDir('deskkms-agent-cli-');
  const vaultDir = join(dir.path, 'vault');
  env = {
    PATH: `${join(ROOT, 'bin')}:/usr/local/bin:/usr/bin:/bin`,
    HOME: dir.path,
    LANG: 'C.UTF-8',
    DESKKMS_VAULT: vaultDir,
    DESKKMS_PASSPHRASE_FILE: file('pass.txt', `${PASSPHRASE}\n`, 0o600),
  };
  const vault = await Vault.init(vaultDir, { passphrase: Buffer.from(PASSPHRASE), kdfN: 2 ** 14 });
  try {
    for (const [name, spec, alias] of [
      ['login', 'EC_P256', 'alias/login'],
      ['rsa', 'RSA_2048', 'alias/deploy'],
      ['confirm', 'EC_P256', 'alias/guarded'],
      ['sm2', 'EC_SM2', 'alias/sm2'],
    ] as const) {
      keys[name] = await createAliasedKey(vault, spec, alias);
    }
  } finally {
    await vault.close();
  }
}, 60_000);

afterAll(() => dir?.remove());

describe('deskkms agent add / list / remove', () => {
  it('adds the newest version (named on stderr) or the one given, lists JSON and the SSH lines, removes, and refuses what is not there', async () => {
    const added = deskkms(['agent', 'add', 'alias/login']);
    const identity = JSON.parse(ok(added)).Identity;
    expect(identity).toMatchObject({ KeyId: keys.login.keyId, KeyVersionId: keys.login.versionId, Confirm: false, Aliases: ['alias/login'] });
    expect(added.stderr).toContain(`added key ${keys.login.keyId} version ${keys.login.versionId} (its newest; give --version to choose)`);
    const rsa = await cli(['agent', 'add', 'alias/deploy', '--version', keys.rsa.versionId]);
    expect(JSON.parse(ok(rsa)).Identity).toMatchObject({ KeyId: keys.rsa.keyId, KeySpec: 'RSA_2048' });
    expect(rsa.stderr).not.toContain('newest');
    ok(await cli(['agent', 'add', 'alias/guarded', '--confirm']));
    ok(await cli(['agent', 'add', 'alias/sm2']));

    const listed = JSON.parse(ok(deskkms(['agent', 'list']))).Identities as { KeyId: string; Confirm: boolean; SshPublicKey?: string }[];
    expect(listed.map((i) => i.KeyId)).toEqual([keys.login.keyId, keys.rsa.keyId, keys.confirm.keyId, keys.sm2.keyId]);
    expect(listed.map((i) => i.Confirm)).toEqual([false, false, true, false]);
    // --ssh: the OpenSSH lines only (SM2 has none), which ssh-keygen reads.
    const lines = ok(deskkms(['agent', 'list', '--ssh'])).trim().split('\n');
    expect(lines).toEqual(listed.slice(0, 3).map((i) => i.SshPublicKey));
    const fingerprints = run('ssh-keygen', ['-l', '-f', file('listed.pub', `${lines.join('\n')}\n`)]);
    expect(ok(fingerprints).trim().split('\n').map((l) => l.replace(/^.* \((\w+)\)$/, '$1'))).toEqual(['ECDSA', 'RSA', 'ECDSA']);

    // Remove, then nothing is left to remove: Agent.KeyNotAdded, exit 1.
    expect(JSON.parse(ok(await cli(['agent', 'remove', 'alias/sm2']))).Removed).toBe(1);
    expect(refused(deskkms(['agent', 'remove', 'alias/sm2']), 'Agent.KeyNotAdded', 1)).toMatch(/is not in the agent/);
    // The Actions are audited: the refused removal too.
    const audit = JSON.parse(ok(await cli(['audit', 'list', '--key-id', keys.sm2.keyId, '--action', 'RemoveAgentIdentity']))).Entries as { Code?: string; code?: string }[];
    expect(audit.map((e) => e.Code ?? e.code)).toEqual(['OK', 'Agent.KeyNotAdded']);
  });

  it('refuses usage errors with exit 2: an unknown subcommand, no KEY, a flag of another form, a bad timeout', async () => {
    refused(deskkms(['agent', 'frobnicate']), 'InvalidParameter');
    refused(await cli(['agent', 'add']), 'MissingParameter');
    expect(refused(await cli(['agent', 'list', '--confirm']), 'InvalidParameter')).toMatch(/--confirm: is for deskkms agent add/);
    expect(refused(await cli(['agent', 'add', 'alias/login', '--socket', '/tmp/x']), 'InvalidParameter')).toMatch(/--socket: is for deskkms agent,/);
    expect(refused(await cli(['agent', '--confirm-timeout', '0']), 'InvalidParameter')).toMatch(/--confirm-timeout/);
    refused(await cli(['agent', '--no-such-flag']), 'InvalidParameter');
    expect(ok(await cli(['agent', '--help']))).toMatch(/^Usage: deskkms agent \[--socket PATH\]/m);
  });
});

describe('deskkms agent serving OpenSSH (a passphrase vault)', () => {
  let agent: RunningProcess;
  let socket: string;
  let sshEnv: Record<string, string>;
  const answerFile = (): string => join(dir.path, 'confirm-answer');
  const promptsFile = (): string => join(dir.path, 'confirm-prompts.log');

  beforeAll(async () => {
    socket = join(dir.path, 'run', 'agent.sock');
    // Confirm on use: the agent's SSH_ASKPASS logs the question and answers what confirm-answer says.
    const confirmer = file(
      'confirm.sh',
      `#!/bin/sh\nprintf '%s|%s\\n' "$SSH_ASKPASS_PROMPT" "$1" >> '${promptsFile()}'\n` +
        `case "$(cat '${answerFile()}')" in yes) exit 0 ;; wait) sleep 30 ;; esac\nexit 1\n`,
      0o755,
    );
    agent = await spawnUntilFirstLine(DESKKMS, ['agent', '--socket', socket, '--confirm-timeout', '3'], { env: { ...env, SSH_ASKPASS: confirmer }, cwd: dir.path, timeoutMs: 30_000 });
    sshEnv = { SSH_AUTH_SOCK: socket };
  }, 40_000);

  afterAll(async () => {
    await agent?.stop();
  });

  it('prints {"Socket","Pid"} once it listens, on a 0600 socket in a 0700 directory', () => {
    expect(JSON.parse(agent.firstLine)).toEqual({ Socket: socket, Pid: agent.child.pid });
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir.path, 'run')).mode & 0o777).toBe(0o700);
  });

  it('a second agent on the same socket is refused (Agent.SocketUnsafe, exit 2) and the first keeps serving', () => {
    expect(refused(deskkms(['agent', '--socket', socket]), 'Agent.SocketUnsafe')).toMatch(/already listens/);
    expect(ok(run('ssh-add', ['-l'], sshEnv)).trim().split('\n')).toHaveLength(3);
  });

  it('ssh-add -L lists the SSH identities (as deskkms agent list --ssh)', async () => {
    const listed = ok(run('ssh-add', ['-L'], sshEnv)).trim().split('\n');
    expect(listed).toEqual(ok(await cli(['agent', 'list', '--ssh'])).trim().split('\n'));
    expect(listed).toHaveLength(3);
  });

  it('ssh-keygen -Y sign signs through it; ssh-keygen -Y verify accepts it; the audit names ssh-keygen', async () => {
    const pub = file('login.pub', `${ok(run('ssh-add', ['-L'], sshEnv)).split('\n')[0]}\n`);
    const data = file('release.txt', 'release 1.0\n');
    ok(run('ssh-keygen', ['-Y', 'sign', '-f', pub, '-n', 'file', data], sshEnv));
    const allowed = file('allowed_signers', `release@example.org ${readFileSync(pub, 'utf8')}`);
    const verified = run('ssh-keygen', ['-Y', 'verify', '-f', allowed, '-I', 'release@example.org', '-n', 'file', '-s', `${data}.sig`], {}, 'release 1.0\n');
    expect(ok(verified)).toMatch(/Good "file" signature for release@example\.org with ECDSA key SHA256:/);
    // A changed byte does not verify.
    expect(run('ssh-keygen', ['-Y', 'verify', '-f', allowed, '-I', 'release@example.org', '-n', 'file', '-s', `${data}.sig`], {}, 'release 1.1\n').status).not.toBe(0);
    const entries = JSON.parse(ok(await cli(['audit', 'list', '--key-id', keys.login.keyId, '--action', 'AsymmetricSign']))).Entries as Record<string, unknown>[];
    expect(JSON.stringify(entries)).toMatch(/ssh-agent\[ssh-keygen \d+\]/);
  });

  it('RSA: ssh-keygen -Y sign asks for rsa-sha2-512, which the agent refuses (only rsa-sha2-256)', async () => {
    const rsaLine = ok(run('ssh-add', ['-L'], sshEnv)).split('\n')[1]!;
    expect(rsaLine).toMatch(/^ssh-rsa /);
    const pub = file('deploy.pub', `${rsaLine}\n`);
    const data = file('deploy.txt', 'deploy\n');
    expect(run('ssh-keygen', ['-Y', 'sign', '-f', pub, '-n', 'file', data], sshEnv).status).not.toBe(0);
    expect(await stderrOf(agent, /rsa-sha2-512|flags/i)).toMatch(/rsa-sha2-512|flags/i);
  });

  it('a --confirm key asks SSH_ASKPASS: approved signs, denied and unanswered (--confirm-timeout 3) are refused', () => {
    const guardedLine = ok(run('ssh-add', ['-L'], sshEnv)).split('\n')[2]!;
    const pub = file('guarded.pub', `${guardedLine}\n`);
    const allowed = file('guarded_signers', `ops@example.org ${guardedLine}\n`);
    const sign = (name: string): Run => run('ssh-keygen', ['-Y', 'sign', '-f', pub, '-n', 'file', file(name, `${name}\n`)], sshEnv);

    writeFileSync(answerFile(), 'yes');
    ok(sign('approved.txt'));
    expect(ok(run('ssh-keygen', ['-Y', 'verify', '-f', allowed, '-I', 'ops@example.org', '-n', 'file', '-s', join(dir.path, 'approved.txt.sig')], {}, 'approved.txt\n'))).toMatch(/Good "file" signature/);
    const prompts = readFileSync(promptsFile(), 'utf8').trim().split('\n');
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).toMatch(/^confirm\|.*ssh-keygen.*alias\/guarded/);

    writeFileSync(answerFile(), 'no');
    expect(sign('denied.txt').status).not.toBe(0);
    expect(existsSync(join(dir.path, 'denied.txt.sig'))).toBe(false);

    writeFileSync(answerFile(), 'wait');
    expect(sign('unanswered.txt').status).not.toBe(0);
    expect(existsSync(join(dir.path, 'unanswered.txt.sig'))).toBe(false);
    expect(readFileSync(promptsFile(), 'utf8').trim().split('\n')).toHaveLength(3);
    // Keys without --confirm never ask.
    ok(run('ssh-keygen', ['-Y', 'sign', '-f', join(dir.path, 'login.pub'), '-n', 'file', file('unguarded.txt', 'x\n')], sshEnv));
    expect(readFileSync(promptsFile(), 'utf8').trim().split('\n')).toHaveLength(3);
  });

  it('ssh-add -x locks the vault (nothing listed, nothing signed); ssh-add -X unlocks it with the passphrase only', () => {
    const force = { SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' };
    ok(run('ssh-add', ['-x'], { ...sshEnv, ...force, SSH_ASKPASS: askpassPrinting('lock-pw.sh', 'any lock password') }));
    const locked = run('ssh-add', ['-L'], sshEnv);
    expect(locked.status).toBe(1);
    expect(locked.stdout + locked.stderr).toMatch(/no identities/);
    writeFileSync(answerFile(), 'yes');
    expect(run('ssh-keygen', ['-Y', 'sign', '-f', join(dir.path, 'login.pub'), '-n', 'file', file('while-locked.txt', 'x\n')], sshEnv).status).not.toBe(0);

    expect(run('ssh-add', ['-X'], { ...sshEnv, ...force, SSH_ASKPASS: askpassPrinting('wrong-pw.sh', 'not the passphrase') }).status).not.toBe(0);
    expect(run('ssh-add', ['-L'], sshEnv).status).toBe(1);
    ok(run('ssh-add', ['-X'], { ...sshEnv, ...force, SSH_ASKPASS: askpassPrinting('right-pw.sh', PASSPHRASE) }));
    expect(ok(run('ssh-add', ['-L'], sshEnv)).trim().split('\n')).toHaveLength(3);
    ok(run('ssh-keygen', ['-Y', 'sign', '-f', join(dir.path, 'login.pub'), '-n', 'file', file('unlocked.txt', 'x\n')], sshEnv));
  });

  it('ssh-add cannot add or remove keys: they are managed in the vault', async () => {
    const keyFile = join(dir.path, 'filekey');
    ok(run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]));
    expect(run('ssh-add', [keyFile], sshEnv).status).not.toBe(0);
    expect(run('ssh-add', ['-D'], sshEnv).status).not.toBe(0);
    expect(ok(run('ssh-add', ['-L'], sshEnv)).trim().split('\n')).toHaveLength(3);
    expect(await stderrOf(agent, /deskkms agent add/)).toContain('deskkms agent add');
  });

  it('SIGINT stops it: exit 0, the socket removed', async () => {
    agent.child.kill('SIGINT');
    const code = await new Promise<number | null>((done) => agent.child.once('exit', (c) => done(c)));
    expect(code, agent.stderr()).toBe(0);
    expect(existsSync(socket)).toBe(false);
    expect(agent.stderr()).toMatch(/SIGINT: closing the socket/);
    expect(run('ssh-add', ['-L'], sshEnv).status).toBe(2); // no agent to talk to
  });
});

describe('deskkms agent --sh on a passphrase vault opened without its passphrase', () => {
  it('prints the shell assignments, starts locked, ssh-add -X unlocks it, SIGHUP (a closing terminal) stops it', async () => {
    const socket = join(dir.path, 'run2', "it's here.sock");
    const noPassphrase = { ...env };
    delete noPassphrase.DESKKMS_PASSPHRASE_FILE;
    const agent = await spawnUntilFirstLine(DESKKMS, ['agent', '--sh', '--socket', socket], { env: noPassphrase, cwd: dir.path, timeoutMs: 30_000 });
    try {
      expect(agent.firstLine).toBe(`SSH_AUTH_SOCK='${socket.replace("'", `'\\''`)}'; export SSH_AUTH_SOCK;`);
      // The assignments, read by a shell, name the socket ssh-add then uses.
      const sourced = spawnSync('sh', ['-c', `eval "$1"; ssh-add -L; echo "status $?"`, 'sh', `${agent.firstLine}\nSSH_AGENT_PID=${agent.child.pid}; export SSH_AGENT_PID;\n`], { env: noPassphrase, encoding: 'utf8' });
      expect(sourced.stdout).toMatch(/status 1/);
      expect(await stderrOf(agent, /stays locked/)).toMatch(/stays locked until ssh-add -X unlocks it/);
      const force = { SSH_AUTH_SOCK: socket, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0', SSH_ASKPASS: askpassPrinting('right-pw-2.sh', PASSPHRASE) };
      ok(run('ssh-add', ['-X'], force));
      expect(ok(run('ssh-add', ['-L'], { SSH_AUTH_SOCK: socket })).trim().split('\n')).toHaveLength(3);
      const exited = new Promise<number | null>((done) => agent.child.once('exit', (code) => done(code)));
      agent.child.kill('SIGHUP');
      expect(await exited).toBe(0);
      expect(await stderrOf(agent, /SIGHUP: closing the socket/)).toMatch(/SIGHUP: closing the socket/);
    } finally {
      await agent.stop();
    }
    expect(existsSync(socket)).toBe(false);
  });
});

describe('deskkms agent on a keychain vault', () => {
  it('unlocks from the keychain at start; ssh-add -x locks it and ssh-add -X unlocks it from the keychain with the lock\'s password', async () => {
    requireSecretService();
    const vaultDir = join(dir.path, 'keychain-vault');
    const vault = await Vault.init(vaultDir);
    try {
      const created = await dispatch(vault, 'CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' }, 'test');
      if (!created.ok) throw new Error(created.error.Message);
      const versions = await dispatch(vault, 'ListKeyVersions', { KeyId: created.body.KeyMetadata.KeyId }, 'test');
      if (!versions.ok) throw new Error(versions.error.Message);
      const added = await dispatch(vault, 'AddAgentIdentity', { KeyId: created.body.KeyMetadata.KeyId, KeyVersionId: versions.body.KeyVersions.KeyVersion[0]!.KeyVersionId }, 'test');
      if (!added.ok) throw new Error(added.error.Message);
    } finally {
      await vault.close();
    }
    const socket = join(dir.path, 'run3', 'agent.sock');
    const keychainEnv = { ...env, DESKKMS_VAULT: vaultDir, DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS ?? '' };
    delete (keychainEnv as Record<string, string | undefined>).DESKKMS_PASSPHRASE_FILE;
    const agent = await spawnUntilFirstLine(DESKKMS, ['agent', '--socket', socket], { env: keychainEnv, cwd: dir.path, timeoutMs: 30_000 });
    try {
      const sshEnv = { SSH_AUTH_SOCK: socket };
      expect(ok(run('ssh-add', ['-L'], sshEnv)).trim().split('\n')).toHaveLength(1);
      const force = { ...sshEnv, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0', SSH_ASKPASS: askpassPrinting('anything.sh', 'anything at all') };
      ok(run('ssh-add', ['-x'], force));
      expect(run('ssh-add', ['-L'], sshEnv).status).toBe(1);
      // Not with another password: the keychain would open, but the lock is the lock's password.
      expect(run('ssh-add', ['-X'], { ...force, SSH_ASKPASS: askpassPrinting('wrong.sh', 'another password') }).status).not.toBe(0);
      expect(run('ssh-add', ['-L'], sshEnv).status).toBe(1);
      ok(run('ssh-add', ['-X'], force));
      expect(ok(run('ssh-add', ['-L'], sshEnv)).trim().split('\n')).toHaveLength(1);
    } finally {
      expect(await agent.stop()).toBe(0);
    }
  });
});
