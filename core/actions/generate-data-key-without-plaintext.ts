// GenerateDataKeyWithoutPlaintext: a data key answered only as its CiphertextBlob (for a holder that
// decrypts it later, e.g. on another machine).
import { encodeBase64 } from '../contract/base64.ts';
import { newDataKey } from './data-key.ts';
import type { Handler } from './operation.ts';

export const generateDataKeyWithoutPlaintext: Handler<'GenerateDataKeyWithoutPlaintext'> = async (vault, req, ctx) => {
  const { target, dataKey, blob } = await newDataKey(vault, 'GenerateDataKeyWithoutPlaintext', req, ctx);
  dataKey.fill(0);
  return { response: { KeyId: target.key.key_id, KeyVersionId: target.version.key_version_id, CiphertextBlob: encodeBase64(blob) } };
};
