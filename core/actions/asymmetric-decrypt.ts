// AsymmetricDecrypt: the key worker decrypts with the version's sealed private key.
import { decodeBase64, encodeBase64 } from '../contract/base64.ts';
import { assertDecryptable } from '../crypto/engine.ts';
import { dryRunPassed } from './dry-run.ts';
import type { Handler } from './operation.ts';
import { cryptoTarget, publicKeyOf, sealedRef } from './targets.ts';

export const asymmetricDecrypt: Handler<'AsymmetricDecrypt'> = async (vault, req, ctx) => {
  const t = cryptoTarget(vault, req, 'ENCRYPT/DECRYPT', ctx);
  const ciphertext = decodeBase64(req.CiphertextBlob, 'CiphertextBlob');
  const key = sealedRef(t);
  if (req.DryRun) {
    // Every check the key worker makes before it uses the private key (the engine's assertDecryptable,
    // which its decrypt calls: algorithm, emptiness, RSA length, SM2 DER shape and C1 on the curve),
    // made here with the stored public key; only the decryption itself is not tried.
    assertDecryptable(publicKeyOf(t.version), req.Algorithm, ciphertext);
    dryRunPassed('AsymmetricDecrypt');
  }
  const { plaintext } = await vault.worker.request({ op: 'decrypt', key, algorithm: req.Algorithm, ciphertext });
  return { response: { KeyId: t.key.key_id, KeyVersionId: t.version.key_version_id, Plaintext: encodeBase64(plaintext) } };
};
