// AddRemoteConnection (DeskKMS, local only): registers a remote KMS (Alibaba Cloud KMS, or another
// vault's "deskkms serve") whose keys this vault then uses as remote/<Name>/<KeyId>, signing its
// requests with SignatureAlgorithm (default ACS3-HMAC-SHA256, V3). The row goes in the vault
// (MACed, the scheme too); the AccessKey secret in the OS keychain only, never in the vault file,
// the audit entry (which names remote/<Name>) or a message.
import { kmsDate } from '../vault/vault.ts';
import { connectionExists, connectionInfo, deleteConnectionSecret, getConnection, insertConnection, storeConnectionSecret, type ConnectionRow } from '../providers/connections.ts';
import type { Handler } from './operation.ts';

export const addRemoteConnection: Handler<'AddRemoteConnection'> = async (vault, req, ctx) => {
  ctx.keyId = `remote/${req.Name}`;
  // Refused before the keychain is touched: the secret of the connection already there stays.
  if (getConnection(vault.store.db, req.Name)) throw connectionExists(req.Name);
  const row: ConnectionRow = {
    name: req.Name,
    endpoint: req.Endpoint,
    region_id: req.RegionId,
    protocol: req.Protocol,
    access_key_id: req.AccessKeyId,
    creation_date: kmsDate(vault.now()),
    signature_algorithm: req.SignatureAlgorithm,
  };
  await storeConnectionSecret(vault, req.Name, req.AccessKeySecret);
  return {
    response: { Connection: connectionInfo(row) },
    write: (db) => {
      try {
        insertConnection(db, row);
      } catch (error) {
        // Another process added the name meanwhile, or the write failed: no secret without its row.
        void deleteConnectionSecret(vault, req.Name).catch(() => undefined);
        throw error;
      }
    },
  };
};
