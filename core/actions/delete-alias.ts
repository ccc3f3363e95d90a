// DeleteAlias: audited against the key the alias named.
import { KmsError } from '../contract/errors.ts';
import { deleteAlias as deleteAliasRow, getAlias } from '../vault/records.ts';
import type { Handler } from './operation.ts';

export const deleteAlias: Handler<'DeleteAlias'> = (vault, req, ctx) => {
  const alias = getAlias(vault.store.db, req.AliasName);
  if (!alias) {
    ctx.authorizeMissing?.(req.AliasName);
    throw new KmsError('Forbidden.AliasNotFound', `alias ${req.AliasName} does not exist`);
  }
  ctx.keyId = alias.key_id;
  ctx.authorize?.(alias.key_id, req.AliasName);
  return Promise.resolve({
    response: {},
    write: (db) => {
      if (!getAlias(db, req.AliasName)) throw new KmsError('Forbidden.AliasNotFound', `alias ${req.AliasName} does not exist`);
      deleteAliasRow(db, req.AliasName);
    },
  });
};
