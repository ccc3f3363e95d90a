// A vault: one directory holding the SQLite store, protected by a data key that lives in the OS
// keychain (or is wrapped under a passphrase), and one key worker that alone holds that data key.
// The main thread sees metadata, public keys and sealed blobs only.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { anchorAuditHead, recordPurgedKeys, startAuditLog } from '../audit/audit-log.ts';
import { KmsError } from '../contract/errors.ts';
import { escapeText } from '../contract/escape-text.ts';
import { keyReference } from '../contract/policy.ts';
import { copySecret } from './secrets.ts';
import { KeyWorkerClient, type KeyWorkerClientOptions } from '../worker/client.ts';
import type { Protection } from '../worker/protocol.ts';
import { countKeys, getAlias, getKey, getVersion, keysDueForDeletion, listVersions, deleteKey, type KeyRow, type VersionRow } from './records.ts';
import { DB_FILE, Store, setMeta, type Db } from './store.ts';
import { authenticateAllRows, hasIntegrityKey, rotatedElsewhere, setIntegrityKey } from './integrity.ts';
import { claimKeychainCleanup, defaultKeychainAccount, keychainAccount, keychainCleanup, lastBackup, setKeychainCleanup, type LastBackup } from './custody-meta.ts';
import { getMeta } from './meta.ts';
import { changeStamp, requestsArrived } from './row-cache.ts';
import { countVersionsAfter } from './inventory.ts';

export type ProtectionKind = 'keychain' | 'passphrase';

export interface VaultOptions {
  /** Passphrase for a passphrase-protected vault (read from --passphrase-file); wiped after use. */
  readonly passphrase?: Uint8Array;
  readonly worker?: KeyWorkerClientOptions;
  /** Clock for deletion windows (tests move time). */
  readonly now?: () => Date;
  /** Who creates the vault, as audited (InitVault): 'cli' unless a host says otherwise. */
  readonly caller?: string;
  /**
   * Start locked by the user: nothing unlocks (not even from the keychain) until unlockWith().
   * The desktop app opens its vault this way; the CLI and the API server unlock on demand.
   */
  readonly startLocked?: boolean;
  /** scrypt cost of passphrases this vault wraps its data key under from now on (tests lower it); default: the vault's current cost. */
  readonly kdfN?: number;
}

export interface VaultStatus {
  readonly VaultPath: string;
  readonly VaultId: string;
  readonly KeyCount: number;
  readonly Protection: string;
  readonly Locked: boolean;
  /** The last backup made (and verified) from this vault; absent when none, or unknown while locked. */
  readonly LastBackup?: LastBackup;
  /** Key versions created (or imported) after the last backup: what a restore from it would lack. */
  readonly KeyVersionsSinceBackup?: number;
  /** Set when the vault's keys are not all in a verified backup: what to do about it. */
  readonly BackupAdvice?: string;
}

