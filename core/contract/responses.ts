// Response schemas for every Action, beside the request schemas of ./actions.ts, with Alibaba Cloud
// KMS's field names (the models of @alicloud/kms20160120) and DeskKMS's extensions. They describe
// the body a handler returns, without the RequestId dispatch adds. Objects are strict: a field a
// handler adds without a schema entry fails the response test (test/unit/responses.test.ts), and
// a handler whose response type drifts from its schema fails tsc (core/actions/operation.ts).
// Runtime-neutral: the renderer's kms<A>() is typed from these.
import { z } from 'zod';
import { BASE64, type ActionName } from './actions.ts';
import { KEY_STATES } from './ids.ts';
import { SIGNATURE_ALGORITHMS } from './api-signatures.ts';

/** A date as KMS writes it: ISO 8601 in UTC to the second ("2026-01-02T03:04:05Z"). */
const kmsDate = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, 'must be a KMS date (YYYY-MM-DDThh:mm:ssZ)');
/** A date, or "" where there is none yet (DeleteDate of a key not pending deletion, ...). */
const kmsDateOrEmpty = z.union([kmsDate, z.literal('')]);
const base64 = z.string().regex(BASE64, 'must be base64');
/** PEM text of one block type (or a chain of them). */
const pem = (label: string) => z.string().startsWith(`-----BEGIN ${label}-----`, `must be PEM ${label}`);

// Identifiers stay plain strings: remote keys answer `remote/<connection>/<KeyId>` (not a UUID),
// and KeySpec/Origin/ProtectionLevel of a remote KMS may name values this vault has not.
const keyId = z.string().min(1);
const keyVersionId = z.string().min(1);

const page = { TotalCount: z.number().int().min(0), PageNumber: z.number().int().min(1), PageSize: z.number().int().min(1) };
const versionRef = { KeyId: keyId, KeyVersionId: keyVersionId };
const empty = z.strictObject({});
/**
 * In the answer of an Action on a key (its request names a KeyId): a key of a remote KMS
 * (remote/<connection>/<KeyId>) answers that KMS's RequestId too (DeskKMS; never for keys here).
 */
const onKey = { RemoteRequestId: z.string().optional() };
/** The answer of an Action on a key that answers nothing but its RequestId. */
const emptyOnKey = z.strictObject(onKey);

/** Alibaba KMS KeyMetadata, as CreateKey and DescribeKey return it. */
export const keyMetadataSchema = z.strictObject({
  KeyId: keyId,
  Arn: z.string(),
  KeySpec: z.string(),
  KeyUsage: z.string(),
  KeyState: z.enum(KEY_STATES),
  Description: z.string(),
  CreationDate: kmsDate,
  DeleteDate: kmsDateOrEmpty,
  Creator: z.string(),
  Origin: z.string(),
  ProtectionLevel: z.string(),
  MaterialExpireTime: kmsDateOrEmpty,
  /** A symmetric key's primary version (what Encrypt uses); "" for asymmetric keys, whose calls name their KeyVersionId. */
  PrimaryKeyVersion: z.string(),
  LastRotationDate: kmsDateOrEmpty,
  AutomaticRotation: z.enum(['Enabled', 'Disabled', 'Suspended']),
  RotationInterval: z.string(),
  NextRotationDate: kmsDateOrEmpty,
  /** DeskKMS extension: whether versions may be exported (encrypted). */
  Exportable: z.boolean(),
});
export type KeyMetadata = z.output<typeof keyMetadataSchema>;

/** A key version, as CreateKeyVersion, DescribeKeyVersion and ListKeyVersions return it. */
export const keyVersionInfoSchema = z.strictObject({ KeyId: keyId, KeyVersionId: keyVersionId, CreationDate: kmsDate });
export type KeyVersionInfo = z.output<typeof keyVersionInfoSchema>;

const keyVersionResponse = z.strictObject({ KeyVersion: keyVersionInfoSchema, ...onKey });

const aliasPage = z.strictObject({
  Aliases: z.strictObject({ Alias: z.array(z.strictObject({ KeyId: keyId, AliasName: z.string(), AliasArn: z.string() })) }),
  ...page,
});

/** GetPublicKeyBundle's JWK: RFC 7517 public members only (no JWK exists for SM2). */
const publicJwk = z.discriminatedUnion('kty', [
  z.strictObject({ kty: z.literal('RSA'), kid: z.string(), n: z.string(), e: z.string() }),
  z.strictObject({ kty: z.literal('EC'), kid: z.string(), crv: z.enum(['P-256', 'secp256k1']), x: z.string(), y: z.string() }),
]);

