// The handler table: one entry per Action of core/contract/actions.ts. tsc refuses a table that
// misses an Action or gives one the wrong request type. Each handler's module is loaded at its
// first call: a command runs one or a few Actions, and loading all of them (the certificate
// handlers' X.509 schemas, custody, access keys, remote connections...) cost every process about
// 50 ms of its main thread before its first answer.
import type { ActionName } from '../contract/actions.ts';
import type { Handler, HandlerTable } from './operation.ts';

const preloads = new Map<ActionName, () => Promise<unknown>>();

/** A handler that imports its module when first called (or preloaded); later calls go straight to it. */
function lazy<A extends ActionName>(action: A, load: () => Promise<Handler<A>>): Handler<A> {
  let loaded: Handler<A> | undefined;
  let loading: Promise<Handler<A>> | undefined;
  const ensure = (): Promise<Handler<A>> => (loading ??= load().then((handler) => (loaded = handler)));
  preloads.set(action, ensure);
  return (vault, request, ctx) => {
    if (loaded) return loaded(vault, request, ctx);
    return ensure().then((handler) => handler(vault, request, ctx));
  };
}

/**
 * Loads every handler now. A long-running host (deskkms serve, the agent, the app's host) calls it
 * before it takes requests, so that no request waits for a module to load: a one-shot command
 * would pay ~50 ms for handlers it never calls, a server pays it once at start.
 */
export async function loadAllHandlers(): Promise<void> {
  await Promise.all([...preloads.values()].map((preload) => preload()));
}

/**
 * Starts loading one Action's handler, if it is not loaded yet, without waiting: dispatch asks for
 * it before it waits for the vault's unlock, so that the two overlap. A module that fails to load
 * fails the call itself (the handler's first call awaits the same load), not this.
 */
export function startLoadingHandler(action: ActionName): void {
  preloads.get(action)?.().catch(() => undefined);
}

