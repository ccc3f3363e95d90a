// The vault's files when something outside DeskKMS is wrong with them, as a user meets it on the
// command line: each case gives its Code, a message naming the path and the fix, and no stack
// trace. File modes mean nothing to root, so the CLI runs as an unprivileged user: as `nobody`
// (setpriv) when these tests run as root (CI, the build machine), else as the current user. Cases
// that need root to set up (another user's directory, chattr +i, a read-only or full mount) are
// skipped with the reason when these tests do not run as root.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { KmsError } from '../../core/contract/errors.ts';
import { Store, setMeta } from '../../core/vault/store.ts';
import { spawnUntilFirstLine } from '../support/child-process.ts';
import { rejection } from '../support/errors.ts';

const BIN = resolve(import.meta.dirname, '../../core/hosts/cli/deskkms.ts');
const NOBODY = 65534;
const IS_ROOT = process.getuid?.() === 0;
const PASSPHRASE = 'file-errors correct horse';

/** How the CLI is run unprivileged: a setpriv prefix when root, nothing otherwise; or why not. */
function unprivileged(): { prefix: string[]; uid: number } | { skip: string } {
  if (process.platform !== 'linux') return { skip: `file modes and uids are tested on Linux only (this is ${process.platform})` };
  if (!IS_ROOT) return { prefix: [], uid: process.getuid!() };
  const prefix = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'];
  const probe = spawnSync(prefix[0]!, [...prefix.slice(1), process.execPath, '-e', 'process.exit(process.getuid() === 65534 ? 0 : 1)']);
  if (probe.status !== 0) return { skip: `running as root and cannot switch to uid ${NOBODY} with setpriv (${probe.error?.message ?? probe.stderr.toString().trim()})` };
  return { prefix, uid: NOBODY };
}

const runner = unprivileged();
let base: string;
let passFile: string;
let wrongFile: string;

function skipUnless(ctx: TestContext, reason: string | undefined): void {
  if (reason === undefined) return;
  console.warn(`skipped "${ctx.task.name}": ${reason}`);
  ctx.skip(reason);
}

/** A directory the unprivileged user owns (the test's own user when not root). */
function userDir(name: string): string {
  const path = join(base, name);
  mkdirSync(path, { recursive: true, mode: 0o700 });
  if ('uid' in runner) chownSync(path, runner.uid, runner.uid);
  return path;
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** deskkms as the unprivileged user, with umask 022 (a common default that would make files 0644). */
function deskkms(args: string[], options: { asRoot?: boolean } = {}): Run {
  const prefix = options.asRoot || !('prefix' in runner) ? [] : runner.prefix;
  const command = [...prefix, 'sh', '-c', 'umask 022 && exec "$0" "$@"', process.execPath, BIN, ...args];
  const r = spawnSync(command[0]!, command.slice(1), {
    encoding: 'utf8',
    cwd: base,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: base, LANG: 'C' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The one {"Code","Message"} line on stderr; fails on anything else there (a stack trace, a second line). */
function failure(run: Run): { Code: string; Message: string } {
  expect(run.stderr).not.toMatch(/^\s+at /m);
  const lines = run.stderr.trim().split('\n');
  expect(lines, run.stderr).toHaveLength(1);
  return JSON.parse(lines[0]!) as { Code: string; Message: string };
}

function init(vault: string): void {
  const r = deskkms(['init', '--vault', vault, '--passphrase-file', passFile]);
  expect(r.status, r.stderr).toBe(0);
}

function createKey(vault: string, file = passFile): Run {
  return deskkms(['CreateKey', '--vault', vault, '--passphrase-file', file, '--KeySpec', 'EC_P256']);
}

function mode(path: string): string {
  return (statSync(path).mode & 0o777).toString(8);
}

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'deskkms-file-errors-'));
  chmodSync(base, 0o755); // the unprivileged user must reach its own directories in here
  passFile = join(base, 'pass.txt');
  wrongFile = join(base, 'wrong.txt');
  writeFileSync(passFile, `${PASSPHRASE}\n`, { mode: 0o600 });
  writeFileSync(wrongFile, 'incorrect donkey accumulator\n', { mode: 0o600 });
  if ('uid' in runner) for (const f of [passFile, wrongFile]) chownSync(f, runner.uid, runner.uid);
});

afterAll(() => {
  if (base) rmSync(base, { recursive: true, force: true });
});

const setupSkip = 'skip' in runner ? runner.skip : undefined;
const rootSkip = setupSkip ?? (IS_ROOT ? undefined : 'needs root to set up (another user, chattr, mount); run the suite as root to cover it');

