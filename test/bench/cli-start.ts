// Cold start of the deskkms command: `deskkms --help` and a one-line `deskkms batch` (ListKeys on a
// passphrase vault, so the scrypt unlock is in it) against the commands a user compares it with:
// `openssl version` and `ssh-keygen -l -f KEY.pub` as the floor, and bare `node -e 0` (the pinned
// Node's own start). Then the programs git runs: `deskkms-gpg` and `deskkms-ssh-keygen` handing a
// verification-like call to the real program (git runs them once per signature it verifies),
// against that program alone; and `deskkms-gpg -bsau FPR`, what `git commit -S` runs, on both
// vaults. Each figure is the median wall time of a few runs, spawn to exit, printed as ratios to
// the floor measured in this same run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { printTable } from './measure.ts';
import { QUICK, record } from './summary.ts';

// The documented command: bin/deskkms (sh) starts the pinned Node with the per-user compile cache.
const BIN = resolve(import.meta.dirname, '../../bin/deskkms');
const GPG_BIN = resolve(import.meta.dirname, '../../bin/deskkms-gpg');
const SSH_KEYGEN_BIN = resolve(import.meta.dirname, '../../bin/deskkms-ssh-keygen');
const GPG_SIGN = 'deskkms-gpg -bsau FPR (git commit -S), keychain vault';
const GPG_SIGN_PASSPHRASE = 'deskkms-gpg -bsau FPR, passphrase vault';
const GPG_ROW = 'gpg --version';
const HANDOVER_ROW = 'deskkms-gpg --version (handed to gpg)';
const BATCH_ROW = 'deskkms batch (one ListKeys, passphrase vault: scrypt unlock)';
const KEYCHAIN_ROW = 'deskkms batch (one ListKeys, keychain vault)';
const RUNS = Math.max(3, Number(process.env.BENCH_START_RUNS ?? 5));

