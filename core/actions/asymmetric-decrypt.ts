// AsymmetricDecrypt: the key worker decrypts with the version's sealed private key.
import { decodeBase64, encodeBase64 } from '../contract/base64.ts';
import type { Handler } from './operation.ts';
import { cryptoTarget, sealedRef } from './targets.ts';

export const asymmetricDecrypt: Handler<'AsymmetricDecrypt'> = async (vault, req, ctx) => {
  const t = cryptoTarget(vault, req, 'ENCRYPT/DECRYPT', ctx);
  const ciphertext = decodeBase64(req.CiphertextBlob, 'CiphertextBlob');
  const { plaintext } = await vault.worker.request({ op: 'decrypt', key: sealedRef(t), algorithm: req.Algorithm, ciphertext });
  return { response: { KeyId: t.key.key_id, KeyVersionId: t.version.key_version_id, Plaintext: encodeBase64(plaintext) } };
};
