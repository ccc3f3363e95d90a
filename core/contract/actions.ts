// Request schemas for every Action, with Alibaba Cloud KMS's parameter names (checked against
// the models of the official SDK @alicloud/kms20160120). Every transport (CLI, batch, IPC, HTTP)
// validates through parseRequest before anything reaches the vault; request types are derived from
// the schemas. Runtime-neutral: shared with the renderer.
import { z } from 'zod';
import { parseParams } from './validate.ts';
import { ALGORITHM_TABLE, KEY_SPECS, KEY_USAGES, type Algorithm } from './specs.ts';
import { KEY_ORIGINS, WRAPPING_ALGORITHM_NAMES, WRAPPING_KEY_SPECS } from './key-import.ts';
import { ALIAS, CONNECTION_NAME, KEY_STATES, UUID } from './ids.ts';
import { escapeText } from './escape-text.ts';
import { DEFAULT_SIGNATURE_ALGORITHM, SIGNATURE_ALGORITHMS } from './api-signatures.ts';
import { AUDIT_KINDS } from './audit-kinds.ts';
import { encryptionContextParam } from './encryption-context.ts';

/** Standard padded base64 text (the decoder checks the padding bits). */
export const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A whole number given as a JSON number or a decimal string (CLI and form parameters are strings). */
const wholeNumber = (min: number, max: number) =>
  z
    .union([z.number(), z.string().regex(/^\d{1,9}$/, 'must be a whole number')])
    .transform((v) => Number(v))
    .pipe(z.number().int('must be a whole number').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const booleanParam = z
  .union([z.boolean(), z.enum(['true', 'false'])], 'must be true or false')
  .transform((v) => v === true || v === 'true');

/** KeyId: a key's UUID, `alias/NAME`, or an ARN ending in `key/UUID` or `alias/NAME`. */
export const keyIdParam = z.string().min(1, 'is empty').max(512, 'is too long');
export const keyVersionIdParam = z.string().regex(UUID, 'must be a key version UUID');
export const aliasNameParam = z
  .string()
  .regex(ALIAS, 'must be "alias/" followed by 1-249 characters of a-z A-Z 0-9 : / _ -');
const base64Param = (max: number) => z.string().max(max, 'is too long').regex(BASE64, 'is not base64');
const algorithmParam = z.string().refine((v): v is Algorithm => Object.hasOwn(ALGORITHM_TABLE, v), {
  message: `must be one of ${Object.keys(ALGORITHM_TABLE).join(', ')}`,
});
const descriptionParam = z.string().max(8192, 'is longer than 8192 characters');
const pageNumber = wholeNumber(1, 1_000_000).optional().default(1);
const pageSize = wholeNumber(1, 100).optional().default(10);

/** The shortest passphrase (UTF-8 bytes) an encrypted private-key export accepts. */
export const EXPORT_PASSPHRASE_MIN_BYTES = 8;
/** A passphrase the vault already has (any length it was given). */
const passphraseParam = base64Param(1400).refine((v) => base64Length(v) >= 1, 'is empty');
/** A passphrase being set: at least EXPORT_PASSPHRASE_MIN_BYTES. */
const newPassphraseParam = base64Param(1400).refine(
  (v) => base64Length(v) >= EXPORT_PASSPHRASE_MIN_BYTES,
  `must be at least ${EXPORT_PASSPHRASE_MIN_BYTES} bytes: what it protects is only as strong as it`,
);

/** Decoded length of (well-formed) base64 text. */
function base64Length(v: string): number {
  return (v.length / 4) * 3 - (v.endsWith('==') ? 2 : v.endsWith('=') ? 1 : 0);
}

export const TAG_KEY_MAX = 128;
export const TAG_VALUE_MAX = 256;
export const MAX_TAGS_PER_KEY = 20;

const tagSchema = z.strictObject({
  TagKey: z
    .string()
    .min(1, 'TagKey is empty')
    .max(TAG_KEY_MAX, `TagKey is longer than ${TAG_KEY_MAX} characters`)
    .refine((k) => !/^(aliyun|acs:)/i.test(k), 'TagKey must not start with "aliyun" or "acs:"'),
  TagValue: z.string().max(TAG_VALUE_MAX, `TagValue is longer than ${TAG_VALUE_MAX} characters`),
});
export type Tag = z.infer<typeof tagSchema>;

/** Tags travel as a JSON string (Alibaba's form), or already parsed (JSON bodies). */
function jsonParam<T extends z.ZodType>(inner: T) {
  return z.union([z.string(), z.array(z.unknown())]).transform((value, ctx): z.infer<T> => {
    let parsed: unknown = value;
    if (typeof value === 'string') {
      try {
        parsed = JSON.parse(value);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not valid JSON' });
        return z.NEVER;
      }
    }
    const result = inner.safeParse(parsed);
    if (!result.success) {
      ctx.addIssue({ code: 'custom', message: result.error.issues[0]?.message ?? 'is malformed' });
      return z.NEVER;
    }
    return result.data;
  });
}

const tagsParam = jsonParam(
  z
    .array(tagSchema, 'must be a JSON array of {"TagKey","TagValue"}')
    .max(MAX_TAGS_PER_KEY, `at most ${MAX_TAGS_PER_KEY} tags`)
    .refine((tags) => new Set(tags.map((t) => t.TagKey)).size === tags.length, 'repeats a TagKey'),
);
const tagKeysParam = jsonParam(
  z.array(z.string().min(1).max(TAG_KEY_MAX), 'must be a JSON array of tag keys').min(1, 'names no tag key').max(MAX_TAGS_PER_KEY),
);

const stringListParam = jsonParam(z.array(z.string().min(1, 'has an empty entry').max(2048, 'has an entry that is too long'), 'must be a JSON array of strings').max(100, 'has more than 100 entries'));
const basicConstraintsParam = z
  .union([z.string(), z.record(z.string(), z.unknown())])
  .transform((value, ctx): unknown => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not valid JSON' });
      return z.NEVER;
    }
  })
  .pipe(z.strictObject({ CA: z.boolean('CA must be true or false'), PathLen: z.number().int().min(0).max(100).optional() }, 'must be {"CA": true|false, "PathLen"?: N}'));
