// The README's "SSH and git with the agent" recipes, run as written: each ```sh block of the
// section in bash, one after the other as in one shell (the agent the first block starts in the
// background keeps running, and later blocks read its agent.env again, as the shell that sourced
// it would still have SSH_AUTH_SOCK), with `npx deskkms` as this checkout's CLI, the package's
// bins on PATH, the stock git and ssh-keygen, and a real sshd on 127.0.0.1 as `build-server`.
// The test plays the user: its SSH_ASKPASS answers the confirm prompts (yes or no, as told) and
// gives ssh-add the vault's passphrase. It checks what the peers say and what the audit log holds.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../core/actions/dispatch.ts';
import { Vault } from '../../core/vault/vault.ts';
import { tempDir } from './vault-helpers.ts';
import { startTestSshd, type TestSshd } from '../support/sshd.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const PASSPHRASE = 'agent recipes passphrase';
const IS_ROOT = process.getuid?.() === 0;

let dir: ReturnType<typeof tempDir>;
let work: string;
let home: string;
let env: NodeJS.ProcessEnv;
let blocks: string[];
let loginKeyId: string;
let sshd: TestSshd | undefined;

interface Run {
  readonly status: number | null;
  readonly out: string;
}

/**
 * A block in bash. `npx deskkms` is this checkout's launcher; `ssh` reads the test's
 * ~/.ssh/config (OpenSSH takes ~ from the password database, not $HOME, which is a temp dir
 * here); agent.env, once the first block wrote it, is sourced again as the shell would keep it.
 */
