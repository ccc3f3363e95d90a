// CreateAlias: a new alias for a key; uniqueness and the per-key limit are checked inside the
// write, where SQLite serialises writers.
import { KmsError, invalidParameter } from '../contract/errors.ts';
import { getAlias, insertAlias, listAliases } from '../vault/records.ts';
import type { Db } from '../vault/store.ts';
import { kmsDate } from '../vault/vault.ts';
import type { Handler } from './operation.ts';
import { currentKey, resolveKey } from './targets.ts';

const MAX_ALIASES_PER_KEY = 5;

export const createAlias: Handler<'CreateAlias'> = (vault, req, ctx) => {
  const key = resolveKey(vault, req.KeyId, ctx);
  const create = (db: Db): void => {
    if (getAlias(db, req.AliasName)) throw new KmsError('AliasAlreadyExists', `alias ${req.AliasName} already exists; use UpdateAlias to repoint it`);
    if (listAliases(db, key.key_id, 0, 0).total >= MAX_ALIASES_PER_KEY) {
      throw invalidParameter('AliasName', `key ${key.key_id} already has ${MAX_ALIASES_PER_KEY} aliases`);
    }
    currentKey(db, key.key_id);
    insertAlias(db, { alias_name: req.AliasName, key_id: key.key_id, creation_date: kmsDate(vault.now()) });
  };
  return Promise.resolve({ response: {}, write: create });
};