const subjectParam = z.string().min(1, 'is empty').max(4096, 'is too long');
const validityDays = wholeNumber(1, 36500).optional().default(365);

// Parameters of the DeskKMS administration Actions (the last block of ACTION_SCHEMAS).
/** An access key this vault issued: "DKMS" and 20 letters or digits. */
export const ACCESS_KEY_ID = /^DKMS[A-Za-z0-9]{20}$/;
/** A remote KMS endpoint: host or host:port. */
export const REMOTE_ENDPOINT = /^[A-Za-z0-9.-]+(:\d{1,5})?$/;
/** The most entries one ListAuditEntries answers. */
export const AUDIT_LIST_MAX = 99_999;
const accessKeyIdParam = z.string().regex(ACCESS_KEY_ID, 'must be a DeskKMS access key id ("DKMS" and 20 letters or digits)');
const connectionNameParam = z.string().regex(CONNECTION_NAME, 'must be 1-32 characters of a-z 0-9 -, starting with a letter or digit');
const auditTimeParam = z
  .string()
  .max(64, 'is too long')
  .refine((v) => !Number.isNaN(Date.parse(v)), 'is not a date (use ISO 8601, e.g. 2026-01-31T00:00:00Z)');

// ListKeys Filters (Alibaba's API reference, ListKeys, 2016-01-20:
// https://www.alibabacloud.com/help/en/kms/key-management-service/developer-reference/api-kms-2016-01-20-listkeys
// and the SDK model ListKeysRequest.filters): a JSON array of at most 10 {"Key","Values"} pairs,
// 0-10 Values each. Pairs with the same Key are one condition (their Values pooled); Values are
// ORed, distinct Keys ANDed. A pair with no Values does not narrow the list.
/** Key specs Alibaba documents that this vault never holds (AES-128 and AES-192 keys): a filter on them matches no key here. */
export const ALIBABA_ONLY_KEY_SPECS = ['Aliyun_AES_128', 'Aliyun_AES_192'] as const;
/** What a free-form filter Key takes: any 1-512 characters. */
const ANY_VALUE = 'any';
/** Each Filters Key and the Values it takes (Alibaba's lists; values this vault cannot hold match no key). */
export const LIST_KEYS_FILTER_VALUES = {
  KeyState: KEY_STATES,
  KeySpec: [...ALIBABA_ONLY_KEY_SPECS, ...KEY_SPECS],
  KeyUsage: KEY_USAGES,
  /** Every key here is SOFTWARE: HSM matches none. */
  ProtectionLevel: ['SOFTWARE', 'HSM'],
  /** User: keys a user created (every key here); Service: keys a cloud service created (none here). */
  CreatorType: ['User', 'Service'],
  /** A KMS instance (kst-...): this vault has none, so a value is refused rather than answered with no keys. */
  DKMSInstanceId: [],
  /** A key's id (the reference spells this Key `keyId`; both spellings are taken). */
  KeyId: ANY_VALUE,
  /** An alias (alias/...) bound to the key. */
  AliasName: ANY_VALUE,
  /** The key's Creator as DescribeKey answers it (here always "deskkms"). */
  Creator: ANY_VALUE,
  /** A TagKey of one of the key's tags. */
  TagKey: ANY_VALUE,
  /** A TagValue of one of the key's tags. */
  TagValue: ANY_VALUE,
} as const satisfies Record<string, readonly string[] | typeof ANY_VALUE>;
export type ListKeysFilterKey = keyof typeof LIST_KEYS_FILTER_VALUES;
export const LIST_KEYS_FILTER_KEYS = Object.keys(LIST_KEYS_FILTER_VALUES) as ListKeysFilterKey[];
/** Spellings of a filter Key other than its own that Alibaba's reference uses. */
export const LIST_KEYS_FILTER_SPELLINGS = { keyId: 'KeyId' } as const satisfies Record<string, ListKeysFilterKey>;
export const LIST_KEYS_MAX_FILTERS = 10;
export const LIST_KEYS_MAX_FILTER_VALUES = 10;
/**
 * One validated pair, as sent (Key in the caller's spelling), so the request re-serialises to
 * Alibaba's wire form (JSON.stringify) when it is forwarded to a remote KMS.
 */
