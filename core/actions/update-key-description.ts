// UpdateKeyDescription: any state; the key must still exist inside the write.
import { updateDescription } from '../vault/records.ts';
import type { Handler } from './operation.ts';
import { currentKey, resolveKey } from './targets.ts';

export const updateKeyDescription: Handler<'UpdateKeyDescription'> = (vault, req, ctx) => {
  const key = resolveKey(vault, req.KeyId, ctx);
  return Promise.resolve({ response: {}, write: (db) => updateDescription(db, currentKey(db, key.key_id).key_id, req.Description) });
};
