// How the vault's data key is protected, changed: a new passphrase, a move between the keychain and
// a passphrase, a new data key (ChangePassphrase, ChangeProtection, RotateDataKey). Each change is
// one database transaction (with its audit entry, through dispatch): killed at any moment, the
// vault opens with the old secret or the new one, never neither.
//
// The keychain lives outside that transaction, so keychain entries are written under a name never
// used before, listed for deletion (custody-meta.ts) in a transaction of their own BEFORE they are
// written, and taken off the list by the change's commit. Whatever a kill leaves behind (a new
// entry the header never named, an old one it no longer names) is deleted at the next unlock.
import { KmsError, invalidParameter } from '../contract/errors.ts';
import { decodeBase64 } from '../contract/base64.ts';
import { copySecret } from '../vault/secrets.ts';
import { freshKeychainAccount, isUnclaimed, keychainAccount, keychainCleanup, setKeychainAccount, setKeychainCleanup } from '../vault/custody-meta.ts';
import { deleteMeta, getMeta, setMeta } from '../vault/meta.ts';
import { applyRotation, sealedInventory } from '../vault/rotation.ts';
import { setIntegrityKey } from '../vault/integrity.ts';
import type { Db } from '../vault/store.ts';
import type { ProtectionKind, Vault } from '../vault/vault.ts';
import type { Protection } from '../worker/protocol.ts';
import type { HandlerEffects } from './operation.ts';

export interface ProtectionAnswer {
  readonly VaultId: string;
  readonly Protection: ProtectionKind;
}

/** A passphrase parameter's bytes, outside V8's heap (moved into the key worker, which wipes them). */
export function passphraseBytes(base64: string, name: string): Uint8Array<ArrayBuffer> {
  const bytes = decodeBase64(base64, name);
  if (bytes.length === 0) throw invalidParameter(name, 'is empty');
  const secret = copySecret(bytes);
  bytes.fill(0);
  return secret;
}

/** The current passphrase and the wrapped key it must open: protection changes of a passphrase vault prove it. */
function currentPassphrase(vault: Vault, passphrase: string | undefined): { current: { passphrase: Uint8Array; wrapped: unknown }; wrappedText: string } {
  if (passphrase === undefined) throw new KmsError('MissingParameter', 'Passphrase is required: the vault is protected by a passphrase, and changing how needs the current one');
  const { text, wrapped } = vault.wrappedDataKey();
  return { current: { passphrase: passphraseBytes(passphrase, 'Passphrase'), wrapped }, wrappedText: text };
}

function passphraseProtection(vault: Vault, passphrase: Uint8Array): Protection {
  const kdfN = vault.passphraseKdfN();
  return { kind: 'passphrase', passphrase, ...(kdfN === undefined ? {} : { kdfN }) };
}

function transferOf(...secrets: (Uint8Array | undefined)[]): ArrayBuffer[] {
  return secrets.filter((s): s is Uint8Array<ArrayBuffer> => s !== undefined && s.buffer instanceof ArrayBuffer).map((s) => s.buffer);
}

/** The header must still say what the change was prepared against (another process may have changed it). */
function assertHeader(db: Db, expected: { protection: ProtectionKind; wrapped?: string; account?: string; verifier?: string }): void {
  const moved =
    getMeta(db, 'protection') !== expected.protection ||
    (expected.wrapped !== undefined && getMeta(db, 'wrapped_data_key') !== expected.wrapped) ||
    (expected.verifier !== undefined && getMeta(db, 'verifier') !== expected.verifier);
  if (moved) throw new KmsError('Vault.Busy', "the vault's protection was changed by another DeskKMS process meanwhile; nothing was changed: try again");
}

/** Lists a keychain entry for deletion before it is written (its own transaction). */
async function announceEntry(vault: Vault, account: string): Promise<void> {
  await vault.store.write((db) => setKeychainCleanup(db, vault.vaultId, [...keychainCleanup(db, vault.vaultId, undefined), account]));
}

/**
 * At the commit of a change that wrote keychain entry `account`: it must still be listed. Another
 * process's unlock may have claimed (and deleted) it meanwhile: then nothing is committed.
 */
function assertAnnounced(db: Db, vault: Vault, account: string): void {
  if (!isUnclaimed(db, vault.vaultId, account)) {
    throw new KmsError('Vault.Busy', "another DeskKMS process cleaned up this vault's keychain entries while the change was being made; nothing was changed: try again");
  }
}

