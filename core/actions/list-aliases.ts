// ListAliases: a page of all aliases; a key-limited access key sees (and counts) only its keys' aliases.
import { listAliases as listAliasRows } from '../vault/records.ts';
import type { Handler } from './operation.ts';
import { aliasPage, pageOf, pageOffset } from './paging.ts';

export const listAliases: Handler<'ListAliases'> = (vault, req, ctx) => {
  const { visible } = ctx;
  if (visible) {
    const all = listAliasRows(vault.store.db, undefined, 0, -1).rows.filter((a) => visible(a.key_id));
    return Promise.resolve({ response: aliasPage(pageOf(all, req), all.length, req) });
  }
  const { rows, total } = listAliasRows(vault.store.db, undefined, pageOffset(req), req.PageSize);
  return Promise.resolve({ response: aliasPage(rows, total, req) });
};