export interface ListKeysFilter {
  readonly Key: ListKeysFilterKey | keyof typeof LIST_KEYS_FILTER_SPELLINGS;
  readonly Values: readonly string[];
}

/** The filter Key a pair names, in this vault's spelling. */
export function listKeysFilterKey(key: ListKeysFilter['Key']): ListKeysFilterKey {
  return Object.hasOwn(LIST_KEYS_FILTER_SPELLINGS, key) ? LIST_KEYS_FILTER_SPELLINGS[key as keyof typeof LIST_KEYS_FILTER_SPELLINGS] : (key as ListKeysFilterKey);
}

const filtersParam = z
  .union([z.string().max(65536, 'is too long'), z.array(z.unknown())])
  .transform((value, ctx): ListKeysFilter[] => {
    const fail = (message: string) => {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    };
    let parsed: unknown = value;
    if (typeof value === 'string') {
      try {
        parsed = JSON.parse(value);
      } catch {
        return fail('is not valid JSON (a JSON array of {"Key": "...", "Values": ["..."]})');
      }
    }
    if (!Array.isArray(parsed)) return fail('must be a JSON array of {"Key": "...", "Values": ["..."]}');
    if (parsed.length > LIST_KEYS_MAX_FILTERS) return fail(`has ${parsed.length} Key-Values pairs; at most ${LIST_KEYS_MAX_FILTERS}`);
    const out: ListKeysFilter[] = [];
    for (const [i, pair] of (parsed as unknown[]).entries()) {
      const at = `pair ${i + 1}`;
      if (typeof pair !== 'object' || pair === null || Array.isArray(pair)) return fail(`${at} is not an object {"Key": "...", "Values": ["..."]}`);
      const extra = Object.keys(pair).filter((k) => k !== 'Key' && k !== 'Values');
      if (extra.length > 0) return fail(`${at} has ${escapeText(extra[0]!, 64)}, which is not Key or Values`);
      const { Key: given, Values: values } = pair as { Key?: unknown; Values?: unknown };
      if (typeof given !== 'string') return fail(`${at} has no Key (one of ${LIST_KEYS_FILTER_KEYS.join(', ')})`);
      if (!Object.hasOwn(LIST_KEYS_FILTER_VALUES, given) && !Object.hasOwn(LIST_KEYS_FILTER_SPELLINGS, given)) {
        return fail(`${at}: Key ${escapeText(given, 64)} is not one of ${LIST_KEYS_FILTER_KEYS.join(', ')}`);
      }
      const key = listKeysFilterKey(given as ListKeysFilter['Key']);
      if (values === undefined) return fail(`${at} (${key}) has no Values (an array of 0-${LIST_KEYS_MAX_FILTER_VALUES} strings)`);
      if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) return fail(`${at} (${key}): Values must be an array of strings`);
      if (values.length > LIST_KEYS_MAX_FILTER_VALUES) return fail(`${at} (${key}) has ${values.length} Values; at most ${LIST_KEYS_MAX_FILTER_VALUES}`);
      const allowed: readonly string[] | typeof ANY_VALUE = LIST_KEYS_FILTER_VALUES[key];
      const strings = values as string[];
      for (const v of strings) {
        if (key === 'DKMSInstanceId') {
          return fail(`${at}: DKMSInstanceId ${escapeText(v, 64)}: this vault has no KMS instance; its keys belong to none (omit this filter)`);
        }
        if (allowed === ANY_VALUE) {
          if (v.length === 0 || v.length > 512) return fail(`${at}: each ${key} value must be 1-512 characters`);
        } else if (!allowed.includes(v)) {
          return fail(`${at}: ${key} value ${escapeText(v, 64)} is not one of ${allowed.join(', ')}`);
        }
      }
      out.push({ Key: given as ListKeysFilter['Key'], Values: strings });
    }
    return out;
  });