function sh(block: string): Run {
  const prelude =
    'set -euo pipefail\n' +
    `npx() { if [ "$1" != deskkms ]; then echo "npx $1: not in the recipe" >&2; return 127; fi; shift; "${ROOT}/bin/deskkms" "$@"; }\n` +
    'ssh() { command ssh -F "$HOME/.ssh/config" "$@"; }\n' +
    'if [ -s agent.env ]; then . ./agent.env; fi\n';
  const r = spawnSync('bash', ['-c', prelude + block], { cwd: work, env, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

function ran(block: string): string {
  const r = sh(block);
  expect(r.status, `${block}\n--- output\n${r.out}\n--- agent.log\n${agentLog()}`).toBe(0);
  return r.out;
}

const agentLog = (): string => (existsSync(join(work, 'agent.log')) ? readFileSync(join(work, 'agent.log'), 'utf8') : '');
const prompts = (): string[] => (existsSync(join(dir.path, 'prompts.log')) ? readFileSync(join(dir.path, 'prompts.log'), 'utf8').trim().split('\n').filter(Boolean) : []);
const answer = (yesOrNo: 'yes' | 'no'): void => writeFileSync(join(dir.path, 'answer'), yesOrNo);

/** The login key's AsymmetricSign entries as "CODE CALLER", read through the CLI (the agent keeps the vault open meanwhile). */
function signEntries(): string[] {
  const r = sh(`npx deskkms audit list --key-id ${loginKeyId} --action AsymmetricSign`);
  expect(r.status, r.out).toBe(0);
  const json = r.out.slice(r.out.indexOf('{'), r.out.lastIndexOf('}') + 1);
  return (JSON.parse(json) as { Entries: { Caller?: string; caller?: string; Code?: string; code?: string }[] }).Entries.map((e) => `${e.Code ?? e.code} ${e.Caller ?? e.caller}`);
}

/** The callers of the login key's signatures. */
function signCallers(): string[] {
  return signEntries()
    .filter((e) => e.startsWith('OK '))
    .map((e) => e.slice(3));
}

beforeAll(async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## SSH and git with the agent\n');
  expect(start).toBeGreaterThan(0);
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);

  dir = tempDir('deskkms-agent-recipes-');
  work = join(dir.path, 'project');
  home = join(dir.path, 'home');
  mkdirSync(work);
  mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  const passFile = join(dir.path, 'vault-pass.txt');
  writeFileSync(passFile, `${PASSPHRASE}\n`);
  const vaultDir = join(dir.path, 'vault');
  const vault = await Vault.init(vaultDir, { passphrase: Buffer.from(PASSPHRASE), kdfN: 2 ** 14 });
  try {
    const created = await dispatch(vault, 'CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' }, 'test');
    if (!created.ok) throw new Error(created.error.Message);
    loginKeyId = created.body.KeyMetadata.KeyId;
    const aliased = await dispatch(vault, 'CreateAlias', { KeyId: loginKeyId, AliasName: 'alias/login' }, 'test');
    if (!aliased.ok) throw new Error(aliased.error.Message);
  } finally {
    await vault.close();
  }

  // The user's SSH_ASKPASS: confirm prompts are logged and answered as ./answer says; any other
  // prompt (ssh-add -x / -X) is given the vault's passphrase.
  const askpass = join(dir.path, 'askpass');
  writeFileSync(
    askpass,
    [
      '#!/bin/sh',
      'if [ "$SSH_ASKPASS_PROMPT" = confirm ]; then',
      `  printf '%s\\n' "$1" >> '${join(dir.path, 'prompts.log')}'`,
      `  [ "$(cat '${join(dir.path, 'answer')}')" = yes ]`,
      '  exit $?',
      'fi',
      `printf '%s\\n' '${PASSPHRASE}'`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  answer('yes');

  // build-server: an sshd on 127.0.0.1 with its own host key and config, reading the user's
  // ~/.ssh/authorized_keys (the recipe appends to it).
  sshd = await startTestSshd({ dir: join(dir.path, 'sshd'), authorizedKeysFile: join(home, '.ssh', 'authorized_keys') });
  const port = sshd.port;
  const user = IS_ROOT ? 'root' : (process.env.USER ?? 'root');
  writeFileSync(
    join(home, '.ssh', 'config'),
    [
      'Host build-server',
      '  HostName 127.0.0.1',
      `  Port ${port}`,
      `  User ${user}`,
      `  UserKnownHostsFile ${join(home, '.ssh', 'known_hosts')}`,
      '  GlobalKnownHostsFile /dev/null',
      '  StrictHostKeyChecking accept-new',
      '  BatchMode yes',
      '',
    ].join('\n'),
  );

  env = {
    // The bins on PATH as `npm link` puts them, before a system whose node is older (Node 20 here).
    PATH: `${join(ROOT, 'bin')}:/usr/local/bin:/usr/bin:/bin`,
    HOME: home,
    DESKKMS_VAULT: vaultDir,
    DESKKMS_PASSPHRASE_FILE: passFile,
    // The agent's confirm prompts and ssh-add's password prompts, with no terminal to ask on.
    SSH_ASKPASS: askpass,
    SSH_ASKPASS_REQUIRE: 'force',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Dev',
    GIT_AUTHOR_EMAIL: 'dev@example.org',
    GIT_COMMITTER_NAME: 'Dev',
    GIT_COMMITTER_EMAIL: 'dev@example.org',
    LANG: 'C.UTF-8',
  };
  expect(spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: work, env }).status).toBe(0);
  appendFileSync(join(work, 'CHANGELOG'), 'first change\n');
  expect(spawnSync('git', ['add', 'CHANGELOG'], { cwd: work, env }).status).toBe(0);
}, 60_000);

afterAll(() => {
  // The agent, if a failed block left it running.
  const pid = /SSH_AGENT_PID=(\d+)/.exec(existsSync(join(work ?? '', 'agent.env')) ? readFileSync(join(work, 'agent.env'), 'utf8') : '')?.[1];
  if (pid) {
    try {
      process.kill(Number(pid), 'SIGTERM');
    } catch {
      // already stopped
    }
  }
  sshd?.stop();
  dir?.remove();
});

