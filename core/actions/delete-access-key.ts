// DeleteAccessKey (DeskKMS, local only): the access key and its sealed secret are gone; the key
// worker drops its live copy once the deletion is committed.
import { deleteAccessKey as deleteAccessKeyRow } from '../vault/records.ts';
import { accessKeyNotFound } from './access-keys.ts';
import type { Handler } from './operation.ts';

export const deleteAccessKey: Handler<'DeleteAccessKey'> = (vault, req, ctx) => {
  ctx.keyId = req.AccessKeyId;
  return Promise.resolve({
    response: { AccessKeyId: req.AccessKeyId },
    write: (db) => {
      if (!deleteAccessKeyRow(db, req.AccessKeyId)) throw accessKeyNotFound(req.AccessKeyId);
    },
    afterCommit: async () => {
      await vault.worker.request({ op: 'forget', keyVersionIds: [req.AccessKeyId] });
    },
  });
};