/** ISO 8601 without milliseconds, as Alibaba KMS writes dates. */
export function kmsDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class Vault {
  readonly store: Store;
  readonly worker: KeyWorkerClient;
  readonly vaultId: string;
  private protection: ProtectionKind;
  /** The verifier this process unlocked with: another process's data-key rotation changes it. */
  private unlockedVerifier: string | undefined;
  /** The change stamp at which the header's verifier was last found to be unlockedVerifier. */
  private verifierCheckedAt: string | undefined;
  private readonly kdfN: number | undefined;
  /** Calls in flight (dispatch counts them) and the protection change that holds the vault alone. */
  private activeCalls = 0;
  private exclusive: { owner: string; released: Promise<void>; release: () => void } | undefined;
  private drained: (() => void) | undefined;
  private passphrase: Uint8Array | undefined;
  /** Why the passphrase given was refused (it is gone after one try): a later unlock says so again. */
  private passphraseRefusal: KmsError | undefined;
  private unlocked: Promise<void> | undefined;
  /** Set by lock(): ensureUnlocked() refuses until unlockWith(), so a call in flight cannot re-unlock. */
  private latched: boolean;
  private backend: string | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly clock: () => Date;

  private constructor(store: Store, options: VaultOptions) {
    this.store = store;
    this.clock = options.now ?? (() => new Date());
    const vaultId = store.getMeta('vault_id');
    const protection = store.getMeta('protection');
    if (!vaultId || (protection !== 'keychain' && protection !== 'passphrase') || !store.getMeta('verifier')) {
      throw new KmsError('Vault.Corrupt', `${store.dir} has a database but no complete vault header; it was not initialised by DeskKMS or is damaged`);
    }
    this.vaultId = vaultId;
    this.protection = protection;
    this.kdfN = options.kdfN;
    // Nothing is written under a data key another process has rotated away (see ensureUnlocked).
    store.writeGuard = (db) => {
      if (this.verifierMovedTo(getMeta(db, 'verifier'))) {
        this.forgetUnlock();
        throw rotatedElsewhere();
      }
    };
    this.passphrase = options.passphrase;
    this.latched = options.startLocked === true;
    this.worker = new KeyWorkerClient({
      ...options.worker,
      onRestart: () => {
        // The replacement worker starts locked; a keychain vault unlocks again on next use.
        this.unlocked = undefined;
        this.unlockedVerifier = undefined;
        setIntegrityKey(this.store.db, undefined);
        options.worker?.onRestart?.();
      },
    });
  }

  /** How the data key is protected now (a protection change moves it). */
  get protectionKind(): ProtectionKind {
    return this.protection;
  }

  /** scrypt cost for a new passphrase wrap: the option, else the vault's current cost (undefined: the default). */
  passphraseKdfN(): number | undefined {
    if (this.kdfN !== undefined) return this.kdfN;
    try {
      const n = (JSON.parse(this.store.getMeta('wrapped_data_key') ?? '') as { N?: unknown }).N;
      return typeof n === 'number' ? n : undefined;
    } catch {
      return undefined;
    }
  }

  now(): Date {
    return this.clock();
  }

  /** Creates a vault in `dir` (which must not hold one) and leaves it unlocked. */
  static async init(dir: string, options: VaultOptions & { kdfN?: number } = {}): Promise<Vault> {
    if (Store.exists(dir)) throw new KmsError('InvalidParameter', `--vault: ${dir} already holds a vault`);
    const store = Store.open(dir, { create: true });
    const vaultId = randomUUID();
    const worker = new KeyWorkerClient(options.worker);
    let complete = false;
    try {
      // A copy moved into the worker (which wipes it); the caller's passphrase unlocks the vault below.
      const passphrase = options.passphrase ? copySecret(options.passphrase) : undefined;
      const protection: Protection = passphrase
        ? { kind: 'passphrase', passphrase, ...(options.kdfN === undefined ? {} : { kdfN: options.kdfN }) }
        : { kind: 'keychain', account: defaultKeychainAccount(vaultId) };
      const result = await worker.request({ op: 'init', vaultId, protection }, passphrase ? [passphrase.buffer] : []);
      setIntegrityKey(store.db, result.integrityKey);
      result.integrityKey.fill(0);
      await store.write((db) => {
        setMeta(db, 'vault_id', vaultId);
        setMeta(db, 'protection', protection.kind);
        setMeta(db, 'verifier', result.verifier);
        if (result.wrapped !== undefined) setMeta(db, 'wrapped_data_key', JSON.stringify(result.wrapped));
        setMeta(db, 'created', kmsDate(options.now?.() ?? new Date()));
        startAuditLog(db, options.caller ?? 'cli');
      });
      complete = true;
    } finally {
      await worker.close();
      await store.close();
      // A vault whose header was never written (keychain refused, disk full) is no vault: remove
      // the database this call created, so a retry starts clean instead of meeting Vault.Corrupt.
      if (!complete) for (const file of [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`]) rmSync(join(dir, file), { force: true });
    }
    return Vault.open(dir, options);
  }

  static open(dir: string, options: VaultOptions = {}): Vault {
    const store = Store.open(dir);
    try {
      return new Vault(store, options);
    } catch (error) {
      void store.close();
      throw error;
    }
  }

  /**
   * For a host whose every request comes through one input it reads (`deskkms batch`, stdin): call
   * it as requests arrive, before dispatching them. Another process's changes are then looked for
   * once per arrival instead of once per microtask (row-cache.ts requestsArrived says why that is
   * as safe).
   */
  requestsArrived(): void {
    requestsArrived(this.store.db);
  }

  /** Unlocks the worker once; concurrent callers share the attempt. Refused after lock() until unlockWith(). */
  ensureUnlocked(): Promise<void> {
    if (this.latched) return Promise.reject(new KmsError('Vault.Locked', 'the vault is locked: unlock it first'));
    // Another process rotated the data key (or restored another header): unlock again, with the
    // key that opens the vault now (a keychain vault does so by itself; a passphrase one is locked).
    // (Read only when something changed since the last check: row-cache.ts changeStamp.)
    if (this.unlockedVerifier !== undefined) {
      const stamp = changeStamp(this.store.db);
      if (stamp === undefined || stamp !== this.verifierCheckedAt) {
        if (this.verifierMovedTo(this.store.getMeta('verifier'))) this.forgetUnlock();
        else this.verifierCheckedAt = stamp;
      }
    }
    this.unlocked ??= this.unlock().catch((error: unknown) => {
      this.unlocked = undefined;
      throw error;
    });
    return this.unlocked;
  }

  /**
   * Whether the header's verifier, read as `now`, is no longer the one this process unlocked with:
   * another process rotated the data key (or restored another header). False while locked.
   */
  private verifierMovedTo(now: string | undefined): boolean {
    return this.unlockedVerifier !== undefined && now !== this.unlockedVerifier;
  }

  /** Drops this process's unlock (the worker keeps nothing it could use: the next unlock replaces its key). */
  private forgetUnlock(): void {
    this.unlocked = undefined;
    this.backend = undefined;
    this.unlockedVerifier = undefined;
    setIntegrityKey(this.store.db, undefined);
    if (this.protection === 'passphrase' && !this.passphrase) this.passphraseRefusal = rotatedElsewhere();
  }

  private async unlock(): Promise<void> {
    // A damaged header is Vault.Corrupt here, before a passphrase or keychain entry is blamed for it.
    this.store.checkHeader();
    const verifier = this.store.getMeta('verifier')!;
    // Another process may have moved the vault to or from the keychain since it was opened.
    const kind = this.store.getMeta('protection');
    if (kind === 'keychain' || kind === 'passphrase') this.protection = kind;
    let protection: Protection;
    let transfer: ArrayBuffer[] = [];
    if (this.protectionKind === 'keychain') {
      protection = { kind: 'keychain', account: keychainAccount(this.store.db, this.vaultId) };
    } else {
      if (!this.passphrase) {
        if (this.passphraseRefusal) throw this.passphraseRefusal;
        throw new KmsError('Vault.Locked', 'this vault is protected by a passphrase: unlock it with the passphrase (CLI: --passphrase-file FILE or DESKKMS_PASSPHRASE_FILE)');
      }
      const { wrapped } = this.wrappedDataKey();
      // The worker wipes its copy; ours is dropped so a restarted worker cannot reuse it silently.
      // That copy is moved into the worker (transferred, not cloned): none is left on this side.
      const passphrase = copySecret(this.passphrase);
      protection = { kind: 'passphrase', passphrase, wrapped };
      transfer = [passphrase.buffer];
      this.passphrase.fill(0);
      this.passphrase = undefined;
    }
    const result = await this.worker.request({ op: 'unlock', vaultId: this.vaultId, protection, verifier }, transfer).catch((error: unknown) => {
      if (protection.kind === 'passphrase' && error instanceof KmsError) this.passphraseRefusal = error;
      // Another process's rotation committed (and deleted the old entry) between the header read
      // above and the keychain read: unlock again from what the header says now.
      if (protection.kind === 'keychain' && this.store.getMeta('verifier') !== verifier) return this.unlock().then(() => undefined);
      throw error;
    });
    if (result === undefined) return;
    // (a header without a verifier is damage, not a rotation: Vault.Corrupt as before)
    setIntegrityKey(this.store.db, result.integrityKey, () => {
      const now = this.store.getMeta('verifier');
      return now !== undefined && this.verifierMovedTo(now);
    });
    result.integrityKey.fill(0);
    if (result.upgradedVerifier !== undefined) {
      const upgraded = result.upgradedVerifier;
      try {
        await this.store.write((db) => this.authenticateLegacyVault(db, verifier, upgraded));
      } catch (error) {
        setIntegrityKey(this.store.db, undefined);
        await this.worker.request({ op: 'lock' }).catch(() => undefined);
        throw error;
      }
    }
    this.backend = result.backend;
    this.unlockedVerifier = this.store.getMeta('verifier');
    await this.cleanUpKeychain();
  }

  /**
   * Deletes the keychain entries this vault no longer uses (custody-meta.ts): left by a protection
   * change that stopped before or after its commit. Best effort: an entry that cannot be deleted
   * now (no keychain here) stays listed for the next unlock.
   */
  async cleanUpKeychain(): Promise<void> {
    const inUseOf = (db: Db): string | undefined => (getMeta(db, 'protection') === 'keychain' ? keychainAccount(db, this.vaultId) : undefined);
    if (keychainCleanup(this.store.db, this.vaultId, inUseOf(this.store.db)).length === 0) return;
    // Claimed first, in a transaction: an entry this unlock claimed is its to delete. A change in
    // another process that announced it and has not committed yet finds it claimed at its commit
    // and refuses (Vault.Busy), rather than commit a header naming a deleted entry. Claimed entries
    // stay listed until deleted: a kill in between leaves them to a later unlock (custody-meta.ts).
    const claimed = await this.store
      .write((db) => claimKeychainCleanup(db, this.vaultId, inUseOf(db), new Date()))
      .catch((): string[] => []);
    const deleted: string[] = [];
    for (const account of claimed) {
      await this.worker
        .request({ op: 'deleteKeychainEntry', account })
        .then(() => deleted.push(account))
        .catch(() => undefined);
    }
    if (deleted.length === 0) return;
    await this.store
      .write((db) => setKeychainCleanup(db, this.vaultId, keychainCleanup(db, this.vaultId, undefined).filter((a) => !deleted.includes(a))))
      .catch(() => undefined);
  }

  /** A passphrase vault's wrapped data key as the header holds it (its text, and parsed), or Vault.Corrupt. */
  wrappedDataKey(): { text: string; wrapped: unknown } {
    const text = this.store.getMeta('wrapped_data_key');
    try {
      return { text: text!, wrapped: JSON.parse(text ?? '') as unknown };
    } catch {
      throw new KmsError('Vault.Corrupt', 'the wrapped data key in the vault header is not readable');
    }
  }

  /** The verifier this process unlocked with (protection changes check nothing moved under them). */
  get currentVerifier(): string | undefined {
    return this.unlockedVerifier;
  }

  /**
   * A protection change's commit or rollback: the data key's protection and verifier as they are
   * now, for this process (other processes learn them from the header at their next call).
   */
  adoptHeader(change: { protection?: ProtectionKind; verifier?: string }): void {
    if (change.protection !== undefined) this.protection = change.protection;
    if (change.verifier !== undefined) this.unlockedVerifier = change.verifier;
  }

  /**
   * Counts a call in flight (dispatch); waits while a protection change holds the vault alone. At
   * once (no promise to wait for) when none does: a call then goes on in the same turn. Calls a host
   * starts together are not ordered by this: each then waits for the unlock, its handler's module
   * at the Action's first call (core/actions/table.ts) and its own reads, so they reach the store
   * and the audit log in the order they finish (a batch's lines are pipelined, README).
   */
  enterCall(): Promise<void> | undefined {
    if (!this.exclusive) {
      this.activeCalls++;
      return undefined;
    }
    return (async () => {
      while (this.exclusive) await this.exclusive.released;
      this.activeCalls++;
    })();
  }

  /** The end of a call: releases the vault if this call held it alone. */
  leaveCall(requestId: string): void {
    this.activeCalls--;
    if (this.exclusive?.owner === requestId) {
      this.exclusive.release();
      this.exclusive = undefined;
    }
    if (this.activeCalls <= 1) this.drained?.();
  }

  /**
   * Holds the vault alone for the rest of call `requestId` (a data-key rotation): new calls wait,
   * and this waits until the calls already in flight are done, so none of them seals a key or MACs
   * a row under the data key being replaced. Released when the call ends (leaveCall).
   */
  async holdAlone(requestId: string): Promise<void> {
    if (this.exclusive) throw new KmsError('Vault.Busy', 'another change of the vault\'s protection is under way in this process; try again when it is done');
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    this.exclusive = { owner: requestId, released, release };
    while (this.activeCalls > 1) {
      await new Promise<void>((resolve) => (this.drained = resolve));
      this.drained = undefined;
    }
  }

  /**
   * A vault made before authenticated metadata, unlocked for the first time since: every row gets
   * its MAC, the audit head its anchor, and the verifier becomes v2 (seal.ts), in one transaction.
   * What the file held at this moment is trusted from now on; afterwards a row without its MAC is
   * corrupt. (Another process may have upgraded it meanwhile: then there is nothing to do.)
   */
  private authenticateLegacyVault(db: Db, oldVerifier: string, upgraded: string): void {
    if (this.store.getMeta('verifier') !== oldVerifier) return;
    authenticateAllRows(db);
    anchorAuditHead(db);
    setMeta(db, 'verifier', upgraded);
  }

  /**
   * Wipes the worker's keys and latches the vault locked: calls already in flight fail at the
   * worker, and nothing unlocks again (not even from the keychain) until unlockWith().
   */
  async lock(): Promise<void> {
    this.latched = true;
    this.unlocked = undefined;
    this.backend = undefined;
    this.unlockedVerifier = undefined;
    setIntegrityKey(this.store.db, undefined);
    await this.worker.request({ op: 'lock' });
  }

  /**
   * Explicit unlock after lock() or startLocked: from the keychain, or with this passphrase
   * (wiped after use). A failed attempt leaves the vault locked.
   */
  async unlockWith(passphrase?: Uint8Array): Promise<void> {
    if (this.protectionKind === 'passphrase') {
      if (!passphrase) throw new KmsError('MissingParameter', 'Passphrase is required: this vault is protected by a passphrase');
      this.passphrase?.fill(0);
      this.passphrase = passphrase;
      this.passphraseRefusal = undefined;
    }
    this.latched = false;
    try {
      await this.ensureUnlocked();
    } catch (error) {
      this.latched = true;
      throw error;
    }
  }

  /** Locked by lock() or startLocked, until unlockWith(). */
  get isLocked(): boolean {
    return this.latched;
  }

  get isUnlocked(): boolean {
    return !this.latched && this.unlocked !== undefined && this.backend !== undefined;
  }

  status(backendName: string): VaultStatus {
    return {
      VaultPath: this.store.dir,
      VaultId: this.vaultId,
      KeyCount: countKeys(this.store.db),
      Protection: this.protectionKind === 'keychain' ? `OS keychain: ${backendName}` : describePassphrase(this.store.getMeta('wrapped_data_key')),
      Locked: !this.isUnlocked,
      ...(this.isUnlocked ? this.backupStatus() : {}),
    };
  }

  /** Whether every key version is in a verified backup (read from authenticated records: unlocked only). */
  private backupStatus(): Pick<VaultStatus, 'LastBackup' | 'KeyVersionsSinceBackup' | 'BackupAdvice'> {
    const db = this.store.db;
    const backup = lastBackup(db);
    if (!backup) {
      const all = countVersionsAfter(db, 0);
      return {
        KeyVersionsSinceBackup: all,
        BackupAdvice:
          all === 0
            ? 'no backup has been made of this vault yet'
            : `no backup has been made of this vault: its ${all} key version${all === 1 ? '' : 's'} die with this machine's ${this.protectionKind === 'keychain' ? 'keychain' : 'disk'}; make one (deskkms backup create)`,
      };
    }
    const since = countVersionsAfter(db, backup.VersionSeq);
    return {
      LastBackup: backup,
      KeyVersionsSinceBackup: since,
      ...(since > 0 ? { BackupAdvice: `${since} key version${since === 1 ? ' was' : 's were'} created after the last backup (${backup.Created}); make a new one` } : {}),
    };
  }

  /** KeyId as the API takes it: a UUID, alias/NAME, or an ARN ending in key/ID or alias/NAME. */
  resolveKey(keyIdParam: string): KeyRow {
    const { kind, name } = keyReference(keyIdParam);
    // The name is the caller's text (any characters, up to 512): escaped in messages.
    if (kind === 'alias') {
      const alias = getAlias(this.store.db, name);
      if (!alias) throw new KmsError('Forbidden.AliasNotFound', `alias ${escapeText(name, 256)} does not exist`);
      const key = getKey(this.store.db, alias.key_id);
      if (!key) throw new KmsError('Forbidden.KeyNotFound', `alias ${name} points to key ${alias.key_id}, which no longer exists`);
      return key;
    }
    const key = getKey(this.store.db, name);
    if (!key) throw new KmsError('Forbidden.KeyNotFound', `key ${escapeText(name, 256)} does not exist`);
    return key;
  }

  /** For filters over history: the KeyId an alias or ARN names, or the text itself (the key may be gone). */
  resolveKeyIdLenient(keyIdParam: string): string {
    try {
      return this.resolveKey(keyIdParam).key_id;
    } catch {
      return keyIdParam;
    }
  }

  resolveVersion(key: KeyRow, keyVersionId: string): VersionRow {
    const version = getVersion(this.store.db, key.key_id, keyVersionId);
    if (!version) throw new KmsError('Forbidden.KeyNotFound', `key version ${keyVersionId} does not exist for key ${key.key_id}`);
    return version;
  }

  /** Destroys every key whose deletion window has passed (with its versions, aliases, tags). */
  async purgeDueKeys(): Promise<string[]> {
    // Which keys are due is read from authenticated rows: a locked vault that cannot unlock now
    // (a passphrase vault opened without its passphrase) purges later, never on unverified rows.
    if (!hasIntegrityKey(this.store.db)) {
      try {
        await this.ensureUnlocked();
      } catch {
        return [];
      }
    }
    const now = kmsDate(this.now());
    if (keysDueForDeletion(this.store.db, now).length === 0) return [];
    const purged = await this.store.write((db) => {
      const due = keysDueForDeletion(db, now);
      const versionIds = due.flatMap((keyId) => listVersions(db, keyId).map((v) => v.key_version_id));
      for (const keyId of due) deleteKey(db, keyId);
      recordPurgedKeys(db, due);
      return { due, versionIds };
    });
    if (purged.versionIds.length > 0 && this.isUnlocked) await this.worker.request({ op: 'forget', keyVersionIds: purged.versionIds });
    return purged.due;
  }

  /**
   * Long-running hosts sweep every `intervalMs` (the CLI sweeps at open): due deletions, or what
   * `sweep` does (core/actions/key-rotation.ts sweepDue: deletions, then due key rotations).
   */
  startDeletionSweeper(intervalMs = 60_000, sweep: () => Promise<unknown> = () => this.purgeDueKeys()): void {
    this.sweeper ??= setInterval(() => void sweep().catch(() => undefined), intervalMs);
    this.sweeper.unref();
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.passphrase?.fill(0);
    await this.worker.close();
    await this.store.close();
    setIntegrityKey(this.store.db, undefined);
  }
}

function describePassphrase(wrapped: string | undefined): string {
  try {
    const w = JSON.parse(wrapped ?? '') as { kdf?: string; N?: number; r?: number; p?: number };
    return `passphrase (${w.kdf ?? '?'} N=2^${Math.log2(w.N ?? 0)}, r=${w.r ?? '?'}, p=${w.p ?? '?'}; AES-256-GCM)`;
  } catch {
    return 'passphrase (header unreadable)';
  }
}
