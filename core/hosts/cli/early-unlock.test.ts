// A passphrase vault's unlock started with the key worker (early-unlock.ts): what it reads, what
// it leaves alone, that every command and program that prestarts a worker hands it over, and,
// through the real worker, that it opens the vault only for the passphrase the command unlocks with.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type * as Prestart from '../../worker/prestart.ts';
import { Vault } from '../../vault/vault.ts';
import { dispatch } from '../../actions/dispatch.ts';
import type { CliIO } from './command.ts';
import { earlyUnlock } from './early-unlock.ts';
import { runCli } from './run.ts';
import { runGpgProgram } from '../programs/gpg.ts';
import { runSshKeygen } from '../programs/ssh-keygen.ts';
import { runSigstoreKms } from '../programs/sigstore-kms.ts';
import { runAgePlugin } from '../programs/age-plugin.ts';
import { ageDecryptInput } from '../../../test/support/age-plugin-input.ts';

/** What each prestartKeyWorker call was given, read at the call (the passphrase then moves to the worker). */
const prestarts = vi.hoisted(() => [] as ({ wrapped: string; passphrase: string } | undefined)[]);
vi.mock('../../worker/prestart.ts', async (importOriginal) => {
  const real = await importOriginal<typeof Prestart>();
  return {
    ...real,
    prestartKeyWorker: (prederive?: Prestart.Prederive) => {
      prestarts.push(prederive && { wrapped: prederive.wrapped, passphrase: Buffer.from(prederive.passphrase).toString() });
      return real.prestartKeyWorker(prederive);
    },
  };
});
const { prestartKeyWorker, takePrestartedKeyWorker } = await import('../../worker/prestart.ts');

const PASSPHRASE = 'correct horse battery staple';
let dir: string;
let vaultDir: string;
let passFile: string;
let header: string;
/** One letter off the vault's passphrase. */
let wrongFile: string;

/** The vault directory's files right after the vault closed, before anything else opened it. */
let filesAtRest: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deskkms-early-unlock-'));
  vaultDir = join(dir, 'vault');
  const vault = await Vault.init(vaultDir, { passphrase: Buffer.from(PASSPHRASE), kdfN: 2 ** 14 });
  header = vault.wrappedDataKey().text;
  await vault.close();
  filesAtRest = readdirSync(vaultDir).sort();
  expect(filesAtRest).toEqual(['vault.db']);
  passFile = join(dir, 'pass');
  writeFileSync(passFile, `${PASSPHRASE}\r\n`);
  writeFileSync(join(dir, 'recovery'), 'a recovery passphrase, not the vault\'s\n');
  wrongFile = join(dir, 'wrong');
  writeFileSync(wrongFile, 'correct horse battery stapLe\n');
  expect(header).toContain('"kdf":"scrypt"');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeEach(async () => {
  await takePrestartedKeyWorker()?.terminate();
  prestarts.length = 0;
});

const noEnv = { cwd: '/', env: {} };

