// The one table of the Alibaba Cloud KMS Actions this vault serves (API version 2016-01-20): every
// request parameter Alibaba documents for each, and what this vault does with it. Sources: the API
// reference page of each Action (`reference`) and the request models of Alibaba's generated SDK
// (aliyun/alibabacloud-typescript-sdk, kms-20160120/src/models/<Action>Request.ts), which list
// parameters the pages do not always show (DryRun, Recipient, KeyStorageMechanism, Policy).
//
// The request schemas (core/contract/actions.ts) implement the treatments; test/unit/api-parameters.test.ts
// proves that each schema takes exactly the parameters listed here (no "is not a parameter of" for
// a documented one), that each example is accepted and each refusal names its parameter, that every
// field of the official SDK's request models (@alicloud/kms20160120 1.2.0) is listed, and that the
// README's table is apiParametersMarkdown(). Runtime-neutral, like the rest of core/contract.
import type { ActionName } from './actions.ts';

/**
 * - implemented: does what Alibaba documents.
 * - limited: does what Alibaba documents for the values a local vault can hold; the others are
 *   refused naming the parameter (the note says which).
 * - no-effect: accepted and validated; it cannot apply here (the note says why), so it changes nothing.
 * - refused: accepted as a parameter; any non-empty value is refused naming it (the vault cannot honour it).
 * - extension: DeskKMS's own parameter, not Alibaba's.
 */
export type ParameterTreatment = 'implemented' | 'limited' | 'no-effect' | 'refused' | 'extension';

export interface ApiParameter {
  readonly treatment: ParameterTreatment;
  /** What this vault does with it (shown in the README). */
  readonly note?: string;
  /** A wire value (as a query or form parameter) the schema accepts; '' for a refused parameter (empty means absent). */
  readonly accepts: string;
  /** A wire value refused naming the parameter (limited, refused). */
  readonly refuses?: string;
}

export interface ApiAction {
  /** Alibaba's API reference page of the Action. */
  readonly reference: string;
  readonly parameters: Readonly<Record<string, ApiParameter>>;
}

const REFERENCE = 'https://www.alibabacloud.com/help/en/kms/key-management-service/developer-reference/api-kms-2016-01-20-';
const ref = (action: string) => `${REFERENCE}${action.toLowerCase()}`;

// Wire examples shared by many rows.
const KEY_ID = '9f2d3c4b-5a6e-4f70-8a91-b2c3d4e5f607';
const VERSION_ID = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
/** base64 of the 32 bytes 0x00..0x1f. */
const DIGEST = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
/** A key's UUID, `alias/NAME` or an ARN (as Alibaba's KeyId). */
const keyId: ApiParameter = { treatment: 'implemented', accepts: KEY_ID };
const keyVersionId: ApiParameter = { treatment: 'implemented', accepts: VERSION_ID, refuses: 'latest' };
const pageNumber: ApiParameter = { treatment: 'implemented', accepts: '2', refuses: '0' };
const pageSize: ApiParameter = {
  treatment: 'implemented',
  note: '1-100; 0, which some reference pages allow, is refused',
  accepts: '100',
  refuses: '0',
};
const dryRun: ApiParameter = {
  treatment: 'implemented',
  note: '`true`: every check of the call, then `DryRunOperationError` (412) instead of acting; a failing check answers the call\'s own code',
  accepts: 'true',
  refuses: 'yes',
};
const encryptionContext: ApiParameter = {
  treatment: 'implemented',
  note: 'a JSON object of string values, authenticated (canonical JSON), never stored; the 1.x SDK\'s flattened EncryptionContext.k=v too',
  accepts: '{"purpose":"backup"}',
  refuses: '{"n":1}',
};
const ciphertextBlob: ApiParameter = { treatment: 'implemented', note: 'base64; a blob of this vault\'s symmetric keys (it names its key and version)', accepts: 'REtNUwEB', refuses: 'not base64!' };
const dataKeyParameters = {
  KeyId: { treatment: 'implemented', accepts: KEY_ID },
  KeySpec: { treatment: 'implemented', note: 'AES_256 (default) or AES_128', accepts: 'AES_128', refuses: 'AES_512' },
  NumberOfBytes: { treatment: 'implemented', note: '1-1024; wins over KeySpec', accepts: '32', refuses: '1025' },
  EncryptionContext: { treatment: 'implemented', accepts: '{"purpose":"backup"}', refuses: '[]' },
  DryRun: dryRun,
} as const satisfies Record<string, ApiParameter>;
const exportParameters = {
  PublicKeyBlob: { treatment: 'implemented', note: 'base64 of a DER SubjectPublicKeyInfo', accepts: 'MIIBIjAN', refuses: 'not base64!' },
  WrappingKeySpec: { treatment: 'implemented', note: 'RSA_2048, RSA_3072, RSA_4096, EC_SM2', accepts: 'RSA_2048', refuses: 'EC_P256' },
  WrappingAlgorithm: { treatment: 'implemented', note: 'RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1, SM2PKE', accepts: 'RSAES_OAEP_SHA_256', refuses: 'RSAES_PKCS1_V1_5' },
  DryRun: dryRun,
} as const satisfies Record<string, ApiParameter>;
const aliasName: ApiParameter = { treatment: 'implemented', accepts: 'alias/release', refuses: 'release' };
const NOT_HERE_SECRETS = 'no secrets in this vault: tag a key';
const NOT_HERE_CERTS = 'no KMS certificates in this vault: tag a key';
/** The resources other than keys that Alibaba's TagResource and UntagResource also take. */
const OTHER_TAGGED_RESOURCES = {
  SecretName: { treatment: 'refused', note: NOT_HERE_SECRETS, accepts: '', refuses: 'MyDbCredentials' },
  CertificateId: { treatment: 'refused', note: NOT_HERE_CERTS, accepts: '', refuses: '770dbe42-e146-43d1-a55a-1355db86c0de' },
} as const;

