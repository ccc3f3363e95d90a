// Cold start of the deskkms command: `deskkms --help` and a one-line `deskkms batch` (ListKeys on a
// passphrase vault, so the scrypt unlock is in it) against the commands a user compares it with:
// `openssl version` and `ssh-keygen -l -f KEY.pub` as the floor, and bare `node -e 0` (the pinned
// Node's own start). Each figure is the median wall time of a few runs, spawn to exit, printed as
// ratios to the floor measured in this same run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { printTable } from './measure.ts';
import { record } from './summary.ts';

// The documented command: bin/deskkms (sh) starts the pinned Node with the per-user compile cache.
const BIN = resolve(import.meta.dirname, '../../bin/deskkms');
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
    // Run once first so that Node's compile cache is warm, as it is after the first use.
    spawnSync(BIN, ['--help'], { stdio: 'ignore', env });
    const rows: [string, number | undefined][] = [
      ...floors,
      ['node -e 0 (the pinned Node)', medianMs(process.execPath, ['-e', '0'])],
      ['deskkms --help', medianMs(BIN, ['--help'], undefined, env)],
      ['deskkms AsymmetricSign --help', medianMs(BIN, ['AsymmetricSign', '--help'], undefined, env)],
      ['deskkms batch (one ListKeys, passphrase vault: scrypt unlock)', medianMs(BIN, ['batch', '--vault', vault, '--passphrase-file', pw], '{"Action":"ListKeys"}\n', env)],
      [KEYCHAIN_ROW, keychain ? medianMs(BIN, ['batch', '--vault', keychainVault], '{"Action":"ListKeys"}\n', env) : undefined],
    ];
    // The keychain entry goes with the vault: protect it with the passphrase, which removes it.
    if (keychain) spawnSync(BIN, ['vault', 'protect', '--with', 'passphrase', '--new-passphrase-file', pw, '--vault', keychainVault], { env, stdio: 'ignore' });
    const ms = (name: string): number => rows.find(([n]) => n === name)?.[1] ?? Number.NaN;
    const floorName = floors[0]![1] !== undefined ? 'openssl version' : 'ssh-keygen -l';
    record({ id: 'start.help.seconds', what: 'deskkms --help, median wall time', value: ms('deskkms --help') / 1000, against: 'seconds', goal: { atMost: 0.3 } });
    record({ id: 'start.help.ratio', what: 'deskkms --help', value: ms('deskkms --help') / (floor ?? Number.NaN), against: `${floorName}, same run` });
    const batchRow = rows.at(-2)![0];
    record({ id: 'start.batch.keychain.seconds', what: 'one-line deskkms batch, keychain vault (n/a without a Secret Service)', value: ms(KEYCHAIN_ROW) / 1000, against: 'seconds', goal: { atMost: 0.6 } });
    record({ id: 'start.batch.seconds', what: 'one-line deskkms batch (passphrase vault: scrypt unlock)', value: ms(batchRow) / 1000, against: 'seconds' });
    record({ id: 'start.batch.ratio', what: 'one-line deskkms batch (passphrase vault)', value: ms(batchRow) / (floor ?? Number.NaN), against: `${floorName}, same run` });
    printTable(
      `Cold start, median of ${RUNS} runs (spawn to exit), ratio to ${floors[0]![1] !== undefined ? 'openssl version' : 'ssh-keygen -l'}`,
      ['command', 'ms', 'ratio'],
      rows.map(([name, ms]) => [name, ms === undefined ? 'n/a' : ms.toFixed(0), ms === undefined || floor === undefined ? '-' : (ms / floor).toFixed(1)]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
