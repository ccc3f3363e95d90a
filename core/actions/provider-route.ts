// How dispatch runs a validated Action: on its key's provider, picked by the KeyId's scheme
// (core/providers/registry.ts). A key of another provider is authorised and audited as the caller
// named it (ctx.keyId, ctx.keyVersionId) before that provider is reached, and gets the request with
// the KeyId in the provider's own namespace. A provider without the Action's capability is
// UnsupportedOperation, naming it and the Action. Actions in no capability (core/providers/provider.ts)
// are this vault's own and run its handler; one that names another provider's key
// (VAULT_KEY_ACTIONS: CreateAlias, UpdateAlias) is UnsupportedOperation too.
import type { ActionName, ActionRequest } from '../contract/actions.ts';
import { VAULT_KEY_ACTIONS, isProviderAction, operationOf, unsupportedOperation, type KmsProvider } from '../providers/provider.ts';
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

/** The KeyId the Action acts on, if it is one a provider may own. */
function routedKeyId(action: ActionName, request: object): string | undefined {
  if (!isProviderAction(action) && !VAULT_KEY_ACTIONS.has(action)) return undefined;
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
