// What the vault header keeps about its custody, besides how it unlocks (header.ts):
// - keychain_account: the keychain entry that holds the data key (vault-<vault id> unless a
//   rotation or a move to the keychain named another; a header field, checksummed);
// - keychain_cleanup: keychain entries this vault no longer uses and still has to delete (an entry
//   written for a protection change that did not commit, the old entry after one that did). MACed:
//   edited, it could send the vault to delete another vault's entry; only entries of this vault's
//   own naming are ever deleted, and never the one in use;
// - last_backup: the last backup made and verified (status shows it, and warns when key versions
//   were created since). MACed: a forged one would silence that warning.
import { randomBytes } from 'node:crypto';
import { hasIntegrityKey, integrityMac, macsEqual } from './integrity.ts';
import { deleteMeta, getMeta, setMeta } from './meta.ts';
import type { Db } from './store.ts';

const ACCOUNT = 'keychain_account';
const CLEANUP = 'keychain_cleanup';
const LAST_BACKUP = 'last_backup';

export function defaultKeychainAccount(vaultId: string): string {
  return `vault-${vaultId}`;
}

/** The keychain entry a keychain vault's data key is in. */
export function keychainAccount(db: Db, vaultId: string): string {
  return getMeta(db, ACCOUNT) ?? defaultKeychainAccount(vaultId);
}

/** A keychain entry name not used before: vault-<vault id>-<random>. */
export function freshKeychainAccount(vaultId: string): string {
  return `${defaultKeychainAccount(vaultId)}-${randomBytes(6).toString('hex')}`;
}

export function setKeychainAccount(db: Db, vaultId: string, account: string | undefined): void {
  if (account === undefined || account === defaultKeychainAccount(vaultId)) deleteMeta(db, ACCOUNT);
  else setMeta(db, ACCOUNT, account);
}

function isOwnAccount(account: unknown, vaultId: string): account is string {
  const own = defaultKeychainAccount(vaultId);
  if (typeof account !== 'string') return false;
  return account === own || (account.startsWith(`${own}-`) && /^[0-9a-f]{12}$/.test(account.slice(own.length + 1)));
}

interface CleanupEntry {
  readonly account: string;
  /** When an unlock claimed it for deletion (ISO); a claim older than CLAIM_STALE_MS is taken over. */
  readonly claimed?: string;
  /** The claiming process: a claim whose process is gone (killed between claim and delete) is taken over at once. */
  readonly pid?: number;
}

/** A claim this old was left by a process killed between its claim and its delete (or whose pid was reused). */
const CLAIM_STALE_MS = 60_000;

/** The listed entries: only this vault's own and authentic; empty when unverifiable. */
function cleanupEntries(db: Db, vaultId: string): CleanupEntry[] {
  const stored = getMeta(db, CLEANUP);
  if (stored === undefined || !hasIntegrityKey(db)) return [];
  try {
    const parsed = JSON.parse(stored) as { entries?: unknown; mac?: unknown };
    if (!Array.isArray(parsed.entries) || typeof parsed.mac !== 'string') return [];
    const entries = (parsed.entries as unknown[]).filter(
      (e): e is CleanupEntry =>
        typeof e === 'object' &&
        e !== null &&
        isOwnAccount((e as CleanupEntry).account, vaultId) &&
        ((e as CleanupEntry).claimed === undefined || typeof (e as CleanupEntry).claimed === 'string') &&
        ((e as CleanupEntry).pid === undefined || Number.isSafeInteger((e as CleanupEntry).pid)),
    );
    if (entries.length !== parsed.entries.length) return [];
    return macsEqual(Buffer.from(parsed.mac, 'hex'), cleanupMac(db, entries)) ? entries : [];
  } catch {
    return [];
  }
}

function cleanupMac(db: Db, entries: readonly CleanupEntry[]): Buffer {
  return integrityMac(db, 'keychain-cleanup', [JSON.stringify(entries)]);
}

function writeEntries(db: Db, entries: readonly CleanupEntry[]): void {
  if (entries.length === 0) deleteMeta(db, CLEANUP);
  else setMeta(db, CLEANUP, JSON.stringify({ entries, mac: cleanupMac(db, entries).toString('hex') }));
}

