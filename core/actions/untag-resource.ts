// UntagResource: removes tags by key (absent ones are no error).
import { deleteTag } from '../vault/records.ts';
import type { Handler } from './operation.ts';
import { currentKey, resolveKey } from './targets.ts';

export const untagResource: Handler<'UntagResource'> = (vault, req, ctx) => {
  const key = resolveKey(vault, req.KeyId, ctx);
  return Promise.resolve({
    response: {},
    write: (db) => {
      for (const tagKey of req.TagKeys) deleteTag(db, currentKey(db, key.key_id).key_id, tagKey);
    },
  });
};
