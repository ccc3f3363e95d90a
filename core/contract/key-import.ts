// Bring-your-own-key (Alibaba Cloud KMS's import of asymmetric key material) and public-key-only
// versions: the wrapping choices and limits, shared by the handlers, the key worker and the
// renderer. Runtime-neutral.
//
// Alibaba's construction for asymmetric key material (its "import key material into an
// asymmetric key" guide and the sample code built on it): the caller makes an ephemeral symmetric
// key, encrypts it under the wrapping public key from GetParametersForImport, encrypts the
// target private key under the ephemeral key, and sends base64(wrapped ephemeral key || encrypted
// private key) as EncryptedKeyMaterial.
//   RSAES_OAEP_SHA_256_AES_256_ECB_PKCS7_PAD (WrappingKeySpec RSA_2048): a 32-byte AES-256 key
//     under RSAES-OAEP (SHA-256, MGF1-SHA-256): 256 bytes; then AES-256-ECB with PKCS#7 padding.
//   SM2PKE_SM4_ECB (WrappingKeySpec EC_SM2): a 16-byte SM4 key under SM2PKE, written raw as
//     C1 || C3 || C2 (0x04 || x || y, SM3 hash, ciphertext): 113 bytes; then SM4-ECB, no padding.
// The private key is PKCS#8 PrivateKeyInfo DER, except EC_SM2, whose material is the 32-byte
// private scalar D (PKCS#8 is accepted for EC_SM2 too).
import type { KeySpec } from './specs.ts';

export const WRAPPING_ALGORITHMS = {
  RSAES_OAEP_SHA_256_AES_256_ECB_PKCS7_PAD: { wrappingKeySpec: 'RSA_2048', wrappedKeyBytes: 256, ephemeralKeyBytes: 32, block: 16 },
  SM2PKE_SM4_ECB: { wrappingKeySpec: 'EC_SM2', wrappedKeyBytes: 113, ephemeralKeyBytes: 16, block: 16 },
} as const satisfies Record<string, { wrappingKeySpec: KeySpec; wrappedKeyBytes: number; ephemeralKeyBytes: number; block: number }>;

export type AsymmetricWrappingAlgorithm = keyof typeof WRAPPING_ALGORITHMS;

/**
 * Alibaba's algorithms for symmetric key material (its "import key material into a symmetric key"
 * guide): the 32-byte AES-256 or 16-byte SM4 key itself, encrypted directly under the wrapping public
 * key, RSAES-OAEP with SHA-256 or SHA-1 (MGF1 the same hash) to RSA_2048, or SM2PKE to EC_SM2 (raw
 * C1 || C3 || C2 as for asymmetric material, or GM/T 0009 DER).
 */
export const SYMMETRIC_WRAPPING_ALGORITHMS = {
  RSAES_OAEP_SHA_256: { wrappingKeySpec: 'RSA_2048' },
  RSAES_OAEP_SHA_1: { wrappingKeySpec: 'RSA_2048' },
  SM2PKE: { wrappingKeySpec: 'EC_SM2' },
} as const satisfies Record<string, { wrappingKeySpec: KeySpec }>;
export type SymmetricWrappingAlgorithm = keyof typeof SYMMETRIC_WRAPPING_ALGORITHMS;

export type WrappingAlgorithm = AsymmetricWrappingAlgorithm | SymmetricWrappingAlgorithm;
export const WRAPPING_ALGORITHM_NAMES = [...Object.keys(WRAPPING_ALGORITHMS), ...Object.keys(SYMMETRIC_WRAPPING_ALGORITHMS)] as WrappingAlgorithm[];
export type WrappingKeySpec = (typeof WRAPPING_ALGORITHMS)[AsymmetricWrappingAlgorithm]['wrappingKeySpec'];

export function isSymmetricWrapping(algorithm: WrappingAlgorithm): algorithm is SymmetricWrappingAlgorithm {
  return Object.hasOwn(SYMMETRIC_WRAPPING_ALGORITHMS, algorithm);
}

/** The WrappingKeySpec an algorithm wraps with. */
export function wrappingKeySpecOf(algorithm: WrappingAlgorithm): WrappingKeySpec {
  return isSymmetricWrapping(algorithm) ? SYMMETRIC_WRAPPING_ALGORITHMS[algorithm].wrappingKeySpec : WRAPPING_ALGORITHMS[algorithm].wrappingKeySpec;
}
export const WRAPPING_KEY_SPECS: readonly WrappingKeySpec[] = ['RSA_2048', 'EC_SM2'];

/** An import token and its wrapping key are valid for 24 hours, as in Alibaba Cloud KMS. */
export const IMPORT_TOKEN_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** Live import tokens kept per key: a newer GetParametersForImport retires the oldest beyond this. */
export const MAX_LIVE_IMPORT_TOKENS = 10;

/** CreateKey Origin values: Alibaba's, plus DeskKMS's key of public-key-only versions. */
export const KEY_ORIGINS = ['Aliyun_KMS', 'EXTERNAL', 'EXTERNAL_PUBLIC_KEY'] as const;
export type KeyOrigin = (typeof KEY_ORIGINS)[number];

/** What a key version holds besides its public key. */
export type VersionMaterial = 'Sealed' | 'PublicOnly' | 'Deleted';