/** Alibaba's KMS Actions this vault serves, each with every documented request parameter. */
export const API_PARAMETERS = {
  CreateKey: {
    reference: ref('CreateKey'),
    parameters: {
      KeySpec: {
        treatment: 'limited',
        note: 'RSA_2048, RSA_3072, RSA_4096, EC_P256, EC_P256K, EC_SM2, Aliyun_AES_256, Aliyun_SM4; required here (Alibaba\'s default is Aliyun_AES_256); Aliyun_AES_128 and Aliyun_AES_192 are refused',
        accepts: 'Aliyun_AES_256',
        refuses: 'Aliyun_AES_128',
      },
      KeyUsage: {
        treatment: 'implemented',
        note: 'omitted: ENCRYPT/DECRYPT for RSA and EC_SM2, SIGN/VERIFY for EC_P256 and EC_P256K (the current reference says SIGN/VERIFY whenever the key can sign; send KeyUsage for RSA and EC_SM2 keys to be sure of either)',
        accepts: 'SIGN/VERIFY',
        refuses: 'SIGN',
      },
      Origin: { treatment: 'implemented', note: 'Aliyun_KMS, EXTERNAL; also DeskKMS\'s EXTERNAL_PUBLIC_KEY', accepts: 'Aliyun_KMS', refuses: 'AWS_KMS' },
      ProtectionLevel: { treatment: 'limited', note: 'SOFTWARE; HSM refused: no HSM here', accepts: 'SOFTWARE', refuses: 'HSM' },
      Description: { treatment: 'implemented', accepts: 'release key', refuses: 'x'.repeat(8193) },
      EnableAutomaticRotation: {
        treatment: 'implemented',
        note: 'true for symmetric keys of Origin Aliyun_KMS (with RotationInterval); refused for asymmetric and imported keys (use CreateKeyVersion)',
        accepts: 'false',
        refuses: 'yes',
      },
      RotationInterval: {
        treatment: 'implemented',
        note: '7d-365d in d, h, m or s; the vault makes a new primary version when it is due (at every open, and each minute in long-running hosts)',
        accepts: '365d',
        refuses: '1d',
      },
      Tags: { treatment: 'implemented', accepts: '[{"TagKey":"team","TagValue":"release"}]', refuses: '[{"TagKey":"acs:x","TagValue":"y"}]' },
      DKMSInstanceId: { treatment: 'refused', note: 'this vault has no KMS instance', accepts: '', refuses: 'kst-bjj62d8f5e0sgtx8h****' },
      KeyStorageMechanism: {
        treatment: 'no-effect',
        note: 'Alibaba applies it only with the DKMSInstanceId of a hardware instance',
        accepts: 'HsmInternal',
        refuses: 'Disk',
      },
      Policy: {
        treatment: 'refused',
        note: 'no RAM principals here; limit a caller with its access key\'s policy',
        accepts: '',
        refuses: '{"Version":"1","Statement":[]}',
      },
      Exportable: { treatment: 'extension', note: 'versions may be exported, encrypted, by ExportKeyVersion', accepts: 'false', refuses: 'maybe' },
    },
  },
  DescribeKey: { reference: ref('DescribeKey'), parameters: { KeyId: keyId } },
  ListKeys: {
    reference: ref('ListKeys'),
    parameters: {
      PageNumber: pageNumber,
      PageSize: pageSize,
      Filters: {
        treatment: 'implemented',
        note: 'Keys KeyState, KeySpec, KeyUsage, ProtectionLevel, CreatorType, Creator, KeyId (or `keyId`), AliasName, TagKey, TagValue; Values ORed (pairs of one Key pooled), Keys ANDed; at most 10 pairs of 0-10 Values; a DKMSInstanceId value is refused: no KMS instance here',
        accepts: '[{"Key":"KeyState","Values":["Enabled","Disabled"]},{"Key":"KeySpec","Values":["EC_P256"]}]',
        refuses: '[{"Key":"DKMSInstanceId","Values":["kst-bjj62d8f5e0sgtx8h****"]}]',
      },
    },
  },
  UpdateKeyDescription: { reference: ref('UpdateKeyDescription'), parameters: { KeyId: keyId, Description: { treatment: 'implemented', accepts: 'rotated yearly' } } },
  CreateKeyVersion: { reference: ref('CreateKeyVersion'), parameters: { KeyId: keyId } },
  DescribeKeyVersion: { reference: ref('DescribeKeyVersion'), parameters: { KeyId: keyId, KeyVersionId: keyVersionId } },
  ListKeyVersions: { reference: ref('ListKeyVersions'), parameters: { KeyId: keyId, PageNumber: pageNumber, PageSize: pageSize } },
  GetPublicKey: { reference: ref('GetPublicKey'), parameters: { KeyId: keyId, KeyVersionId: keyVersionId, DryRun: dryRun } },
  AsymmetricSign: {
    reference: ref('AsymmetricSign'),
    parameters: {
      KeyId: keyId,
      KeyVersionId: keyVersionId,
      Algorithm: { treatment: 'implemented', accepts: 'ECDSA_SHA_256', refuses: 'ECDSA_SHA_384' },
      Digest: { treatment: 'implemented', accepts: DIGEST, refuses: 'not base64!' },
      DryRun: dryRun,
    },
  },
  AsymmetricVerify: {
    reference: ref('AsymmetricVerify'),
    parameters: {
      KeyId: keyId,
      KeyVersionId: keyVersionId,
      Algorithm: { treatment: 'implemented', accepts: 'SM2DSA', refuses: 'SM2' },
      Digest: { treatment: 'implemented', accepts: DIGEST, refuses: 'not base64!' },
      Value: { treatment: 'implemented', note: 'the signature; refusals name it `Value`', accepts: 'MAYCAQECAQE=', refuses: 'not base64!' },
      DryRun: dryRun,
    },
  },
  AsymmetricEncrypt: {
    reference: ref('AsymmetricEncrypt'),
    parameters: {
      KeyId: keyId,
      KeyVersionId: keyVersionId,
      Algorithm: { treatment: 'implemented', accepts: 'RSAES_OAEP_SHA_256', refuses: 'RSAES_PKCS1_V1_5' },
      Plaintext: { treatment: 'implemented', accepts: 'ZGF0YSBrZXk=', refuses: 'not base64!' },
      DryRun: dryRun,
    },
  },
  AsymmetricDecrypt: {
    reference: ref('AsymmetricDecrypt'),
    parameters: {
      KeyId: keyId,
      KeyVersionId: keyVersionId,
      Algorithm: { treatment: 'implemented', accepts: 'SM2PKE', refuses: 'SM4' },
      CiphertextBlob: { treatment: 'implemented', accepts: 'ZGF0YSBrZXk=', refuses: 'not base64!' },
      DryRun: { ...dryRun, note: `${dryRun.note}, CiphertextBlob's shape included (RSA: the modulus length; SM2: the DER SEQUENCE, C1 on the curve); only the decryption itself is not tried` },
      Recipient: {
        treatment: 'refused',
        note: 'no enclave attestation can be verified here',
        accepts: '',
        refuses: '{"AttestationDocument":"YQ==","KeyEncryptionAlgorithm":"RSAES_OAEP_SHA_256"}',
      },
    },
  },
  CreateAlias: { reference: ref('CreateAlias'), parameters: { KeyId: keyId, AliasName: aliasName } },
  UpdateAlias: { reference: ref('UpdateAlias'), parameters: { KeyId: keyId, AliasName: aliasName } },
  DeleteAlias: { reference: ref('DeleteAlias'), parameters: { AliasName: aliasName } },
  ListAliases: { reference: ref('ListAliases'), parameters: { PageNumber: pageNumber, PageSize: pageSize } },
  ListAliasesByKeyId: { reference: ref('ListAliasesByKeyId'), parameters: { KeyId: keyId, PageNumber: pageNumber, PageSize: pageSize } },
  EnableKey: { reference: ref('EnableKey'), parameters: { KeyId: keyId } },
  DisableKey: { reference: ref('DisableKey'), parameters: { KeyId: keyId } },
  ScheduleKeyDeletion: {
    reference: ref('ScheduleKeyDeletion'),
    parameters: { KeyId: keyId, PendingWindowInDays: { treatment: 'implemented', note: '7-366', accepts: '7', refuses: '6' } },
  },
  CancelKeyDeletion: { reference: ref('CancelKeyDeletion'), parameters: { KeyId: keyId } },
  TagResource: {
    reference: ref('TagResource'),
    parameters: {
      KeyId: keyId,
      Tags: { treatment: 'implemented', accepts: '[{"TagKey":"team","TagValue":"release"}]', refuses: '[{"TagKey":"","TagValue":"x"}]' },
      ...OTHER_TAGGED_RESOURCES,
    },
  },
  UntagResource: {
    reference: ref('UntagResource'),
    parameters: {
      KeyId: keyId,
      TagKeys: { treatment: 'implemented', accepts: '["team"]', refuses: '[]' },
      ...OTHER_TAGGED_RESOURCES,
    },
  },
  ListResourceTags: { reference: ref('ListResourceTags'), parameters: { KeyId: keyId } },
  GetParametersForImport: {
    reference: ref('GetParametersForImport'),
    parameters: {
      KeyId: keyId,
      WrappingAlgorithm: {
        treatment: 'limited',
        note: 'RSAES_OAEP_SHA_256_AES_256_ECB_PKCS7_PAD, SM2PKE_SM4_ECB (asymmetric key material); RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1, SM2PKE (symmetric key material); RSAES_PKCS1_V1_5 refused (PKCS#1 v1.5 encryption invites padding-oracle attacks)',
        accepts: 'RSAES_OAEP_SHA_256_AES_256_ECB_PKCS7_PAD',
        refuses: 'RSAES_PKCS1_V1_5',
      },
      WrappingKeySpec: { treatment: 'implemented', note: 'RSA_2048, EC_SM2', accepts: 'RSA_2048', refuses: 'RSA_4096' },
    },
  },
  ImportKeyMaterial: {
    reference: ref('ImportKeyMaterial'),
    parameters: {
      KeyId: keyId,
      EncryptedKeyMaterial: { treatment: 'implemented', accepts: 'ZGF0YSBrZXk=', refuses: 'not base64!' },
      ImportToken: { treatment: 'implemented', accepts: 'token' },
      KeyMaterialExpireUnix: {
        treatment: 'limited',
        note: '0 or absent: never expires; a time is refused by the call, since an offline vault cannot promise to destroy material on time',
        accepts: '0',
        refuses: '-1',
      },
    },
  },
  DeleteKeyMaterial: { reference: ref('DeleteKeyMaterial'), parameters: { KeyId: keyId } },
  // Symmetric keys (issue 18).
  Encrypt: {
    reference: ref('Encrypt'),
    parameters: {
      KeyId: keyId,
      Plaintext: { treatment: 'implemented', note: 'base64 of at most 6144 bytes', accepts: 'aGVsbG8=', refuses: 'not base64!' },
      EncryptionContext: encryptionContext,
      DryRun: dryRun,
    },
  },
  Decrypt: {
    reference: ref('Decrypt'),
    parameters: { CiphertextBlob: ciphertextBlob, EncryptionContext: encryptionContext, DryRun: dryRun },
  },
  GenerateDataKey: { reference: ref('GenerateDataKey'), parameters: dataKeyParameters },
  GenerateDataKeyWithoutPlaintext: { reference: ref('GenerateDataKeyWithoutPlaintext'), parameters: dataKeyParameters },
  ReEncrypt: {
    reference: ref('ReEncrypt'),
    parameters: {
      CiphertextBlob: ciphertextBlob,
      DestinationKeyId: { treatment: 'implemented', note: 'a symmetric key (its primary version encrypts)', accepts: KEY_ID },
      DestinationEncryptionContext: encryptionContext,
      SourceEncryptionContext: encryptionContext,
      SourceKeyId: { treatment: 'implemented', note: 'with SourceKeyVersionId and SourceEncryptionAlgorithm: the source is an AsymmetricEncrypt ciphertext', accepts: KEY_ID },
      SourceKeyVersionId: { treatment: 'implemented', accepts: '2f7cf6b5-4c1e-4b0a-9d3f-1c2b3a4d5e6f', refuses: 'v1' },
      SourceEncryptionAlgorithm: { treatment: 'implemented', note: 'RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1, SM2PKE', accepts: 'RSAES_OAEP_SHA_256', refuses: 'RSAES_PKCS1_V1_5' },
      DryRun: dryRun,
    },
  },
  GenerateAndExportDataKey: { reference: ref('GenerateAndExportDataKey'), parameters: { ...dataKeyParameters, ...exportParameters } },
  ExportDataKey: {
    reference: ref('ExportDataKey'),
    parameters: { CiphertextBlob: ciphertextBlob, EncryptionContext: encryptionContext, ...exportParameters },
  },
  UpdateRotationPolicy: {
    reference: ref('UpdateRotationPolicy'),
    parameters: {
      KeyId: keyId,
      EnableAutomaticRotation: { treatment: 'implemented', note: 'symmetric keys made here (Origin Aliyun_KMS) only', accepts: 'true', refuses: 'yes' },
      RotationInterval: { treatment: 'implemented', note: '7d-365d in d, h, m or s; required with EnableAutomaticRotation true', accepts: '30d', refuses: '6d' },
    },
  },
} as const satisfies Partial<Record<ActionName, ApiAction>>;

