// The agent's cost against the paths it replaces, same run (issue 14's goal: the agent path within
// 2x of the file-key path):
//   (a) wall time of one `git commit -S` (gpg.format=ssh, the stock ssh-keygen) signed through the
//       DeskKMS agent (an EC_P256 vault key, its public key as user.signingkey) against the same
//       commit signed by the stock ssh-keygen with a file key (ssh-keygen -t ecdsa -b 256); for
//       scale, the same file key held by OpenSSH's own ssh-agent (what any agent round trip costs);
//   (b) `bin/deskkms sign --format ssh` of a small file with the agent running (it signs through
//       the agent's endpoint: no unlock, no key worker) against DESKKMS_NO_AGENT=1 (the command
//       opens and unlocks the vault itself).
// Runs interleaved (agent, baseline, agent, ...) so load on the machine hits both alike; prints
// medians and ratios. A passphrase vault in a temporary directory (no keychain needed), removed
// at the end. AGENT_BENCH_RUNS sets the repetitions (default 9).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { dispatch } from '../../core/actions/dispatch.ts';
import { listAuditEntries } from '../../core/audit/audit-log.ts';
import { Vault } from '../../core/vault/vault.ts';
import { median, printTable } from './measure.ts';
import { say } from './summary.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const DESKKMS = join(ROOT, 'bin', 'deskkms');
const PASSPHRASE = 'agent bench passphrase';

