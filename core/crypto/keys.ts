// What every key of every family can do. Algorithm-for-spec and input-size validation happens
// once, in engine.ts, before these methods are reached.
import type { EncryptionAlgorithm, KeySpec, SigningAlgorithm } from '../contract/specs.ts';
import type { Digester } from './hash.ts';

export interface PublicKey {
  readonly spec: KeySpec;
  /** SubjectPublicKeyInfo, DER. */
  readonly spki: Uint8Array;
  /** true/false for a well-formed signature; throws InvalidParameter for a malformed one. */
  verifyDigest(algorithm: SigningAlgorithm, digest: Uint8Array, signature: Uint8Array): boolean;
  encrypt(algorithm: EncryptionAlgorithm, plaintext: Uint8Array): Uint8Array;
  /** A streaming hasher whose result is this key's Digest for `algorithm` (SM3(Z_A || M) for SM2DSA). */
  messageDigester(algorithm: SigningAlgorithm): Digester;
}

export interface PrivateKey {
  readonly spec: KeySpec;
  readonly publicKey: PublicKey;
  signDigest(algorithm: SigningAlgorithm, digest: Uint8Array): Uint8Array;
  decrypt(algorithm: EncryptionAlgorithm, ciphertext: Uint8Array): Uint8Array;
  /** PKCS#8 PrivateKeyInfo, DER. Only the key worker and the encrypted-export path may call this. */
  exportPkcs8(): Uint8Array;
  /** Overwrites the secret scalar where the runtime lets us (RSA KeyObjects cannot be wiped, only dropped). */
  wipe(): void;
}