/** Deletes the entry a change wrote and did not commit: the header never named it (best effort). */
async function forgetEntry(vault: Vault, account: string): Promise<void> {
  await vault.worker.request({ op: 'deleteKeychainEntry', account }).catch(() => undefined);
}

/** Deletes listed keychain entries now (best effort: the next unlock retries what is left). */
function cleanUpAfter(vault: Vault): () => Promise<void> {
  return () => vault.cleanUpKeychain().catch(() => undefined);
}

export async function changePassphrase(vault: Vault, passphrase: string, newPassphrase: string): Promise<HandlerEffects & { answer: ProtectionAnswer }> {
  if (vault.protectionKind !== 'passphrase') {
    throw new KmsError('InvalidParameter', 'this vault is protected by the OS keychain, not a passphrase: move it to a passphrase with ChangeProtection (deskkms vault protect --with passphrase)');
  }
  const { current, wrappedText } = currentPassphrase(vault, passphrase);
  const next = passphraseBytes(newPassphrase, 'NewPassphrase');
  const { wrapped } = await vault.worker.request({ op: 'reprotect', protection: passphraseProtection(vault, next), current }, transferOf(current.passphrase, next));
  return {
    answer: { VaultId: vault.vaultId, Protection: 'passphrase' },
    write: (db) => {
      assertHeader(db, { protection: 'passphrase', wrapped: wrappedText });
      setMeta(db, 'wrapped_data_key', JSON.stringify(wrapped));
    },
  };
}

export async function changeProtection(
  vault: Vault,
  to: ProtectionKind,
  passphrase: string | undefined,
  newPassphrase: string | undefined,
): Promise<HandlerEffects & { answer: ProtectionAnswer }> {
  const from = vault.protectionKind;
  if (to === from) throw invalidParameter('Protection', `the vault is already protected by ${to === 'keychain' ? 'the OS keychain' : 'a passphrase'}`);
  const answer = { VaultId: vault.vaultId, Protection: to };
  if (to === 'passphrase') {
    if (newPassphrase === undefined) throw new KmsError('MissingParameter', 'NewPassphrase is required to move the vault to a passphrase');
    const account = keychainAccount(vault.store.db, vault.vaultId);
    const next = passphraseBytes(newPassphrase, 'NewPassphrase');
    const { wrapped } = await vault.worker.request({ op: 'reprotect', protection: passphraseProtection(vault, next) }, transferOf(next));
    return {
      answer,
      write: (db) => {
        assertHeader(db, { protection: 'keychain' });
        if (keychainAccount(db, vault.vaultId) !== account) {
          throw new KmsError('Vault.Busy', "the vault's keychain entry was changed by another DeskKMS process meanwhile; nothing was changed: try again");
        }
        setMeta(db, 'protection', 'passphrase');
        setMeta(db, 'wrapped_data_key', JSON.stringify(wrapped));
        setKeychainAccount(db, vault.vaultId, undefined);
        // The keychain entry is no longer the vault's: deleted after the commit (or at the next unlock).
        setKeychainCleanup(db, vault.vaultId, [...keychainCleanup(db, vault.vaultId, undefined), account]);
        vault.adoptHeader({ protection: 'passphrase' });
      },
      afterCommit: cleanUpAfter(vault),
      afterRollback: () => {
        vault.adoptHeader({ protection: from });
        return Promise.resolve();
      },
    };
  }
  const { current, wrappedText } = currentPassphrase(vault, passphrase);
  const account = freshKeychainAccount(vault.vaultId);
  await announceEntry(vault, account);
  await vault.worker.request({ op: 'reprotect', protection: { kind: 'keychain', account }, current }, transferOf(current.passphrase));
  return {
    answer,
    write: (db) => {
      assertHeader(db, { protection: 'passphrase', wrapped: wrappedText });
      assertAnnounced(db, vault, account);
      setMeta(db, 'protection', 'keychain');
      deleteMeta(db, 'wrapped_data_key');
      setKeychainAccount(db, vault.vaultId, account);
      setKeychainCleanup(db, vault.vaultId, keychainCleanup(db, vault.vaultId, account));
      vault.adoptHeader({ protection: 'keychain' });
    },
    afterCommit: cleanUpAfter(vault),
    afterRollback: async () => {
      vault.adoptHeader({ protection: from });
      await forgetEntry(vault, account);
      await cleanUpAfter(vault)();
    },
  };
}

