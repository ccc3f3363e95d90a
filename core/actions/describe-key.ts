// DescribeKey: a key's metadata, its state as callers see it and its newest version's date.
import { storedKeyMetadata } from './key-metadata.ts';
import type { Handler } from './operation.ts';
import { resolveKey } from './targets.ts';

export const describeKey: Handler<'DescribeKey'> = (vault, req, ctx) => {
  const key = resolveKey(vault, req.KeyId, ctx);
  return Promise.resolve({ response: { KeyMetadata: storedKeyMetadata(vault.store.db, key) } });
};