describe('earlyUnlock', () => {
  it('reads the header\'s wrapped key and the passphrase file (less one newline), from flags (relative to cwd) or the environment', () => {
    const expected = { wrapped: header, passphrase: PASSPHRASE };
    const seen = (p: ReturnType<typeof earlyUnlock>) => p && { wrapped: p.wrapped, passphrase: Buffer.from(p.passphrase).toString() };
    expect(seen(earlyUnlock(['--vault', vaultDir, '--passphrase-file', passFile], noEnv))).toEqual(expected);
    expect(seen(earlyUnlock(['--passphrase-file=pass', '--vault=vault'], { cwd: dir, env: {} }))).toEqual(expected);
    expect(seen(earlyUnlock([], { cwd: '/', env: { DESKKMS_VAULT: vaultDir, DESKKMS_PASSPHRASE_FILE: passFile } }))).toEqual(expected);
    // The flags as the command's parseArgs reads them: the last of each, none after "--", others' values skipped.
    expect(seen(earlyUnlock(['--vault', join(dir, 'none'), '--KeyId', 'k', '--vault', vaultDir, '--passphrase-file=/nonexistent', `--passphrase-file=${passFile}`, 'positional'], noEnv))).toEqual(expected);
    expect(seen(earlyUnlock(['--vault', vaultDir, '--', '--passphrase-file', passFile], noEnv))).toBeUndefined();
    expect(seen(earlyUnlock(['--vault-passphrase-file', passFile], { cwd: '/', env: { DESKKMS_VAULT: vaultDir } }, 'vault-passphrase-file'))).toEqual(expected);
    // The passphrase is in a buffer of its own, exactly its bytes (it is transferred whole to the worker).
    expect(earlyUnlock(['--vault', vaultDir, '--passphrase-file', passFile], noEnv)!.passphrase.buffer.byteLength).toBe(PASSPHRASE.length);
  });

  it('nothing when no passphrase file is named, it is stdin or a pipe (never opened), or there is no passphrase vault; and it writes nothing', () => {
    const passFd = openSync(passFile, 'r');
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const keychainDir = join(dir, 'keychain-vault');
    execFileSync('cp', ['-r', vaultDir, keychainDir]);
    const db = new Database(join(keychainDir, 'vault.db'));
    db.prepare("UPDATE meta SET value = 'keychain' WHERE key = 'protection'").run();
    db.close();
    const cases: [string, string[], Record<string, string>][] = [
      ['no passphrase file', ['--vault', vaultDir], {}],
      ['stdin', ['--vault', vaultDir, '--passphrase-file', '-'], {}],
      ['a directory', ['--vault', vaultDir, '--passphrase-file', dir], {}],
      ['a missing file', ['--vault', vaultDir, '--passphrase-file', join(dir, 'none')], {}],
      ['no vault there', ['--vault', join(dir, 'none'), '--passphrase-file', passFile], {}],
      ['a directory that is not a vault', ['--vault', dir, '--passphrase-file', passFile], {}],
      ['a keychain vault', ['--vault', keychainDir, '--passphrase-file', passFile], {}],
      ['a path under /proc (this file, by its descriptor: some systems share the offset of /dev/fd/N)', ['--vault', vaultDir, '--passphrase-file', `/proc/self/fd/${passFd}`], {}],
    ];
    for (const [what, argv, env] of cases) expect(earlyUnlock(argv, { cwd: dir, env }), what).toBeUndefined();
    // In a child process that a timeout ends: a named pipe (what <(pass show vault) gives is one too)
    // is not opened, which would wait for its writer; nor /dev/stdin redirected from the very
    // passphrase file, a regular file.
    const script = join(dir, 'early-unlock-child.mjs');
    writeFileSync(
      script,
      `const { earlyUnlock } = await import(${JSON.stringify(new URL('./early-unlock.ts', import.meta.url).href)});
console.log(String(earlyUnlock(['--vault', process.argv[2], '--passphrase-file', process.argv[3]], { cwd: '/', env: {} })));`,
    );
    for (const [file, stdin] of [[fifo, 'ignore'], ['/dev/stdin', passFd]] as const) {
      const child = spawnSync(process.execPath, [script, vaultDir, file], { encoding: 'utf8', timeout: 30_000, stdio: [stdin, 'pipe', 'pipe'] });
      expect(child.error, file).toBeUndefined();
      expect(child.stdout, file).toBe('undefined\n');
    }
    closeSync(passFd);
    // The read-only connection created no -wal or -shm file (the vault's own open sets their modes).
    expect(readdirSync(vaultDir).sort()).toEqual(filesAtRest);
    expect(existsSync(join(dir, 'none'))).toBe(false);
  });
});