/** Runs a command to completion; its wall time in ms. Throws (with its stderr) when it fails. */
function timed(command: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }): number {
  const started = performance.now();
  const r = spawnSync(command, args, { ...options, encoding: 'utf8' });
  const ms = performance.now() - started;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

async function call(vault: Vault, action: string, params: Record<string, unknown>): Promise<Record<string, any>> {
  const outcome = await dispatch(vault, action, params, 'bench');
  if (!outcome.ok) throw new Error(`${action}: ${outcome.error.Code}: ${outcome.error.Message}`);
  return outcome.body;
}

export async function agentBench(runs = Number(process.env.AGENT_BENCH_RUNS ?? 9)): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'deskkms-agent-bench-'));
  const vaultDir = join(dir, 'vault');
  const passFile = join(dir, 'pass');
  writeFileSync(passFile, `${PASSPHRASE}\n`);
  const socket = join(dir, 'run', 'agent.sock');
  const base: NodeJS.ProcessEnv = {
    PATH: `${join(ROOT, 'bin')}:/usr/local/bin:/usr/bin:/bin`,
    HOME: dir,
    LANG: 'C.UTF-8',
    DESKKMS_VAULT: vaultDir,
    DESKKMS_PASSPHRASE_FILE: passFile,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Bench',
    GIT_AUTHOR_EMAIL: 'bench@example.org',
    GIT_COMMITTER_NAME: 'Bench',
    GIT_COMMITTER_EMAIL: 'bench@example.org',
  };
  let agent: ReturnType<typeof spawn> | undefined;
  let stockAgent: ReturnType<typeof spawn> | undefined;
  try {
    // The vault key, served by the agent.
    const vault = await Vault.init(vaultDir, { passphrase: Buffer.from(PASSPHRASE), kdfN: 2 ** 14 });
    let keyId: string;
    let vaultLine: string;
    try {
      keyId = (await call(vault, 'CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' })).KeyMetadata.KeyId as string;
      const versionId = (await call(vault, 'ListKeyVersions', { KeyId: keyId })).KeyVersions.KeyVersion[0].KeyVersionId as string;
      vaultLine = (await call(vault, 'AddAgentIdentity', { KeyId: keyId, KeyVersionId: versionId })).Identity.SshPublicKey as string;
    } finally {
      await vault.close();
    }
    writeFileSync(join(dir, 'vault-key.pub'), `${vaultLine}\n`);
    // The file key the baseline signs with.
    const fileKey = join(dir, 'file-key');
    timed('ssh-keygen', ['-q', '-t', 'ecdsa', '-b', '256', '-N', '', '-f', fileKey], { cwd: dir, env: base });

    const child = spawn(DESKKMS, ['agent', '--socket', socket], { env: base, stdio: ['ignore', 'pipe', 'ignore'] });
    agent = child;
    await new Promise<void>((done, fail) => {
      createInterface({ input: child.stdout }).once('line', () => done());
      child.once('exit', (code) => fail(new Error(`deskkms agent exited ${code}`)));
    });

    // OpenSSH's ssh-agent holding the file key (-D: in the foreground, this process's child).
    const stockSocket = join(dir, 'stock-agent.sock');
    const stock = spawn('ssh-agent', ['-D', '-a', stockSocket], { env: base, stdio: ['ignore', 'pipe', 'ignore'] });
    stockAgent = stock;
    await new Promise<void>((done, fail) => {
      createInterface({ input: stock.stdout }).once('line', () => done());
      stock.once('exit', (code) => fail(new Error(`ssh-agent exited ${code}`)));
    });
    const stockEnv = { ...base, SSH_AUTH_SOCK: stockSocket };
    timed('ssh-add', ['-q', fileKey], { cwd: dir, env: stockEnv });

    // Three repositories, the same commit in each: through the DeskKMS agent, with the file key,
    // and with the file key in the stock ssh-agent.
    const repos = { agent: join(dir, 'repo-agent'), file: join(dir, 'repo-file'), stock: join(dir, 'repo-stock') };
    const signingKey = { agent: join(dir, 'vault-key.pub'), file: fileKey, stock: `${fileKey}.pub` };
    for (const which of ['agent', 'file', 'stock'] as const) {
      const repo = repos[which];
      timed('git', ['init', '-q', '-b', 'main', repo], { cwd: dir, env: base });
      timed('git', ['config', 'gpg.format', 'ssh'], { cwd: repo, env: base });
      timed('git', ['config', 'user.signingkey', signingKey[which]], { cwd: repo, env: base });
    }
    const agentEnv = { ...base, SSH_AUTH_SOCK: socket };
    const envOf = { agent: agentEnv, file: base, stock: stockEnv };
    const commit = (which: 'agent' | 'file' | 'stock', n: number): number =>
      timed('git', ['commit', '--allow-empty', '-q', '-S', '-m', `commit ${n}`], { cwd: repos[which], env: envOf[which] });
    commit('agent', 0); // warm-up: first connection, first unlocked signature
    commit('file', 0);
    commit('stock', 0);
    const git = { agent: [] as number[], file: [] as number[], stock: [] as number[] };
    for (let i = 1; i <= runs; i++) {
      git.agent.push(commit('agent', i));
      git.file.push(commit('file', i));
      git.stock.push(commit('stock', i));
    }
    // Where the difference is: one connection that only lists (the peer check, the identities).
    const list = { agent: [] as number[], stock: [] as number[] };
    for (let i = 0; i < runs; i++) {
      list.agent.push(timed('ssh-add', ['-l'], { cwd: dir, env: agentEnv }));
      list.stock.push(timed('ssh-add', ['-l'], { cwd: dir, env: stockEnv }));
    }
    stock.kill('SIGTERM');
    stockAgent = undefined;
    // Each agent commit carries an SSH signature (the audit count below says the vault key made it).
    const raw = spawnSync('git', ['cat-file', 'commit', 'HEAD'], { cwd: repos.agent, env: base, encoding: 'utf8' }).stdout;
    if (!raw.includes('-----BEGIN SSH SIGNATURE-----')) throw new Error('the agent repository\'s commit is not SSH-signed');

    // (b) deskkms sign of a small file, through the agent and without it.
    writeFileSync(join(dir, 'notes.txt'), 'release notes\n');
    const sign = (viaAgent: boolean): number =>
      timed(DESKKMS, ['sign', '--key', keyId, '--format', 'ssh', '--in', 'notes.txt', '-o', 'notes.txt.sig', '--force'], {
        cwd: dir,
        env: viaAgent ? agentEnv : { ...base, DESKKMS_NO_AGENT: '1' },
      });
    sign(true);
    sign(false);
    const cli = { agent: [] as number[], direct: [] as number[] };
    for (let i = 0; i < runs; i++) {
      cli.agent.push(sign(true));
      cli.direct.push(sign(false));
    }

    child.kill('SIGTERM');
    await new Promise((done) => child.once('exit', done));
    agent = undefined;

    // Who signed: the audit log says how many went through the agent (SSH clients, the endpoint).
    const check = Vault.open(vaultDir, { passphrase: Buffer.from(PASSPHRASE) });
    let viaSsh = 0;
    let viaEndpoint = 0;
    let direct = 0;
    try {
      await check.ensureUnlocked();
      for (const e of listAuditEntries(check.store.db, { newestFirst: true, limit: 10_000 })) {
        if (e.action !== 'AsymmetricSign' || e.code !== 'OK') continue;
        if (/^ssh-agent\[[^\]]+\]$/.test(e.caller)) viaSsh++;
        else if (/^ssh-agent\[[^\]]+\]:cli:ssh$/.test(e.caller)) viaEndpoint++;
        else if (e.caller === 'cli:ssh') direct++;
      }
    } finally {
      await check.close();
    }

    const gitRatio = median(git.agent) / median(git.file);
    const cliRatio = median(cli.agent) / median(cli.direct);
    printTable(`The agent (median of ${runs} runs each, interleaved, same run)`, ['operation', 'agent ms', 'baseline', 'baseline ms', 'ratio'], [
      ['git commit -S (gpg.format=ssh, stock ssh-keygen)', median(git.agent).toFixed(0), 'ssh-keygen, file key (ecdsa 256)', median(git.file).toFixed(0), gitRatio.toFixed(2)],
      ['  for scale: the file key in OpenSSH ssh-agent', median(git.stock).toFixed(0), 'ssh-keygen, file key (ecdsa 256)', median(git.file).toFixed(0), (median(git.stock) / median(git.file)).toFixed(2)],
      ['ssh-add -l (one connection: peer check, identities)', median(list.agent).toFixed(0), 'OpenSSH ssh-agent, file key', median(list.stock).toFixed(0), (median(list.agent) / median(list.stock)).toFixed(2)],
      ['deskkms sign --format ssh (small file)', median(cli.agent).toFixed(0), 'DESKKMS_NO_AGENT=1 (opens the vault)', median(cli.direct).toFixed(0), cliRatio.toFixed(2)],
    ]);
    say(
      `audit: ${viaSsh} signatures by ssh-keygen through the agent, ${viaEndpoint} by deskkms sign through the agent, ${direct} by deskkms sign opening the vault` +
        ` (expected ${runs + 1} each)`,
    );
    say(`goal (issue 14): agent git commit within 2x of the file key: ${gitRatio <= 2 ? 'met' : 'NOT met'} (${gitRatio.toFixed(2)}x)`);
  } finally {
    agent?.kill('SIGTERM');
    stockAgent?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await agentBench();
