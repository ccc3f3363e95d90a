// UpdateAlias: repoints an existing alias; the caller's policy must allow both the key the alias
// names now and the new one.
import { KmsError } from '../contract/errors.ts';
import { getAlias, repointAlias } from '../vault/records.ts';
import type { Db } from '../vault/store.ts';
import type { Handler } from './operation.ts';
import { currentKey, resolveKey } from './targets.ts';

export const updateAlias: Handler<'UpdateAlias'> = (vault, req, ctx) => {
  const current = getAlias(vault.store.db, req.AliasName);
  if (current) ctx.authorize?.(current.key_id, req.AliasName);
  else ctx.authorizeMissing?.(req.AliasName);
  const key = resolveKey(vault, req.KeyId, ctx);
  const update = (db: Db): void => {
    if (!getAlias(db, req.AliasName)) throw new KmsError('Forbidden.AliasNotFound', `alias ${req.AliasName} does not exist`);
    currentKey(db, key.key_id);
    repointAlias(db, req.AliasName, key.key_id);
  };
  return Promise.resolve({ response: {}, write: update });
};
