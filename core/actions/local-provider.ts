// The local vault as a provider: its operations are the operation files of this directory, as the
// handler table (table.ts) lists them, bound to one vault. It has every capability, takes the
// table's CallContext and may ask dispatch to commit a write (HandlerEffects).
import {
  OPTIONAL_CAPABILITIES,
  PROVIDER_ACTIONS,
  operationName,
  type AliasOperations,
  type CertificateOperations,
  type ExportOperations,
  type ImportOperations,
  type KmsProvider,
  type LifecycleOperations,
  type Operation,
  type ProviderAction,
  type TagOperations,
} from '../providers/provider.ts';
import type { Vault } from '../vault/vault.ts';
import type { CallContext, Handler, HandlerEffects } from './operation.ts';
import { HANDLERS } from './table.ts';

export type LocalProvider = KmsProvider<CallContext, HandlerEffects> &
  LifecycleOperations<CallContext, HandlerEffects> &
  TagOperations<CallContext, HandlerEffects> &
  AliasOperations<CallContext, HandlerEffects> &
  ExportOperations<CallContext, HandlerEffects> &
  ImportOperations<CallContext, HandlerEffects> &
  CertificateOperations<CallContext, HandlerEffects>;

const LOCAL_CAPABILITIES = new Set(OPTIONAL_CAPABILITIES);
const providers = new WeakMap<Vault, LocalProvider>();

function bind<A extends ProviderAction>(vault: Vault, action: A): Operation<A, CallContext, HandlerEffects> {
  const handler = HANDLERS[action] as Handler<A>;
  return (request, ctx) => handler(vault, request, ctx);
}

/** The provider of this vault's own keys (one per vault). */
export function localProvider(vault: Vault): LocalProvider {
  let provider = providers.get(vault);
  if (!provider) {
    const operations = Object.fromEntries(PROVIDER_ACTIONS.map((action) => [operationName(action), bind(vault, action)]));
    provider = { name: 'local', label: 'this vault', capabilities: LOCAL_CAPABILITIES, ...operations } as unknown as LocalProvider;
    providers.set(vault, provider);
  }
  return provider;
}
