// UpdateRotationPolicy: turns a symmetric key's automatic rotation on (with its interval, 7-365
// days) or off. The vault makes the new primary versions (core/actions/key-rotation.ts).
import { setRotationPolicy } from '../vault/records.ts';
import { intervalSeconds } from './key-metadata.ts';
import { assertNotPendingDeletion, assertRotationPolicy } from './key-policy.ts';
import type { Handler } from './operation.ts';
import { currentKey, resolveKey } from './targets.ts';

export const updateRotationPolicy: Handler<'UpdateRotationPolicy'> = (vault, req, ctx) => {
  const key = resolveKey(vault, req.KeyId, ctx);
  assertNotPendingDeletion(key);
  // Turning rotation off is refused for keys that cannot have it on, too: they have no policy.
  assertRotationPolicy(key, true, req.RotationInterval ?? '365d');
  const seconds = req.RotationInterval === undefined ? null : intervalSeconds(req.RotationInterval);
  return Promise.resolve({
    response: {},
    write: (db) => {
      const now = currentKey(db, key.key_id);
      assertNotPendingDeletion(now);
      setRotationPolicy(db, key.key_id, req.EnableAutomaticRotation, seconds);
    },
  });
};