// Documented Alibaba parameters a local vault cannot honour: accepted as parameters (never "is not
// a parameter of"), a value refused naming them. An empty value is the parameter's absence.
const refusedParam = (reason: string) => z.string().max(65536, 'is too long').refine((v) => v.length === 0, reason);
const NO_SECRETS = 'this vault holds no secrets (Secrets Manager); tag a key with KeyId';
const NO_KMS_CERTIFICATES = 'this vault holds no KMS certificates (certificates of key versions are DeskKMS\'s AttachCertificate); tag a key with KeyId';
/** The resources TagResource and UntagResource name besides keys, which this vault does not hold (refused, empty allowed). */
const nonKeyResources = {
  SecretName: refusedParam(NO_SECRETS).optional(),
  CertificateId: refusedParam(NO_KMS_CERTIFICATES).optional(),
};
const NO_KMS_INSTANCE = 'this vault has no KMS instance (it is one vault on one desktop); omit it';
/** DryRun (Alibaba's crypto Actions): "true" checks the call as it would run and answers DryRunOperationError instead of acting. */
const dryRunParam = booleanParam.optional().default(false);
/** RotationInterval: integer[unit], d h m s (7d = 604800s); Alibaba's range for software keys is 7d-365d. */
const rotationIntervalParam = z
  .string()
  .regex(/^\d{1,9}[dhms]$/, 'must be a whole number and a unit d, h, m or s (e.g. 365d)')
  .refine((v) => {
    const seconds = Number(v.slice(0, -1)) * { d: 86400, h: 3600, m: 60, s: 1 }[v.at(-1) as 'd' | 'h' | 'm' | 's'];
    return seconds >= 7 * 86400 && seconds <= 365 * 86400;
  }, 'must be from 7d to 365d');

const keyRef = { KeyId: keyIdParam };

/** Encrypt's Plaintext limit, Alibaba's: 6 KiB. */
export const SYMMETRIC_PLAINTEXT_MAX = 6144;
/** A CiphertextBlob of Encrypt or GenerateDataKey: base64 (at most the largest Encrypt answers, with room). */
const ciphertextBlobParam = base64Param(16384).min(1, 'is empty');
/** GenerateDataKey's KeySpec values. */
export const DATA_KEY_SPECS = { AES_256: 32, AES_128: 16 } as const;
/** The data key Actions' common parameters: NumberOfBytes wins over KeySpec; neither is 32 bytes (AES_256). */
const dataKeyRequest = {
  ...keyRef,
  KeySpec: z.enum(['AES_256', 'AES_128'], 'must be AES_256 or AES_128').optional(),
  NumberOfBytes: wholeNumber(1, 1024).optional(),
  EncryptionContext: encryptionContextParam.optional(),
  DryRun: dryRunParam,
};
/** Where ExportDataKey and GenerateAndExportDataKey wrap the data key: a public key given by the caller. */
export const EXPORT_WRAPPING_KEY_SPECS = ['RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_SM2'] as const;
export const EXPORT_WRAPPING_ALGORITHMS = ['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1', 'SM2PKE'] as const;
const exportTo = {
  /** base64 of the DER SubjectPublicKeyInfo to wrap the data key to. */
  PublicKeyBlob: base64Param(4096).min(1, 'is empty'),
  WrappingKeySpec: z.enum(EXPORT_WRAPPING_KEY_SPECS, `must be one of ${EXPORT_WRAPPING_KEY_SPECS.join(', ')}`),
  WrappingAlgorithm: z.enum(EXPORT_WRAPPING_ALGORITHMS, `must be one of ${EXPORT_WRAPPING_ALGORITHMS.join(', ')}`),
  DryRun: dryRunParam,
};
const versionRef = { KeyId: keyIdParam, KeyVersionId: keyVersionIdParam };

