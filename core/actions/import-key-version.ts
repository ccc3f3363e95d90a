// ImportKeyVersion (DeskKMS extension): an encrypted PKCS#8 private key (PEM or base64 DER) as a
// new version, decrypted and sealed inside the key worker.
import { randomUUID } from 'node:crypto';
import { decodeBase64 } from '../contract/base64.ts';
import { insertVersion } from '../vault/records.ts';
import { kmsDate } from '../vault/vault.ts';
import { readEncryptedPkcs8 } from '../x509/pkcs8-export.ts';
import { keyVersionInfo } from './key-metadata.ts';
import { assertAsymmetric, assertGeneratedOrigin, assertUsable } from './key-policy.ts';
import type { Handler } from './operation.ts';
import { resolveKey } from './targets.ts';

function encryptedInput(text: string): Uint8Array {
  return text.trimStart().startsWith('-----BEGIN') ? readEncryptedPkcs8(text) : readEncryptedPkcs8(decodeBase64(text, 'EncryptedPrivateKey'));
}

export const importKeyVersion: Handler<'ImportKeyVersion'> = async (vault, req, ctx) => {
  const key = resolveKey(vault, req.KeyId, ctx);
  assertAsymmetric(key, 'ImportKeyVersion (PKCS#8 private keys)');
  assertUsable(key);
  assertGeneratedOrigin(key, 'ImportKeyVersion');
  const encrypted = encryptedInput(req.EncryptedPrivateKey);
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
    response: { KeyVersion: keyVersionInfo(key.key_id, { key_version_id: keyVersionId, creation_date: creationDate }) },
    write: (db) =>
      insertVersion(db, { key_version_id: keyVersionId, key_id: key.key_id, creation_date: creationDate, public_key: imported.publicKey, sealed_private: imported.sealed }, 'Imported'),
  };
};
