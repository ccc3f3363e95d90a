// A passphrase vault's unlock started with the key worker (core/worker/prestart.ts), before the
// command's modules load: scrypt (~0.35 s of one core at the default cost) then runs while the
// main thread loads the command and the worker loads its own modules, instead of after both.
// Measured on the 2-core machine: see README, *Cold start of the CLI*.
//
// What this reads is what the command will read moments later: the vault (--vault, else
// $DESKKMS_VAULT, else the default) and the passphrase file (--passphrase-file, else
// $DESKKMS_PASSPHRASE_FILE). It is an optimisation and nothing else, so it never fails and never
// reports: anything unusual (no file named, '-' or a pipe, which a read ahead would empty; no
// vault; a keychain vault; an unreadable header) starts the worker without it, and the command
// meets and reports the problem itself. The worker uses what it derived only for an unwrap with the
// very same passphrase, salt and cost (core/keychain/passphrase.ts), so a header or file that
// changes in between costs the time saved, never a wrong key. Nothing is created or written: the
// header is read through a read-only SQLite connection.
//
// Light on purpose (loaded before any heavy module): node:fs, node:path, node:module, and
// better-sqlite3 only when a passphrase file is named.
import { createRequire } from 'node:module';
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { Prederive } from '../../worker/prestart.ts';
import { DB_FILE } from '../../vault/fs-errors.ts';
import { resolveVaultDir } from '../../vault/paths.ts';
import { copySecret, readPassphrase } from '../../vault/secrets.ts';
import { readSecretFile } from './secret-file.ts';

/** The value of `--name VALUE` or `--name=VALUE` in argv (the last one, as parseArgs keeps), up to a `--`. */
export function flagValue(argv: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (arg === `--${name}`) {
      value = argv[i + 1];
      i++;
    } else if (arg.startsWith(`--${name}=`)) value = arg.slice(name.length + 3);
  }
  return value;
}

/** The header rows an unlock reads, or undefined when they cannot be read without writing anything. */
function passphraseHeader(dir: string): string | undefined {
  const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  const db = new Database(join(dir, DB_FILE), { readonly: true, fileMustExist: true });
  try {
    const read = db.prepare<[string], { value: unknown }>('SELECT value FROM meta WHERE key = ?');
    if (read.get('protection')?.value !== 'passphrase') return undefined;
    const wrapped = read.get('wrapped_data_key')?.value;
    return typeof wrapped === 'string' ? wrapped : undefined;
  } finally {
    db.close();
  }
}

/**
 * What the key worker can derive a passphrase vault's unlock key from, for a command whose
 * arguments are `argv` and whose flag `passphraseFlag` names the vault's passphrase file;
 * undefined whenever that is not plainly so (see the header comment).
 */
export function earlyUnlock(
  argv: readonly string[],
  io: { readonly cwd: string; readonly env: Readonly<Record<string, string | undefined>> },
  passphraseFlag = 'passphrase-file',
): Prederive | undefined {
  const file = flagValue(argv, passphraseFlag) ?? io.env.DESKKMS_PASSPHRASE_FILE;
  if (!file || file === '-') return undefined;
  let bytes: Uint8Array | undefined;
  try {
    const wrapped = passphraseHeader(resolveVaultDir(flagValue(argv, 'vault'), io.cwd, io.env));
    if (wrapped === undefined) return undefined;
    const path = resolve(io.cwd, file);
    // Not even opened unless a regular file: opening a named pipe waits for its writer, and closing
    // it unread would drop what the writer had put in it for the command.
    if (!statSync(path).isFile()) return undefined;
    bytes = readSecretFile(path, { regularFileOnly: true });
    return { wrapped, passphrase: copySecret(readPassphrase(bytes)) };
  } catch {
    return undefined;
  } finally {
    bytes?.fill(0);
  }
}
