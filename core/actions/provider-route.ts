// How dispatch runs a validated Action: on its key's provider, picked by the KeyId's scheme
// (core/providers/registry.ts). A key of another provider is authorised and audited as the caller
// named it (ctx.keyId, ctx.keyVersionId) before that provider is reached, and gets the request with
// the KeyId in the provider's own namespace. A provider without the Action's capability
// (core/providers/provider.ts) is UnsupportedOperation, naming it and the Action; an Action in no
// capability is this vault's own (CreateAlias on a remote key is refused so). The local-only
// administration Actions are never routed: a KeyId there is a filter (ListAuditEntries), not a key to act on.
import { isLocalOnlyAction, type ActionName, type ActionRequest } from '../contract/actions.ts';
import { isProviderAction, operationOf, unsupportedOperation, type KmsProvider } from '../providers/provider.ts';
import { schemeOf } from '../providers/registry.ts';
import type { Vault } from '../vault/vault.ts';
import { localProvider } from './local-provider.ts';
import type { CallContext, Handler, HandlerResult } from './operation.ts';
import { HANDLERS } from './table.ts';

/** The provider of a key, and the KeyId in that provider's namespace. */
export async function providerFor(vault: Vault, keyId: string): Promise<{ readonly provider: KmsProvider; readonly keyId: string }> {
  const target = schemeOf(keyId);
  return target ? { provider: await target.scheme.provider(vault, target.instance), keyId: target.keyId } : { provider: localProvider(vault), keyId };
}

/** The KeyId the Action acts on: any but the administration Actions'. */
function routedKeyId(action: ActionName, request: object): string | undefined {
  if (isLocalOnlyAction(action)) return undefined;
  const { KeyId } = request as { KeyId?: unknown };
  return typeof KeyId === 'string' ? KeyId : undefined;
}

export async function route<A extends ActionName>(vault: Vault, action: A, request: ActionRequest<A>, ctx: CallContext): Promise<HandlerResult<A>> {
  const keyId = routedKeyId(action, request);
  const target = keyId === undefined ? undefined : schemeOf(keyId);
  if (keyId === undefined || !target) {
    if (!isProviderAction(action)) return (HANDLERS[action] as Handler<A>)(vault, request, ctx);
    return operationOf(localProvider(vault), action)(request, ctx);
  }
  ctx.keyId = keyId;
  const { KeyVersionId } = request as { KeyVersionId?: unknown };
  if (typeof KeyVersionId === 'string') ctx.keyVersionId = KeyVersionId;
  ctx.authorize?.(keyId);
  const provider = await target.scheme.provider(vault, target.instance);
  if (!isProviderAction(action)) throw unsupportedOperation(provider, action);
  return operationOf(provider, action)({ ...request, KeyId: target.keyId }, ctx);
}