/**
 * A new random data key: every private key and access-key secret opened under the old key and
 * sealed under the new one in the key worker, every record MACed under the new integrity key, the
 * new key stored as the old one was (a fresh keychain entry, or wrapped under the same passphrase),
 * all committed in one transaction. The vault is held alone meanwhile (Vault.holdAlone).
 */
export async function rotateDataKey(
  vault: Vault,
  requestId: string,
  passphrase: string | undefined,
): Promise<HandlerEffects & { answer: ProtectionAnswer & { ResealedSecrets: number; RevokedImportTokens: number } }> {
  await vault.holdAlone(requestId);
  const kind = vault.protectionKind;
  const verifier = vault.currentVerifier;
  let protection: Protection;
  let current: { passphrase: Uint8Array; wrapped: unknown } | undefined;
  let wrappedText: string | undefined;
  let transfer: ArrayBuffer[];
  const oldAccount = keychainAccount(vault.store.db, vault.vaultId);
  let newAccount: string | undefined;
  if (kind === 'passphrase') {
    ({ current, wrappedText } = currentPassphrase(vault, passphrase));
    // The same passphrase wraps the new key: a second copy, since the worker wipes each it is given.
    const again = copySecret(current.passphrase);
    protection = passphraseProtection(vault, again);
    transfer = transferOf(current.passphrase, again);
  } else {
    newAccount = freshKeychainAccount(vault.vaultId);
    await announceEntry(vault, newAccount);
    protection = { kind: 'keychain', account: newAccount };
    transfer = [];
  }
  const abort = async (): Promise<void> => {
    await vault.worker.request({ op: 'rotateFinish', commit: false }).catch(() => undefined);
    if (newAccount !== undefined) {
      await forgetEntry(vault, newAccount);
      await cleanUpAfter(vault)();
    }
  };
  const inventory = sealedInventory(vault.store.db);
  let begun: Awaited<ReturnType<typeof beginRotation>>;
  try {
    begun = await beginRotation(vault, protection, current, transfer);
  } catch (error) {
    await abort();
    throw error;
  }
  let resealed: Uint8Array[];
  try {
    resealed = inventory.items.length === 0 ? [] : (await vault.worker.request({ op: 'reseal', items: inventory.items })).sealed;
  } catch (error) {
    begun.integrityKey.fill(0);
    await abort();
    throw error;
  }
  let previousKey: Buffer | undefined;
  const undoWrite = (): void => {
    if (previousKey) setIntegrityKey(vault.store.db, previousKey);
    previousKey?.fill(0);
    previousKey = undefined;
    if (verifier !== undefined) vault.adoptHeader({ verifier });
  };
  return {
    answer: { VaultId: vault.vaultId, Protection: kind, ResealedSecrets: resealed.length, RevokedImportTokens: inventory.importTokens },
    write: (db) => {
      assertHeader(db, { protection: kind, ...(wrappedText !== undefined ? { wrapped: wrappedText } : {}), ...(verifier !== undefined ? { verifier } : {}) });
      if (newAccount !== undefined) assertAnnounced(db, vault, newAccount);
      // Read under the old integrity key; written again under the new one below.
      const cleanup = keychainCleanup(db, vault.vaultId, undefined);
      previousKey = applyRotation(db, inventory, resealed, begun.integrityKey);
      setMeta(db, 'verifier', begun.verifier);
      if (kind === 'passphrase') {
        setMeta(db, 'wrapped_data_key', JSON.stringify(begun.wrapped));
        setKeychainCleanup(db, vault.vaultId, cleanup);
      } else {
        setKeychainAccount(db, vault.vaultId, newAccount);
        setKeychainCleanup(db, vault.vaultId, [...cleanup.filter((a) => a !== newAccount), oldAccount]);
      }
      vault.adoptHeader({ verifier: begun.verifier });
    },
    afterCommit: async () => {
      begun.integrityKey.fill(0);
      previousKey?.fill(0);
      await vault.worker.request({ op: 'rotateFinish', commit: true });
      await cleanUpAfter(vault)();
    },
    undoWrite,
    afterRollback: async () => {
      // (A failed COMMIT rejects the batch without undoWrite: undone here, before the next batch.)
      undoWrite();
      begun.integrityKey.fill(0);
      await abort();
    },
  };
}

function beginRotation(vault: Vault, protection: Protection, current: { passphrase: Uint8Array; wrapped: unknown } | undefined, transfer: ArrayBuffer[]) {
  return vault.worker.request({ op: 'rotateBegin', vaultId: vault.vaultId, protection, ...(current ? { current } : {}) }, transfer);
}