describe("the README's SSH and git with the agent recipes, run as written", { timeout: 120_000 }, () => {
  it('has six recipes: start and add, ssh login, git commit, confirm, lock, DeskKMS commands', () => {
    expect(blocks).toHaveLength(6);
  });

  it('starts the agent in the background, adds alias/login, and ssh-add -L lists it', () => {
    const out = ran(blocks[0]!);
    const env_ = readFileSync(join(work, 'agent.env'), 'utf8');
    expect(env_).toMatch(/^SSH_AUTH_SOCK=\S+; export SSH_AUTH_SOCK;\nSSH_AGENT_PID=\d+; export SSH_AGENT_PID;\n$/);
    expect(out).toMatch(new RegExp(`^ecdsa-sha2-nistp256 \\S+ deskkms:${loginKeyId}:[0-9a-f-]{36}$`, 'm'));
    expect(out).toContain(`added key ${loginKeyId} version`);
  });

  it('logs in to build-server with the vault key, audited as ssh-agent[ssh PID]', async () => {
    const out = ran(blocks[1]!);
    expect(out).toMatch(/^logged in as \S+$/m);
    // sshd's log arrives on this process's event loop, which the synchronous run held.
    for (let waited = 0; !/Accepted publickey/.test(sshd!.log()) && waited < 10_000; waited += 50) await new Promise((done) => setTimeout(done, 50));
    expect(sshd!.log()).toMatch(/Accepted publickey for \S+ from 127\.0\.0\.1 .* ECDSA SHA256:/);
    expect(signCallers().some((c) => /^ssh-agent\[ssh \d+\]$/.test(c))).toBe(true);
  });

  it('signs a git commit with the stock ssh-keygen through the agent; git verify-commit passes', () => {
    const out = ran(blocks[2]!);
    expect(out).toMatch(/Good "git" signature for dev@example\.org with ECDSA key SHA256:/);
    expect(ran('git config gpg.ssh.program || echo "stock ssh-keygen"')).toMatch(/stock ssh-keygen/);
    expect(signCallers().some((c) => /^ssh-agent\[ssh-keygen \d+\]$/.test(c))).toBe(true);
  });

  it('with --confirm, a commit is signed once the prompt approves it, and not when it denies', () => {
    const before = prompts().length;
    const out = ran(blocks[3]!);
    expect(out).toMatch(/Good "git" signature for dev@example\.org/);
    const asked = prompts().slice(before);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatch(/ssh-keygen.*alias\/login/);
    answer('no');
    try {
      const denied = sh('git commit --allow-empty -S -m "Denied in the confirm prompt"');
      expect(denied.status).not.toBe(0);
      expect(ran('git log -1 --format=%s')).toMatch(/^Approved in the confirm prompt$/m);
      expect(prompts()).toHaveLength(before + 2);
      // The refusal is audited as the signature it would have been, with why.
      expect(signEntries().some((e) => /^Agent\.Denied ssh-agent\[ssh-keygen \d+\]$/.test(e))).toBe(true);
    } finally {
      answer('yes');
    }
  });

  it('ssh-add -x locks the agent (nothing listed) and ssh-add -X unlocks it with the passphrase', () => {
    const out = ran(blocks[4]!);
    expect(out).toMatch(/^locked$/m);
    expect(out).toMatch(new RegExp(`^ecdsa-sha2-nistp256 \\S+ deskkms:${loginKeyId}:`, 'm'));
    expect(agentLog()).toMatch(/locked the vault/);
    expect(agentLog()).toMatch(/unlocked the vault/);
  });

  it('deskkms sign signs through the running agent (audited ssh-agent[...]:cli:ssh); ssh-keygen verifies; kill stops the agent', () => {
    const socket = /SSH_AUTH_SOCK=([^;]+);/.exec(readFileSync(join(work, 'agent.env'), 'utf8'))![1]!;
    const before = prompts().length;
    const out = ran(blocks[5]!);
    expect(out).toMatch(/Good "file" signature for dev@example\.org with ECDSA key SHA256:/);
    // Signed by the agent (the key asks for confirmation: one more prompt, from the endpoint).
    expect(signCallers().some((c) => /^ssh-agent\[\S+ \d+\]:cli:ssh$/.test(c))).toBe(true);
    expect(prompts()).toHaveLength(before + 1);
    // kill: SIGTERM closes and removes the socket.
    for (let i = 0; i < 100 && existsSync(socket); i++) spawnSync('sleep', ['0.1']);
    expect(existsSync(socket)).toBe(false);
    expect(agentLog()).toMatch(/SIGTERM: closing the socket/);
  });
});
