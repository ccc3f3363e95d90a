// deskkms backup create | verify | restore: one backup file of the vault under a recovery secret (a
// passphrase, or M-of-N SLIP-0039 shares written as text files and printable pages), proving that
// a backup opens, and recreating a vault from one. The backup itself is the CreateBackup Action
// (audited, the data key never leaves the key worker); verify and restore need no vault and are
// core/custody/backup.ts. Secrets come from files, never the command line.
import { promises as fs } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { encodeBase64 } from '../../../contract/base64.ts';
import { KmsError, invalidParameter, missingParameter } from '../../../contract/errors.ts';
import { escapeJsonText, escapeText } from '../../../contract/escape-text.ts';
import { inspectBackup, restoreBackup, verifyBackup, type Progress, type RecoverySecret } from '../../../custody/backup.ts';
import { MAX_SHARE_FILE_BYTES, formatShareFile, readShareFile, type ShareInfo } from '../../../custody/share-file.ts';
import { renderSharePage } from '../../../custody/share-page.ts';
import { EXIT_OK, type CliIO, type Command, type FlagValues } from '../command.ts';
import { CLI_CALLER, callAction } from '../actions-cli.ts';
import { describeFsError } from '../inputs.ts';
import { errnoCode, fsyncPath } from '../../../vault/durable.ts';
import { readPassphraseFile, vaultDirOf, withVault } from '../vault-session.ts';
import { BACKUP_VAULT_PASSPHRASE_FLAG } from '../vault-flags.ts';
import { writeFileAtomically } from '../output-file.ts';

const MIN_SHARES = 2;
const MAX_SHARES = 16;

/** The answer of CreateBackup as this command reads it (the contract's schema checks it). */
interface CreateBackupAnswer {
  BackupId: string;
  VaultId: string;
  Created: string;
  Threshold?: number;
  ShareCount?: number;
  ShareIdentifier?: number;
  Shares?: string[];
  [field: string]: unknown;
}

function stringFlag(flags: FlagValues, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' ? value : undefined;
}

function countFlag(flags: FlagValues, name: string): number {
  const text = stringFlag(flags, name);
  if (text === undefined) throw missingParameter(`--${name}`);
  const n = /^\d{1,3}$/.test(text) ? Number(text) : NaN;
  if (!(n >= MIN_SHARES && n <= MAX_SHARES)) throw invalidParameter(`--${name}`, `must be a whole number from ${MIN_SHARES} to ${MAX_SHARES}`);
  return n;
}

/** The share files of share K of N: the words as text and the printable page. */
function shareFileNames(index: number, count: number): { text: string; page: string } {
  return { text: `share-${index}-of-${count}.txt`, page: `share-${index}-of-${count}.html` };
}


/**
 * The share directory, made 0700 if it is new, checked before the backup is made: a share file
 * already there is refused unless --force (it may be the only copy of another backup's share), so
 * nothing is found wrong after the backup exists and its shares are known.
 */
async function prepareShareDir(dir: string, count: number, force: boolean): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = errnoCode(error);
    throw invalidParameter('--share-dir', `${dir}: ${code === 'EEXIST' || code === 'ENOTDIR' ? 'exists and is not a directory' : describeFsError(error)}`);
  }
  const stat = await fs.stat(dir);
  if (!stat.isDirectory()) throw invalidParameter('--share-dir', `${dir}: is not a directory`);
  if (force) return;
  const present = new Set(await fs.readdir(dir));
  const clash = Array.from({ length: count }, (_, i) => shareFileNames(i + 1, count))
    .flatMap((n) => [n.text, n.page])
    .filter((name) => present.has(name));
  if (clash.length > 0) {
    throw invalidParameter('--share-dir', `${dir} already holds ${clash.join(', ')}; they may be the only copy of another backup's shares: move them away, or give --force to replace them`);
  }
}

/** Writes `text` as `dir/name`, mode 0600, whole or not at all (core/hosts/cli/output-file.ts). */
function writeSecretFile(dir: string, name: string, text: string, replace: boolean): Promise<string> {
  return writeFileAtomically(join(dir, name), text, {
    mode: 0o600,
    replace,
    exists: (target) => invalidParameter('--share-dir', `${target} appeared while the shares were being written; give --force to replace it`),
  });
}

