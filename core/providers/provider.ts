// A provider performs the Actions of the keys it owns, typed by the contract: each operation takes
// the VALIDATED request of its Action (ActionRequest<A>, KeyIds in the provider's own namespace)
// and answers its response (ActionResponse<A>, KeyIds in this vault's namespace). The local vault
// (core/actions/local-provider.ts, its operation files bound to the vault) and every remote KMS
// connection (core/providers/remote.ts) are providers; core/providers/registry.ts names the KeyId
// schemes and core/actions/provider-route.ts runs each Action on its key's provider. Adding another
// KMS (AWS KMS, a Vault transit engine) is one module implementing KmsProvider and one scheme.
//
// What a provider can do is data: PROVIDER_CAPABILITIES names the Actions of each capability, a
// provider lists the optional capabilities it has, and routing is generic over both. An Action on
// a provider without its capability is UnsupportedOperation, naming the provider and the Action.
import type { ActionName, ActionRequest } from '../contract/actions.ts';
import { KmsError } from '../contract/errors.ts';
import type { ActionResponse } from '../contract/responses.ts';
import { CONNECTION_NAME_SOURCE } from '../contract/ids.ts';

/**
 * The Actions of each capability. `keys` every provider has; the others are optional. An Action in
 * no capability is this vault's own: only the local vault performs it (on another provider's key
 * it is UnsupportedOperation), so a new Action is refused for remote keys until it is listed here.
 */
export const PROVIDER_CAPABILITIES = {
  keys: [
    'DescribeKey',
    'ListKeys',
    'CreateKey',
    'CreateKeyVersion',
    'DescribeKeyVersion',
    'ListKeyVersions',
    'GetPublicKey',
    'AsymmetricSign',
    'AsymmetricVerify',
    'AsymmetricEncrypt',
    'AsymmetricDecrypt',
  ],
  lifecycle: ['EnableKey', 'DisableKey', 'ScheduleKeyDeletion', 'CancelKeyDeletion', 'UpdateKeyDescription'],
  tags: ['TagResource', 'UntagResource', 'ListResourceTags'],
  aliases: ['ListAliasesByKeyId'],
  /** DeskKMS extension: encrypted PKCS#8 export and import of key versions. */
  export: ['ExportKeyVersion', 'ImportKeyVersion'],
  /** Bring your own key (Alibaba Cloud KMS) and public-key-only versions (DeskKMS). */
  import: ['GetParametersForImport', 'ImportKeyMaterial', 'DeleteKeyMaterial', 'ImportPublicKeyVersion'],
  /** DeskKMS extensions: public-key bundles, CSRs and certificates of key versions. */
  certificates: [
    'GetPublicKeyBundle',
    'CreateCertificateSigningRequest',
    'CreateSelfSignedCertificate',
    'IssueCertificate',
    'AttachCertificate',
    'GetCertificates',
  ],
} as const satisfies Readonly<Record<string, readonly ActionName[]>>;

export type Capability = keyof typeof PROVIDER_CAPABILITIES;
export type OptionalCapability = Exclude<Capability, 'keys'>;
export type CapabilityAction<C extends Capability> = (typeof PROVIDER_CAPABILITIES)[C][number];
/** The Actions a provider performs; the others are this vault's own. */
export type ProviderAction = CapabilityAction<Capability>;

export const OPTIONAL_CAPABILITIES = (Object.keys(PROVIDER_CAPABILITIES) as Capability[]).filter((c): c is OptionalCapability => c !== 'keys');

/** The capability each provider Action belongs to. */
export const CAPABILITY_OF: ReadonlyMap<ActionName, Capability> = new Map(
  (Object.entries(PROVIDER_CAPABILITIES) as [Capability, readonly ProviderAction[]][]).flatMap(([capability, actions]) =>
    actions.map((action) => [action, capability] as const),
  ),
);

/** Every Action a provider performs. */
export const PROVIDER_ACTIONS = [...CAPABILITY_OF.keys()] as ProviderAction[];

export function isProviderAction(action: ActionName): action is ProviderAction {
  return CAPABILITY_OF.has(action);
}

/**
 * What every operation is told about the call: who calls and the call's RequestId. The table's
 * CallContext (core/actions/operation.ts) extends it; the local vault's operations take that.
 */
export interface ProviderCallContext {
  readonly caller: string;
  readonly requestId: string;
}

/** An operation's answer: Action A's response (KeyIds in this vault's namespace), and effects E the caller commits. */
export type ProviderResult<A extends ActionName, E = unknown> = E & { readonly response: ActionResponse<A> };

/**
 * One operation: the validated request of its Action in, its result out. C is the context it
 * needs, E what it may ask the caller to do besides answering (the local vault: a write to commit
 * with the audit entry); a remote provider needs and asks nothing beyond ProviderCallContext.
 */
export type Operation<A extends ProviderAction, C extends ProviderCallContext = ProviderCallContext, E = unknown> = (
  request: ActionRequest<A>,
  ctx: C,
) => Promise<ProviderResult<A, E>>;

