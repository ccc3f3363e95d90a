// Why the vault's files could not be used, in words a person can act on. SQLite reports a
// read-only vault.db, a read-only directory, an immutable file and a read-only mount all as
// SQLITE_READONLY (or SQLITE_CANTOPEN, or an I/O error), and the filesystem says EACCES for both
// "not yours" and "not writable": so the filesystem is asked what is actually wrong (access(2) as
// this process's user, stat for owner and mode, statfs for free space) and the answer names the
// path, its owner and mode, and the fix.
import { accessSync, constants, readFileSync, statSync, statfsSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { KmsError } from '../contract/errors.ts';

export const DB_FILE = 'vault.db';
const VAULT_FILES = [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`];

/** The error's code: SQLite's extended code (SQLITE_READONLY_DIRECTORY) or an errno name (EACCES). */
function codeOf(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** SQLITE_IOERR_FSYNC -> SQLITE_IOERR (primary codes have no second underscore). */
function primaryOf(code: string): string {
  return /^SQLITE_[A-Z]+/.exec(code)?.[0] ?? code;
}

function userName(uid: number): string | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name && Number(id) === uid) return name;
    }
  } catch {
    // no passwd file (Windows, containers): the uid alone
  }
  return undefined;
}

function who(uid: number): string {
  const name = userName(uid);
  return name ? `uid ${uid} (${name})` : `uid ${uid}`;
}

/** This process's user, for messages; undefined where there are no uids (Windows). */
function me(): number | undefined {
  return process.getuid?.();
}

function ownerAndMode(stats: Stats): string {
  return `owner ${who(stats.uid)}, mode ${(stats.mode & 0o7777).toString(8).padStart(4, '0')}`;
}

function tryStat(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** access(2) as this process's real user: undefined when allowed, else the errno name. */
function denied(path: string, mode: number): string | undefined {
  try {
    accessSync(path, mode);
    return undefined;
  } catch (error) {
    return codeOf(error) ?? 'EACCES';
  }
}

function runAs(stats: Stats): string {
  const uid = me();
  if (uid !== undefined && stats.uid !== uid) {
    return `run deskkms as ${who(stats.uid)}, or have that user grant you access, or use a vault of your own (--vault DIR)`;
  }
  return '';
}

/** What to do about `path` that this user may not read (`want` 'read') or write. */
function permissionAdvice(path: string, stats: Stats, want: 'read' | 'write'): string {
  const other = runAs(stats);
  if (other) return other;
  const mode = stats.isDirectory() ? '700' : '600';
  return `give its owner ${want} access back (chmod ${mode} ${path})`;
}

function youAre(): string {
  const uid = me();
  return uid === undefined ? 'this user' : who(uid);
}

/** The first directory on the way to `dir` that this user may not search, if any. */
function unreachable(dir: string): string | undefined {
  const full = resolve(dir);
  const parts: string[] = [];
  for (let p = dirname(full); ; p = dirname(p)) {
    parts.unshift(p);
    if (dirname(p) === p) break;
  }
  return parts.find((p) => denied(p, constants.X_OK) === 'EACCES');
}

function permissionDenied(dir: string, path: string, stats: Stats, what: string, creating: boolean): KmsError {
  const head = creating ? `a vault cannot be created at ${dir} by ${youAre()}` : `the vault at ${dir} cannot be used by ${youAre()}`;
  return new KmsError('Vault.PermissionDenied', `${head}: ${path} ${what} (${ownerAndMode(stats)}). To fix: ${permissionAdvice(path, stats, 'read')}`);
}

/** Why `dir` (and its files) cannot be read: another user's directory, a parent without access. */
function readFinding(dir: string, creating: boolean): KmsError | undefined {
  const blocked = unreachable(dir);
  if (blocked) {
    return permissionDenied(dir, blocked, statSync(blocked), 'does not let this user through (no search permission)', creating);
  }
  const dirStats = tryStat(dir);
  if (!dirStats) return undefined;
  if (denied(dir, constants.R_OK | constants.X_OK) === 'EACCES') {
    return permissionDenied(dir, dir, dirStats, 'is not readable by this user', creating);
  }
  const db = join(dir, DB_FILE);
  const dbStats = tryStat(db);
  if (dbStats && denied(db, constants.R_OK) === 'EACCES') return permissionDenied(dir, db, dbStats, 'is not readable by this user', creating);
  return undefined;
}

/** Why the vault cannot be written: a read-only mount, an immutable file, a file or directory mode. */
function writeFinding(dir: string, creating: boolean): KmsError | undefined {
  // The directory (SQLite creates vault.db-wal and vault.db-shm in it), then each file present.
  let target = resolve(dir);
  if (creating) while (!tryStat(target) && dirname(target) !== target) target = dirname(target);
  const targets = creating ? [target] : [target, ...VAULT_FILES.map((f) => join(target, f)).filter((f) => tryStat(f))];
  for (const path of targets) {
    const stats = tryStat(path);
    if (!stats) continue;
    const why = denied(path, constants.W_OK);
    const code = creating ? 'Vault.PermissionDenied' : 'Vault.ReadOnly';
    const head = creating ? `a vault cannot be created at ${dir}` : `the vault at ${dir} is read-only`;
    const tail = creating ? '' : '; nothing was written';
    if (why === 'EROFS') {
      return new KmsError(
        code,
        `${head}: ${path} is on a read-only filesystem${tail}. To fix: remount it read-write, or copy the vault directory to a writable disk and point --vault at the copy`,
      );
    }
    if (why === 'EPERM') {
      return new KmsError(code, `${head}: ${path} is immutable (chattr +i)${tail}. To fix: have root run "chattr -i ${path}"`);
    }
    if (why === 'EACCES') {
      const note = stats.isDirectory() && !creating ? ', and SQLite writes vault.db-wal and vault.db-shm there' : '';
      const fix = creating ? `choose a directory you can write (--vault DIR or $DESKKMS_VAULT)` : permissionAdvice(path, stats, 'write');
      return new KmsError(code, `${head}: ${path} is not writable by ${youAre()} (${ownerAndMode(stats)})${note}${tail}. To fix: ${fix}`);
    }
  }
  return undefined;
}

function diskFull(dir: string, code: string): KmsError {
  let space = '';
  try {
    const fs = statfsSync(dir);
    space = `, ${mib(fs.bavail * fs.bsize)} free of ${mib(fs.blocks * fs.bsize)}`;
  } catch {
    // statfs unavailable: the code alone
  }
  const quota = code === 'EDQUOT' ? "this user's disk quota is used up" : 'the disk is full';
  return new KmsError('Vault.DiskFull', `${quota} where the vault lives (${dir}: ${code}${space}); nothing was written. To fix: free space on that disk (or move the vault directory to a disk with room and point --vault at it), then retry`);
}

function mib(bytes: number): string {
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  return bytes >= 1 << 10 ? `${(bytes / (1 << 10)).toFixed(0)} KiB` : `${bytes} bytes`;
}

function isFull(dir: string): boolean {
  try {
    return statfsSync(dir).bavail === 0;
  } catch {
    return false;
  }
}

/**
 * SQLite's and the filesystem's failures on the vault's files as the vault's codes, with the path
 * and the fix; undefined for anything else (a constraint error, a bug), which the caller keeps as
 * it was. `creating`: the failure happened while creating the vault (init).
 */
export function vaultFileError(error: unknown, dir: string, options: { creating?: boolean } = {}): KmsError | undefined {
  const code = codeOf(error);
  if (code === undefined) return undefined;
  const creating = options.creating === true;
  const db = join(dir, DB_FILE);
  switch (primaryOf(code)) {
    case 'SQLITE_NOTADB':
    case 'SQLITE_CORRUPT':
      return new KmsError('Vault.Corrupt', `${db} is not a readable vault database (${code}); restore it from a backup`);
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return new KmsError(
        'Vault.Busy',
        `the vault at ${dir} stayed locked by another process for 10 s (${code}): another deskkms (serve, batch, the app) is writing; retry when it is done`,
      );
    case 'SQLITE_FULL':
    case 'ENOSPC':
    case 'EDQUOT':
      return diskFull(dir, code);
    case 'SQLITE_READONLY':
    case 'SQLITE_PERM':
    case 'SQLITE_CANTOPEN':
    case 'SQLITE_IOERR':
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      break;
    default:
      return undefined;
  }
  const finding = readFinding(dir, creating) ?? writeFinding(dir, creating);
  if (finding) return finding;
  if (primaryOf(code) === 'SQLITE_IOERR' && isFull(dir)) return diskFull(dir, code);
  if (code === 'SQLITE_READONLY_DBMOVED') {
    return new KmsError(
      'Vault.ReadOnly',
      `${db} was moved, replaced or deleted while this process had it open (${code}); nothing was written. To fix: restart deskkms (and put vault.db back if that was not intended)`,
    );
  }
  if (code === 'SQLITE_CANTOPEN_ISDIR') return new KmsError('Vault.Corrupt', `${db} is a directory, not a vault database (${code})`);
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS') {
    return new KmsError(
      'Vault.ReadOnly',
      `the vault at ${dir} is read-only to this process (${code}); nothing was written. To fix: check that ${dir} and its vault.db, vault.db-wal and vault.db-shm are writable by their owner, that the filesystem is mounted read-write and that no file is immutable (lsattr)`,
    );
  }
  const dirStats = tryStat(dir);
  if (creating && code === 'EPERM' && dirStats && dirStats.uid !== me()) {
    // chmod 0700 of an existing directory that belongs to someone else
    return new KmsError(
      'Vault.PermissionDenied',
      `a vault cannot be created at ${dir}: it belongs to ${who(dirStats.uid)}, and a vault directory must be its user's own (DeskKMS makes it 0700). To fix: choose a directory of your own (--vault DIR or $DESKKMS_VAULT)`,
    );
  }
  if (code === 'SQLITE_PERM' || code === 'EACCES' || code === 'EPERM') {
    return new KmsError('Vault.PermissionDenied', `the vault at ${dir} may not be ${creating ? 'created' : 'used'} by ${youAre()} (${code}). To fix: check the owner and mode of ${dir} and of the directories above it`);
  }
  return new KmsError(
    'Vault.IOError',
    `reading or writing ${creating ? dir : db} failed (${code}): the disk or filesystem reported an error. To fix: check the disk (dmesg, fsck) and retry; if vault.db is damaged, restore it from a backup`,
  );
}
