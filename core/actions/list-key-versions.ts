// ListKeyVersions: a page of a key's versions, oldest first.
import { countVersions, listVersions } from '../vault/records.ts';
import { keyVersionInfo } from './key-metadata.ts';
import type { Handler } from './operation.ts';
import { pageOffset } from './paging.ts';
import { resolveKey } from './targets.ts';

export const listKeyVersions: Handler<'ListKeyVersions'> = (vault, req, ctx) => {
  const key = resolveKey(vault, req.KeyId, ctx);
  const rows = listVersions(vault.store.db, key.key_id, pageOffset(req), req.PageSize);
  return Promise.resolve({
    response: {
      KeyVersions: { KeyVersion: rows.map((v) => keyVersionInfo(key.key_id, v)) },
      TotalCount: countVersions(vault.store.db, key.key_id),
      PageNumber: req.PageNumber,
      PageSize: req.PageSize,
    },
  });
};
