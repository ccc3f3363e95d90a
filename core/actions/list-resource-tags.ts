// ListResourceTags: a key's tags.
import { listTags } from '../vault/records.ts';
import type { Handler } from './operation.ts';
import { resolveKey } from './targets.ts';

export const listResourceTags: Handler<'ListResourceTags'> = (vault, req, ctx) => {
  const key = resolveKey(vault, req.KeyId, ctx);
  const tags = listTags(vault.store.db, key.key_id).map((t) => ({ KeyId: t.key_id, TagKey: t.tag_key, TagValue: t.tag_value }));
  return Promise.resolve({ response: { Tags: { Tag: tags } } });
};