export const ACTION_SCHEMAS = {
  CreateKey: z.strictObject({
    KeySpec: z.enum(KEY_SPECS, `must be one of ${KEY_SPECS.join(', ')}`),
    KeyUsage: z.enum(KEY_USAGES, `must be one of ${KEY_USAGES.join(', ')}`).optional(),
    Description: descriptionParam.optional().default(''),
    /** Aliyun_KMS: generated here; EXTERNAL: key material imported (GetParametersForImport, ImportKeyMaterial);
     *  EXTERNAL_PUBLIC_KEY (DeskKMS): public-key-only versions (ImportPublicKeyVersion). */
    Origin: z.enum(KEY_ORIGINS, `must be one of ${KEY_ORIGINS.join(', ')}`).optional().default('Aliyun_KMS'),
    ProtectionLevel: z.enum(['SOFTWARE'], 'must be SOFTWARE (no HSM in this vault)').optional().default('SOFTWARE'),
    /** Symmetric keys of Origin Aliyun_KMS only (the handler refuses true for others): the vault makes a new primary version every RotationInterval. */
    EnableAutomaticRotation: booleanParam.optional().default(false),
    /** Required with EnableAutomaticRotation true; 7d-365d. */
    RotationInterval: rotationIntervalParam.optional(),
    Tags: tagsParam.optional(),
    DKMSInstanceId: refusedParam(NO_KMS_INSTANCE).optional(),
    /** No effect: Alibaba applies it only with DKMSInstanceId of a hardware instance, which this vault has not. */
    KeyStorageMechanism: z.enum(['HsmInternal', 'HsmEncryptedDatabase'], 'must be HsmInternal or HsmEncryptedDatabase').optional(),
    Policy: refusedParam(
      'key policies are not supported (this vault has no RAM principals to grant); limit a caller with its access key\'s policy (deskkms access-key create --policy)',
    ).optional(),
    /** DeskKMS extension: the key's versions may be exported, encrypted (immutable after creation). */
    Exportable: booleanParam.optional().default(false),
  }),
  DescribeKey: z.strictObject(keyRef),
  ListKeys: z.strictObject({ PageNumber: pageNumber, PageSize: pageSize, Filters: filtersParam.optional() }),
  UpdateKeyDescription: z.strictObject({ ...keyRef, Description: descriptionParam }),
  CreateKeyVersion: z.strictObject(keyRef),
  DescribeKeyVersion: z.strictObject(versionRef),
  ListKeyVersions: z.strictObject({ ...keyRef, PageNumber: pageNumber, PageSize: pageSize }),
  GetPublicKey: z.strictObject({ ...versionRef, DryRun: dryRunParam }),
  AsymmetricSign: z.strictObject({ ...versionRef, Algorithm: algorithmParam, Digest: base64Param(1024), DryRun: dryRunParam }),
  AsymmetricVerify: z.strictObject({
    ...versionRef,
    Algorithm: algorithmParam,
    Digest: base64Param(1024),
    Value: base64Param(4096),
    DryRun: dryRunParam,
  }),
  AsymmetricEncrypt: z.strictObject({ ...versionRef, Algorithm: algorithmParam, Plaintext: base64Param(16384), DryRun: dryRunParam }),
  AsymmetricDecrypt: z.strictObject({
    ...versionRef,
    Algorithm: algorithmParam,
    CiphertextBlob: base64Param(16384),
    DryRun: dryRunParam,
    /** An enclave's attestation document (the plaintext answered encrypted to it). */
    Recipient: refusedParam('this vault cannot verify an enclave attestation document; omit Recipient to get the plaintext').optional(),
  }),
  CreateAlias: z.strictObject({ KeyId: keyIdParam, AliasName: aliasNameParam }),
  UpdateAlias: z.strictObject({ KeyId: keyIdParam, AliasName: aliasNameParam }),
  DeleteAlias: z.strictObject({ AliasName: aliasNameParam }),
  ListAliases: z.strictObject({ PageNumber: pageNumber, PageSize: pageSize }),
  ListAliasesByKeyId: z.strictObject({ ...keyRef, PageNumber: pageNumber, PageSize: pageSize }),
  EnableKey: z.strictObject(keyRef),
  DisableKey: z.strictObject(keyRef),
  ScheduleKeyDeletion: z.strictObject({ ...keyRef, PendingWindowInDays: wholeNumber(7, 366) }),
  CancelKeyDeletion: z.strictObject(keyRef),
  // Alibaba tags keys, secrets or certificates (one of KeyId, SecretName, CertificateId); this vault
  // holds keys only. nonKeyResources comes first so that a call naming one of them without KeyId is
  // refused naming it.
  TagResource: z.strictObject({ ...nonKeyResources, ...keyRef, Tags: tagsParam }),
  UntagResource: z.strictObject({ ...nonKeyResources, ...keyRef, TagKeys: tagKeysParam }),
  ListResourceTags: z.strictObject(keyRef),
  // DeskKMS extensions (not in Alibaba Cloud KMS): encrypted PKCS#8 export and import of versions.
  ExportKeyVersion: z.strictObject({
    ...versionRef,
    /** base64 of the passphrase bytes that encrypt the PKCS#8 (PBES2): at least EXPORT_PASSPHRASE_MIN_BYTES. */
    Passphrase: base64Param(1400).refine(
      (v) => base64Length(v) >= EXPORT_PASSPHRASE_MIN_BYTES,
      `must be at least ${EXPORT_PASSPHRASE_MIN_BYTES} bytes: the exported file is only as strong as its passphrase`,
    ),
    Kdf: z.enum(['scrypt', 'pbkdf2'], 'must be scrypt or pbkdf2').optional().default('scrypt'),
  }),
  ImportKeyVersion: z.strictObject({
    ...keyRef,
    /** PEM "ENCRYPTED PRIVATE KEY", or base64 of its DER. */
    EncryptedPrivateKey: z.string().min(1, 'is empty').max(65536, 'is too long'),
    Passphrase: base64Param(1400).min(1, 'is empty'),
  }),
  // Bring your own key (Alibaba Cloud KMS).
  GetParametersForImport: z.strictObject({
    ...keyRef,
    WrappingAlgorithm: z.enum(
      WRAPPING_ALGORITHM_NAMES,
      `must be one of ${WRAPPING_ALGORITHM_NAMES.join(', ')} (RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1 and SM2PKE for symmetric keys' material; the others for asymmetric keys')`,
    ),
    WrappingKeySpec: z.enum(WRAPPING_KEY_SPECS, `must be one of ${WRAPPING_KEY_SPECS.join(', ')}`),
  }),
  ImportKeyMaterial: z.strictObject({
    ...keyRef,
    EncryptedKeyMaterial: base64Param(16384).min(1, 'is empty'),
    ImportToken: z.string().min(1, 'is empty').max(256, 'is too long'),
    /** Unix seconds when the material expires; 0 (or absent) = never. Only 0 is accepted here. */
    KeyMaterialExpireUnix: z
      .union([z.number(), z.string().regex(/^\d{1,12}$/, 'must be a whole number of Unix seconds')])
      .transform((v) => Number(v))
      .pipe(z.number().int('must be a whole number').min(0, 'must not be negative'))
      .optional(),
  }),
  DeleteKeyMaterial: z.strictObject(keyRef),
  // DeskKMS extension: a version holding only someone else's public key (verify / encrypt only).
  ImportPublicKeyVersion: z.strictObject({
    ...keyRef,
    /** SubjectPublicKeyInfo: PEM "PUBLIC KEY", or base64 of its DER. */
    PublicKey: z.string().min(1, 'is empty').max(16384, 'is too long'),
  }),
  // DeskKMS extensions: public-key formats, CSRs and certificates of key versions.
  GetPublicKeyBundle: z.strictObject(versionRef),
  CreateCertificateSigningRequest: z.strictObject({
    ...versionRef,
    /** RFC 4514 text: "CN=...,O=...,C=..." (CN, O, OU, L, ST, C, emailAddress, serialNumber). */
    Subject: subjectParam,
    /** "DNS:x" | "IP:x" | "email:x" | "URI:x", as a JSON array (or its JSON text). */
    SubjectAlternativeNames: stringListParam.optional(),
    /** Defaults: RSA_PKCS1_SHA_256 for RSA (RSA_PSS_SHA_256 writes RSASSA-PSS), else the spec's. */
    Algorithm: algorithmParam.optional(),
    /** keyUsage bits to request: digitalSignature, nonRepudiation, keyEncipherment, ... */
    KeyUsage: stringListParam.optional(),
    /** serverAuth, clientAuth, codeSigning, emailProtection, timeStamping, OCSPSigning or an OID. */
    ExtendedKeyUsage: stringListParam.optional(),
    BasicConstraints: basicConstraintsParam.optional(),
  }),
  CreateSelfSignedCertificate: z.strictObject({
    ...versionRef,
    Subject: subjectParam,
    ValidityDays: validityDays,
    PathLen: wholeNumber(0, 100).optional(),
    Algorithm: algorithmParam.optional(),
  }),
  IssueCertificate: z.strictObject({
    ...versionRef,
    /** The PKCS#10 request, PEM "CERTIFICATE REQUEST". */
    Csr: z.string().min(1, 'is empty').max(65536, 'is too long'),
    ValidityDays: validityDays,
    Policy: z.enum(['copy-requested-extensions', 'leaf-defaults'], 'must be copy-requested-extensions or leaf-defaults').optional().default('copy-requested-extensions'),
    /** Issue an intermediate CA certificate (CA:TRUE). */
    IsCa: booleanParam.optional().default(false),
    PathLen: wholeNumber(0, 100).optional(),
    Algorithm: algorithmParam.optional(),
  }),
  AttachCertificate: z.strictObject({
    ...versionRef,
    /** PEM certificates, the version's own first. */
    CertificateChain: z.string().min(1, 'is empty').max(262144, 'is too long'),
  }),
  GetCertificates: z.strictObject(versionRef),
  // Symmetric keys (Aliyun_AES_256, Aliyun_SM4): envelope encryption with Alibaba's names. The
  // CiphertextBlob names its key and version (core/contract/ciphertext-blob.ts), so Decrypt, ReEncrypt
  // and ExportDataKey take no KeyId; the EncryptionContext is authenticated, never stored.
  Encrypt: z.strictObject({
    ...keyRef,
    /** base64 of at most 6 KiB. */
    Plaintext: base64Param(16384).refine((v) => base64Length(v) <= SYMMETRIC_PLAINTEXT_MAX, `must be at most ${SYMMETRIC_PLAINTEXT_MAX} bytes (6 KiB); encrypt larger data under a data key (GenerateDataKey)`),
    EncryptionContext: encryptionContextParam.optional(),
    DryRun: dryRunParam,
  }),
  Decrypt: z.strictObject({
    CiphertextBlob: ciphertextBlobParam,
    EncryptionContext: encryptionContextParam.optional(),
    DryRun: dryRunParam,
  }),
  GenerateDataKey: z.strictObject(dataKeyRequest),
  GenerateDataKeyWithoutPlaintext: z.strictObject(dataKeyRequest),
  ReEncrypt: z.strictObject({
    /** A symmetric key's CiphertextBlob, or an AsymmetricEncrypt ciphertext (then SourceKeyId, SourceKeyVersionId and SourceEncryptionAlgorithm). */
    CiphertextBlob: base64Param(16384).min(1, 'is empty'),
    /** The symmetric key to encrypt under (its primary version). */
    DestinationKeyId: keyIdParam,
    DestinationEncryptionContext: encryptionContextParam.optional(),
    SourceEncryptionContext: encryptionContextParam.optional(),
    SourceKeyId: keyIdParam.optional(),
    SourceKeyVersionId: keyVersionIdParam.optional(),
    SourceEncryptionAlgorithm: algorithmParam.optional(),
    DryRun: dryRunParam,
  }),
  GenerateAndExportDataKey: z.strictObject({ ...dataKeyRequest, ...exportTo }),
  ExportDataKey: z.strictObject({
    CiphertextBlob: ciphertextBlobParam,
    EncryptionContext: encryptionContextParam.optional(),
    ...exportTo,
  }),
  UpdateRotationPolicy: z
    .strictObject({
      ...keyRef,
      EnableAutomaticRotation: booleanParam,
      /** Required when EnableAutomaticRotation is true; 7d-365d. */
      RotationInterval: rotationIntervalParam.optional(),
    })
    .superRefine((req, ctx) => {
      if (req.EnableAutomaticRotation && req.RotationInterval === undefined) ctx.addIssue({ code: 'custom', path: ['RotationInterval'], message: 'is required when EnableAutomaticRotation is true (7d-365d, e.g. 365d)' });
    }),
  // DeskKMS administration: the vault's API access keys, its remote KMS connections and its audit
  // log. LOCAL ONLY (LOCAL_ONLY_ACTIONS below): dispatch refuses them to every caller with a policy
  // (API access keys), and no policy can grant them.
  CreateAccessKey: z.strictObject({
    /** {"Actions":[...],"Keys":[...]} as JSON text or an object; parsed by core/contract/policy.ts. Default full access. */
    Policy: z.union([z.string().max(16384, 'is too long'), z.record(z.string(), z.unknown())], 'must be a JSON policy').optional(),
    Description: descriptionParam.optional().default(''),
  }),
  ListAccessKeys: z.strictObject({}),
  EnableAccessKey: z.strictObject({ AccessKeyId: accessKeyIdParam }),
  DisableAccessKey: z.strictObject({ AccessKeyId: accessKeyIdParam }),
  DeleteAccessKey: z.strictObject({ AccessKeyId: accessKeyIdParam }),
  AddRemoteConnection: z.strictObject({
    /** Its keys are remote/<Name>/<KeyId>. */
    Name: connectionNameParam,
    /** host or host:port, e.g. kms.cn-hangzhou.aliyuncs.com */
    Endpoint: z.string().max(260, 'is too long').regex(REMOTE_ENDPOINT, 'must be host or host:port'),
    RegionId: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 -').optional().default('cn-hangzhou'),
    Protocol: z.enum(['https', 'http'], 'must be https or http').optional().default('https'),
    AccessKeyId: z.string().regex(/^[\x21-\x7e]{1,128}$/, 'must be 1-128 printable ASCII characters'),
    /** Stored in the OS keychain only; never in the vault file, the audit log or a message. */
    AccessKeySecret: z.string().min(1, 'is empty').max(1024, 'is too long'),
    /** How requests to it are signed: V3 (ACS3-HMAC-SHA256, ACS3-HMAC-SM3), or HMAC-SHA1 (RPC V1) for a server that takes only V1. */
    SignatureAlgorithm: z.enum(SIGNATURE_ALGORITHMS, `must be one of ${SIGNATURE_ALGORITHMS.join(', ')}`).optional().default(DEFAULT_SIGNATURE_ALGORITHM),
  }),
  ListRemoteConnections: z.strictObject({}),
  RemoveRemoteConnection: z.strictObject({ Name: connectionNameParam }),
  /** The remote KMS's ListKeys, its KeyIds answered as this vault names them (remote/<Connection>/<KeyId>). */
  ListRemoteKeys: z.strictObject({ Connection: connectionNameParam, PageNumber: pageNumber, PageSize: pageSize }),
  ListAuditEntries: z.strictObject({
    /** A KeyId or alias of this vault (resolved), or any KeyId as recorded (remote/..., a deleted key's). */
    KeyId: keyIdParam.optional(),
    Action: z.string().min(1, 'is empty').max(64, 'is too long').optional(),
    /** Inclusive. */
    Since: auditTimeParam.optional(),
    /** Inclusive. */
    Until: auditTimeParam.optional(),
    /** At most this many entries; Truncated says whether more matched. */
    Limit: wholeNumber(1, AUDIT_LIST_MAX).optional(),
    /** Only entries older than this seq: the page cursor of a newest-first listing. */
    BeforeSeq: wholeNumber(1, 999_999_999).optional(),
    NewestFirst: booleanParam.optional().default(false),
    /** Only entries of this kind (core/contract/audit-kinds.ts): change, private-key, read or refused. */
    Kind: z.enum(AUDIT_KINDS, `must be one of ${AUDIT_KINDS.join(', ')}`).optional(),
    /** Only entries of this caller, exactly as recorded (cli, app, ui, api:<AccessKeyId>, ...). */
    Caller: z.string().min(1, 'is empty').max(128, 'is too long').optional(),
    /** Only entries whose RequestId, Action, KeyId, KeyVersionId, Caller or Code holds this text (ASCII case ignored). */
    Search: z.string().min(1, 'is empty').max(128, 'is too long').optional(),
  }),
  VerifyAuditChain: z.strictObject({}),
  AcknowledgeAuditBreak: z.strictObject({}),
  // Custody (local only): backups, and how the data key is protected. Passphrases are base64 of
  // their bytes; audit entries record none of them (dispatch audits the Action, never parameters).
  CreateBackup: z
    .strictObject({
      /** The backup file to write (replaced only with Overwrite). */
      Path: z.string().min(1, 'is empty').max(4096, 'is too long'),
      /** What opens the backup: a recovery passphrase, or M-of-N SLIP-0039 shares answered once. */
      Recovery: z.enum(['passphrase', 'shares'], 'must be passphrase or shares'),
      Passphrase: newPassphraseParam.optional(),
      Shares: wholeNumber(2, 16).optional(),
      Threshold: wholeNumber(2, 16).optional(),
      Overwrite: booleanParam.optional().default(false),
    })
    .superRefine((req, ctx) => {
      const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
      if (req.Recovery === 'passphrase') {
        if (req.Passphrase === undefined) problem('Passphrase', 'is required for Recovery passphrase');
        if (req.Shares !== undefined || req.Threshold !== undefined) problem('Shares', 'and Threshold are for Recovery shares, not passphrase');
      } else {
        if (req.Passphrase !== undefined) problem('Passphrase', 'is for Recovery passphrase, not shares');
        if (req.Shares === undefined) problem('Shares', 'is required for Recovery shares');
        else if (req.Threshold === undefined) problem('Threshold', 'is required for Recovery shares');
        else if (req.Threshold > req.Shares) problem('Threshold', `must be at most Shares (${req.Shares})`);
      }
    }),
  ChangePassphrase: z.strictObject({ Passphrase: passphraseParam, NewPassphrase: newPassphraseParam }),
  ChangeProtection: z.strictObject({
    Protection: z.enum(['keychain', 'passphrase'], 'must be keychain or passphrase'),
    /** The current passphrase, when the vault is protected by one. */
    Passphrase: passphraseParam.optional(),
    /** The passphrase to protect the vault with, when moving to one. */
    NewPassphrase: newPassphraseParam.optional(),
  }),
  /** The current passphrase is required for a passphrase vault (the new data key is wrapped under it). */
  RotateDataKey: z.strictObject({ Passphrase: passphraseParam.optional() }),
  // The agent (local only): which key versions it serves (ssh-agent identities and the local signing
  // endpoint), each with its confirm-on-use setting. Keys are managed here, never through the agent.
  /** Adds a signing key version to the agent, or changes its Confirm setting when it is there already. */
  AddAgentIdentity: z.strictObject({ ...versionRef, Confirm: booleanParam.optional().default(false) }),
  /** Takes one version (KeyVersionId given) or every version of the key out of the agent. */
  RemoveAgentIdentity: z.strictObject({ KeyId: keyIdParam, KeyVersionId: keyVersionIdParam.optional() }),
  ListAgentIdentities: z.strictObject({}),
} as const;

