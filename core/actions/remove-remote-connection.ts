// RemoveRemoteConnection (DeskKMS, local only): forgets a remote KMS connection; once the removal is
// committed its AccessKey secret leaves the OS keychain and its provider the cache.
import { deleteConnection, deleteConnectionSecret, noSuchConnection } from '../providers/connections.ts';
import type { Handler } from './operation.ts';

export const removeRemoteConnection: Handler<'RemoveRemoteConnection'> = (vault, req, ctx) => {
  ctx.keyId = `remote/${req.Name}`;
  return Promise.resolve({
    response: { Name: req.Name },
    write: (db) => {
      if (!deleteConnection(db, req.Name)) throw noSuchConnection(req.Name);
    },
    afterCommit: () => deleteConnectionSecret(vault, req.Name),
  });
};