describe('every command and program that starts a key worker early hands it the unlock', () => {
  const io = (env: Record<string, string> = {}, stdin: NodeJS.ReadableStream = Readable.from([])): CliIO =>
    ({ stdout: { write: () => true }, stderr: { write: () => true }, stdin, cwd: dir, env: { DESKKMS_NO_AGENT: '1', ...env } }) as unknown as CliIO;
  // (a function: the vault is made in beforeAll, after this list is collected)
  const byEnv = () => ({ DESKKMS_VAULT: vaultDir, DESKKMS_PASSPHRASE_FILE: passFile });
  const sigstoreCall = (method: string, args: object | null = null) =>
    ['v1', JSON.stringify({ initOptions: { protocolVersion: 'v1', keyResourceID: 'alias/none', hashFunc: 5 }, methodName: method, [method]: args })];

  const early = () => [{ wrapped: header, passphrase: PASSPHRASE }];
  it.each<[string, () => Promise<number>, (() => unknown[])?]>([
    ['an Action (flags)', () => runCli(['ListKeys', '--vault', vaultDir, '--passphrase-file', passFile], io())],
    ['a command (flags)', () => runCli(['status', `--vault=${vaultDir}`, `--passphrase-file=${passFile}`], io())],
    ['a command (environment)', () => runCli(['status'], io(byEnv()))],
    // backup's --passphrase-file is the recovery passphrase; the vault's is --vault-passphrase-file (each failing at --bogus, after the start)
    ['backup create', () => runCli(['backup', 'create', '--vault', vaultDir, '--passphrase-file', join(dir, 'recovery'), '--vault-passphrase-file', passFile, '--bogus'], io())],
    ['backup create (environment)', () => runCli(['backup', 'create', '--vault', vaultDir, '--passphrase-file', join(dir, 'recovery'), '--bogus'], io({ DESKKMS_PASSPHRASE_FILE: passFile }))],
    // verify and restore unlock no vault: their worker starts with nothing to derive
    ['backup verify (none)', () => runCli(['backup', 'verify', '--bogus'], io(byEnv())), () => [undefined]],
    ['backup restore (none)', () => runCli(['backup', 'restore', '--vault', vaultDir, '--bogus'], io(byEnv())), () => [undefined]],
    ['deskkms sign (no agent)', () => runCli(['sign', '--key', 'alias/none', '--in', passFile, '--vault', vaultDir, '--passphrase-file', passFile], io())],
    ['deskkms-gpg -bsau', () => runGpgProgram(['-bsau', '5BFBA301E17BE51F88B794DA30B31FCBCFC41383'], { ...io(byEnv()), status: () => undefined })],
    ['deskkms-ssh-keygen -Y sign', () => runSshKeygen(['-Y', 'sign', '-n', 'git', '-f', join(dir, 'none.pub'), passFile], io(byEnv()))],
    ['sigstore-kms-deskkms publicKey', () => runSigstoreKms(sigstoreCall('publicKey'), io(byEnv()))],
    ['sigstore-kms-deskkms verifySignature', () => runSigstoreKms(sigstoreCall('verifySignature', { signature: 'AAAA' }), io(byEnv()))],
    ['age-plugin-deskkms', () => runAgePlugin(['--age-plugin=identity-v1'], io(byEnv(), Readable.from([Buffer.from(ageDecryptInput('5b3f3c4e-7a43-4c2b-9d0e-2f4f3b6a1c11'))])))],
  ])('%s', async (_, run, expected = early) => {
    await run();
    expect(prestarts).toEqual(expected());
  });
});

