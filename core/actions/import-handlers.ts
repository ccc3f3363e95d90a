// Bring your own key, as Alibaba Cloud KMS has it for asymmetric keys (CreateKey Origin EXTERNAL,
// GetParametersForImport, ImportKeyMaterial, DeleteKeyMaterial), and public-key-only versions
// (ImportPublicKeyVersion, a DeskKMS extension). Wrapping keys are made and used in the key
// worker; the main thread sees their public halves and sealed private halves only.
import { createHash, randomUUID } from 'node:crypto';
import type { ActionName } from '../contract/actions.ts';
import { decodeBase64, encodeBase64 } from '../contract/base64.ts';
import { KmsError, invalidParameter } from '../contract/errors.ts';
import { IMPORT_TOKEN_LIFETIME_MS, MAX_LIVE_IMPORT_TOKENS, WRAPPING_ALGORITHMS } from '../contract/key-import.ts';
import { importPublicKey } from '../crypto/engine.ts';
import { randomBase62 } from '../crypto/random-text.ts';
import {
  deleteExpiredImportTokens,
  pruneImportTokens,
  getImportToken,
  getKey,
  insertImportToken,
  insertVersion,
  listVersions,
  setVersionMaterial,
  type KeyRow,
  type VersionRow,
} from '../vault/records.ts';
import type { Db } from '../vault/store.ts';
import { kmsDate } from '../vault/vault.ts';
import type { Handler } from './operation.ts';
import { assertUsable, resolve } from './key-handlers.ts';

type ImportAction = Extract<ActionName, 'GetParametersForImport' | 'ImportKeyMaterial' | 'DeleteKeyMaterial' | 'ImportPublicKeyVersion'>;

function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function assertExternal(key: KeyRow): void {
  if (key.origin !== 'EXTERNAL') {
    throw invalidParameter('KeyId', `key ${key.key_id} has Origin ${key.origin}; key material can be imported only into keys created with Origin EXTERNAL`);
  }
}

/** The key inside the write, refused if it vanished or changed state meanwhile. */
function stillUsable(db: Db, keyId: string): void {
  const key = getKey(db, keyId);
  if (!key) throw new KmsError('Forbidden.KeyNotFound', `key ${keyId} does not exist`);
  assertUsable(key);
}

/** An EXTERNAL key has at most one version: the one its first ImportKeyMaterial created. */
function importedVersion(db: Db, keyId: string): VersionRow | undefined {
  return listVersions(db, keyId, 0, 1)[0];
}

function publicKeyInput(text: string): Uint8Array | string {
  return text.trimStart().startsWith('-----BEGIN') ? text : decodeBase64(text, 'PublicKey');
}

