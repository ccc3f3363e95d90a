// AsymmetricEncrypt: needs only the stored public key, so it runs here (also for public-key-only versions).
import { decodeBase64, encodeBase64 } from '../contract/base64.ts';
import { encrypt } from '../crypto/engine.ts';
import { dryRunPassed } from './dry-run.ts';
import type { Handler } from './operation.ts';
import { cryptoTarget, publicKeyOf } from './targets.ts';

export const asymmetricEncrypt: Handler<'AsymmetricEncrypt'> = (vault, req, ctx) => {
  const t = cryptoTarget(vault, req, 'ENCRYPT/DECRYPT', ctx);
  const ciphertext = encrypt(publicKeyOf(t.version), req.Algorithm, decodeBase64(req.Plaintext, 'Plaintext'));
  // A DryRun encrypts too (a public-key operation: every Plaintext check is made) and answers no ciphertext.
  if (req.DryRun) dryRunPassed('AsymmetricEncrypt');
  return Promise.resolve({ response: { KeyId: t.key.key_id, KeyVersionId: t.version.key_version_id, CiphertextBlob: encodeBase64(ciphertext) } });
};
