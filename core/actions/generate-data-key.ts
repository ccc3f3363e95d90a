// GenerateDataKey: a data key for envelope encryption, answered in plaintext and as a CiphertextBlob
// to keep beside the data it encrypts (Decrypt gives the key back).
import { encodeBase64 } from '../contract/base64.ts';
import { newDataKey } from './data-key.ts';
import type { Handler } from './operation.ts';

export const generateDataKey: Handler<'GenerateDataKey'> = async (vault, req, ctx) => {
  const { target, dataKey, blob } = await newDataKey(vault, 'GenerateDataKey', req, ctx);
  try {
    return { response: { KeyId: target.key.key_id, KeyVersionId: target.version.key_version_id, CiphertextBlob: encodeBase64(blob), Plaintext: encodeBase64(dataKey) } };
  } finally {
    dataKey.fill(0);
  }
};
