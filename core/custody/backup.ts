// Backups of a vault, and restores from them (DESIGN.md section 4; the file format is
// backup-file.ts; the data key's part runs in the key worker, core/worker/custody.ts).
//
// A backup is a consistent snapshot of vault.db (VACUUM INTO: a read transaction, so other
// processes keep using the vault meanwhile) with the data key wrapped under a recovery secret: a
// passphrase, or a random 32-byte master secret split M-of-N into SLIP-0039 mnemonic shares
// (slip39.ts), which the vault never stores. Every backup is verified the way `backup verify`
// verifies one (the file read back, opened with the secret, every row and the audit chain checked,
// every private key opened) before it is reported made.
//
// A restore recreates the vault from the snapshot under this machine's keychain (a new entry) or a
// new passphrase. The data key and the vault id stay: every sealed key, MAC and the audit anchor
// remain valid, and the audit chain continues from the backup's head with a RestoreVault entry.
import { randomBytes, randomUUID } from 'node:crypto';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readSync, renameSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { recordEvent } from '../actions/dispatch.ts';
import { verifyAuditChain } from '../audit/audit-log.ts';
import type { BackupContentsView, BackupHeaderView } from '../contract/app-api.ts';
import { KmsError, invalidParameter } from '../contract/errors.ts';
import { escapeText } from '../contract/escape-text.ts';
import { copySecret, secretBytes } from '../vault/secrets.ts';
import { freshKeychainAccount, lastBackup, setKeychainAccount, setKeychainCleanup, setLastBackup, type LastBackup } from '../vault/custody-meta.ts';
import { integrityKey, setIntegrityKey, verifiedAll, verifyAllRows } from '../vault/integrity.ts';
import { deleteMeta, getMeta, setMeta } from '../vault/meta.ts';
import { sealedInventory } from '../vault/rotation.ts';
import { fsyncPathSync } from '../vault/durable.ts';
import { DB_FILE, Store, type Db } from '../vault/store.ts';
import { Vault, kmsDate } from '../vault/vault.ts';
import { KeyWorkerClient } from '../worker/client.ts';
import type { Protection, RecoveryInput } from '../worker/protocol.ts';
import { checkHeaderMac, damaged, decryptSnapshot, openBackupFile, writeBackupFile, type BackupHeader, type OpenedBackup } from './backup-file.ts';
import { readShareFile } from './share-file.ts';
import { combineMnemonics, decodeMnemonic, splitMasterSecret } from './slip39.ts';

export type RecoverySecret =
  | { readonly kind: 'passphrase'; readonly passphrase: Uint8Array }
  | { readonly kind: 'shares'; readonly shares: readonly { readonly text: string; readonly where: string }[] };

export interface Progress {
  readonly phase: string;
  readonly done: number;
  readonly total: number;
}

/** What a backup is without its secret, and what it holds once opened: the app's views are the one definition. */
export type { BackupHeaderView };
export type BackupContents = BackupContentsView;

/** SLIP-0039 iteration exponents DeskKMS reads: it writes 1; a share claiming more would make recovery run PBKDF2 for minutes. */
const MAX_ITERATION_EXPONENT = 4;
const MASTER_SECRET_BYTES = 32;

function headerView(backup: OpenedBackup): BackupHeaderView {
  const { header } = backup;
  const recovery = header.Recovery;
  return {
    BackupId: header.BackupId,
    VaultId: header.VaultId,
    Created: header.Created,
    Size: backup.size,
    Recovery: recovery.Kind,
    ...(recovery.Kind === 'shares' ? { Threshold: recovery.Threshold, ShareCount: recovery.ShareCount, ShareIdentifier: recovery.Identifier } : {}),
  };
}

/** What a backup needs to open and what it is, without its secret (the whole file's checksum is checked). */
export function inspectBackup(path: string): Promise<BackupHeaderView> {
  return Promise.resolve().then(() => headerView(openBackupFile(resolve(path))));
}

