// GenerateAndExportDataKey: a data key as a CiphertextBlob (for this vault) and wrapped to the
// caller's public key (ExportedDataKey, for the holder of its private key), never in plaintext.
import { encodeBase64 } from '../contract/base64.ts';
import { newDataKey } from './data-key.ts';
import { exportDataKeyTo, wrappingPublicKey } from './exported-data-key.ts';
import type { Handler } from './operation.ts';

export const generateAndExportDataKey: Handler<'GenerateAndExportDataKey'> = async (vault, req, ctx) => {
  let to: ReturnType<typeof wrappingPublicKey> | undefined;
  const { target, dataKey, blob } = await newDataKey(vault, 'GenerateAndExportDataKey', req, ctx, () => {
    to = wrappingPublicKey(req);
  });
  try {
    const exported = exportDataKeyTo(to!, req, dataKey);
    return { response: { KeyId: target.key.key_id, KeyVersionId: target.version.key_version_id, CiphertextBlob: encodeBase64(blob), ExportedDataKey: encodeBase64(exported) } };
  } finally {
    dataKey.fill(0);
  }
};
