// ListAliasesByKeyId: a page of one key's aliases.
import { listAliases } from '../vault/records.ts';
import type { Handler } from './operation.ts';
import { aliasPage, pageOffset } from './paging.ts';
import { resolveKey } from './targets.ts';

export const listAliasesByKeyId: Handler<'ListAliasesByKeyId'> = (vault, req, ctx) => {
  const key = resolveKey(vault, req.KeyId, ctx);
  const { rows, total } = listAliases(vault.store.db, key.key_id, pageOffset(req), req.PageSize);
  return Promise.resolve({ response: aliasPage(rows, total, req) });
};