/** The recovery secret as the key worker takes it: the passphrase, or the master secret the shares give. */
function recoveryInput(header: BackupHeader, secret: RecoverySecret): { input: RecoveryInput; transfer: ArrayBuffer[] } {
  const recovery = header.Recovery;
  if (secret.kind === 'passphrase') {
    if (recovery.Kind !== 'passphrase') throw new KmsError('Backup.WrongSecret', `this backup is opened with ${recovery.Threshold} of its ${recovery.ShareCount} recovery shares, not a passphrase`);
    const passphrase = copySecret(secret.passphrase);
    return { input: { kind: 'passphrase', passphrase }, transfer: [passphrase.buffer] };
  }
  if (recovery.Kind !== 'shares') throw new KmsError('Backup.WrongSecret', 'this backup is opened with its recovery passphrase, not with shares');
  const words = secret.shares.map((s) => readShareFile(s.text, s.where));
  const wheres = secret.shares.map((s) => s.where);
  const members = new Set<number>();
  words.forEach((mnemonic, i) => {
    const share = decodeMnemonic(mnemonic, wheres[i]);
    const where = escapeText(wheres[i]!, 200);
    if (share.identifier !== recovery.Identifier) {
      throw new KmsError('Backup.ShareMismatch', `${where} belongs to another backup (its share set is ${share.identifier}; this backup's is ${recovery.Identifier})`);
    }
    if (share.iterationExponent > MAX_ITERATION_EXPONENT) {
      throw new KmsError('Backup.ShareInvalid', `${where} asks for iteration exponent ${share.iterationExponent}; DeskKMS shares use at most ${MAX_ITERATION_EXPONENT}`);
    }
    members.add(share.memberIndex);
  });
  if (members.size < recovery.Threshold) {
    throw new KmsError(
      'Backup.SharesInsufficient',
      `${members.size} different share${members.size === 1 ? '' : 's'} given; this backup needs any ${recovery.Threshold} of its ${recovery.ShareCount}`,
    );
  }
  const combined = combineMnemonics(words, { wheres });
  const master = copySecret(combined);
  combined.fill(0);
  return { input: { kind: 'secret', secret: master }, transfer: [master.buffer] };
}

/** Opens the backup's data key into `worker` (its pending slot); checks the header's MAC. */
async function openWithSecret(worker: KeyWorkerClient, backup: OpenedBackup, secret: RecoverySecret): Promise<{ payloadKey: Uint8Array; integrityKey: Uint8Array }> {
  const { header } = backup;
  const { input, transfer } = recoveryInput(header, secret);
  let wrapped: Uint8Array;
  try {
    wrapped = new Uint8Array(Buffer.from(header.WrappedDataKey, 'base64'));
  } catch {
    throw damaged(backup.path, 'its wrapped data key is not base64');
  }
  const opened = await worker.request(
    { op: 'backupOpen', vaultId: header.VaultId, backupId: header.BackupId, recovery: input, kdf: header.Recovery.Kdf, wrapped, verifier: header.Verifier },
    transfer,
  );
  checkHeaderMac(backup, opened.payloadKey);
  return opened;
}

function readContents(db: Db, header: BackupHeaderView): Omit<BackupContents, 'PrivateKeysChecked'> {
  verifyAllRows(db);
  const verdict = verifyAuditChain(db);
  if (!verdict.ok) throw new KmsError('Vault.AuditBroken', `the vault's audit log does not verify: ${verdict.reason}`);
  const keys = verifiedAll(db, 'keys', db.prepare('SELECT * FROM keys ORDER BY seq').all() as { key_id: string; key_spec: string; key_usage: string; key_state: string }[]);
  const aliases = verifiedAll(db, 'aliases', db.prepare('SELECT * FROM aliases ORDER BY alias_name').all() as { alias_name: string; key_id: string }[]);
  const versions = verifiedAll(db, 'key_versions', db.prepare('SELECT * FROM key_versions ORDER BY seq').all() as { key_version_id: string; key_id: string; creation_date: string }[]);
  const count = (table: string): number => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  const head = db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: Buffer } | undefined;
  return {
    ...header,
    Keys: keys.map((k) => ({
      KeyId: k.key_id,
      KeySpec: k.key_spec,
      KeyUsage: k.key_usage,
      KeyState: k.key_state,
      Aliases: aliases.filter((a) => a.key_id === k.key_id).map((a) => a.alias_name),
      Versions: versions.filter((v) => v.key_id === k.key_id).map((v) => ({ KeyVersionId: v.key_version_id, CreationDate: v.creation_date })),
    })),
    KeyCount: keys.length,
    KeyVersionCount: versions.length,
    AccessKeyCount: count('access_keys'),
    RemoteConnectionCount: count('remote_connections'),
    AuditHead: { Seq: head?.seq ?? 0, Hash: head ? head.hash.toString('hex') : '' },
  };
}

