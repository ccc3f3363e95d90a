// The single table of key specs, usages and algorithms (DESIGN.md section 3).
// Validation, the CLI and the UI all read from here; nothing else lists specs or algorithms.
// Runtime-neutral: no node:* imports, so the renderer may use it.

export const KEY_SPECS = ['RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_P256', 'EC_P256K', 'EC_SM2', 'Aliyun_AES_256', 'Aliyun_SM4'] as const;
export type KeySpec = (typeof KEY_SPECS)[number];

export const KEY_USAGES = ['SIGN/VERIFY', 'ENCRYPT/DECRYPT'] as const;
export type KeyUsage = (typeof KEY_USAGES)[number];

export const SIGNING_ALGORITHMS = ['RSA_PSS_SHA_256', 'RSA_PKCS1_SHA_256', 'ECDSA_SHA_256', 'SM2DSA'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

export const ENCRYPTION_ALGORITHMS = ['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1', 'SM2PKE'] as const;
export type EncryptionAlgorithm = (typeof ENCRYPTION_ALGORITHMS)[number];

export type Algorithm = SigningAlgorithm | EncryptionAlgorithm;

export type KeyFamily = 'RSA' | 'EC' | 'SM2' | 'AES' | 'SM4';

/** The authenticated cipher of a symmetric key (core/crypto/symmetric.ts): 12-byte IV, 16-byte tag. */
export type SymmetricCipher = 'AES-256-GCM' | 'SM4-GCM';
/** Symmetric specs: Encrypt, Decrypt and the data-key Actions; no public key, a primary version. */
export const SYMMETRIC_KEY_SPECS = ['Aliyun_AES_256', 'Aliyun_SM4'] as const;
export type SymmetricKeySpec = (typeof SYMMETRIC_KEY_SPECS)[number];

/** The hash a signing algorithm's Digest is made with; every one of them is 32 bytes long. */
export type DigestHash = 'SHA-256' | 'SM3';
export const DIGEST_LENGTH = 32;

export interface KeySpecInfo {
  readonly spec: KeySpec;
  readonly family: KeyFamily;
  /** RSA modulus size in bits, the curve's field size, or a symmetric key's size. */
  readonly bits: number;
  readonly curve?: 'P-256' | 'secp256k1' | 'SM2';
  readonly algorithms: Readonly<Record<KeyUsage, readonly Algorithm[]>>;
  /** Alibaba KMS's CreateKey default: ENCRYPT/DECRYPT where the spec allows it. */
  readonly defaultUsage: KeyUsage;
  /** Symmetric specs only: the cipher and its raw key length. */
  readonly symmetric?: { readonly cipher: SymmetricCipher; readonly keyBytes: 32 | 16 };
}

const RSA_ALGORITHMS = {
  'SIGN/VERIFY': ['RSA_PSS_SHA_256', 'RSA_PKCS1_SHA_256'],
  'ENCRYPT/DECRYPT': ['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1'],
} as const;

export const KEY_SPEC_TABLE: Readonly<Record<KeySpec, KeySpecInfo>> = {
  RSA_2048: { spec: 'RSA_2048', family: 'RSA', bits: 2048, algorithms: RSA_ALGORITHMS, defaultUsage: 'ENCRYPT/DECRYPT' },
  RSA_3072: { spec: 'RSA_3072', family: 'RSA', bits: 3072, algorithms: RSA_ALGORITHMS, defaultUsage: 'ENCRYPT/DECRYPT' },
  RSA_4096: { spec: 'RSA_4096', family: 'RSA', bits: 4096, algorithms: RSA_ALGORITHMS, defaultUsage: 'ENCRYPT/DECRYPT' },
  EC_P256: {
    spec: 'EC_P256',
    family: 'EC',
    bits: 256,
    curve: 'P-256',
    algorithms: { 'SIGN/VERIFY': ['ECDSA_SHA_256'], 'ENCRYPT/DECRYPT': [] },
    defaultUsage: 'SIGN/VERIFY',
  },
  EC_P256K: {
    spec: 'EC_P256K',
    family: 'EC',
    bits: 256,
    curve: 'secp256k1',
    algorithms: { 'SIGN/VERIFY': ['ECDSA_SHA_256'], 'ENCRYPT/DECRYPT': [] },
    defaultUsage: 'SIGN/VERIFY',
  },
  EC_SM2: {
    spec: 'EC_SM2',
    family: 'SM2',
    bits: 256,
    curve: 'SM2',
    algorithms: { 'SIGN/VERIFY': ['SM2DSA'], 'ENCRYPT/DECRYPT': ['SM2PKE'] },
    defaultUsage: 'ENCRYPT/DECRYPT',
  },
  // Symmetric keys take no Algorithm (Encrypt and Decrypt name none): their cipher is the spec's.
  Aliyun_AES_256: {
    spec: 'Aliyun_AES_256',
    family: 'AES',
    bits: 256,
    algorithms: { 'SIGN/VERIFY': [], 'ENCRYPT/DECRYPT': [] },
    defaultUsage: 'ENCRYPT/DECRYPT',
    symmetric: { cipher: 'AES-256-GCM', keyBytes: 32 },
  },
  Aliyun_SM4: {
    spec: 'Aliyun_SM4',
    family: 'SM4',
    bits: 128,
    algorithms: { 'SIGN/VERIFY': [], 'ENCRYPT/DECRYPT': [] },
    defaultUsage: 'ENCRYPT/DECRYPT',
    symmetric: { cipher: 'SM4-GCM', keyBytes: 16 },
  },
};

export function isSymmetricSpec(spec: KeySpec): spec is SymmetricKeySpec {
  return KEY_SPEC_TABLE[spec].symmetric !== undefined;
}

/** The specs of key pairs (a public key, signatures, AsymmetricEncrypt): every spec but the symmetric ones. */
export type AsymmetricKeySpec = Exclude<KeySpec, SymmetricKeySpec>;
export const ASYMMETRIC_KEY_SPECS: readonly AsymmetricKeySpec[] = KEY_SPECS.filter((spec): spec is AsymmetricKeySpec => !isSymmetricSpec(spec));

export interface AlgorithmInfo {
  readonly name: Algorithm;
  readonly usage: KeyUsage;
  readonly description: string;
  /** Signing: the hash behind Digest. Encryption: the OAEP hash (also the MGF1 hash), or SM3 for SM2PKE. */
  readonly hash: 'SHA-256' | 'SHA-1' | 'SM3';
}

export const ALGORITHM_TABLE: Readonly<Record<Algorithm, AlgorithmInfo>> = {
  RSA_PSS_SHA_256: {
    name: 'RSA_PSS_SHA_256',
    usage: 'SIGN/VERIFY',
    hash: 'SHA-256',
    description: 'RSASSA-PSS, SHA-256, MGF1 with SHA-256, salt length 32',
  },
  RSA_PKCS1_SHA_256: {
    name: 'RSA_PKCS1_SHA_256',
    usage: 'SIGN/VERIFY',
    hash: 'SHA-256',
    description: 'RSASSA-PKCS1-v1_5 with SHA-256',
  },
  ECDSA_SHA_256: { name: 'ECDSA_SHA_256', usage: 'SIGN/VERIFY', hash: 'SHA-256', description: 'ECDSA with SHA-256' },
  SM2DSA: {
    name: 'SM2DSA',
    usage: 'SIGN/VERIFY',
    hash: 'SM3',
    description: 'SM2 signature over SM3(Z_A || M), distinguishing ID 1234567812345678',
  },
  RSAES_OAEP_SHA_256: {
    name: 'RSAES_OAEP_SHA_256',
    usage: 'ENCRYPT/DECRYPT',
    hash: 'SHA-256',
    description: 'RSAES-OAEP, SHA-256, MGF1 with SHA-256',
  },
  RSAES_OAEP_SHA_1: {
    name: 'RSAES_OAEP_SHA_1',
    usage: 'ENCRYPT/DECRYPT',
    hash: 'SHA-1',
    description: 'RSAES-OAEP, SHA-1, MGF1 with SHA-1',
  },
  SM2PKE: { name: 'SM2PKE', usage: 'ENCRYPT/DECRYPT', hash: 'SM3', description: 'SM2 public key encryption (GM/T 0009 ASN.1)' },
};

/** SM2's distinguishing ID, fixed by the KMS contract (OpenSSL's default is empty). */
export const SM2_DEFAULT_ID = '1234567812345678';

/** Alibaba KMS's SM2PKE limit: a 6144-byte ciphertext less C1 (65) and C3 (32). */
export const SM2PKE_MAX_PLAINTEXT = 6047;

const HASH_LENGTH = { 'SHA-256': 32, 'SHA-1': 20, SM3: 32 } as const;

export function isKeySpec(value: unknown): value is KeySpec {
  return typeof value === 'string' && (KEY_SPECS as readonly string[]).includes(value);
}

export function isAlgorithm(value: unknown): value is Algorithm {
  return typeof value === 'string' && Object.hasOwn(ALGORITHM_TABLE, value);
}

export function isSigningAlgorithm(value: unknown): value is SigningAlgorithm {
  return typeof value === 'string' && (SIGNING_ALGORITHMS as readonly string[]).includes(value);
}

export function isEncryptionAlgorithm(value: unknown): value is EncryptionAlgorithm {
  return typeof value === 'string' && (ENCRYPTION_ALGORITHMS as readonly string[]).includes(value);
}

/** The usages a spec supports (EC_P256 and EC_P256K sign only; symmetric keys encrypt only). */
export function usagesOf(spec: KeySpec): KeyUsage[] {
  const info = KEY_SPEC_TABLE[spec];
  if (info.symmetric) return ['ENCRYPT/DECRYPT'];
  return KEY_USAGES.filter((usage) => info.algorithms[usage].length > 0);
}

/** Every spec for which `algorithm` is valid. */
export function specsFor(algorithm: Algorithm): KeySpec[] {
  const usage = ALGORITHM_TABLE[algorithm].usage;
  return KEY_SPECS.filter((spec) => KEY_SPEC_TABLE[spec].algorithms[usage].includes(algorithm));
}

/**
 * Largest plaintext `algorithm` accepts under `spec`, in bytes.
 * RSAES-OAEP: k - 2*hLen - 2 (RFC 8017 section 7.1.1); SM2PKE: the KMS limit.
 */
export function maxPlaintextBytes(spec: KeySpec, algorithm: EncryptionAlgorithm): number {
  if (algorithm === 'SM2PKE') return SM2PKE_MAX_PLAINTEXT;
  const hLen = HASH_LENGTH[ALGORITHM_TABLE[algorithm].hash];
  return KEY_SPEC_TABLE[spec].bits / 8 - 2 * hLen - 2;
}
