// Encrypt: up to 6 KiB under a symmetric key's primary version, bound to the EncryptionContext; the
// answer is a self-describing CiphertextBlob (core/contract/ciphertext-blob.ts).
import { decodeBase64, encodeBase64 } from '../contract/base64.ts';
import { dryRunPassed } from './dry-run.ts';
import type { Handler } from './operation.ts';
import { encryptionTarget, sealBlob } from './symmetric-target.ts';

export const encrypt: Handler<'Encrypt'> = async (vault, req, ctx) => {
  const t = encryptionTarget(vault, req.KeyId, ctx);
  const plaintext = decodeBase64(req.Plaintext, 'Plaintext');
  if (req.DryRun) dryRunPassed('Encrypt');
  const blob = await sealBlob(vault, t, plaintext, req.EncryptionContext);
  return { response: { KeyId: t.key.key_id, KeyVersionId: t.version.key_version_id, CiphertextBlob: encodeBase64(blob) } };
};