/**
 * Opens the snapshot at `snapshotPath` under the backup's integrity key and checks all of it
 * against the header: rows, audit chain and head, counts, and every private key (in the worker).
 */
async function checkSnapshot(worker: KeyWorkerClient, backup: OpenedBackup, snapshotPath: string, key: Uint8Array): Promise<BackupContents> {
  const db = openSnapshot(backup, snapshotPath);
  try {
    setIntegrityKey(db, key);
    const contents = readContents(db, headerView(backup));
    const expected = backup.header.Contents;
    if (
      contents.KeyCount !== expected.KeyCount ||
      contents.KeyVersionCount !== expected.KeyVersionCount ||
      contents.AccessKeyCount !== expected.AccessKeyCount ||
      contents.AuditHead.Seq !== expected.AuditHead.Seq ||
      contents.AuditHead.Hash !== expected.AuditHead.Hash
    ) {
      throw damaged(backup.path, 'its snapshot does not hold what its header lists');
    }
    const { items } = sealedInventory(db);
    const { checked } = items.length === 0 ? { checked: 0 } : await worker.request({ op: 'checkSealed', items });
    return { ...contents, PrivateKeysChecked: checked };
  } catch (error) {
    if (error instanceof KmsError && (error.code === 'Vault.Corrupt' || error.code === 'Vault.AuditBroken')) {
      throw damaged(backup.path, `its vault snapshot does not verify: ${error.message}`);
    }
    throw error;
  } finally {
    setIntegrityKey(db, undefined);
    db.close();
  }
}

function openSnapshot(backup: OpenedBackup, snapshotPath: string): Db {
  try {
    const db = new Database(snapshotPath, { fileMustExist: true });
    db.pragma('quick_check');
    return db;
  } catch {
    throw damaged(backup.path, 'its snapshot is not a readable SQLite database');
  }
}

function progressOf(onProgress: ((p: Progress) => void) | undefined, phase: string, total: number): (done: number) => void {
  return (done) => onProgress?.({ phase, done, total });
}

/**
 * Proves the backup opens with `secret` and lists what it holds; touches no vault (the snapshot is
 * decrypted into a private temporary directory, removed afterwards).
 */