/** Median wall time (ms) of `runs` runs of the command, or undefined when it cannot run. */
function medianMs(command: string, args: readonly string[], input?: string, env?: NodeJS.ProcessEnv): number | undefined {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    const r = spawnSync(command, args, { input, stdio: ['pipe', 'ignore', 'pipe'], ...(env ? { env } : {}) });
    const ms = performance.now() - start;
    if (r.error || r.status !== 0) return undefined;
    times.push(ms);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * A new EC_P256 signing key in the vault and its OpenPGP fingerprint (read by the real gpg); when
 * any step fails (no gpg, a refused command), undefined, said on stderr: its rows read n/a and
 * the section's other rows, the goal figures among them, are still measured.
 */
function openpgpSigningKey(dir: string, vaultArgs: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  const failed = (what: string, stderr: string): undefined => {
    process.stderr.write(`cli-start: ${what} failed, its rows n/a: ${stderr.trim().split('\n').at(-1) ?? ''}\n`);
    return undefined;
  };
  const created = spawnSync(BIN, ['CreateKey', ...vaultArgs, '--KeySpec', 'EC_P256', '--KeyUsage', 'SIGN/VERIFY'], { env, encoding: 'utf8' });
  if (created.status !== 0) return failed('deskkms CreateKey', created.stderr);
  const keyId = (JSON.parse(created.stdout) as { KeyMetadata: { KeyId: string } }).KeyMetadata.KeyId;
  const cert = spawnSync(BIN, ['pubkey', keyId, ...vaultArgs, '--format', 'openpgp', '--user-id', 'Bench <bench@example.org>'], { env, encoding: 'utf8' });
  if (cert.status !== 0) return failed('deskkms pubkey', cert.stderr);
  const home = mkdtempSync(join(dir, 'gnupg-'));
  const shown = spawnSync('gpg', ['--homedir', home, '--batch', '--with-colons', '--show-keys'], { input: cert.stdout, encoding: 'utf8' });
  const fingerprint = shown.status === 0 ? /^fpr:+([0-9A-F]{40}):/m.exec(shown.stdout)?.[1] : undefined;
  return fingerprint ?? failed('gpg --show-keys', String(shown.stderr ?? shown.error));
}

export function cliStart(): void {
  const dir = mkdtempSync(join(tmpdir(), 'deskkms-bench-start-'));
  try {
    const vault = join(dir, 'vault');
    const pw = join(dir, 'pw');
    writeFileSync(pw, 'bench passphrase\n');
    const env = { ...process.env, HOME: dir };
    const init = spawnSync(BIN, ['init', '--vault', vault, '--passphrase-file', pw], { env, stdio: 'ignore' });
    if (init.status !== 0) throw new Error('deskkms init failed');
    const key = join(dir, 'id_ed25519');
    const keygen = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key], { stdio: 'ignore' });
    const floors: [string, number | undefined][] = [
      ['openssl version', medianMs('openssl', ['version'])],
      ['ssh-keygen -l -f KEY.pub', keygen.status === 0 ? medianMs('ssh-keygen', ['-l', '-f', `${key}.pub`]) : undefined],
    ];
    const floor = floors.find(([, ms]) => ms !== undefined)?.[1];
    // A keychain vault, where the session has a Secret Service (npm test's wrapper starts one;
    // test/setup/with-secret-service.sh npm run bench does too): no scrypt in its unlock.
    const keychainVault = join(dir, 'keychain-vault');
    const keychain = process.env.DBUS_SESSION_BUS_ADDRESS ? spawnSync(BIN, ['init', '--vault', keychainVault], { env, stdio: 'ignore' }).status === 0 : false;
    // git's programs sign with a key found by its fingerprint; no agent, so each opens its vault.
    // Not goal figures: --quick leaves them out.
    const programEnv = { ...env, DESKKMS_NO_AGENT: '1' };
    const fingerprint = QUICK ? undefined : openpgpSigningKey(dir, ['--vault', vault, '--passphrase-file', pw], env);
    const keychainFingerprint = keychain && !QUICK ? openpgpSigningKey(dir, ['--vault', keychainVault], env) : undefined;
    const commit = 'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor Bench <bench@example.org> 1764806400 +0000\n\nRelease\n';
    const gpgSign = (fpr: string | undefined, vaultEnv: NodeJS.ProcessEnv): number | undefined =>
      fpr === undefined ? undefined : medianMs(GPG_BIN, ['--status-fd=2', '-bsau', fpr], commit, { ...programEnv, ...vaultEnv });
    // Run once first so that Node's compile cache is warm, as it is after the first use.
    spawnSync(BIN, ['--help'], { stdio: 'ignore', env });
    if (!QUICK) spawnSync(GPG_BIN, ['--version'], { stdio: 'ignore', env: programEnv });
    const rows: [string, number | undefined][] = [
      ...floors,
      ['node -e 0 (the pinned Node)', medianMs(process.execPath, ['-e', '0'])],
      ['deskkms --help', medianMs(BIN, ['--help'], undefined, env)],
      ['deskkms AsymmetricSign --help', medianMs(BIN, ['AsymmetricSign', '--help'], undefined, env)],
      [BATCH_ROW, medianMs(BIN, ['batch', '--vault', vault, '--passphrase-file', pw], '{"Action":"ListKeys"}\n', env)],
      [KEYCHAIN_ROW, keychain ? medianMs(BIN, ['batch', '--vault', keychainVault], '{"Action":"ListKeys"}\n', env) : undefined],
      ...(QUICK
        ? []
        : ([
            [GPG_ROW, medianMs('gpg', ['--version'])],
            [HANDOVER_ROW, medianMs(GPG_BIN, ['--version'], undefined, programEnv)],
            ['deskkms-ssh-keygen -l -f KEY.pub (handed to ssh-keygen)', keygen.status === 0 ? medianMs(SSH_KEYGEN_BIN, ['-l', '-f', `${key}.pub`], undefined, programEnv) : undefined],
            [GPG_SIGN, gpgSign(keychainFingerprint, { DESKKMS_VAULT: keychainVault })],
            [GPG_SIGN_PASSPHRASE, gpgSign(fingerprint, { DESKKMS_VAULT: vault, DESKKMS_PASSPHRASE_FILE: pw })],
          ] satisfies [string, number | undefined][])),
    ];
    // The keychain entry goes with the vault: protect it with the passphrase, which removes it.
    if (keychain) spawnSync(BIN, ['vault', 'protect', '--with', 'passphrase', '--new-passphrase-file', pw, '--vault', keychainVault], { env, stdio: 'ignore' });
    const ms = (name: string): number => rows.find(([n]) => n === name)?.[1] ?? Number.NaN;
    const floorName = floors[0]![1] !== undefined ? 'openssl version' : 'ssh-keygen -l';
    record({ id: 'start.help.seconds', what: 'deskkms --help, median wall time', value: ms('deskkms --help') / 1000, against: 'seconds', goal: { atMost: 0.3 } });
    record({ id: 'start.help.ratio', what: 'deskkms --help', value: ms('deskkms --help') / (floor ?? Number.NaN), against: `${floorName}, same run` });
    record({ id: 'start.batch.keychain.seconds', what: 'one-line deskkms batch, keychain vault (n/a without a Secret Service)', value: ms(KEYCHAIN_ROW) / 1000, against: 'seconds', goal: { atMost: 0.6 } });
    record({ id: 'start.batch.seconds', what: 'one-line deskkms batch (passphrase vault: scrypt unlock)', value: ms(BATCH_ROW) / 1000, against: 'seconds' });
    record({ id: 'start.batch.ratio', what: 'one-line deskkms batch (passphrase vault)', value: ms(BATCH_ROW) / (floor ?? Number.NaN), against: `${floorName}, same run` });
    if (!QUICK) record({ id: 'start.gpg.handover.ratio', what: 'deskkms-gpg --version, handed to the real gpg (git verifying a signature)', value: ms(HANDOVER_ROW) / ms(GPG_ROW), against: 'gpg --version, same run' });
    if (!QUICK) record({ id: 'start.gpg.sign.keychain.seconds', what: 'deskkms-gpg -bsau FPR as git commit -S runs it, keychain vault, no agent (n/a without a Secret Service or gpg)', value: ms(GPG_SIGN) / 1000, against: 'seconds' });
    printTable(
      `Cold start, median of ${RUNS} runs (spawn to exit), ratio to ${floorName}`,
      ['command', 'ms', 'ratio'],
      rows.map(([name, ms]) => [name, ms === undefined ? 'n/a' : ms.toFixed(0), ms === undefined || floor === undefined ? '-' : (ms / floor).toFixed(1)]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