/** A certificate attached to a key version, as GetCertificates describes it. */
export const certificateInfoSchema = z.strictObject({
  Pem: pem('CERTIFICATE'),
  /** RFC 4514 text of the subject and issuer names. */
  Subject: z.string(),
  Issuer: z.string(),
  /** Lowercase hex. */
  SerialNumber: z.string().regex(/^[0-9a-f]+$/),
  NotBefore: kmsDate,
  NotAfter: kmsDate,
  IsCa: z.boolean(),
});
export type CertificateInfo = z.output<typeof certificateInfoSchema>;

// DeskKMS administration (the local-only Actions): access keys, remote KMS connections, the audit log.
/** How the vault's data key is protected after a protection change. */
const protectionAnswerSchema = z.strictObject({ VaultId: z.string(), Protection: z.enum(['keychain', 'passphrase']) });

/** An access key as the vault describes it; its secret only in CreateAccessKey's answer. */
export const accessKeyInfoSchema = z.strictObject({
  AccessKeyId: z.string(),
  State: z.enum(['Enabled', 'Disabled']),
  Policy: z.strictObject({ Actions: z.array(z.string()), Keys: z.array(z.string()) }),
  Description: z.string(),
  CreationDate: kmsDate,
});
export type AccessKeyInfo = z.output<typeof accessKeyInfoSchema>;

/** A remote KMS connection, never its AccessKey secret (that is in the OS keychain only). */
export const remoteConnectionSchema = z.strictObject({
  Name: z.string(),
  Endpoint: z.string(),
  RegionId: z.string(),
  Protocol: z.enum(['https', 'http']),
  AccessKeyId: z.string(),
  /** How requests to it are signed: ACS3-HMAC-SHA256, ACS3-HMAC-SM3 (V3) or HMAC-SHA1 (V1; also every connection made before the choice existed). */
  SignatureAlgorithm: z.enum(SIGNATURE_ALGORITHMS),
  CreationDate: kmsDate,
});
export type RemoteConnectionInfo = z.output<typeof remoteConnectionSchema>;

const hash = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in hex');
/** One audit log entry (core/audit/audit-log.ts): hashes in hex, absent key fields null. */
export const auditEntrySchema = z.strictObject({
  seq: z.number().int().min(1),
  /** ISO 8601 UTC with milliseconds. */
  time: z.string(),
  action: z.string(),
  keyId: z.string().nullable(),
  keyVersionId: z.string().nullable(),
  code: z.string(),
  caller: z.string(),
  requestId: z.string(),
  prevHash: hash,
  hash,
});
export type AuditEntryInfo = z.output<typeof auditEntrySchema>;

const acknowledgedBreakSchema = z.strictObject({ firstBroken: z.number().int(), reason: z.string(), headSeq: z.number().int(), time: z.string() });
/** The audit chain's verdict (the app's AuditVerdictView is derived from it); acknowledged: breaks accepted, headSeq the last entry then. */
export const auditVerdictSchema = z.union([
  z.strictObject({
    ok: z.literal(true),
    entries: z.number().int().min(0),
    head: hash.nullable(),
    anchored: z.number().int().min(0).nullable(),
    acknowledged: z.array(acknowledgedBreakSchema).readonly().optional(),
  }),
  z.strictObject({
    ok: z.literal(false),
    entries: z.number().int().min(0),
    firstBroken: z.number().int().min(1),
    reason: z.string(),
    acknowledged: z.array(acknowledgedBreakSchema).readonly().optional(),
  }),
]);

/** A key version the agent serves (ListAgentIdentities, AddAgentIdentity). */
export const agentIdentitySchema = z.strictObject({
  KeyId: keyId,
  KeyVersionId: keyVersionId,
  KeySpec: z.string(),
  KeyState: z.string(),
  Aliases: z.array(z.string()),
  /** Every use needs the user's approval. */
  Confirm: z.boolean(),
  AddedDate: kmsDate,
  /** The OpenSSH public-key line ssh-add -L shows, for RSA and EC_P256 keys (others are served only to DeskKMS's own commands). */
  SshPublicKey: z.string().optional(),
  /** "SHA256:..." of the SSH key blob, as ssh-add -l and ssh-keygen -l print it. */
  SshFingerprint: z.string().optional(),
});
export type AgentIdentity = z.infer<typeof agentIdentitySchema>;