/** Entries to delete: only this vault's own, authentic, and never `inUse`. Empty when unverifiable. */
export function keychainCleanup(db: Db, vaultId: string, inUse: string | undefined): string[] {
  return cleanupEntries(db, vaultId)
    .map((e) => e.account)
    .filter((a) => a !== inUse);
}

/** Lists exactly `accounts` (claims of those already listed are kept). */
export function setKeychainCleanup(db: Db, vaultId: string, accounts: readonly string[]): void {
  const current = cleanupEntries(db, vaultId);
  const unique = [...new Set(accounts)];
  writeEntries(
    db,
    unique.map((account) => current.find((e) => e.account === account) ?? { account }),
  );
}

/** An announced entry not claimed by any unlock: a change may commit a header naming it. */
export function isUnclaimed(db: Db, vaultId: string, account: string): boolean {
  return cleanupEntries(db, vaultId).some((e) => e.account === account && e.claimed === undefined);
}

/**
 * Claims the listed entries (not `inUse`) that no live claim holds, for this unlock to delete; in
 * the caller's transaction. They stay listed until deleted, so a kill between claim and delete
 * leaves them for a later unlock (once the claim is stale), never orphaned.
 */
export function claimKeychainCleanup(db: Db, vaultId: string, inUse: string | undefined, now: Date, claimant: number = process.pid): string[] {
  const entries = cleanupEntries(db, vaultId);
  const stale = (e: CleanupEntry): boolean => {
    const age = now.getTime() - Date.parse(e.claimed!);
    return !(age <= CLAIM_STALE_MS) || (e.pid !== undefined && e.pid !== claimant && !isAlive(e.pid));
  };
  const claimable = (e: CleanupEntry): boolean => e.account !== inUse && (e.claimed === undefined || stale(e));
  const mine = entries.filter(claimable).map((e) => e.account);
  if (mine.length > 0) writeEntries(db, entries.map((e) => (mine.includes(e.account) ? { account: e.account, claimed: now.toISOString(), pid: claimant } : e)));
  return mine;
}

/** Whether a process of this machine is alive (EPERM: alive, another user's). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LastBackup {
  readonly BackupId: string;
  readonly Created: string;
  readonly Path: string;
  readonly Recovery: 'passphrase' | 'shares';
  /** The newest key version in the backup (key_versions.seq): status counts the versions after it. */
  readonly VersionSeq: number;
}

/** The last verified backup, if its record is authentic (undefined otherwise, so status warns). */
export function lastBackup(db: Db): LastBackup | undefined {
  const stored = getMeta(db, LAST_BACKUP);
  if (stored === undefined || !hasIntegrityKey(db)) return undefined;
  try {
    const parsed = JSON.parse(stored) as { backup?: LastBackup; mac?: unknown };
    const b = parsed.backup;
    if (!b || typeof parsed.mac !== 'string') return undefined;
    if (typeof b.BackupId !== 'string' || typeof b.Created !== 'string' || typeof b.Path !== 'string' || (b.Recovery !== 'passphrase' && b.Recovery !== 'shares')) return undefined;
    if (!Number.isSafeInteger(b.VersionSeq) || b.VersionSeq < 0) return undefined;
    const backup: LastBackup = { BackupId: b.BackupId, Created: b.Created, Path: b.Path, Recovery: b.Recovery, VersionSeq: b.VersionSeq };
    return macsEqual(Buffer.from(parsed.mac, 'hex'), lastBackupMac(db, backup)) ? backup : undefined;
  } catch {
    return undefined;
  }
}

function lastBackupMac(db: Db, b: LastBackup): Buffer {
  return integrityMac(db, 'last-backup', [b.BackupId, b.Created, b.Path, b.Recovery, b.VersionSeq]);
}

export function setLastBackup(db: Db, backup: LastBackup): void {
  setMeta(db, LAST_BACKUP, JSON.stringify({ backup, mac: lastBackupMac(db, backup).toString('hex') }));
}
