// Tags of a key (CreateKey, TagResource): set inside the write, where the per-key limit is checked
// against what the key holds then.
import { MAX_TAGS_PER_KEY, type Tag } from '../contract/actions.ts';
import { invalidParameter } from '../contract/errors.ts';
import { listTags, upsertTag } from '../vault/records.ts';
import type { Db } from '../vault/store.ts';

export function applyTags(db: Db, keyId: string, tags: readonly Tag[]): void {
  for (const tag of tags) upsertTag(db, { key_id: keyId, tag_key: tag.TagKey, tag_value: tag.TagValue });
  if (listTags(db, keyId).length > MAX_TAGS_PER_KEY) throw invalidParameter('Tags', `key ${keyId} would have more than ${MAX_TAGS_PER_KEY} tags`);
}
