// ReEncrypt: a ciphertext decrypted and encrypted again under another symmetric key (its primary
// version), inside the vault: the plaintext is never answered. The source is a CiphertextBlob of a
// symmetric key (with SourceEncryptionContext), or, as Alibaba documents, an AsymmetricEncrypt
// ciphertext named by SourceKeyId, SourceKeyVersionId and SourceEncryptionAlgorithm. The audit entry
// names the source key and version, whose secret decrypted; the destination is in the answer.
import { decodeBase64, encodeBase64 } from '../contract/base64.ts';
import { KmsError, missingParameter } from '../contract/errors.ts';
import { dryRunPassed } from './dry-run.ts';
import type { Handler } from './operation.ts';
import { blobTarget, encryptionTarget, openBlob, sealBlob } from './symmetric-target.ts';
import { cryptoTarget, sealedRef } from './targets.ts';

export const reEncrypt: Handler<'ReEncrypt'> = async (vault, req, ctx) => {
  const destination = encryptionTarget(vault, req.DestinationKeyId, ctx);
  const ciphertext = decodeBase64(req.CiphertextBlob, 'CiphertextBlob');
  const asymmetric = req.SourceKeyId !== undefined || req.SourceKeyVersionId !== undefined || req.SourceEncryptionAlgorithm !== undefined;
  let source: { keyId: string; keyVersionId: string; plaintext: () => Promise<Uint8Array> };
  if (asymmetric) {
    if (req.SourceKeyId === undefined) throw missingParameter('SourceKeyId');
    if (req.SourceKeyVersionId === undefined) throw missingParameter('SourceKeyVersionId');
    if (req.SourceEncryptionAlgorithm === undefined) throw missingParameter('SourceEncryptionAlgorithm');
    if (req.SourceEncryptionContext !== undefined) throw new KmsError('InvalidParameter', 'SourceEncryptionContext: an AsymmetricEncrypt ciphertext has no EncryptionContext; omit it');
    const t = cryptoTarget(vault, { KeyId: req.SourceKeyId, KeyVersionId: req.SourceKeyVersionId, Algorithm: req.SourceEncryptionAlgorithm }, 'ENCRYPT/DECRYPT', ctx);
    const key = sealedRef(t);
    const algorithm = req.SourceEncryptionAlgorithm;
    source = {
      keyId: t.key.key_id,
      keyVersionId: t.version.key_version_id,
      plaintext: async () => (await vault.worker.request({ op: 'decrypt', key, algorithm, ciphertext })).plaintext,
    };
  } else {
    const found = blobTarget(vault, ciphertext, ctx);
    source = { keyId: found.target.key.key_id, keyVersionId: found.target.version.key_version_id, plaintext: () => openBlob(vault, found, req.SourceEncryptionContext) };
  }
  if (req.DryRun) dryRunPassed('ReEncrypt');
  const plaintext = await source.plaintext();
  try {
    const blob = await sealBlob(vault, destination, plaintext, req.DestinationEncryptionContext);
    return {
      response: {
        KeyId: destination.key.key_id,
        KeyVersionId: destination.version.key_version_id,
        CiphertextBlob: encodeBase64(blob),
        SourceKeyId: source.keyId,
        SourceKeyVersionId: source.keyVersionId,
      },
    };
  } finally {
    plaintext.fill(0);
  }
};