export type AlibabaActionName = keyof typeof API_PARAMETERS;
export const ALIBABA_ACTIONS = Object.keys(API_PARAMETERS) as AlibabaActionName[];

const TREATMENT_HEADINGS: readonly [ParameterTreatment[], string][] = [
  [['implemented', 'limited'], 'Implemented'],
  [['no-effect'], 'Accepted, no effect here'],
  [['refused'], 'Refused when given'],
  [['extension'], 'DeskKMS extension'],
];

function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

/** The README's table: one row per Action, its parameters by treatment, each with its note. */
export function apiParametersMarkdown(): string {
  const lines = [
    `| Action | ${TREATMENT_HEADINGS.map(([, heading]) => heading).join(' | ')} |`,
    `|---|${TREATMENT_HEADINGS.map(() => '---').join('|')}|`,
  ];
  for (const action of ALIBABA_ACTIONS) {
    const { reference, parameters } = API_PARAMETERS[action] as ApiAction;
    const columns = TREATMENT_HEADINGS.map(([treatments]) =>
      Object.entries(parameters)
        .filter(([, p]) => treatments.includes(p.treatment))
        .map(([name, p]) => `\`${name}\`${p.note ? `: ${p.note}` : ''}`)
        .join('<br>'),
    );
    lines.push(`| [${action}](${reference}) | ${columns.map(cell).join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}
