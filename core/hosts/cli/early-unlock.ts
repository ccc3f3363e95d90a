// A passphrase vault's unlock started with the key worker (core/worker/prestart.ts), before the
// command's modules load: scrypt (~0.35 s of one core at the default cost) then runs while the
// main thread loads the command and the worker loads its own modules, instead of after both.
// Measured on the 2-core machine: see README, *Cold start of the CLI*.
//
// What this reads is what the command will read moments later: the vault (--vault, else
// $DESKKMS_VAULT, else the default) and the passphrase file (the command's flag, else
// $DESKKMS_PASSPHRASE_FILE: vault-flags.ts vaultPassphraseFile). It is an optimisation and nothing
// else, so it never fails and never reports: anything unusual (no file named; '-', a pipe or
// anything but a regular file, which a read ahead could empty or wait on; a path under /dev or
// /proc, where on some systems opening /dev/stdin shares the command's file offset; no vault; a
// keychain vault; an unreadable header) starts the worker without it, and the command meets and
// reports the problem itself. The worker uses what it derived only for an unwrap with the very
// same passphrase, salt and cost (core/keychain/passphrase.ts), so a header or file that changes
// in between costs the time saved, never a wrong key.
//
// Nothing is created or written: the header is read through node:sqlite with SQLite's immutable
// flag (no lock, no -wal or -shm file; better-sqlite3 is built without URI filenames). Such a read
// ignores what is still only in the write-ahead log: a header rewritten by a process still running
// may be read stale, which again costs only the time saved.
//
// Light on purpose (loaded before any heavy module): node built-ins and three small modules.
import { closeSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Prederive } from '../../worker/prestart.ts';
import { DB_FILE } from '../../vault/fs-errors.ts';
import { resolveVaultDir } from '../../vault/paths.ts';
import { copySecret, readPassphrase } from '../../vault/secrets.ts';
import { openRegularFile, readSecretFd } from './secret-file.ts';
import { vaultPassphraseFile } from './vault-flags.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** The values of --vault and --`passphraseFlag` in argv as the command's own parseArgs reads them (the last of each; none after `--`). */
function vaultFlags(argv: readonly string[], passphraseFlag: string): { vault: unknown; passphraseFile: unknown } {
  const { values } = parseArgs({
    args: [...argv],
    options: { vault: { type: 'string' }, [passphraseFlag]: { type: 'string' } },
    strict: false,
    allowPositionals: true,
  });
  return { vault: values.vault, passphraseFile: values[passphraseFlag] };
}

/** The header's wrapped data key if the vault in `dir` is protected by a passphrase. */
function passphraseHeader(dir: string): string | undefined {
  const url = pathToFileURL(resolve(dir, DB_FILE));
  url.searchParams.set('immutable', '1');
  const db = new DatabaseSync(url, { readOnly: true, timeout: 0 });
  try {
    const read = db.prepare('SELECT value FROM meta WHERE key = ?');
    if (read.get('protection')?.value !== 'passphrase') return undefined;
    const wrapped = read.get('wrapped_data_key')?.value;
    return typeof wrapped === 'string' ? wrapped : undefined;
  } finally {
    db.close();
  }
}

const underDevOrProc = (path: string): boolean => path.startsWith('/dev/') || path.startsWith('/proc/');

/**
 * What the key worker can derive a passphrase vault's unlock key from, for a command whose
 * arguments are `argv` and whose flag `passphraseFlag` names the vault's passphrase file;
 * undefined whenever that is not plainly so (see the header comment).
 */
export function earlyUnlock(argv: readonly string[], io: { readonly cwd: string; readonly env: Env }, passphraseFlag = 'passphrase-file'): Prederive | undefined {
  let fd: number | undefined;
  let bytes: Uint8Array | undefined;
  try {
    const flags = vaultFlags(argv, passphraseFlag);
    const file = vaultPassphraseFile(flags.passphraseFile, io.env);
    if (!file || file === '-') return undefined;
    const path = resolve(io.cwd, file);
    // (the real path too: on macOS /dev/fd/N is no link, and a link may point there; on Linux the
    // real path of /dev/stdin is the file itself, which is read from its own offset: not tested here)
    if (underDevOrProc(path) || underDevOrProc(realpathSync(path))) return undefined;
    fd = openRegularFile(path);
    if (fd === undefined) return undefined;
    const wrapped = passphraseHeader(resolveVaultDir(typeof flags.vault === 'string' ? flags.vault : undefined, io.cwd, io.env));
    if (wrapped === undefined) return undefined;
    bytes = readSecretFd(fd);
    return { wrapped, passphrase: copySecret(readPassphrase(bytes)) };
  } catch {
    return undefined;
  } finally {
    bytes?.fill(0);
    if (fd !== undefined) closeSync(fd);
  }
}