export const IMPORT_HANDLERS: { readonly [A in ImportAction]: Handler<A> } = {
  async GetParametersForImport(vault, req, ctx) {
    const key = resolve(vault, req.KeyId, ctx);
    assertExternal(key);
    assertUsable(key);
    const expected = WRAPPING_ALGORITHMS[req.WrappingAlgorithm].wrappingKeySpec;
    if (req.WrappingKeySpec !== expected) {
      throw invalidParameter('WrappingKeySpec', `${req.WrappingKeySpec} does not go with WrappingAlgorithm ${req.WrappingAlgorithm}; use ${expected}`);
    }
    await vault.ensureUnlocked();
    const token = randomBase62(48);
    const digest = tokenDigest(token);
    const wrapping = await vault.worker.request({ op: 'newWrappingKey', keyId: key.key_id, tokenId: digest, spec: req.WrappingKeySpec });
    const now = vault.now();
    const expireTime = kmsDate(new Date(now.getTime() + IMPORT_TOKEN_LIFETIME_MS));
    return {
      response: { KeyId: key.key_id, ImportToken: token, PublicKey: encodeBase64(wrapping.publicKey), TokenExpireTime: expireTime },
      write: (db) => {
        stillUsable(db, key.key_id);
        deleteExpiredImportTokens(db, kmsDate(now));
        insertImportToken(db, {
          token_sha256: digest,
          key_id: key.key_id,
          wrapping_algorithm: req.WrappingAlgorithm,
          wrapping_key_spec: req.WrappingKeySpec,
          public_key: wrapping.publicKey,
          sealed_private: wrapping.sealed,
          creation_date: kmsDate(now),
          expire_time: expireTime,
        });
        // Each call makes a wrapping key: repeated calls cannot grow the vault without bound.
        pruneImportTokens(db, key.key_id, MAX_LIVE_IMPORT_TOKENS);
      },
    };
  },

  async ImportKeyMaterial(vault, req, ctx) {
    const key = resolve(vault, req.KeyId, ctx);
    assertExternal(key);
    assertUsable(key);
    if (req.KeyMaterialExpireUnix !== undefined && req.KeyMaterialExpireUnix !== 0) {
      throw invalidParameter(
        'KeyMaterialExpireUnix',
        'expiring key material is not supported by this vault (an offline station cannot promise to destroy it on time); omit it or give 0 (never expires)',
      );
    }
    const digest = tokenDigest(req.ImportToken);
    const token = getImportToken(vault.store.db, digest);
    if (!token || token.key_id !== key.key_id) {
      throw new KmsError('InvalidImportToken', `ImportToken: was not issued for key ${key.key_id} by this vault; call GetParametersForImport for this key`);
    }
    if (kmsDate(vault.now()) >= token.expire_time) {
      throw new KmsError('InvalidImportToken.Expired', `ImportToken: expired at ${token.expire_time}; call GetParametersForImport for a new wrapping key and token`);
    }
    const material = decodeBase64(req.EncryptedKeyMaterial, 'EncryptedKeyMaterial');
    const existing = importedVersion(vault.store.db, key.key_id);
    const keyVersionId = existing?.key_version_id ?? randomUUID();
    ctx.keyVersionId = keyVersionId;
    await vault.ensureUnlocked();
    const imported = await vault.worker.request({
      op: 'importMaterial',
      keyId: key.key_id,
      keyVersionId,
      spec: key.key_spec,
      wrapping: { tokenId: digest, spec: token.wrapping_key_spec, algorithm: token.wrapping_algorithm, sealed: token.sealed_private },
      material,
    });
    if (existing && !Buffer.from(existing.public_key).equals(Buffer.from(imported.publicKey))) {
      throw new KmsError('IncorrectKeyMaterial', `EncryptedKeyMaterial: is not the key material imported into key ${key.key_id} before; a key takes only its first material again`);
    }
    const creationDate = kmsDate(vault.now());
    return {
      response: { KeyId: key.key_id, KeyVersionId: keyVersionId },
      write: (db) => {
        stillUsable(db, key.key_id);
        const now = importedVersion(db, key.key_id);
        if (now?.key_version_id !== existing?.key_version_id) {
          throw new KmsError('IncorrectKeyMaterial', `key ${key.key_id} received key material from another call meanwhile; try again`);
        }
        if (!now) {
          insertVersion(db, { key_version_id: keyVersionId, key_id: key.key_id, creation_date: creationDate, public_key: imported.publicKey, sealed_private: imported.sealed }, 'Imported');
        } else if (now.material !== 'Sealed') {
          setVersionMaterial(db, keyVersionId, 'Sealed', imported.sealed);
        }
      },
    };
  },

  async DeleteKeyMaterial(vault, req, ctx) {
    const key = resolve(vault, req.KeyId, ctx);
    assertExternal(key);
    if (key.key_state === 'PendingDeletion') assertUsable(key);
    const version = importedVersion(vault.store.db, key.key_id);
    if (!version || version.material !== 'Sealed') {
      throw new KmsError('Rejected.PendingImport', `key ${key.key_id} has no key material to delete`);
    }
    ctx.keyVersionId = version.key_version_id;
    // Drop the worker's live copy now, and again once the deletion is committed: a signature that
    // read the sealed row before the commit may have loaded it again in between.
    const forget = async (): Promise<void> => {
      if (vault.isUnlocked) await vault.worker.request({ op: 'forget', keyVersionIds: [version.key_version_id] });
    };
    await forget();
    return {
      response: {},
      afterCommit: forget,
      write: (db) => {
        const now = importedVersion(db, key.key_id);
        if (now?.material !== 'Sealed') throw new KmsError('Rejected.PendingImport', `key ${key.key_id} has no key material to delete`);
        setVersionMaterial(db, now.key_version_id, 'Deleted', new Uint8Array(0));
      },
    };
  },

  ImportPublicKeyVersion(vault, req, ctx) {
    const key = resolve(vault, req.KeyId, ctx);
    if (key.origin !== 'EXTERNAL_PUBLIC_KEY') {
      throw invalidParameter('KeyId', `key ${key.key_id} has Origin ${key.origin}; public-key-only versions go into keys created with Origin EXTERNAL_PUBLIC_KEY`);
    }
    assertUsable(key);
    const publicKey = importPublicKey(publicKeyInput(req.PublicKey), 'PublicKey');
    if (publicKey.spec !== key.key_spec) throw invalidParameter('PublicKey', `is a ${publicKey.spec} key; key ${key.key_id} is ${key.key_spec}`);
    const keyVersionId = randomUUID();
    ctx.keyVersionId = keyVersionId;
    const creationDate = kmsDate(vault.now());
    return Promise.resolve({
      response: { KeyVersion: { KeyId: key.key_id, KeyVersionId: keyVersionId, CreationDate: creationDate } },
      write: (db) => {
        stillUsable(db, key.key_id);
        insertVersion(
          db,
          { key_version_id: keyVersionId, key_id: key.key_id, creation_date: creationDate, public_key: publicKey.spki, sealed_private: new Uint8Array(0), material: 'PublicOnly' },
          'Imported',
        );
      },
    });
  },
};