/** The shares as files: DIR/share-K-of-N.txt (the words) and .html (the page to print). */
async function writeShares(dir: string, answer: CreateBackupAnswer, replace: boolean, written: string[]): Promise<{ Index: number; Text: string; Page: string }[]> {
  const shares = answer.Shares ?? [];
  const count = answer.ShareCount ?? shares.length;
  if (shares.length !== count || answer.Threshold === undefined || answer.ShareIdentifier === undefined) {
    throw new KmsError('InternalFailure', 'CreateBackup answered shares without their count, threshold or identifier');
  }
  const files: { Index: number; Text: string; Page: string }[] = [];
  for (let i = 0; i < count; i++) {
    const info: ShareInfo = {
      index: i + 1,
      count,
      threshold: answer.Threshold,
      identifier: answer.ShareIdentifier,
      backupId: answer.BackupId,
      vaultId: answer.VaultId,
      created: answer.Created,
      mnemonic: shares[i]!,
    };
    const names = shareFileNames(i + 1, count);
    const text = await writeSecretFile(dir, names.text, formatShareFile(info), replace);
    written.push(text);
    const page = await writeSecretFile(dir, names.page, await renderSharePage(info), replace);
    written.push(page);
    files.push({ Index: i + 1, Text: text, Page: page });
  }
  await fsyncPath(dir);
  return files;
}