describe('through the real key worker', () => {
  const ask = async (vault: Vault) => {
    try {
      return await dispatch(vault, 'ListKeys', {}, 'test');
    } finally {
      await vault.close();
    }
  };

  it('the early unlock moves the passphrase to the worker, and the vault opens with it', async () => {
    const prederive = earlyUnlock(['--vault', vaultDir, '--passphrase-file', passFile], noEnv)!;
    const worker = prestartKeyWorker(prederive);
    expect(prederive.passphrase.byteLength).toBe(0); // transferred: no copy left on this thread
    const vault = Vault.open(vaultDir, { passphrase: Buffer.from(PASSPHRASE) });
    expect((vault as unknown as { worker: { worker: unknown } }).worker.worker).toBe(worker);
    expect(await ask(vault)).toMatchObject({ ok: true, body: { TotalCount: 0 } });
  });

  it('a second start while one worker waits starts nothing and wipes the passphrase it was given', () => {
    const waiting = prestartKeyWorker();
    const prederive = earlyUnlock(['--vault', vaultDir, '--passphrase-file', passFile], noEnv)!;
    expect(prestartKeyWorker(prederive)).toBe(waiting);
    expect(prederive.passphrase.every((b) => b === 0)).toBe(true);
  });

  it('the worker derives from the early passphrase as it starts, and the unlock uses that key (scrypt counted in each thread)', () => {
    // A child process whose every thread records its scrypt calls (an --import hook; a worker inherits it).
    const hook = join(dir, 'count-scrypt.mjs');
    writeFileSync(
      hook,
      `import { createRequire, syncBuiltinESMExports } from 'node:module';
const require = createRequire(import.meta.url);
const crypto = require('node:crypto');
const { isMainThread } = require('node:worker_threads');
const real = crypto.scrypt;
crypto.scrypt = (...args) => { process._rawDebug(isMainThread ? 'scrypt in main' : 'scrypt in worker'); return real(...args); };
syncBuiltinESMExports();
`,
    );
    const url = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
    const script = join(dir, 'open-early.mjs');
    writeFileSync(
      script,
      `const { earlyUnlock } = await import(${url('./early-unlock.ts')});
const { prestartKeyWorker } = await import(${url('../../worker/prestart.ts')});
const { Vault } = await import(${url('../../vault/vault.ts')});
const { dispatch } = await import(${url('../../actions/dispatch.ts')});
const [vaultDir, earlyFile, passphrase] = process.argv.slice(2);
prestartKeyWorker(earlyFile === '-' ? undefined : earlyUnlock(['--vault', vaultDir, '--passphrase-file', earlyFile], { cwd: '/', env: {} }));
const vault = Vault.open(vaultDir, { passphrase: Buffer.from(passphrase) });
const outcome = await dispatch(vault, 'ListKeys', {}, 'test');
await vault.close();
console.log(outcome.ok ? 'opened' : outcome.error.Code);
`,
    );
    const run = (earlyFile: string) => {
      const child = spawnSync(process.execPath, ['--import', hook, script, vaultDir, earlyFile, PASSPHRASE], { encoding: 'utf8', timeout: 60_000 });
      return { stdout: child.stdout, scrypt: child.stderr.split('\n').filter((line) => line.startsWith('scrypt')) };
    };
    // Without an early unlock: the unlock's own scrypt.
    expect(run('-')).toEqual({ stdout: 'opened\n', scrypt: ['scrypt in worker'] });
    // With the right passphrase ahead: still one scrypt in all, so the unlock used the early one.
    expect(run(passFile)).toEqual({ stdout: 'opened\n', scrypt: ['scrypt in worker'] });
    // With another one ahead: two, so the early derivation did run in the worker, and was not used.
    expect(run(wrongFile)).toEqual({ stdout: 'opened\n', scrypt: ['scrypt in worker', 'scrypt in worker'] });
  });

  it('a passphrase the command does not unlock with never opens the vault, nor keeps the right one out', async () => {
    prestartKeyWorker(earlyUnlock(['--vault', vaultDir, '--passphrase-file', passFile], noEnv));
    expect(await ask(Vault.open(vaultDir, { passphrase: Buffer.from('correct horse battery stapLe') }))).toMatchObject({ ok: false, error: { Code: 'Vault.Locked' } });
    prestartKeyWorker(earlyUnlock(['--vault', vaultDir, '--passphrase-file', wrongFile], noEnv));
    expect(await ask(Vault.open(vaultDir, { passphrase: Buffer.from(PASSPHRASE) }))).toMatchObject({ ok: true });
  });
});
