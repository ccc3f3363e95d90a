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
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../core/actions/dispatch.ts';
import { askpassConfirm } from '../../core/hosts/agent/askpass-confirm.ts';
import { startAgentServer } from '../../core/hosts/agent/agent-server.ts';
import type { RunningAgent } from '../../core/hosts/agent/agent-types.ts';
import { allowedSignersLine } from '../../core/formats/sshsig.ts';
import type { Vault } from '../../core/vault/vault.ts';
import { useActionVault, type MadeKey } from '../support/action-vault.ts';
import { startTestSshd, type TestSshd } from '../support/sshd.ts';

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

describe('git commit -S with gpg.format=ssh and the stock ssh-keygen', () => {
  it('signs through the agent, and git verify-commit passes', async () => {
    const repo = join(dir, 'repo');
    mkdirSync(repo);
    const gitEnv = {
      ...env,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: 'Alice',
      GIT_AUTHOR_EMAIL: PRINCIPAL,
      GIT_COMMITTER_NAME: 'Alice',
      GIT_COMMITTER_EMAIL: PRINCIPAL,
    };
    const git = (args: readonly string[]): Promise<Run> => run('git', args, { env: gitEnv, cwd: repo });
    ok(await git(['init', '-q']));
    const before = (await auditOf(ec.keyId)).length;
    ok(await git(['-c', 'gpg.format=ssh', '-c', `user.signingKey=${ec.pub}`, 'commit', '-q', '--allow-empty', '-S', '-m', 'signed through the agent']));
    const verified = await git(['-c', `gpg.ssh.allowedSignersFile=${allowedSigners}`, 'verify-commit', 'HEAD']);
    ok(verified);
    expect(verified.stderr).toContain(`Good "git" signature for ${PRINCIPAL} with ECDSA key ${ec.fingerprint}`);
    const audit = await auditOf(ec.keyId);
    expect(audit.length).toBe(before + 1);
    expect(audit[0]).toMatchObject({ code: 'OK' });
    expect(audit[0]!.caller).toMatch(/^ssh-agent\[ssh-keygen \d+\]$/);
  });
});

