// Calls on remote keys (KeyId remote/<connection>/<KeyId>) go to that connection's provider; the
// response's KeyIds are put back in the local namespace. Validation, policy and the local audit
// entry happen in dispatch as for any call.
import type { ActionName } from '../contract/actions.ts';
import { invalidParameter } from '../contract/errors.ts';
import { remoteProvider } from '../providers/connections.ts';
import { remoteKeyId, splitRemoteKeyId } from '../providers/provider.ts';
import type { Vault } from '../vault/vault.ts';
import type { CallContext, HandlerResult } from './operation.ts';

function prefixKeyIds(value: unknown, connection: string): unknown {
  if (Array.isArray(value)) return value.map((v) => prefixKeyIds(v, connection));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, k === 'KeyId' && typeof v === 'string' ? remoteKeyId(connection, v) : prefixKeyIds(v, connection)]),
  );
}

/** The remote call's result, or undefined when the request names no remote key. */
export async function forwardToRemote(
  vault: Vault,
  action: ActionName,
  params: Readonly<Record<string, unknown>>,
  ctx: CallContext,
): Promise<HandlerResult | undefined> {
  const target = splitRemoteKeyId(params.KeyId);
  if (!target) return undefined;
  ctx.keyId = params.KeyId as string;
  if (typeof params.KeyVersionId === 'string') ctx.keyVersionId = params.KeyVersionId;
  ctx.authorize?.(ctx.keyId);
  const provider = await remoteProvider(vault, target.connection);
  if (!provider.actions.has(action)) {
    throw invalidParameter('Action', `${action} is not available for remote keys; it works on keys of this vault only`);
  }
  const body = await provider.invoke(action, { ...params, KeyId: target.keyId });
  const { RequestId: remoteRequestId, ...rest } = body;
  const response = prefixKeyIds(rest, target.connection) as Record<string, unknown>;
  return { response: { ...response, ...(typeof remoteRequestId === 'string' ? { RemoteRequestId: remoteRequestId } : {}) } };
}
