// Response schemas for every Action, beside the request schemas of ./actions.ts, with Alibaba Cloud
// KMS's field names (the models of @alicloud/kms20160120) and DeskKMS's extensions. They describe
// the body a handler returns, without the RequestId dispatch adds. Objects are strict: a field a
// handler adds without a schema entry fails the response test (test/unit/responses.test.ts), and
// a handler whose response type drifts from its schema fails tsc (core/actions/operation.ts).
// Runtime-neutral: the renderer's kms<A>() is typed from these.
import { z } from 'zod';
import { BASE64, type ActionName } from './actions.ts';
import { KEY_STATES } from './ids.ts';

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
  /** Asymmetric keys have no primary version here: every call names its KeyVersionId (""). */
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

const keyMetadataResponse = z.strictObject({ KeyMetadata: keyMetadataSchema });
const keyVersionResponse = z.strictObject({ KeyVersion: keyVersionInfoSchema });

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

export const RESPONSE_SCHEMAS = {
  CreateKey: keyMetadataResponse,
  DescribeKey: keyMetadataResponse,
  ListKeys: z.strictObject({ Keys: z.strictObject({ Key: z.array(z.strictObject({ KeyId: keyId, KeyArn: z.string() })) }), ...page }),
  UpdateKeyDescription: empty,
  CreateKeyVersion: keyVersionResponse,
  DescribeKeyVersion: keyVersionResponse,
  ListKeyVersions: z.strictObject({ KeyVersions: z.strictObject({ KeyVersion: z.array(keyVersionInfoSchema) }), ...page }),
  GetPublicKey: z.strictObject({ ...versionRef, PublicKey: pem('PUBLIC KEY') }),
  AsymmetricSign: z.strictObject({ ...versionRef, Value: base64 }),
  AsymmetricVerify: z.strictObject({ ...versionRef, Value: z.boolean() }),
  AsymmetricEncrypt: z.strictObject({ ...versionRef, CiphertextBlob: base64 }),
  AsymmetricDecrypt: z.strictObject({ ...versionRef, Plaintext: base64 }),
  CreateAlias: empty,
  UpdateAlias: empty,
  DeleteAlias: empty,
  ListAliases: aliasPage,
  ListAliasesByKeyId: aliasPage,
  EnableKey: empty,
  DisableKey: empty,
  ScheduleKeyDeletion: empty,
  CancelKeyDeletion: empty,
  TagResource: empty,
  UntagResource: empty,
  ListResourceTags: z.strictObject({
    Tags: z.strictObject({ Tag: z.array(z.strictObject({ KeyId: keyId, TagKey: z.string(), TagValue: z.string() })) }),
  }),
  // DeskKMS extensions: encrypted PKCS#8 export and import of versions.
  ExportKeyVersion: z.strictObject({ ...versionRef, KeySpec: z.string(), EncryptedPrivateKey: pem('ENCRYPTED PRIVATE KEY') }),
  ImportKeyVersion: keyVersionResponse,
  // Bring your own key (Alibaba Cloud KMS). Alibaba's ImportKeyMaterial answers only its RequestId;
  // DeskKMS adds the key and the version the material went into.
  GetParametersForImport: z.strictObject({ KeyId: keyId, ImportToken: z.string(), PublicKey: base64, TokenExpireTime: kmsDate }),
  ImportKeyMaterial: z.strictObject(versionRef),
  DeleteKeyMaterial: empty,
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
  }),
  CreateCertificateSigningRequest: z.strictObject({ ...versionRef, Csr: pem('CERTIFICATE REQUEST') }),
  CreateSelfSignedCertificate: z.strictObject({ ...versionRef, Certificate: pem('CERTIFICATE') }),
  IssueCertificate: z.strictObject({ ...versionRef, Certificate: pem('CERTIFICATE'), CertificateChain: pem('CERTIFICATE') }),
  AttachCertificate: z.strictObject({ ...versionRef, CertificateCount: z.number().int().min(1) }),
  GetCertificates: z.strictObject({ ...versionRef, Certificates: z.array(certificateInfoSchema) }),
} as const satisfies { readonly [A in ActionName]: z.ZodType };

/** What Action A answers (without the RequestId every answer carries). */
export type ActionResponse<A extends ActionName> = z.output<(typeof RESPONSE_SCHEMAS)[A]>;