export async function verifyBackup(path: string, secret: RecoverySecret, options: { onProgress?: (p: Progress) => void } = {}): Promise<BackupContents> {
  const backup = openBackupFile(resolve(path));
  const worker = new KeyWorkerClient();
  const scratch = mkdtempSync(join(tmpdir(), 'deskkms-verify-'));
  try {
    options.onProgress?.({ phase: 'opening with the recovery secret', done: 0, total: 1 });
    const { payloadKey, integrityKey: key } = await openWithSecret(worker, backup, secret);
    const snapshot = join(scratch, 'snapshot.db');
    try {
      decryptSnapshot(backup, payloadKey, snapshot, progressOf(options.onProgress, 'decrypting the snapshot', backup.header.Snapshot.Size));
    } finally {
      payloadKey.fill(0);
    }
    options.onProgress?.({ phase: 'checking keys, records and the audit chain', done: 0, total: backup.header.Contents.KeyVersionCount });
    try {
      return await checkSnapshot(worker, backup, snapshot, key);
    } finally {
      key.fill(0);
    }
  } finally {
    await worker.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

export interface RestoreOptions {
  readonly path: string;
  readonly secret: RecoverySecret;
  readonly vaultDir: string;
  readonly protection: 'keychain' | 'passphrase';
  /** The restored vault's passphrase (protection passphrase); wiped. */
  readonly newPassphrase?: Uint8Array;
  readonly kdfN?: number;
  /** Who restores, as audited: 'cli' unless a host says otherwise. */
  readonly caller?: string;
  readonly onProgress?: (p: Progress) => void;
}

/**
 * Recreates the vault of a backup in `vaultDir` (which must hold none), protected by this
 * machine's keychain or a new passphrase. Nothing is left behind on failure: the vault appears
 * (vault.db renamed into place) only once it is whole and verified.
 */
export async function restoreBackup(options: RestoreOptions): Promise<BackupContents & { VaultPath: string; Protection: 'keychain' | 'passphrase' }> {
  const vaultDir = resolve(options.vaultDir);
  if (options.protection === 'passphrase' && (options.newPassphrase === undefined || options.newPassphrase.length === 0)) {
    throw new KmsError('MissingParameter', 'NewPassphrase is required to restore under a passphrase');
  }
  if (Store.exists(vaultDir)) throw invalidParameter('--vault', `${escapeText(vaultDir, 300)} already holds a vault; restore into an empty directory`);
  // A copy that unlocks the restored vault once (the vault wipes it), to record the restore.
  const reopen = options.protection === 'passphrase' ? copySecret(options.newPassphrase!) : undefined;
  const backup = openBackupFile(resolve(options.path));
  const { header } = backup;
  // Made here, removed again if the restore is refused (a directory that was there stays).
  const madeDir = !existsSync(vaultDir);
  mkdirSync(vaultDir, { recursive: true, mode: 0o700 });
  if (madeDir) chmodSync(vaultDir, 0o700);
  const staging = join(vaultDir, `.restore-${randomBytes(6).toString('hex')}.db`);
  const worker = new KeyWorkerClient();
  let contents: BackupContents;
  // The keychain entry this restore wrote, deleted again if the vault does not appear.
  let written: string | undefined;
  try {
    options.onProgress?.({ phase: 'opening with the recovery secret', done: 0, total: 1 });
    const { payloadKey, integrityKey: key } = await openWithSecret(worker, backup, options.secret);
    try {
      decryptSnapshot(backup, payloadKey, staging, progressOf(options.onProgress, 'decrypting the snapshot', header.Snapshot.Size));
    } finally {
      payloadKey.fill(0);
    }
    options.onProgress?.({ phase: 'checking keys, records and the audit chain', done: 0, total: header.Contents.KeyVersionCount });
    contents = await checkSnapshot(worker, backup, staging, key);
    // The data key under this machine's protection: a keychain entry of its own (never the name an
    // original vault on this machine may use), or the new passphrase.
    const account = freshKeychainAccount(header.VaultId);
    let protection: Protection;
    let transfer: ArrayBuffer[] = [];
    if (options.protection === 'keychain') protection = { kind: 'keychain', account };
    else {
      const passphrase = copySecret(options.newPassphrase!);
      options.newPassphrase!.fill(0);
      protection = { kind: 'passphrase', passphrase, ...(options.kdfN === undefined ? {} : { kdfN: options.kdfN }) };
      transfer = [passphrase.buffer];
    }
    if (protection.kind === 'keychain') written = account;
    const adopted = await worker.request({ op: 'adoptPending', vaultId: header.VaultId, protection }, transfer);
    const db = new Database(staging, { fileMustExist: true });
    try {
      setIntegrityKey(db, key);
      db.transaction(() => {
        setMeta(db, 'protection', options.protection);
        if (options.protection === 'passphrase') setMeta(db, 'wrapped_data_key', JSON.stringify(adopted.wrapped));
        else deleteMeta(db, 'wrapped_data_key');
        setKeychainAccount(db, header.VaultId, options.protection === 'keychain' ? account : undefined);
        // The old machine's leftover keychain entries are not this machine's to delete.
        setKeychainCleanup(db, header.VaultId, []);
        // This vault is exactly what the backup holds: it is its last verified backup.
        setLastBackup(db, lastBackupRecord(header, backup.path, lastVersionSeq(db)));
      }).immediate();
      db.pragma('journal_mode = WAL');
    } finally {
      setIntegrityKey(db, undefined);
      db.close();
      key.fill(0);
    }
    fsyncPathSync(staging);
    if (Store.exists(vaultDir)) throw invalidParameter('--vault', `${escapeText(vaultDir, 300)} received a vault while this one was being restored; nothing was replaced`);
    renameSync(staging, join(vaultDir, DB_FILE));
    fsyncPathSync(vaultDir);
  } catch (error) {
    rmSync(staging, { force: true });
    for (const suffix of ['-wal', '-shm', '-journal']) rmSync(staging + suffix, { force: true });
    if (written !== undefined) await worker.request({ op: 'deleteKeychainEntry', account: written }).catch(() => undefined);
    if (madeDir) rmdirQuietly(vaultDir);
    reopen?.fill(0);
    throw error;
  } finally {
    await worker.close();
  }
  const vault = Vault.open(vaultDir, reopen ? { passphrase: reopen } : {});
  try {
    await vault.ensureUnlocked();
    await recordEvent(vault, 'RestoreVault', 'OK', options.caller ?? 'cli');
  } finally {
    await vault.close();
  }
  return { ...contents, VaultPath: vaultDir, Protection: options.protection };
}

function lastBackupRecord(header: BackupHeader, path: string, versionSeq: number): LastBackup {
  return { BackupId: header.BackupId, Created: header.Created, Path: path, Recovery: header.Recovery.Kind, VersionSeq: versionSeq };
}

/** Removes a directory if it is empty; leaves it (and says nothing) otherwise. */
function rmdirQuietly(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty, or already gone
  }
}

/** The newest key version's position: versions after it are not in a backup taken now. */
function lastVersionSeq(db: Db): number {
  return (db.prepare('SELECT coalesce(max(seq), 0) AS seq FROM key_versions').get() as { seq: number }).seq;
}


export interface CreateBackupOptions {
  readonly path: string;
  readonly recovery: { readonly kind: 'passphrase'; readonly passphrase: Uint8Array } | { readonly kind: 'shares'; readonly threshold: number; readonly shares: number };
  readonly overwrite: boolean;
  /** scrypt cost of a passphrase backup (tests lower it); default 2^17. */
  readonly kdfN?: number;
}

export interface CreatedBackup extends BackupContents {
  readonly Path: string;
  /** The SLIP-0039 mnemonics (shares backups): shown once, kept nowhere. */
  readonly Mnemonics?: string[];
  readonly record: LastBackup;
}

/**
 * Writes a backup of the (unlocked) vault and verifies it as `backup verify` would, with its own
 * key worker, before it is renamed to `path`. The caller records it as the vault's last backup.
 */
export async function createBackupFile(vault: Vault, options: CreateBackupOptions): Promise<CreatedBackup> {
  const path = resolve(options.path);
  const dir = dirname(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw invalidParameter('Path', `the directory ${escapeText(dir, 300)} does not exist`);
  if (existsSync(path) && !options.overwrite) throw invalidParameter('Path', `${escapeText(path, 300)} exists; choose another name or overwrite it`);
  const backupId = randomUUID();
  // The snapshot (the vault but its data key) and the file being written live in a private (0700)
  // directory beside the destination, on its filesystem so the finished file is renamed into place.
  const work = mkdtempSync(join(dir, `.${basename(path)}.deskkms-`));
  const snapshot = join(work, 'snapshot.db');
  const partial = join(work, 'backup.partial');
  let master: Uint8Array<ArrayBuffer> | undefined;
  let verifySecret: RecoverySecret | undefined;
  try {
    const created = kmsDate(vault.now());
    // Created 0600 first (VACUUM INTO writes into an empty file, with the umask's mode otherwise).
    closeSync(openSync(snapshot, 'wx', 0o600));
    vault.store.db.prepare('VACUUM INTO ?').run(snapshot);
    // What the snapshot holds, read and checked under the vault's integrity key.
    const snapDb = new Database(snapshot, { fileMustExist: true });
    let contents: Omit<BackupContents, 'PrivateKeysChecked'>;
    let versionSeq: number;
    try {
      versionSeq = lastVersionSeq(snapDb);
      setIntegrityKey(snapDb, integrityKey(vault.store.db));
      contents = readContents(snapDb, { BackupId: backupId, VaultId: vault.vaultId, Created: created, Size: 0, Recovery: options.recovery.kind });
    } finally {
      setIntegrityKey(snapDb, undefined);
      snapDb.close();
    }
    const { size, sha256 } = fileDigest(snapshot);
    let recovery: RecoveryInput;
    let transfer: ArrayBuffer[];
    let shares: { identifier: number; mnemonics: string[] } | undefined;
    if (options.recovery.kind === 'passphrase') {
      const passphrase = copySecret(options.recovery.passphrase);
      verifySecret = { kind: 'passphrase', passphrase: copySecret(options.recovery.passphrase) };
      recovery = { kind: 'passphrase', passphrase, ...(options.kdfN === undefined ? {} : { kdfN: options.kdfN }) };
      transfer = [passphrase.buffer];
    } else {
      master = secretBytes(MASTER_SECRET_BYTES);
      master.set(randomBytes(MASTER_SECRET_BYTES));
      shares = splitMasterSecret(master, { threshold: options.recovery.threshold, shares: options.recovery.shares });
      const moved = copySecret(master);
      recovery = { kind: 'secret', secret: moved };
      transfer = [moved.buffer];
      verifySecret = { kind: 'shares', shares: shares.mnemonics.slice(0, options.recovery.threshold).map((text, i) => ({ text, where: `share ${i + 1}` })) };
    }
    const sealed = await vault.worker.request({ op: 'backupSeal', vaultId: vault.vaultId, backupId, recovery }, transfer);
    const header: BackupHeader = {
      Format: 'deskkms-backup',
      Version: 1,
      BackupId: backupId,
      VaultId: vault.vaultId,
      Created: created,
      Recovery:
        options.recovery.kind === 'passphrase'
          ? { Kind: 'passphrase', Kdf: sealed.kdf }
          : { Kind: 'shares', Kdf: sealed.kdf, Scheme: 'SLIP-0039', Threshold: options.recovery.threshold, ShareCount: options.recovery.shares, Identifier: shares!.identifier },
      WrappedDataKey: Buffer.from(sealed.wrapped).toString('base64'),
      Verifier: getMeta(vault.store.db, 'verifier')!,
      Snapshot: { Size: size, Sha256: sha256 },
      Contents: { KeyCount: contents.KeyCount, KeyVersionCount: contents.KeyVersionCount, AccessKeyCount: contents.AccessKeyCount, AuditHead: contents.AuditHead },
    };
    try {
      writeBackupFile(partial, header, sealed.payloadKey, snapshot);
    } finally {
      sealed.payloadKey.fill(0);
    }
    rmSync(snapshot, { force: true });
    // Read back and opened with the secret by a key worker of its own, as `backup verify` does.
    const verified = await verifyBackup(partial, verifySecret);
    renameSync(partial, path);
    fsyncPathSync(dir);
    return {
      ...verified,
      Path: path,
      Size: statSync(path).size,
      ...(shares ? { Mnemonics: shares.mnemonics } : {}),
      record: { BackupId: backupId, Created: created, Path: path, Recovery: options.recovery.kind, VersionSeq: versionSeq },
    };
  } finally {
    master?.fill(0);
    if (verifySecret?.kind === 'passphrase') verifySecret.passphrase.fill(0);
    rmSync(work, { recursive: true, force: true });
  }
}

function fileDigest(path: string): { size: number; sha256: string } {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  const buffer = Buffer.alloc(1024 * 1024);
  let size = 0;
  try {
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
      size += n;
    }
  } finally {
    closeSync(fd);
  }
  return { size, sha256: hash.digest('hex') };
}

export { lastBackup };
