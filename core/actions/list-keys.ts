// ListKeys: a page of the vault's keys; a key-limited access key sees (and counts) only its keys.
import { countKeys, listKeys as listKeyRows } from '../vault/records.ts';
import { keyArn } from './key-metadata.ts';
import type { Handler } from './operation.ts';
import { pageOf, pageOffset } from './paging.ts';

export const listKeys: Handler<'ListKeys'> = (vault, req, ctx) => {
  const { visible } = ctx;
  const all = visible ? listKeyRows(vault.store.db, 0, -1).filter((k) => visible(k.key_id)) : undefined;
  const rows = all ? pageOf(all, req) : listKeyRows(vault.store.db, pageOffset(req), req.PageSize);
  return Promise.resolve({
    response: {
      Keys: { Key: rows.map((k) => ({ KeyId: k.key_id, KeyArn: keyArn(k.key_id) })) },
      TotalCount: all ? all.length : countKeys(vault.store.db),
      PageNumber: req.PageNumber,
      PageSize: req.PageSize,
    },
  });
};
