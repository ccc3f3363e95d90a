// ImportPublicKeyVersion (DeskKMS extension): a public-key-only version (PEM or base64 SPKI) of an
// EXTERNAL_PUBLIC_KEY key: it verifies and encrypts, never signs, decrypts or leaves as a private key.
import { randomUUID } from 'node:crypto';
import { decodeBase64 } from '../contract/base64.ts';
import { importPublicKey } from '../crypto/engine.ts';
import { insertVersion } from '../vault/records.ts';
import { kmsDate } from '../vault/vault.ts';
import { keyVersionInfo } from './key-metadata.ts';
import { assertExternalPublicKeyOrigin, assertPublicKeySpec, assertUsable } from './key-policy.ts';
import type { Handler } from './operation.ts';
import { currentUsableKey, resolveKey } from './targets.ts';

function publicKeyInput(text: string): Uint8Array | string {
  return text.trimStart().startsWith('-----BEGIN') ? text : decodeBase64(text, 'PublicKey');
}

export const importPublicKeyVersion: Handler<'ImportPublicKeyVersion'> = (vault, req, ctx) => {
  const key = resolveKey(vault, req.KeyId, ctx);
  assertExternalPublicKeyOrigin(key);
  assertUsable(key);
  const publicKey = importPublicKey(publicKeyInput(req.PublicKey), 'PublicKey');
  assertPublicKeySpec(key, publicKey.spec);
  const keyVersionId = randomUUID();
  ctx.keyVersionId = keyVersionId;
  const creationDate = kmsDate(vault.now());
  return Promise.resolve({
    response: { KeyVersion: keyVersionInfo(key.key_id, { key_version_id: keyVersionId, creation_date: creationDate }) },
    write: (db) => {
      currentUsableKey(db, key.key_id);
      insertVersion(
        db,
        { key_version_id: keyVersionId, key_id: key.key_id, creation_date: creationDate, public_key: publicKey.spki, sealed_private: new Uint8Array(0), material: 'PublicOnly' },
        'Imported',
      );
    },
  });
};