describe('ssh logs in to an sshd on 127.0.0.1 with the vault keys', () => {
  let sshd: TestSshd | undefined;
  let port = 0;
  let hostFingerprint = '';
  const user = IS_ROOT ? 'root' : (process.env.USER ?? 'root');

  const ssh = (algorithms: string, extraEnv: Record<string, string> = {}, socket = socketPath): Promise<Run> =>
    run(
      'ssh',
      [
        '-F', '/dev/null',
        '-p', String(port),
        '-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`,
        '-o', 'GlobalKnownHostsFile=/dev/null',
        '-o', 'StrictHostKeyChecking=accept-new',
        '-o', 'IdentitiesOnly=no',
        '-o', 'BatchMode=yes',
        '-o', `PubkeyAcceptedAlgorithms=${algorithms}`,
        '-l', user,
        '127.0.0.1',
        'true',
      ],
      { env: { ...env, ...extraEnv, SSH_AUTH_SOCK: socket } },
    );

  beforeAll(async () => {
    const sshdDir = join(dir, 'sshd');
    mkdirSync(sshdDir, { mode: 0o700 });
    writeFileSync(join(sshdDir, 'authorized_keys'), `${ec.line}\n${rsa.line}\n`);
    sshd = await startTestSshd({
      dir: sshdDir,
      authorizedKeysFile: join(sshdDir, 'authorized_keys'),
      // OpenSSH 8.8+ accepts no SHA-1 RSA signature by default; this one does, so that the agent is asked for one.
      extraConfig: ['PubkeyAcceptedAlgorithms +ssh-rsa'],
    });
    port = sshd.port;
    hostFingerprint = sshd.hostFingerprint;
  });

  afterAll(() => {
    sshd?.stop();
  });

  it('with the EC_P256 key (ecdsa-sha2-nistp256), audited as AsymmetricSign by ssh-agent[ssh PID]', async () => {
    const before = (await auditOf(ec.keyId)).filter((e) => e.caller.startsWith('ssh-agent[ssh ')).length;
    ok(await ssh('ecdsa-sha2-nistp256'));
    expect(sshd!.log()).toContain(`Accepted publickey for ${user} from 127.0.0.1`);
    expect(sshd!.log()).toContain(`ECDSA ${ec.fingerprint}`);
    const after = (await auditOf(ec.keyId)).filter((e) => e.caller.startsWith('ssh-agent[ssh ') && e.code === 'OK');
    expect(after.length).toBeGreaterThan(before);
    expect(after[0]!.caller).toMatch(/^ssh-agent\[ssh \d+\]$/);
  });

  it('with the RSA key when ssh asks rsa-sha2-256', async () => {
    ok(await ssh('rsa-sha2-256'));
    expect(sshd!.log()).toContain(`RSA ${rsa.fingerprint}`);
    const audit = await auditOf(rsa.keyId);
    expect(audit.some((e) => e.code === 'OK' && /^ssh-agent\[ssh \d+\]$/.test(e.caller))).toBe(true);
  });

  it('not with RSA over SHA-1 (ssh-rsa, which this sshd accepts): the agent refuses it and says why', async () => {
    logLines = [];
    const r = await ssh('ssh-rsa');
    expect(r.status).not.toBe(0);
    expect(logLines.join('\n')).toMatch(new RegExp(`refused SIGN_REQUEST from ssh\\[\\d+\\]: key ${rsa.keyId}:${rsa.versionId} was asked for an ssh-rsa signature \\(SHA-1\\), which the agent refuses`));
  });

  describe('confirm on use through SSH_ASKPASS', () => {
    let confirming: RunningAgent;
    let hurried: RunningAgent;
    const askpass = (): string => join(dir, 'askpass');
    const mode = (m: 'approve' | 'deny' | 'hang'): void => writeFileSync(join(dir, 'askpass-mode'), m);
    const prompt = (): string => readFileSync(join(dir, 'askpass-prompt'), 'utf8');

    beforeAll(async () => {
      writeFileSync(
        askpass(),
        [
          '#!/bin/sh',
          `printf '%s\\n%s\\n' "$SSH_ASKPASS_PROMPT" "$1" > '${join(dir, 'askpass-prompt')}'`,
          `echo $$ > '${join(dir, 'askpass-pid')}'`,
          `case "$(cat '${join(dir, 'askpass-mode')}')" in`,
          '  approve) exit 0 ;;',
          '  hang) exec sleep 60 ;;',
          '  *) exit 1 ;;',
          'esac',
          '',
        ].join('\n'),
        { mode: 0o755 },
      );
      const confirm = askpassConfirm({ ...env, SSH_ASKPASS: askpass() });
      expect(confirm).toBeDefined();
      const common = { vault: () => current, log: (line: string) => logLines.push(line), confirm: confirm! };
      confirming = await startAgentServer({ ...common, socketPath: join(dir, 'confirm', 'agent.sock') });
      hurried = await startAgentServer({ ...common, socketPath: join(dir, 'hurried', 'agent.sock'), confirmTimeoutMs: 1500 });
      await fx.call('AddAgentIdentity', { KeyId: ec.keyId, KeyVersionId: ec.versionId, Confirm: true });
    });

    afterAll(async () => {
      await fx.call('AddAgentIdentity', { KeyId: ec.keyId, KeyVersionId: ec.versionId, Confirm: false });
      await confirming?.close();
      await hurried?.close();
    });

    it('an agent without a way to ask refuses a confirm key (Agent.NoConfirmation)', async () => {
      logLines = [];
      expect((await signFile(ec.pub, 'no-confirm')).status).not.toBe(0);
      expect(logLines.join('\n')).toMatch(/refused SIGN_REQUEST from ssh-keygen\[\d+\]: key version \S+ needs confirmation on each use, and this agent has no way to ask/);
    });

    it('approved: ssh-keygen -Y sign signs, and the prompt named the program, the key and the namespace', async () => {
      mode('approve');
      ok(await signFile(ec.pub, 'approved', { SSH_AUTH_SOCK: confirming.socketPath }));
      ok(await verifyFile('approved'));
      const [kind, question] = prompt().split('\n');
      expect(kind).toBe('confirm');
      expect(question).toMatch(new RegExp(`^Allow ssh-keygen \\(pid \\d+\\) to use the DeskKMS key ${ec.keyId}, fingerprint ${ec.fingerprint.replace(/[+/]/g, '\\$&')}, for an SSH signature \\(ssh-keygen -Y sign\\) in namespace "file"\\?$`));
    });

    it('approved: an ssh login, the prompt naming the user and the host key the session is bound to', async () => {
      mode('approve');
      logLines = [];
      ok(await ssh('ecdsa-sha2-nistp256', {}, confirming.socketPath));
      // the host key is shown because sshd's session bind verified (its ed25519 signature over the session id)
      expect(prompt()).toContain(`for an SSH login as ${user} to the host with key ${hostFingerprint}?`);
      expect(logLines.join('\n')).not.toContain('refused session-bind');
    });

    it('denied: nothing is signed, the refusal is logged and audited as a refused AsymmetricSign', async () => {
      mode('deny');
      logLines = [];
      const before = await auditOf(ec.keyId);
      expect((await signFile(ec.pub, 'denied', { SSH_AUTH_SOCK: confirming.socketPath })).status).not.toBe(0);
      expect(logLines.join('\n')).toMatch(/refused SIGN_REQUEST from ssh-keygen\[\d+\]: the confirmation for .* was denied/);
      const after = await auditOf(ec.keyId);
      expect(after).toHaveLength(before.length + 1);
      expect(after.at(-1)!.code).toBe('Agent.Denied');
      expect(after.at(-1)!.caller).toMatch(/^ssh-agent\[ssh-keygen \d+\]$/);
    });

    it('unanswered: refused at the timeout, the askpass program stopped', async () => {
      mode('hang');
      logLines = [];
      expect((await signFile(ec.pub, 'timeout', { SSH_AUTH_SOCK: hurried.socketPath })).status).not.toBe(0);
      expect(logLines.join('\n')).toMatch(/refused SIGN_REQUEST from ssh-keygen\[\d+\]: no one answered the confirmation for .* within 1500 ms: refused/);
      expect((await auditOf(ec.keyId)).at(-1)!.code).toBe('Agent.ConfirmTimeout');
      expect(prompt()).toContain('confirm\n');
      // The program was stopped with its request (it would sleep a minute otherwise).
      const pid = Number(readFileSync(join(dir, 'askpass-pid'), 'utf8'));
      expect(await gone(pid)).toBe(true);
    });
  });
});

