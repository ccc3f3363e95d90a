// ImportKeyMaterial: wrapped key material (under a GetParametersForImport wrapping key) unwrapped
// and sealed in the key worker. An EXTERNAL key takes only its first material, again after
// DeleteKeyMaterial; expiring material is refused (an offline station cannot promise to destroy it).
import { randomUUID } from 'node:crypto';
import { decodeBase64 } from '../contract/base64.ts';
import { KmsError, invalidParameter } from '../contract/errors.ts';
import { getImportToken, insertVersion, setVersionMaterial } from '../vault/records.ts';
import { kmsDate } from '../vault/vault.ts';
import { importedVersion, tokenDigest } from './key-material.ts';
import { assertExternalOrigin, assertUsable } from './key-policy.ts';
import type { Handler } from './operation.ts';
import { currentUsableKey, resolveKey } from './targets.ts';

export const importKeyMaterial: Handler<'ImportKeyMaterial'> = async (vault, req, ctx) => {
  const key = resolveKey(vault, req.KeyId, ctx);
  assertExternalOrigin(key);
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
      currentUsableKey(db, key.key_id);
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
};