export const RESPONSE_SCHEMAS = {
  /**
   * DeskKMS extension: KeyVersionId, the key's first version (generated with it when Origin is
   * Aliyun_KMS; absent for EXTERNAL and EXTERNAL_PUBLIC_KEY keys, which start without one), so that
   * a first AsymmetricSign needs no ListKeyVersions. Alibaba's SDK ignores the field.
   */
  CreateKey: z.strictObject({ KeyMetadata: keyMetadataSchema, KeyVersionId: keyVersionId.optional() }),
  DescribeKey: z.strictObject({ KeyMetadata: keyMetadataSchema, ...onKey }),
  ListKeys: z.strictObject({ Keys: z.strictObject({ Key: z.array(z.strictObject({ KeyId: keyId, KeyArn: z.string() })) }), ...page }),
  UpdateKeyDescription: emptyOnKey,
  CreateKeyVersion: keyVersionResponse,
  DescribeKeyVersion: keyVersionResponse,
  ListKeyVersions: z.strictObject({ KeyVersions: z.strictObject({ KeyVersion: z.array(keyVersionInfoSchema) }), ...page, ...onKey }),
  GetPublicKey: z.strictObject({ ...versionRef, PublicKey: pem('PUBLIC KEY'), ...onKey }),
  AsymmetricSign: z.strictObject({ ...versionRef, Value: base64, ...onKey }),
  AsymmetricVerify: z.strictObject({ ...versionRef, Value: z.boolean(), ...onKey }),
  AsymmetricEncrypt: z.strictObject({ ...versionRef, CiphertextBlob: base64, ...onKey }),
  AsymmetricDecrypt: z.strictObject({ ...versionRef, Plaintext: base64, ...onKey }),
  CreateAlias: empty,
  UpdateAlias: empty,
  DeleteAlias: empty,
  ListAliases: aliasPage,
  ListAliasesByKeyId: aliasPage.extend(onKey),
  EnableKey: emptyOnKey,
  DisableKey: emptyOnKey,
  ScheduleKeyDeletion: emptyOnKey,
  CancelKeyDeletion: emptyOnKey,
  TagResource: emptyOnKey,
  UntagResource: emptyOnKey,
  ListResourceTags: z.strictObject({
    Tags: z.strictObject({ Tag: z.array(z.strictObject({ KeyId: keyId, TagKey: z.string(), TagValue: z.string() })) }),
    ...onKey,
  }),
  // DeskKMS extensions: encrypted PKCS#8 export and import of versions.
  ExportKeyVersion: z.strictObject({ ...versionRef, KeySpec: z.string(), EncryptedPrivateKey: pem('ENCRYPTED PRIVATE KEY'), ...onKey }),
  ImportKeyVersion: keyVersionResponse,
  // Bring your own key (Alibaba Cloud KMS). Alibaba's ImportKeyMaterial answers only its RequestId;
  // DeskKMS adds the key and the version the material went into.
  GetParametersForImport: z.strictObject({ KeyId: keyId, ImportToken: z.string(), PublicKey: base64, TokenExpireTime: kmsDate, ...onKey }),
  ImportKeyMaterial: z.strictObject({ ...versionRef, ...onKey }),
  DeleteKeyMaterial: emptyOnKey,
  ImportPublicKeyVersion: keyVersionResponse,
  // DeskKMS extensions: public-key formats, CSRs and certificates of key versions.
  GetPublicKeyBundle: z.strictObject({
    ...versionRef,
    KeySpec: z.string(),
    PublicKeyPem: pem('PUBLIC KEY'),
    PublicKeyDer: base64,
    Jwk: publicJwk.optional(),
    /** One authorized_keys line, without its newline. */
    OpenSsh: z.string().optional(),
    Fingerprints: z.strictObject({
      SpkiSha256Hex: z.string().regex(/^[0-9a-f]{64}$/),
      SpkiSha256Base64: base64,
      OpenSsh: z.string().startsWith('SHA256:').optional(),
    }),
    /** Why a format is absent for this key (no JWK curve for SM2, no OpenSSH type for SM2/secp256k1). */
    Omitted: z.strictObject({ Jwk: z.string().optional(), OpenSsh: z.string().optional() }),
    /** The certificate chain attached to the version, PEM, its own certificate first. */
    CertificateChain: pem('CERTIFICATE').optional(),
    ...onKey,
  }),
  CreateCertificateSigningRequest: z.strictObject({ ...versionRef, Csr: pem('CERTIFICATE REQUEST'), ...onKey }),
  CreateSelfSignedCertificate: z.strictObject({ ...versionRef, Certificate: pem('CERTIFICATE'), ...onKey }),
  IssueCertificate: z.strictObject({ ...versionRef, Certificate: pem('CERTIFICATE'), CertificateChain: pem('CERTIFICATE'), ...onKey }),
  AttachCertificate: z.strictObject({ ...versionRef, CertificateCount: z.number().int().min(1), ...onKey }),
  GetCertificates: z.strictObject({ ...versionRef, Certificates: z.array(certificateInfoSchema), ...onKey }),
  // Symmetric keys: every answer names the key and the version that encrypted (or decrypted). They are
  // this vault's own (no remote KMS performs them here), so no RemoteRequestId.
  Encrypt: z.strictObject({ ...versionRef, CiphertextBlob: base64 }),
  Decrypt: z.strictObject({ ...versionRef, Plaintext: base64 }),
  GenerateDataKey: z.strictObject({ ...versionRef, CiphertextBlob: base64, Plaintext: base64 }),
  GenerateDataKeyWithoutPlaintext: z.strictObject({ ...versionRef, CiphertextBlob: base64 }),
  ReEncrypt: z.strictObject({ ...versionRef, CiphertextBlob: base64, SourceKeyId: keyId, SourceKeyVersionId: keyVersionId }),
  /** ExportedDataKey: the data key encrypted to PublicKeyBlob with WrappingAlgorithm (base64). */
  GenerateAndExportDataKey: z.strictObject({ ...versionRef, CiphertextBlob: base64, ExportedDataKey: base64 }),
  ExportDataKey: z.strictObject({ ...versionRef, ExportedDataKey: base64 }),
  UpdateRotationPolicy: empty,
  // DeskKMS administration (local only): access keys, remote KMS connections, the audit log.
  CreateAccessKey: accessKeyInfoSchema.extend({ AccessKeySecret: z.string() }),
  ListAccessKeys: z.strictObject({ AccessKeys: z.array(accessKeyInfoSchema) }),
  EnableAccessKey: z.strictObject({ AccessKeyId: z.string(), State: z.literal('Enabled') }),
  DisableAccessKey: z.strictObject({ AccessKeyId: z.string(), State: z.literal('Disabled') }),
  DeleteAccessKey: z.strictObject({ AccessKeyId: z.string() }),
  AddRemoteConnection: z.strictObject({ Connection: remoteConnectionSchema }),
  ListRemoteConnections: z.strictObject({ Connections: z.array(remoteConnectionSchema) }),
  RemoveRemoteConnection: z.strictObject({ Name: z.string() }),
  ListRemoteKeys: z.strictObject({
    Connection: z.string(),
    /** KeyId as this vault names it (remote/<Connection>/<RemoteKeyId>); RemoteKeyId as the remote KMS does. */
    Keys: z.strictObject({ Key: z.array(z.strictObject({ KeyId: keyId, RemoteKeyId: z.string(), KeyArn: z.string().optional() })) }),
    ...page,
  }),
  ListAuditEntries: z.strictObject({ Entries: z.array(auditEntrySchema), Truncated: z.boolean() }),
  VerifyAuditChain: z.strictObject({ Verdict: auditVerdictSchema }),
  AcknowledgeAuditBreak: z.strictObject({ Acknowledged: auditVerdictSchema }),
  CreateBackup: z.strictObject({
    BackupId: z.string(),
    Path: z.string(),
    Size: z.number().int(),
    Created: z.string(),
    VaultId: z.string(),
    Recovery: z.enum(['passphrase', 'shares']),
    KeyCount: z.number().int(),
    KeyVersionCount: z.number().int(),
    AuditHead: z.strictObject({ Seq: z.number().int(), Hash: z.string() }),
    Threshold: z.number().int().optional(),
    ShareCount: z.number().int().optional(),
    ShareIdentifier: z.number().int().optional(),
    /** The SLIP-0039 mnemonics, answered once: the vault keeps none of them. */
    Shares: z.array(z.string()).optional(),
  }),
  ChangePassphrase: protectionAnswerSchema,
  ChangeProtection: protectionAnswerSchema,
  RotateDataKey: protectionAnswerSchema.extend({ ResealedSecrets: z.number().int(), RevokedImportTokens: z.number().int() }),
  AddAgentIdentity: z.strictObject({ Identity: agentIdentitySchema }),
  RemoveAgentIdentity: z.strictObject({ Removed: z.number().int() }),
  ListAgentIdentities: z.strictObject({ Identities: z.array(agentIdentitySchema) }),
} as const satisfies { readonly [A in ActionName]: z.ZodType };

/** What Action A answers (without the RequestId every answer carries). */
export type ActionResponse<A extends ActionName> = z.output<(typeof RESPONSE_SCHEMAS)[A]>;
