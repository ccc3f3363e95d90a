// TagResource: sets tags (any state), within the per-key limit.
import type { Handler } from './operation.ts';
import { applyTags } from './tags.ts';
import { currentKey, resolveKey } from './targets.ts';

export const tagResource: Handler<'TagResource'> = (vault, req, ctx) => {
  const key = resolveKey(vault, req.KeyId, ctx);
  return Promise.resolve({ response: {}, write: (db) => applyTags(db, currentKey(db, key.key_id).key_id, req.Tags) });
};