/** Each Action's handler, imported when asked for (tsc holds each to its Action's request and response). */
export const HANDLER_LOADERS: { readonly [A in ActionName]: () => Promise<Handler<A>> } = {
  CreateKey: async () => (await import('./create-key.ts')).createKey,
  DescribeKey: async () => (await import('./describe-key.ts')).describeKey,
  ListKeys: async () => (await import('./list-keys.ts')).listKeys,
  UpdateKeyDescription: async () => (await import('./update-key-description.ts')).updateKeyDescription,
  CreateKeyVersion: async () => (await import('./create-key-version.ts')).createKeyVersion,
  DescribeKeyVersion: async () => (await import('./describe-key-version.ts')).describeKeyVersion,
  ListKeyVersions: async () => (await import('./list-key-versions.ts')).listKeyVersions,
  GetPublicKey: async () => (await import('./get-public-key.ts')).getPublicKey,
  AsymmetricSign: async () => (await import('./asymmetric-sign.ts')).asymmetricSign,
  AsymmetricVerify: async () => (await import('./asymmetric-verify.ts')).asymmetricVerify,
  AsymmetricEncrypt: async () => (await import('./asymmetric-encrypt.ts')).asymmetricEncrypt,
  AsymmetricDecrypt: async () => (await import('./asymmetric-decrypt.ts')).asymmetricDecrypt,
  CreateAlias: async () => (await import('./create-alias.ts')).createAlias,
  UpdateAlias: async () => (await import('./update-alias.ts')).updateAlias,
  DeleteAlias: async () => (await import('./delete-alias.ts')).deleteAlias,
  ListAliases: async () => (await import('./list-aliases.ts')).listAliases,
  ListAliasesByKeyId: async () => (await import('./list-aliases-by-key-id.ts')).listAliasesByKeyId,
  EnableKey: async () => (await import('./enable-key.ts')).enableKey,
  DisableKey: async () => (await import('./disable-key.ts')).disableKey,
  ScheduleKeyDeletion: async () => (await import('./schedule-key-deletion.ts')).scheduleKeyDeletion,
  CancelKeyDeletion: async () => (await import('./cancel-key-deletion.ts')).cancelKeyDeletion,
  TagResource: async () => (await import('./tag-resource.ts')).tagResource,
  UntagResource: async () => (await import('./untag-resource.ts')).untagResource,
  ListResourceTags: async () => (await import('./list-resource-tags.ts')).listResourceTags,
  ExportKeyVersion: async () => (await import('./export-key-version.ts')).exportKeyVersion,
  ImportKeyVersion: async () => (await import('./import-key-version.ts')).importKeyVersion,
  GetParametersForImport: async () => (await import('./get-parameters-for-import.ts')).getParametersForImport,
  ImportKeyMaterial: async () => (await import('./import-key-material.ts')).importKeyMaterial,
  DeleteKeyMaterial: async () => (await import('./delete-key-material.ts')).deleteKeyMaterial,
  ImportPublicKeyVersion: async () => (await import('./import-public-key-version.ts')).importPublicKeyVersion,
  GetPublicKeyBundle: async () => (await import('./get-public-key-bundle.ts')).getPublicKeyBundle,
  CreateCertificateSigningRequest: async () => (await import('./create-certificate-signing-request.ts')).createCertificateSigningRequest,
  CreateSelfSignedCertificate: async () => (await import('./create-self-signed-certificate.ts')).createSelfSignedCertificate,
  IssueCertificate: async () => (await import('./issue-certificate.ts')).issueCertificate,
  AttachCertificate: async () => (await import('./attach-certificate.ts')).attachCertificate,
  GetCertificates: async () => (await import('./get-certificates.ts')).getCertificates,
  // Symmetric keys.
  Encrypt: async () => (await import('./encrypt.ts')).encrypt,
  Decrypt: async () => (await import('./decrypt.ts')).decrypt,
  GenerateDataKey: async () => (await import('./generate-data-key.ts')).generateDataKey,
  GenerateDataKeyWithoutPlaintext: async () => (await import('./generate-data-key-without-plaintext.ts')).generateDataKeyWithoutPlaintext,
  ReEncrypt: async () => (await import('./re-encrypt.ts')).reEncrypt,
  GenerateAndExportDataKey: async () => (await import('./generate-and-export-data-key.ts')).generateAndExportDataKey,
  ExportDataKey: async () => (await import('./export-data-key.ts')).exportDataKey,
  UpdateRotationPolicy: async () => (await import('./update-rotation-policy.ts')).updateRotationPolicy,
  // DeskKMS administration (local only).
  CreateAccessKey: async () => (await import('./create-access-key.ts')).createAccessKey,
  ListAccessKeys: async () => (await import('./list-access-keys.ts')).listAccessKeys,
  EnableAccessKey: async () => (await import('./enable-access-key.ts')).enableAccessKey,
  DisableAccessKey: async () => (await import('./disable-access-key.ts')).disableAccessKey,
  DeleteAccessKey: async () => (await import('./delete-access-key.ts')).deleteAccessKey,
  AddRemoteConnection: async () => (await import('./add-remote-connection.ts')).addRemoteConnection,
  ListRemoteConnections: async () => (await import('./list-remote-connections.ts')).listRemoteConnections,
  RemoveRemoteConnection: async () => (await import('./remove-remote-connection.ts')).removeRemoteConnection,
  ListRemoteKeys: async () => (await import('./list-remote-keys.ts')).listRemoteKeys,
  AddAgentIdentity: async () => (await import('./add-agent-identity.ts')).addAgentIdentity,
  RemoveAgentIdentity: async () => (await import('./remove-agent-identity.ts')).removeAgentIdentity,
  ListAgentIdentities: async () => (await import('./list-agent-identities.ts')).listAgentIdentities,
  ListAuditEntries: async () => (await import('./list-audit-entries.ts')).listAuditEntries,
  VerifyAuditChain: async () => (await import('./verify-audit-chain.ts')).verifyAuditChain,
  AcknowledgeAuditBreak: async () => (await import('./acknowledge-audit-break.ts')).acknowledgeAuditBreak,
  // Custody (local only).
  CreateBackup: async () => (await import('./create-backup.ts')).createBackup,
  ChangePassphrase: async () => (await import('./change-passphrase.ts')).changePassphrase,
  ChangeProtection: async () => (await import('./change-protection.ts')).changeProtection,
  RotateDataKey: async () => (await import('./rotate-data-key.ts')).rotateDataKey,
};

/** The table dispatch calls: each entry loads its handler at its first call. */
export const HANDLERS = Object.fromEntries(Object.entries(HANDLER_LOADERS).map(([action, load]) => [action, lazy(action as ActionName, load)])) as unknown as HandlerTable;
