// ExportDataKey: the data key inside a CiphertextBlob, wrapped to the caller's public key.
import { decodeBase64, encodeBase64 } from '../contract/base64.ts';
import { dryRunPassed } from './dry-run.ts';
import { exportDataKeyTo, wrappingPublicKey } from './exported-data-key.ts';
import type { Handler } from './operation.ts';
import { blobTarget, openBlob } from './symmetric-target.ts';

export const exportDataKey: Handler<'ExportDataKey'> = async (vault, req, ctx) => {
  const found = blobTarget(vault, decodeBase64(req.CiphertextBlob, 'CiphertextBlob'), ctx);
  const to = wrappingPublicKey(req);
  if (req.DryRun) dryRunPassed('ExportDataKey');
  const dataKey = await openBlob(vault, found, req.EncryptionContext);
  try {
    const { key, version } = found.target;
    return { response: { KeyId: key.key_id, KeyVersionId: version.key_version_id, ExportedDataKey: encodeBase64(exportDataKeyTo(to, req, dataKey)) } };
  } finally {
    dataKey.fill(0);
  }
};