/** The recovery secret given to verify / restore: --share F ... or --passphrase-file F. Undefined: neither. */
async function recoverySecretOf(flags: FlagValues, io: CliIO): Promise<RecoverySecret | undefined> {
  const shareFlags = Array.isArray(flags.share) ? flags.share : [];
  const passphraseFile = stringFlag(flags, 'passphrase-file');
  if (shareFlags.length > 0 && passphraseFile !== undefined) throw invalidParameter('--share', 'give the shares or --passphrase-file, not both');
  if (passphraseFile !== undefined) return { kind: 'passphrase', passphrase: readPassphraseFile('passphrase-file', passphraseFile, io) };
  if (shareFlags.length === 0) return undefined;
  const shares: { text: string; where: string }[] = [];
  for (const path of shareFlags) {
    const full = resolve(io.cwd, path);
    let text: string;
    try {
      const stat = await fs.stat(full);
      if (stat.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
      if (stat.size > MAX_SHARE_FILE_BYTES) throw Object.assign(new Error('too large'), { code: 'E2BIG' });
      text = await fs.readFile(full, 'utf8');
    } catch (error) {
      throw invalidParameter('--share', `${path}: ${describeFsError(error, `larger than ${MAX_SHARE_FILE_BYTES >> 10} KiB; a share file holds one share`)}`);
    }
    // The words alone, checked for shape here so a stray file is named before any work is done;
    // core/custody names the share by the same path when its words are not a valid share.
    shares.push({ text: readShareFile(text, path), where: path });
  }
  return { kind: 'shares', shares };
}

function wipe(secret: RecoverySecret | undefined): void {
  if (secret?.kind === 'passphrase') secret.passphrase.fill(0);
}

/**
 * Progress on stderr: on a terminal one line rewritten in place; otherwise a line when a phase
 * starts and when it ends (a vault of thousands of keys does not write thousands of lines).
 */
function progressWriter(io: CliIO, label: string): { onProgress(p: Progress): void; done(): void } {
  const tty = io.stderr.isTTY === true;
  let phase: string | undefined;
  let open = false;
  return {
    onProgress(p) {
      const line = `${label}: ${escapeText(p.phase, 80)} ${p.done}/${p.total}`;
      if (tty) {
        io.stderr.write(`\r\u001b[K${line}`);
        open = true;
      } else if (p.phase !== phase || p.done === p.total) {
        io.stderr.write(`${line}\n`);
      }
      phase = p.phase;
    },
    done() {
      if (open) io.stderr.write('\n');
      open = false;
    },
  };
}

function printJson(io: CliIO, value: unknown): void {
  io.stdout.write(`${escapeJsonText(JSON.stringify(value, null, 2))}\n`);
}

async function create(flags: FlagValues, io: CliIO): Promise<number> {
  const out = stringFlag(flags, 'out');
  if (out === undefined) throw missingParameter('--out');
  const passphraseFile = stringFlag(flags, 'passphrase-file');
  const withShares = flags.shares !== undefined || flags.threshold !== undefined || flags['share-dir'] !== undefined;
  if (passphraseFile !== undefined && withShares) throw invalidParameter('--passphrase-file', 'give a recovery passphrase or --shares/--threshold/--share-dir, not both');
  if (passphraseFile === undefined && !withShares) throw missingParameter('--passphrase-file (a recovery passphrase) or --shares N --threshold M --share-dir DIR');
  if (flags.share !== undefined || flags.protection !== undefined || flags['new-passphrase-file'] !== undefined || flags.in !== undefined) {
    throw invalidParameter('backup create', '--in, --share, --protection and --new-passphrase-file belong to verify and restore');
  }
  const force = flags.force === true;
  const path = resolve(io.cwd, out);
  let shareDir: string | undefined;
  const params: Record<string, unknown> = { Path: path, Overwrite: force };
  if (withShares) {
    const count = countFlag(flags, 'shares');
    const threshold = countFlag(flags, 'threshold');
    if (threshold > count) throw invalidParameter('--threshold', `${threshold} is more than the ${count} shares made`);
    const dir = stringFlag(flags, 'share-dir');
    if (dir === undefined) throw missingParameter('--share-dir');
    shareDir = resolve(io.cwd, dir);
    if (dirname(path) === shareDir) {
      // Not refused (a station may have one removable medium), but said: the shares are meant to be apart from the file.
      io.stderr.write(`note: the backup file and its shares are in the same directory (${escapeText(shareDir, 300)}); keep them apart once the pages are printed\n`);
    }
    await prepareShareDir(shareDir, count, force);
    Object.assign(params, { Recovery: 'shares', Shares: count, Threshold: threshold });
  } else {
    const passphrase = readPassphraseFile('passphrase-file', passphraseFile!, io);
    try {
      // The Action takes it base64 (like every transport); this copy is a string, which cannot be wiped.
      params.Recovery = 'passphrase';
      params.Passphrase = encodeBase64(passphrase);
    } finally {
      passphrase.fill(0);
    }
  }
  // The vault's own passphrase: --vault-passphrase-file, else $DESKKMS_PASSPHRASE_FILE (--passphrase-file is the recovery one here).
  const vaultFlags: FlagValues = { vault: flags.vault, 'passphrase-file': flags[BACKUP_VAULT_PASSPHRASE_FLAG] };
  const answer = (await withVault(vaultFlags, io, (vault) => callAction(io, vault, 'CreateBackup', params))) as CreateBackupAnswer;
  const { Shares: mnemonics, ...shown } = answer;
  if (shareDir === undefined || mnemonics === undefined) {
    printJson(io, shown);
    io.stderr.write(
      `Backup written to ${escapeText(path, 300)}. Keep it on other media than this machine, and the recovery passphrase apart from it: ` +
        'the file opens with that passphrase alone. Prove it opens now and then: deskkms backup verify --in FILE --passphrase-file F\n',
    );
    return EXIT_OK;
  }
  let files: Awaited<ReturnType<typeof writeShares>>;
  const written: string[] = [];
  try {
    files = await writeShares(shareDir, answer, force, written);
  } catch (error) {
    // Without all its shares the backup can never be trusted to open: remove it (and the shares
    // written so far) rather than leave a file that looks like a backup.
    await fs.rm(path, { force: true }).catch(() => undefined);
    for (const file of written) await fs.rm(file, { force: true }).catch(() => undefined);
    const reason = error instanceof KmsError ? error.message : describeFsError(error);
    throw new KmsError(
      error instanceof KmsError ? error.code : 'InvalidParameter',
      `--share-dir: the shares of backup ${answer.BackupId} could not be written to ${shareDir} (${reason}); without them it cannot be opened, so ${path} was removed: fix this and run backup create again`,
    );
  }
  printJson(io, { ...shown, ShareFiles: files });
  const count = files.length;
  io.stderr.write(
    [
      `Backup written to ${escapeText(path, 300)}; ${count} recovery shares in ${escapeText(shareDir, 300)}, any ${answer.Threshold} of which open it.`,
      `Now: print each page (${basename(files[0]!.Page)} ... ${basename(files[count - 1]!.Page)}; each shows the words and a QR code),`,
      `check each printout, hand each share to a different person or place (never ${answer.Threshold} together, and none with the backup file),`,
      `then delete the .txt and .html share files from this disk (they hold the shares): shred -u ${escapeText(shareDir, 300)}/share-*-of-${count}.*`,
      'Prove the backup opens now and then: deskkms backup verify --in FILE --share F --share F ...',
      '',
    ].join('\n'),
  );
  return EXIT_OK;
}

async function verify(flags: FlagValues, io: CliIO): Promise<number> {
  const input = stringFlag(flags, 'in');
  if (input === undefined) throw missingParameter('--in');
  const others = ['out', 'shares', 'threshold', 'share-dir', 'protection', 'new-passphrase-file', 'vault', 'vault-passphrase-file'];
  if (others.some((name) => flags[name] !== undefined)) {
    throw invalidParameter('backup verify', 'takes --in and the shares (--share F ...) or --passphrase-file; it touches no vault');
  }
  const path = resolve(io.cwd, input);
  const secret = await recoverySecretOf(flags, io);
  if (!secret) {
    // The header alone (which backup, which vault, how many shares open it): proves nothing opens.
    printJson(io, await inspectBackup(path));
    io.stderr.write('Header only: give the shares (--share F ...) or --passphrase-file to prove the backup opens and list what it holds.\n');
    return EXIT_OK;
  }
  const progress = progressWriter(io, 'verify');
  try {
    const contents = await verifyBackup(path, secret, { onProgress: (p) => progress.onProgress(p) });
    progress.done();
    printJson(io, contents);
    return EXIT_OK;
  } finally {
    progress.done();
    wipe(secret);
  }
}

async function restore(flags: FlagValues, io: CliIO): Promise<number> {
  const input = stringFlag(flags, 'in');
  if (input === undefined) throw missingParameter('--in');
  if (flags.vault === undefined) throw missingParameter('--vault (the directory of the restored vault)');
  if (flags.out !== undefined || flags.shares !== undefined || flags.threshold !== undefined || flags['share-dir'] !== undefined || flags['vault-passphrase-file'] !== undefined) {
    throw invalidParameter('backup restore', 'takes --in, --vault, the shares or --passphrase-file, --protection and --new-passphrase-file');
  }
  const newPassphraseFile = stringFlag(flags, 'new-passphrase-file');
  const protection = stringFlag(flags, 'protection') ?? (newPassphraseFile === undefined ? 'keychain' : 'passphrase');
  if (protection !== 'keychain' && protection !== 'passphrase') throw invalidParameter('--protection', 'must be keychain or passphrase');
  if (protection === 'passphrase' && newPassphraseFile === undefined) throw missingParameter('--new-passphrase-file (the restored vault\'s passphrase)');
  if (protection === 'keychain' && newPassphraseFile !== undefined) throw invalidParameter('--new-passphrase-file', 'is for --protection passphrase; a keychain vault has no passphrase');
  const path = resolve(io.cwd, input);
  const vaultDir = vaultDirOf(flags, io);
  const secret = await recoverySecretOf(flags, io);
  if (!secret) {
    throw missingParameter('--share F (as many shares as the backup needs) or --passphrase-file F (its recovery passphrase)');
  }
  let newPassphrase: Uint8Array | undefined;
  const progress = progressWriter(io, 'restore');
  try {
    if (newPassphraseFile !== undefined) newPassphrase = readPassphraseFile('new-passphrase-file', newPassphraseFile, io);
    const result = await restoreBackup({
      path,
      secret,
      vaultDir,
      protection,
      ...(newPassphrase ? { newPassphrase } : {}),
      caller: CLI_CALLER,
      onProgress: (p) => progress.onProgress(p),
    });
    progress.done();
    printJson(io, result);
    io.stderr.write(
      `Vault restored to ${escapeText(result.VaultPath, 300)} (${escapeText(result.Protection, 200)}). Check it: deskkms status --vault DIR; deskkms audit verify --vault DIR. ` +
        'Then make a new backup of it when you next change it (its shares are the old backup\'s: collect and keep them as before).\n',
    );
    return EXIT_OK;
  } finally {
    progress.done();
    wipe(secret);
    newPassphrase?.fill(0);
  }
}

export const backupCommand: Command = {
  name: 'backup',
  usage:
    'deskkms backup create --out FILE (--passphrase-file F | --shares N --threshold M --share-dir DIR) [--force] [--vault DIR] [--vault-passphrase-file F]\n' +
    '       deskkms backup verify --in FILE [--share F ... | --passphrase-file F]\n' +
    '       deskkms backup restore --in FILE --vault DIR (--share F ... | --passphrase-file F) [--protection keychain|passphrase] [--new-passphrase-file F]',
  flags: {
    vault: { type: 'string', value: 'DIR', description: 'create: the vault to back up (default: $DESKKMS_VAULT, else the per-user data directory); restore: the new vault\'s directory (required)' },
    [BACKUP_VAULT_PASSPHRASE_FLAG]: { type: 'string', value: 'FILE', description: 'create: passphrase of the vault itself when it is passphrase-protected (default: $DESKKMS_PASSPHRASE_FILE)' },
    out: { type: 'string', value: 'FILE', description: 'create: the backup file to write' },
    in: { type: 'string', value: 'FILE', description: 'verify, restore: the backup file' },
    'passphrase-file': { type: 'string', value: 'FILE', description: 'the RECOVERY passphrase (create: the backup opens with it; at least 8 bytes; one trailing newline is ignored)' },
    shares: { type: 'string', value: 'N', description: `create: split the recovery secret into N SLIP-0039 shares (${MIN_SHARES}-${MAX_SHARES})` },
    threshold: { type: 'string', value: 'M', description: 'create: how many shares open the backup (2..N)' },
    'share-dir': { type: 'string', value: 'DIR', description: 'create: where share-K-of-N.txt and share-K-of-N.html are written (made 0700; files 0600)' },
    share: { type: 'string', multiple: true, value: 'FILE', description: 'verify, restore: a share file (or a file holding its words); repeat for each share' },
    force: { type: 'boolean', description: 'create: replace an existing backup file and share files' },
    protection: { type: 'string', value: 'keychain|passphrase', description: 'restore: how the restored vault\'s data key is kept (default keychain, passphrase with --new-passphrase-file)' },
    'new-passphrase-file': { type: 'string', value: 'FILE', description: 'restore --protection passphrase: the restored vault\'s passphrase' },
  },
  positionals: ['create|verify|restore'],
  details:
    'create is the Action CreateBackup (audited): a consistent snapshot of the vault taken while it stays in use, with the data key wrapped under the recovery secret, ' +
    'authenticated as a whole, re-read and verified before it answers; it prints what it wrote (never the shares) and records the backup in the vault (deskkms status). ' +
    'Shares: print each page, give each share to a different person, then delete the share files from this disk. ' +
    'verify opens the backup without touching any vault and lists its keys, versions and audit head; restore recreates the vault in a new directory, ' +
    'its audit chain continuing from the backup\'s head with a RestoreVault entry. Progress goes to stderr, the result JSON to stdout. ' +
    'Refusals (exit 2, {"Code","Message"} on stderr): Backup.Damaged (the file is damaged or no backup), Backup.WrongSecret, Backup.ShareInvalid (names the share), ' +
    'Backup.SharesInsufficient, Backup.ShareMismatch (shares of another backup or set).',
  async run(flags, io, positionals = []) {
    const sub = positionals[0];
    if ((sub !== 'create' && sub !== 'verify' && sub !== 'restore') || positionals.length > 1) throw invalidParameter('backup', 'give "create", "verify" or "restore"');
    if (sub !== 'create' && flags.force !== undefined) throw invalidParameter('--force', 'is for backup create');
    if (sub === 'create') return create(flags, io);
    return sub === 'verify' ? verify(flags, io) : restore(flags, io);
  },
};