export type ActionName = keyof typeof ACTION_SCHEMAS;
/** A validated request, as handlers receive it (defaults filled in, JSON text parsed). */
export type ActionRequest<A extends ActionName> = z.output<(typeof ACTION_SCHEMAS)[A]>;
/** What a caller may send for Action A (before validation: optional fields, strings for numbers). */
export type ActionParams<A extends ActionName> = z.input<(typeof ACTION_SCHEMAS)[A]>;
export const ACTION_NAMES = Object.keys(ACTION_SCHEMAS) as ActionName[];

export function isActionName(value: unknown): value is ActionName {
  return typeof value === 'string' && Object.hasOwn(ACTION_SCHEMAS, value);
}

/**
 * DeskKMS administration Actions, for the vault's own user only (CLI, batch, the app): dispatch
 * refuses them with Forbidden.NoPermission to a caller with a policy (an API access key), and a
 * policy naming one is refused (core/contract/policy.ts); "*" never grants them.
 */
export const LOCAL_ONLY_ACTIONS: ReadonlySet<ActionName> = new Set<ActionName>([
  'CreateAccessKey',
  'ListAccessKeys',
  'EnableAccessKey',
  'DisableAccessKey',
  'DeleteAccessKey',
  'AddRemoteConnection',
  'ListRemoteConnections',
  'RemoveRemoteConnection',
  'ListRemoteKeys',
  'ListAuditEntries',
  'VerifyAuditChain',
  'AcknowledgeAuditBreak',
  'CreateBackup',
  'ChangePassphrase',
  'ChangeProtection',
  'RotateDataKey',
  'AddAgentIdentity',
  'RemoveAgentIdentity',
  'ListAgentIdentities',
]);

export function isLocalOnlyAction(action: string): boolean {
  return (LOCAL_ONLY_ACTIONS as ReadonlySet<string>).has(action);
}

/** Validates `params` for `action`; the first problem becomes MissingParameter or InvalidParameter naming the field. */
export function parseRequest<A extends ActionName>(action: A, params: unknown): ActionRequest<A> {
  return parseParams(ACTION_SCHEMAS[action], action, params) as ActionRequest<A>;
}
