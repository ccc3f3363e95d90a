// Encrypted export and import of key versions (DeskKMS extensions). Export is possible only for
// keys created Exportable, only encrypted (PKCS#8 PBES2) under a passphrase the caller supplies,
// and happens inside the key worker; refusals are audited like every call.
import { randomUUID } from 'node:crypto';
import type { ActionName } from '../contract/actions.ts';
import { decodeBase64 } from '../contract/base64.ts';
import { KmsError } from '../contract/errors.ts';
import { insertVersion } from '../vault/records.ts';
import { kmsDate } from '../vault/vault.ts';
import { encryptedPkcs8Pem, readEncryptedPkcs8 } from '../x509/pkcs8-export.ts';
import type { Handler } from './operation.ts';
import { assertGeneratedOrigin, assertPrivateMaterial, assertUsable, resolve } from './key-handlers.ts';

type TransferAction = Extract<ActionName, 'ExportKeyVersion' | 'ImportKeyVersion'>;

function encryptedInput(text: string): Uint8Array {
  return text.trimStart().startsWith('-----BEGIN') ? readEncryptedPkcs8(text) : readEncryptedPkcs8(decodeBase64(text, 'EncryptedPrivateKey'));
}

export const TRANSFER_HANDLERS: { readonly [A in TransferAction]: Handler<A> } = {
  async ExportKeyVersion(vault, req, ctx) {
    const key = resolve(vault, req.KeyId, ctx);
    const version = vault.resolveVersion(key, req.KeyVersionId);
    ctx.keyVersionId = version.key_version_id;
    if (key.exportable !== 1) {
      throw new KmsError('Forbidden.NoPermission', `key ${key.key_id} was not created Exportable; its versions can never leave the vault`);
    }
    assertUsable(key);
    assertPrivateMaterial(key, version);
    await vault.ensureUnlocked();
    const { encrypted } = await vault.worker.request({
      op: 'exportEncrypted',
      key: { keyId: key.key_id, keyVersionId: version.key_version_id, spec: key.key_spec, sealed: version.sealed_private },
      passphrase: decodeBase64(req.Passphrase, 'Passphrase'),
      kdf: req.Kdf,
    });
    return {
      response: { KeyId: key.key_id, KeyVersionId: version.key_version_id, KeySpec: key.key_spec, EncryptedPrivateKey: encryptedPkcs8Pem(encrypted) },
    };
  },

  async ImportKeyVersion(vault, req, ctx) {
    const key = resolve(vault, req.KeyId, ctx);
    assertUsable(key);
    assertGeneratedOrigin(key, 'ImportKeyVersion');
    const encrypted = encryptedInput(req.EncryptedPrivateKey);
    await vault.ensureUnlocked();
    const keyVersionId = randomUUID();
    ctx.keyVersionId = keyVersionId;
    const imported = await vault.worker.request({
      op: 'importEncrypted',
      keyId: key.key_id,
      keyVersionId,
      spec: key.key_spec,
      encrypted,
      passphrase: decodeBase64(req.Passphrase, 'Passphrase'),
    });
    const creationDate = kmsDate(vault.now());
    return {
      response: { KeyVersion: { KeyId: key.key_id, KeyVersionId: keyVersionId, CreationDate: creationDate } },
      write: (db) =>
        insertVersion(db, { key_version_id: keyVersionId, key_id: key.key_id, creation_date: creationDate, public_key: imported.publicKey, sealed_private: imported.sealed }, 'Imported'),
    };
  },
};
