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
import { authenticateAllRows, hasIntegrityKey, setIntegrityKey } from './integrity.ts';

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
}

export interface VaultStatus {
  readonly VaultPath: string;
  readonly VaultId: string;
  readonly KeyCount: number;
  readonly Protection: string;
  readonly Locked: boolean;
}

/** ISO 8601 without milliseconds, as Alibaba KMS writes dates. */
export function kmsDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class Vault {
  readonly store: Store;
  readonly worker: KeyWorkerClient;
  readonly vaultId: string;
  readonly protectionKind: ProtectionKind;
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
    this.protectionKind = protection;
    this.passphrase = options.passphrase;
    this.latched = options.startLocked === true;
    this.worker = new KeyWorkerClient({
      ...options.worker,
      onRestart: () => {
        // The replacement worker starts locked; a keychain vault unlocks again on next use.
        this.unlocked = undefined;
        setIntegrityKey(this.store.db, undefined);
        options.worker?.onRestart?.();
      },
    });
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
        : { kind: 'keychain', account: `vault-${vaultId}` };
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

  /** Unlocks the worker once; concurrent callers share the attempt. Refused after lock() until unlockWith(). */
  ensureUnlocked(): Promise<void> {
    if (this.latched) return Promise.reject(new KmsError('Vault.Locked', 'the vault is locked: unlock it first'));
    this.unlocked ??= this.unlock().catch((error: unknown) => {
      this.unlocked = undefined;
      throw error;
    });
    return this.unlocked;
  }

  private async unlock(): Promise<void> {
    // A damaged header is Vault.Corrupt here, before a passphrase or keychain entry is blamed for it.
    this.store.checkHeader();
    const verifier = this.store.getMeta('verifier')!;
    let protection: Protection;
    let transfer: ArrayBuffer[] = [];
    if (this.protectionKind === 'keychain') {
      protection = { kind: 'keychain', account: `vault-${this.vaultId}` };
    } else {
      if (!this.passphrase) {
        if (this.passphraseRefusal) throw this.passphraseRefusal;
        throw new KmsError('Vault.Locked', 'this vault is protected by a passphrase: unlock it with the passphrase (CLI: --passphrase-file FILE or DESKKMS_PASSPHRASE_FILE)');
      }
      const wrappedText = this.store.getMeta('wrapped_data_key');
      let wrapped: unknown;
      try {
        wrapped = JSON.parse(wrappedText ?? '');
      } catch {
        throw new KmsError('Vault.Corrupt', 'the wrapped data key in the vault header is not readable');
      }
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
      throw error;
    });
    setIntegrityKey(this.store.db, result.integrityKey);
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

  /** Long-running hosts sweep due deletions every `intervalMs` (the CLI sweeps at open). */
  startDeletionSweeper(intervalMs = 60_000): void {
    this.sweeper ??= setInterval(() => void this.purgeDueKeys().catch(() => undefined), intervalMs);
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
