// ListRemoteConnections (DeskKMS, local only): the registered remote KMS connections, without
// their secrets (which are in the OS keychain only).
import { connectionInfo, listConnections } from '../providers/connections.ts';
import type { Handler } from './operation.ts';

export const listRemoteConnections: Handler<'ListRemoteConnections'> = (vault) =>
  Promise.resolve({ response: { Connections: listConnections(vault.store.db).map(connectionInfo) } });