describe('vault file errors on the CLI (as an unprivileged user)', () => {
  it('creates vault.db, vault.db-wal and vault.db-shm 0600 under umask 022, from creation', async (ctx) => {
    skipUnless(ctx, setupSkip);
    const vault = join(userDir('modes'), 'vault');
    init(vault);
    expect(mode(vault)).toBe('700');
    expect(mode(join(vault, 'vault.db'))).toBe('600');
    // serve keeps the vault open: SQLite creates the -wal and -shm now (the vault's last close
    // removed them), with vault.db's mode; nothing of ours touches them afterwards.
    const prefix = 'prefix' in runner ? runner.prefix : [];
    const command = [...prefix, 'sh', '-c', 'umask 022 && exec "$0" "$@"', process.execPath, BIN, 'serve', '--vault', vault, '--passphrase-file', passFile];
    const serve = await spawnUntilFirstLine(command[0]!, command.slice(1), { cwd: base, env: { PATH: process.env.PATH ?? '', HOME: base } });
    try {
      expect(mode(join(vault, 'vault.db-wal'))).toBe('600');
      expect(mode(join(vault, 'vault.db-shm'))).toBe('600');
    } finally {
      await serve.stop();
    }
  });

  it('tightens a vault.db made 0644 by an older DeskKMS when it opens it', (ctx) => {
    skipUnless(ctx, setupSkip);
    const vault = join(userDir('legacy-modes'), 'vault');
    init(vault);
    chmodSync(join(vault, 'vault.db'), 0o644);
    expect(deskkms(['status', '--vault', vault]).status).toBe(0);
    expect(mode(join(vault, 'vault.db'))).toBe('600');
  });

  it('read-only vault.db: Vault.ReadOnly naming vault.db and chmod; reads still work', (ctx) => {
    skipUnless(ctx, setupSkip);
    const vault = join(userDir('ro-file'), 'vault');
    init(vault);
    chmodSync(join(vault, 'vault.db'), 0o400);
    const run = createKey(vault);
    expect(run.status).toBe(1);
    const error = failure(run);
    expect(error.Code).toBe('Vault.ReadOnly');
    expect(error.Message).toContain(`${join(vault, 'vault.db')} is not writable by uid`);
    expect(error.Message).toMatch(/mode 0400\).*nothing was written\. To fix: .*chmod 600 /);
    expect(deskkms(['status', '--vault', vault, '--passphrase-file', passFile]).status).toBe(0);
  });

  it('read-only vault directory: Vault.ReadOnly naming the directory and the -wal/-shm SQLite must create', (ctx) => {
    skipUnless(ctx, setupSkip);
    const vault = join(userDir('ro-dir'), 'vault');
    init(vault);
    chmodSync(vault, 0o500);
    try {
      const run = createKey(vault);
      expect(run.status).toBe(1);
      const error = failure(run);
      expect(error.Code).toBe('Vault.ReadOnly');
      expect(error.Message).toContain(`${vault} is not writable by uid`);
      expect(error.Message).toMatch(/mode 0500\), and SQLite writes vault\.db-wal and vault\.db-shm there; nothing was written\. To fix: .*chmod 700 /);
    } finally {
      chmodSync(vault, 0o700);
    }
  });

  it("another user's 0700 vault directory: Vault.PermissionDenied with owner and mode, not \"holds no vault\"", (ctx) => {
    skipUnless(ctx, rootSkip);
    const vault = join(base, 'roots-vault');
    mkdirSync(vault, { mode: 0o700 });
    expect(deskkms(['init', '--vault', vault, '--passphrase-file', passFile], { asRoot: true }).status).toBe(0);
    for (const args of [['status'], ['ListKeys'], ['init']]) {
      const run = deskkms([...args, '--vault', vault]);
      expect(run.status).not.toBe(0);
      const error = failure(run);
      expect(error.Code).toBe('Vault.PermissionDenied');
      expect(error.Message).toBe(
        `the vault at ${vault} cannot be used by uid ${NOBODY} (nobody): ${vault} is not readable by this user (owner uid 0 (root), mode 0700). ` +
          'To fix: run deskkms as uid 0 (root), or have that user grant you access, or use a vault of your own (--vault DIR)',
      );
    }
    // A vault below a directory this user may not enter names that directory.
    const nested = deskkms(['status', '--vault', join(vault, 'inner')]);
    expect(failure(nested)).toMatchObject({ Code: 'Vault.PermissionDenied', Message: expect.stringContaining(`${vault} does not let this user through`) as unknown });
  });

  it('init in a directory this user cannot write: Vault.PermissionDenied naming it, no stack trace', (ctx) => {
    skipUnless(ctx, setupSkip);
    const parent = userDir('unwritable');
    chmodSync(parent, 0o555);
    try {
      const run = deskkms(['init', '--vault', join(parent, 'vault'), '--passphrase-file', passFile]);
      expect(run.status).toBe(1); // a vault failure (usage errors exit 2)
      const error = failure(run);
      expect(error.Code).toBe('Vault.PermissionDenied');
      expect(error.Message).toMatch(new RegExp(`^a vault cannot be created at ${parent}/vault: ${parent} is not writable by uid \\d+.*mode 0555\\)\\. To fix: choose a directory you can write`));
    } finally {
      chmodSync(parent, 0o700);
    }
  });

  it('chattr +i vault.db: Vault.ReadOnly "immutable" with the chattr -i fix', (ctx) => {
    skipUnless(ctx, rootSkip);
    const vault = join(userDir('immutable'), 'vault');
    init(vault);
    const db = join(vault, 'vault.db');
    const chattr = spawnSync('chattr', ['+i', db], { encoding: 'utf8' });
    skipUnless(ctx, chattr.status === 0 ? undefined : `chattr +i is not supported here (${chattr.error?.message ?? chattr.stderr.trim()})`);
    try {
      const error = failure(createKey(vault));
      expect(error.Code).toBe('Vault.ReadOnly');
      expect(error.Message).toContain(`${db} is immutable (chattr +i); nothing was written. To fix: have root run "chattr -i ${db}"`);
    } finally {
      spawnSync('chattr', ['-i', db]);
    }
  });

  describe('on a small tmpfs (mounted by the test)', () => {
    let mountPoint: string | undefined;
    let mountSkip: string | undefined = rootSkip;

    beforeAll(() => {
      if (mountSkip) return;
      const point = join(base, 'mnt');
      mkdirSync(point);
      const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'tmpfs', point], { encoding: 'utf8' });
      if (mounted.status === 0) mountPoint = point;
      else mountSkip = `cannot mount a tmpfs (${mounted.error?.message ?? mounted.stderr.trim()})`;
    });
    afterAll(() => {
      if (mountPoint) spawnSync('umount', ['-l', mountPoint]);
    });

    /** Fills the filesystem holding `dir` to its last block (real ENOSPC). */
    function fill(dir: string): string {
      const filler = join(dir, 'filler');
      const fd = openSync(filler, 'w');
      const block = Buffer.alloc(4096, 0x5a);
      try {
        for (;;) writeSync(fd, block);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      } finally {
        closeSync(fd);
      }
      return filler;
    }

    it('full disk: Vault.DiskFull with the free space, nothing written (CLI)', (ctx) => {
      skipUnless(ctx, mountSkip);
      const home = join(mountPoint!, 'full');
      mkdirSync(home, { mode: 0o700 });
      if ('uid' in runner) chownSync(home, runner.uid, runner.uid);
      const vault = join(home, 'vault');
      init(vault);
      const filler = fill(mountPoint!);
      try {
        const run = createKey(vault);
        expect(run.status).toBe(1);
        const error = failure(run);
        expect(error.Code).toBe('Vault.DiskFull');
        expect(error.Message).toMatch(new RegExp(`^the disk is full where the vault lives \\(${vault}: SQLITE_[A-Z_]+, 0 bytes free of 1\\.0 MiB\\); nothing was written\\. To fix: free space`));
      } finally {
        rmSync(filler);
      }
      expect(createKey(vault).status).toBe(0); // space freed: works again
    });

    it('init on a full disk: Vault.DiskFull, and no half-made vault.db left to block the retry', (ctx) => {
      skipUnless(ctx, mountSkip);
      const home = join(mountPoint!, 'init-full');
      mkdirSync(home, { mode: 0o700 });
      if ('uid' in runner) chownSync(home, runner.uid, runner.uid);
      const vault = join(home, 'vault');
      const filler = fill(mountPoint!);
      try {
        const run = deskkms(['init', '--vault', vault, '--passphrase-file', passFile]);
        expect(run.status).toBe(1);
        expect(failure(run).Code).toBe('Vault.DiskFull');
        expect(readdirSync(vault)).toEqual([]);
      } finally {
        rmSync(filler);
      }
      init(vault);
    });

    it('full disk inside a group commit: the job fails Vault.DiskFull, the store stays usable (in process)', async (ctx) => {
      skipUnless(ctx, mountSkip);
      const store = Store.open(join(mountPoint!, 'in-process'), { create: true });
      let filler: string | undefined;
      try {
        await store.write((db) => setMeta(db, 'before', 'x'));
        filler = fill(mountPoint!);
        const big = 'y'.repeat(256 << 10);
        const error = await rejection(store.write((db) => setMeta(db, 'big', big)));
        expect(error).toBeInstanceOf(KmsError);
        expect(error.code).toBe('Vault.DiskFull');
        expect(error.message).toContain(join(mountPoint!, 'in-process'));
        rmSync(filler);
        filler = undefined;
        await store.write((db) => setMeta(db, 'after', 'z'));
        expect([store.getMeta('before'), store.getMeta('big'), store.getMeta('after')]).toEqual(['x', undefined, 'z']);
      } finally {
        if (filler) rmSync(filler);
        await store.close();
      }
    });

    it('read-only mount: Vault.ReadOnly "read-only filesystem" with the remount fix', (ctx) => {
      skipUnless(ctx, mountSkip);
      const home = join(mountPoint!, 'ro');
      mkdirSync(home, { mode: 0o700 });
      if ('uid' in runner) chownSync(home, runner.uid, runner.uid);
      const vault = join(home, 'vault');
      init(vault);
      expect(spawnSync('mount', ['-o', 'remount,ro', mountPoint!]).status).toBe(0);
      try {
        const error = failure(createKey(vault));
        expect(error.Code).toBe('Vault.ReadOnly');
        expect(error.Message).toContain(`${vault} is on a read-only filesystem; nothing was written. To fix: remount it read-write`);
      } finally {
        spawnSync('mount', ['-o', 'remount,rw', mountPoint!]);
      }
    });
  });

  describe('damaged header vs wrong passphrase', () => {
    let vault: string;
    let original: string;

    beforeAll(() => {
      if (setupSkip) return;
      vault = join(userDir('header'), 'vault');
      init(vault);
      original = readMeta('wrapped_data_key');
    });

    function readMeta(key: string): string {
      const db = new Database(join(vault, 'vault.db'), { readonly: true });
      try {
        return (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string }).value;
      } finally {
        db.close();
      }
    }

    /** Changes a meta row behind DeskKMS's back, as a bad disk block or a bad edit would. */
    function writeMeta(key: string, value: string): void {
      const db = new Database(join(vault, 'vault.db'));
      try {
        db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(value, key);
      } finally {
        db.close();
      }
    }

    function flipSalt(wrappedJson: string): string {
      const wrapped = JSON.parse(wrappedJson) as { salt: string };
      const salt = Buffer.from(wrapped.salt, 'base64');
      salt[3]! ^= 0x01; // still 16 bytes of canonical base64: only a checksum can tell
      return JSON.stringify({ ...wrapped, salt: salt.toString('base64') });
    }

    it('a wrong passphrase is Vault.Locked "the passphrase does not unlock this vault"', (ctx) => {
      skipUnless(ctx, setupSkip);
      const error = failure(createKey(vault, wrongFile));
      expect(error).toMatchObject({ Code: 'Vault.Locked', Message: 'the passphrase does not unlock this vault' });
    });

    it('a damaged wrapped key with the right passphrase is Vault.Corrupt "the vault header is damaged", and status says so', (ctx) => {
      skipUnless(ctx, setupSkip);
      writeMeta('wrapped_data_key', flipSalt(original));
      try {
        for (const file of [passFile, wrongFile]) {
          const error = failure(createKey(vault, file));
          expect(error.Code).toBe('Vault.Corrupt');
          expect(error.Message).toMatch(/^the vault header is damaged \(vault_id, protection, verifier, wrapped_data_key in .*vault\.db do not match their checksum header_check\); no passphrase or keychain entry was tried\. To fix: restore vault\.db from a backup$/);
        }
        const status = deskkms(['status', '--vault', vault, '--passphrase-file', passFile]);
        expect(status.status).toBe(0);
        expect(JSON.parse(status.stdout)).toMatchObject({ Locked: true, UnlockError: { Code: 'Vault.Corrupt' } });
      } finally {
        writeMeta('wrapped_data_key', original);
      }
      expect(createKey(vault).status).toBe(0); // restored: the right passphrase opens it again
    });

    it('a damaged verifier is Vault.Corrupt too, not a wrong passphrase', (ctx) => {
      skipUnless(ctx, setupSkip);
      const verifier = readMeta('verifier');
      writeMeta('verifier', `${verifier.slice(0, 10)}${verifier[10] === 'A' ? 'B' : 'A'}${verifier.slice(11)}`);
      try {
        expect(failure(createKey(vault))).toMatchObject({ Code: 'Vault.Corrupt', Message: expect.stringMatching(/^the vault header is damaged/) as unknown });
      } finally {
        writeMeta('verifier', verifier);
      }
    });
  });
});