describe('what the agent refuses', () => {
  it('a disabled key is not listed, and ssh-keygen cannot sign with it', async () => {
    await fx.call('DisableKey', { KeyId: ec.keyId });
    try {
      expect(ok(await run('ssh-add', ['-L'])).trim().split('\n')).toEqual([rsa.line]);
      logLines = [];
      expect((await signFile(ec.pub, 'disabled')).status).not.toBe(0);
    } finally {
      await fx.call('EnableKey', { KeyId: ec.keyId });
    }
    expect(ok(await run('ssh-add', ['-L'])).trim().split('\n')).toEqual([ec.line, rsa.line]);
  });

  it('no vault: no identities, nothing signed', async () => {
    current = undefined;
    try {
      const r = await run('ssh-add', ['-L']);
      expect(r.status).toBe(1);
      expect(r.stdout).toContain('The agent has no identities.');
      expect((await signFile(ec.pub, 'no-vault')).status).not.toBe(0);
    } finally {
      current = fx.vault;
    }
  });

  it('ssh-add of a file key and ssh-add -D are refused: keys are managed in the vault', async () => {
    const key = join(dir, 'file-key');
    ok(await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]));
    logLines = [];
    const added = await run('ssh-add', [key]);
    expect(added.status).not.toBe(0);
    expect(logLines.join('\n')).toMatch(/refused ADD_IDENTITY from ssh-add\[\d+\]: keys are managed in the vault, not through the agent \(deskkms agent add KEY/);
    const removed = await run('ssh-add', ['-D']);
    expect(removed.status).not.toBe(0);
    expect(logLines.join('\n')).toMatch(/refused REMOVE_ALL_IDENTITIES from ssh-add\[\d+\]/);
    expect(ok(await run('ssh-add', ['-L'])).trim().split('\n')).toEqual([ec.line, rsa.line]);
  });

  it('ssh-add -x locks the vault (no identities, nothing signed) and ssh-add -X unlocks it with its passphrase', async () => {
    const askpass = join(dir, 'askpass-password');
    writeFileSync(askpass, `#!/bin/sh\ncat '${join(dir, 'password')}'\n`, { mode: 0o755 });
    const withPassword = (password: string): Record<string, string> => {
      writeFileSync(join(dir, 'password'), `${password}\n`);
      return { ...env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force' };
    };
    try {
      ok(await run('ssh-add', ['-x'], { env: withPassword('any lock password') }));
      expect(fx.vault.isLocked).toBe(true);
      const listed = await run('ssh-add', ['-L']);
      expect(listed.status).toBe(1);
      expect(listed.stdout).toContain('The agent has no identities.');
      logLines = [];
      expect((await signFile(ec.pub, 'locked')).status).not.toBe(0);
      expect((await run('ssh-add', ['-X'], { env: withPassword('not the passphrase') })).status).not.toBe(0);
      expect(fx.vault.isLocked).toBe(true);
      expect(logLines.join('\n')).toMatch(/refused UNLOCK from ssh-add\[\d+\]/);
      ok(await run('ssh-add', ['-X'], { env: withPassword('ssh-agent passphrase') }));
      expect(fx.vault.isLocked).toBe(false);
      expect(ok(await run('ssh-add', ['-L'])).trim().split('\n')).toEqual([ec.line, rsa.line]);
    } finally {
      if (fx.vault.isLocked) await fx.vault.unlockWith(Buffer.from('ssh-agent passphrase'));
    }
  });

  it.skipIf(!IS_ROOT)('another local user cannot use the socket, even where file modes would let it (a user made with useradd)', async () => {
    if (spawnSync('id', ['-u', OTHER_USER]).status !== 0) {
      const made = spawnSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', OTHER_USER], { encoding: 'utf8' });
      expect(made.status, made.stderr).toBe(0);
    }
    const uid = Number(spawnSync('id', ['-u', OTHER_USER], { encoding: 'utf8' }).stdout);
    const gid = Number(spawnSync('id', ['-g', OTHER_USER], { encoding: 'utf8' }).stdout);
    expect(uid).toBeGreaterThan(0);
    // Loosened so that only the peer check stands between the other user and the agent.
    const opened = [dirname(dir), dir, dirname(socketPath)];
    for (const d of opened) chmodSync(d, 0o711);
    chmodSync(socketPath, 0o666);
    logLines = [];
    try {
      const r = await run('ssh-add', ['-L'], { uid, gid, cwd: '/', env: { PATH: '/usr/bin:/bin', LANG: 'C', SSH_AUTH_SOCK: socketPath } });
      expect(r.status).not.toBe(0);
      expect(r.stdout).not.toContain('deskkms:');
      expect(r.stderr).toMatch(/communication with agent failed|error fetching identities/);
      expect(logLines.join('\n')).toMatch(new RegExp(`refused a connection from uid ${uid} \\(ssh-add\\[\\d+\\]\\): only uid 0, the agent's own user, may use it`));
    } finally {
      for (const d of opened) chmodSync(d, 0o700);
      chmodSync(socketPath, 0o600);
      spawnSync('userdel', [OTHER_USER]);
    }
  });
});

/** Waits (up to 20 s) until the process is gone; false if it is still there. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

