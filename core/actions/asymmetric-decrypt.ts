// AsymmetricDecrypt: the key worker decrypts with the version's sealed private key.
import { decodeBase64, encodeBase64 } from '../contract/base64.ts';
import { invalidParameter } from '../contract/errors.ts';
import { dryRunPassed } from './dry-run.ts';
import type { Handler } from './operation.ts';
import { cryptoTarget, sealedRef } from './targets.ts';

export const asymmetricDecrypt: Handler<'AsymmetricDecrypt'> = async (vault, req, ctx) => {
  const t = cryptoTarget(vault, req, 'ENCRYPT/DECRYPT', ctx);
  const ciphertext = decodeBase64(req.CiphertextBlob, 'CiphertextBlob');
  const key = sealedRef(t);
  if (req.DryRun) {
    // Checks made without the private key; whether CiphertextBlob decrypts is learnt only by decrypting.
    if (ciphertext.length === 0) throw invalidParameter('CiphertextBlob', 'is empty');
    dryRunPassed('AsymmetricDecrypt');
  }
  const { plaintext } = await vault.worker.request({ op: 'decrypt', key, algorithm: req.Algorithm, ciphertext });
  return { response: { KeyId: t.key.key_id, KeyVersionId: t.version.key_version_id, Plaintext: encodeBase64(plaintext) } };
};
