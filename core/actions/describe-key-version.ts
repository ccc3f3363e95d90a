// DescribeKeyVersion: one version of a key.
import { keyVersionInfo } from './key-metadata.ts';
import type { Handler } from './operation.ts';
import { resolveKey, resolveVersion } from './targets.ts';

export const describeKeyVersion: Handler<'DescribeKeyVersion'> = (vault, req, ctx) => {
  const key = resolveKey(vault, req.KeyId, ctx);
  const version = resolveVersion(vault, key, req.KeyVersionId, ctx, 'allowed');
  return Promise.resolve({ response: { KeyVersion: keyVersionInfo(key.key_id, version) } });
};
