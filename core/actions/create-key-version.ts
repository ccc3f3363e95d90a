// CreateKeyVersion: a new key pair from the key worker, for usable keys whose origin allows it.
import { insertVersion } from '../vault/records.ts';
import { generateVersion } from './generated-version.ts';
import { keyVersionInfo } from './key-metadata.ts';
import { assertGeneratedOrigin, assertUsable } from './key-policy.ts';
import type { Handler } from './operation.ts';
import { currentUsableKey, resolveKey } from './targets.ts';

export const createKeyVersion: Handler<'CreateKeyVersion'> = async (vault, req, ctx) => {
  const key = resolveKey(vault, req.KeyId, ctx);
  assertUsable(key);
  assertGeneratedOrigin(key, 'CreateKeyVersion');
  const v = await generateVersion(vault, key, ctx);
  return {
    response: { KeyVersion: keyVersionInfo(key.key_id, v) },
    write: (db) => {
      currentUsableKey(db, key.key_id);
      insertVersion(db, v);
    },
  };
};
