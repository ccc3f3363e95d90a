// ExportKeyVersion (DeskKMS extension): a version of an Exportable key, only encrypted (PKCS#8
// PBES2) under a passphrase the caller supplies, made inside the key worker.
import { decodeBase64 } from '../contract/base64.ts';
import { encryptedPkcs8Pem } from '../x509/pkcs8-export.ts';
import { assertExportable, assertPrivateMaterial, assertUsable } from './key-policy.ts';
import type { Handler } from './operation.ts';
import { resolveKey, resolveVersion } from './targets.ts';

export const exportKeyVersion: Handler<'ExportKeyVersion'> = async (vault, req, ctx) => {
  const key = resolveKey(vault, req.KeyId, ctx);
  const version = resolveVersion(vault, key, req.KeyVersionId, ctx);
  assertExportable(key);
  assertUsable(key);
  assertPrivateMaterial(key, version);
  const { encrypted } = await vault.worker.request({
    op: 'exportEncrypted',
    key: { keyId: key.key_id, keyVersionId: version.key_version_id, spec: key.key_spec, sealed: version.sealed_private },
    passphrase: decodeBase64(req.Passphrase, 'Passphrase'),
    kdf: req.Kdf,
  });
  return {
    response: { KeyId: key.key_id, KeyVersionId: version.key_version_id, KeySpec: key.key_spec, EncryptedPrivateKey: encryptedPkcs8Pem(encrypted) },
  };
};
