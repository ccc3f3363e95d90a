// ListRemoteKeys (DeskKMS, local only): a page of a remote KMS's keys (the connection's ListKeys),
// each KeyId as this vault names it, remote/<Connection>/<KeyId> (the provider puts it there, once),
// with the remote's own id beside it.
import { remoteProvider } from '../providers/connections.ts';
import { splitRemoteKeyId } from '../providers/provider.ts';
import type { Handler } from './operation.ts';

export const listRemoteKeys: Handler<'ListRemoteKeys'> = async (vault, req, ctx) => {
  ctx.keyId = `remote/${req.Connection}`;
  const provider = await remoteProvider(vault, req.Connection);
  const { response } = await provider.listKeys({ PageNumber: req.PageNumber, PageSize: req.PageSize }, ctx);
  const keys = response.Keys.Key.map((k) => ({
    KeyId: k.KeyId,
    RemoteKeyId: splitRemoteKeyId(k.KeyId)?.keyId ?? k.KeyId,
    ...(k.KeyArn ? { KeyArn: k.KeyArn } : {}),
  }));
  return {
    response: { Connection: req.Connection, Keys: { Key: keys }, TotalCount: response.TotalCount, PageNumber: response.PageNumber, PageSize: response.PageSize },
  };
};
