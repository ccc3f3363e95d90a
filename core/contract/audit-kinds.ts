// What kind of thing an audit entry records, as the audit view's and the CLI's "kind" filter asks:
//   refused      the call was refused (its code is not OK), whatever it asked for;
//   private-key  a key's private material was used: a signature or a decryption (the format
//                signers, the agent and the air-gap station sign through AsymmetricSign or record
//                it), a certificate or CSR signed, a version exported, a backup written;
//   change       the vault's state changed (keys, aliases, tags, access keys, protection, ...);
//   read         everything else: lookups and public-key operations.
// Every Action is classified (a total table: a new Action fails tsc until it is), and so are the
// events hosts record that are no Action (recordEvent, the vault's own entries). An entry whose
// Action is neither (a refused call naming anything) is refused by its code; an unknown Action that
// succeeded is a read. Runtime-neutral: the renderer uses it too.
import type { ActionName } from './actions.ts';

export const AUDIT_KINDS = ['change', 'private-key', 'read', 'refused'] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];
/** A successful entry's kind (refused depends on its code only). */
type SuccessKind = Exclude<AuditKind, 'refused'>;

/** Each Action's kind when it succeeds. */
export const ACTION_KINDS: Readonly<Record<ActionName, SuccessKind>> = {
  CreateKey: 'change',
  DescribeKey: 'read',
  ListKeys: 'read',
  UpdateKeyDescription: 'change',
  CreateKeyVersion: 'change',
  DescribeKeyVersion: 'read',
  ListKeyVersions: 'read',
  GetPublicKey: 'read',
  AsymmetricSign: 'private-key',
  // Verify and encrypt use the public key only.
  AsymmetricVerify: 'read',
  AsymmetricEncrypt: 'read',
  AsymmetricDecrypt: 'private-key',
  CreateAlias: 'change',
  UpdateAlias: 'change',
  DeleteAlias: 'change',
  ListAliases: 'read',
  ListAliasesByKeyId: 'read',
  EnableKey: 'change',
  DisableKey: 'change',
  ScheduleKeyDeletion: 'change',
  CancelKeyDeletion: 'change',
  TagResource: 'change',
  UntagResource: 'change',
  ListResourceTags: 'read',
  // The private key leaves the vault (encrypted under a passphrase).
  ExportKeyVersion: 'private-key',
  ImportKeyVersion: 'change',
  // Makes (and keeps) the import's wrapping key pair and token.
  GetParametersForImport: 'change',
  ImportKeyMaterial: 'change',
  DeleteKeyMaterial: 'change',
  ImportPublicKeyVersion: 'change',
  GetPublicKeyBundle: 'read',
  // A CSR and a certificate are signed with the version's (or the issuing CA's) private key.
  CreateCertificateSigningRequest: 'private-key',
  CreateSelfSignedCertificate: 'private-key',
  IssueCertificate: 'private-key',
  AttachCertificate: 'change',
  GetCertificates: 'read',
  CreateAccessKey: 'change',
  ListAccessKeys: 'read',
  EnableAccessKey: 'change',
  DisableAccessKey: 'change',
  DeleteAccessKey: 'change',
  AddRemoteConnection: 'change',
  ListRemoteConnections: 'read',
  RemoveRemoteConnection: 'change',
  ListRemoteKeys: 'read',
  ListAuditEntries: 'read',
  VerifyAuditChain: 'read',
  AcknowledgeAuditBreak: 'change',
  // Every private key is read and written into the backup (encrypted under its recovery secret).
  CreateBackup: 'private-key',
  ChangePassphrase: 'change',
  ChangeProtection: 'change',
  RotateDataKey: 'change',
  AddAgentIdentity: 'change',
  RemoveAgentIdentity: 'change',
  ListAgentIdentities: 'read',
  // A symmetric key is secret material: every use of it is a private-key use (Encrypt too).
  Encrypt: 'private-key',
  Decrypt: 'private-key',
  GenerateDataKey: 'private-key',
  GenerateDataKeyWithoutPlaintext: 'private-key',
  ReEncrypt: 'private-key',
  GenerateAndExportDataKey: 'private-key',
  ExportDataKey: 'private-key',
  UpdateRotationPolicy: 'change',
};

/**
 * The entries hosts record that are no Action (core/actions/dispatch.ts recordEvent, the audit
 * log's own), with their kind when they succeed.
 */
export const EVENT_KINDS = {
  /** A new vault (core/audit/audit-log.ts startAuditLog). */
  InitVault: 'change',
  /** A vault restored from a backup (core/custody/backup.ts). */
  RestoreVault: 'change',
  /** The app unlocked or locked its vault (core/app/app-session.ts). */
  UnlockVault: 'change',
  LockVault: 'change',
  /** The app's key list and a key's detail pane (one read each). */
  ListKeyDetails: 'read',
  DescribeKeyDetail: 'read',
  /** The app's agent started or stopped serving the vault. */
  StartAgent: 'change',
  StopAgent: 'change',
  /** The air-gap station signed an approved request (core/airgap/station.ts). */
  ApproveSigningRequest: 'private-key',
  /** A rejection is recorded with the code Request.Rejected (so it is refused); its kind otherwise. */
  RejectSigningRequest: 'change',
} as const satisfies Record<string, SuccessKind>;

const KINDS: Readonly<Record<string, SuccessKind>> = { ...ACTION_KINDS, ...EVENT_KINDS };

/** The kind of an entry with this Action and code. */
export function auditKind(action: string, code: string): AuditKind {
  if (code !== 'OK') return 'refused';
  return Object.hasOwn(KINDS, action) ? KINDS[action]! : 'read';
}

/** The Actions and events recorded with this kind when they succeed (for a query: "read" is every other one). */
export function actionsOfKind(kind: SuccessKind): string[] {
  return Object.keys(KINDS).filter((action) => KINDS[action] === kind);
}

export function isAuditKind(value: unknown): value is AuditKind {
  return typeof value === 'string' && (AUDIT_KINDS as readonly string[]).includes(value);
}
