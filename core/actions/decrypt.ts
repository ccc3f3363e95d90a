// Decrypt: a CiphertextBlob of Encrypt, GenerateDataKey or ReEncrypt, by the key and version it
// names (no KeyId), with the EncryptionContext it was made with. A blob of another vault, another
// context or a changed byte is InvalidCiphertext.
import { decodeBase64, encodeBase64 } from '../contract/base64.ts';
import { dryRunPassed } from './dry-run.ts';
import type { Handler } from './operation.ts';
import { blobTarget, openBlob } from './symmetric-target.ts';

export const decrypt: Handler<'Decrypt'> = async (vault, req, ctx) => {
  const found = blobTarget(vault, decodeBase64(req.CiphertextBlob, 'CiphertextBlob'), ctx);
  // A DryRun makes every check but the tag's, which needs the key (as AsymmetricDecrypt's DryRun).
  if (req.DryRun) dryRunPassed('Decrypt');
  const plaintext = await openBlob(vault, found, req.EncryptionContext);
  const { key, version } = found.target;
  return { response: { KeyId: key.key_id, KeyVersionId: version.key_version_id, Plaintext: encodeBase64(plaintext) } };
};