/** An operation's method name: the Action in camelCase, as operation files name their handler. */
export type OperationName<A extends ProviderAction> = Uncapitalize<A>;

export function operationName<A extends ProviderAction>(action: A): OperationName<A> {
  return `${action.charAt(0).toLowerCase()}${action.slice(1)}` as OperationName<A>;
}

type Operations<As extends ProviderAction, C extends ProviderCallContext, E> = { readonly [A in As as OperationName<A>]: Operation<A, C, E> };

export type LifecycleOperations<C extends ProviderCallContext = ProviderCallContext, E = unknown> = Operations<CapabilityAction<'lifecycle'>, C, E>;
export type TagOperations<C extends ProviderCallContext = ProviderCallContext, E = unknown> = Operations<CapabilityAction<'tags'>, C, E>;
export type AliasOperations<C extends ProviderCallContext = ProviderCallContext, E = unknown> = Operations<CapabilityAction<'aliases'>, C, E>;
export type ExportOperations<C extends ProviderCallContext = ProviderCallContext, E = unknown> = Operations<CapabilityAction<'export'>, C, E>;
export type ImportOperations<C extends ProviderCallContext = ProviderCallContext, E = unknown> = Operations<CapabilityAction<'import'>, C, E>;
export type CertificateOperations<C extends ProviderCallContext = ProviderCallContext, E = unknown> = Operations<CapabilityAction<'certificates'>, C, E>;

/** The optional capability interfaces, by capability. */
export interface CapabilityOperations<C extends ProviderCallContext = ProviderCallContext, E = unknown> {
  readonly lifecycle: LifecycleOperations<C, E>;
  readonly tags: TagOperations<C, E>;
  readonly aliases: AliasOperations<C, E>;
  readonly export: ExportOperations<C, E>;
  readonly import: ImportOperations<C, E>;
  readonly certificates: CertificateOperations<C, E>;
}

/** What every provider does: describe, list and create keys and versions, public keys, sign, verify, encrypt, decrypt. */
export interface KmsProvider<C extends ProviderCallContext = ProviderCallContext, E = unknown> extends Operations<CapabilityAction<'keys'>, C, E> {
  /** Short name: "local", or "remote/<connection>" (the KeyId prefix of its keys). */
  readonly name: string;
  /** For messages: "this vault", `remote KMS "<connection>" (<endpoint>)`. */
  readonly label: string;
  /** The optional capabilities it has; it implements each one's interface (CapabilityOperations). */
  readonly capabilities: ReadonlySet<OptionalCapability>;
}

export function hasCapability<K extends OptionalCapability, C extends ProviderCallContext, E>(
  provider: KmsProvider<C, E>,
  capability: K,
): provider is KmsProvider<C, E> & CapabilityOperations<C, E>[K] {
  return provider.capabilities.has(capability);
}

/** UnsupportedOperation: `provider` cannot perform `action` (it lacks the capability, or the Action is this vault's own). */
export function unsupportedOperation(provider: Pick<KmsProvider, 'label'>, action: ActionName): KmsError {
  const capability = CAPABILITY_OF.get(action);
  const why = capability
    ? `it has no ${capability} capability (${PROVIDER_CAPABILITIES[capability].join(', ')})`
    : 'the Action acts on keys of this vault only';
  return new KmsError('UnsupportedOperation', `${action} is not supported by ${provider.label}: ${why}`);
}

/** The provider's operation for `action`, or UnsupportedOperation. */
export function operationOf<A extends ProviderAction, C extends ProviderCallContext, E>(provider: KmsProvider<C, E>, action: A): Operation<A, C, E> {
  const capability = CAPABILITY_OF.get(action);
  if (capability !== 'keys' && !provider.capabilities.has(capability as OptionalCapability)) throw unsupportedOperation(provider, action);
  const operation = (provider as unknown as Partial<Record<OperationName<A>, Operation<A, C, E>>>)[operationName(action)];
  // A provider that lists a capability implements its interface (hasCapability); this is a bug, not a request problem.
  if (typeof operation !== 'function') throw new Error(`${provider.name} lists the ${capability} capability but has no ${operationName(action)}`);
  return operation.bind(provider);
}

/** KeyIds of remote keys: remote/<connection>/<KeyId or alias/NAME on that KMS>. */
export const REMOTE_KEY_ID = new RegExp(`^remote\\/(${CONNECTION_NAME_SOURCE})\\/(.+)$`);

export function remoteKeyId(connection: string, keyId: string): string {
  return `remote/${connection}/${keyId}`;
}

export function splitRemoteKeyId(keyId: unknown): { connection: string; keyId: string } | undefined {
  if (typeof keyId !== 'string') return undefined;
  const m = REMOTE_KEY_ID.exec(keyId);
  return m ? { connection: m[1]!, keyId: m[2]! } : undefined;
}
