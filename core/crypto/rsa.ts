// RSA through node:crypto. node:crypto signs only messages it hashes itself, so signing a
// precomputed Digest builds the encoded message here (EMSA-PKCS1-v1_5 DigestInfo, EMSA-PSS per
// RFC 8017 section 9.1) and applies the raw private-key operation; verification applies the raw
// public-key operation and checks the encoded message strictly.
import {
  constants,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  privateDecrypt,
  privateEncrypt,
  publicDecrypt,
  publicEncrypt,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
import { equalBytes } from '@noble/curves/utils.js';
import { KmsError, invalidParameter } from '../contract/errors.ts';
import { KEY_SPECS, KEY_SPEC_TABLE, type EncryptionAlgorithm, type KeySpec, type SigningAlgorithm } from '../contract/specs.ts';
import { createDigester, sha256, type Digester } from './hash.ts';
import type { PrivateKey, PublicKey } from './keys.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

const HLEN = 32;
const PSS_SALT_LENGTH = 32;
// DER of DigestInfo { AlgorithmIdentifier { sha256, NULL }, OCTET STRING (32) } up to the hash.
const SHA256_DIGEST_INFO_PREFIX = Uint8Array.from([
  0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
]);

function mgf1Sha256(seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const block = new Uint8Array(seed.length + 4);
  block.set(seed);
  for (let counter = 0, offset = 0; offset < length; counter++, offset += HLEN) {
    new DataView(block.buffer).setUint32(seed.length, counter, false);
    out.set(sha256(block).subarray(0, Math.min(HLEN, length - offset)), offset);
  }
  return out;
}

function pssHash(mHash: Uint8Array, salt: Uint8Array): Uint8Array {
  const mPrime = new Uint8Array(8 + mHash.length + salt.length);
  mPrime.set(mHash, 8);
  mPrime.set(salt, 8 + mHash.length);
  return sha256(mPrime);
}

/** EMSA-PSS-ENCODE (RFC 8017 9.1.1) with SHA-256, MGF1-SHA-256 and a 32-byte salt, left-padded to k bytes. */
export function emsaPssEncode(mHash: Uint8Array, modBits: number, salt: Uint8Array = randomBytes(PSS_SALT_LENGTH)): Uint8Array {
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < HLEN + salt.length + 2) throw new KmsError('InternalFailure', 'modulus too small for RSA-PSS');
  const h = pssHash(mHash, salt);
  const db = new Uint8Array(emLen - HLEN - 1);
  db[emLen - salt.length - HLEN - 2] = 0x01;
  db.set(salt, emLen - salt.length - HLEN - 1);
  const mask = mgf1Sha256(h, db.length);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >>> (8 * emLen - emBits);
  const k = Math.ceil(modBits / 8);
  const em = new Uint8Array(k);
  em.set(db, k - emLen);
  em.set(h, k - emLen + db.length);
  em[k - 1] = 0xbc;
  return em;
}

/** EMSA-PSS-VERIFY (RFC 8017 9.1.2) over the k-byte result of the public-key operation. */
export function emsaPssVerify(mHash: Uint8Array, encoded: Uint8Array, modBits: number): boolean {
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const lead = encoded.length - emLen;
  for (let i = 0; i < lead; i++) if (encoded[i] !== 0) return false;
  const em = encoded.subarray(lead);
  if (emLen < HLEN + PSS_SALT_LENGTH + 2 || em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - HLEN - 1);
  const h = em.subarray(emLen - HLEN - 1, emLen - 1);
  const topMask = 0xff >>> (8 * emLen - emBits);
  if ((maskedDb[0]! & ~topMask) !== 0) return false;
  const db = mgf1Sha256(h, maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i]! ^= maskedDb[i]!;
  db[0]! &= topMask;
  const separator = emLen - HLEN - PSS_SALT_LENGTH - 2;
  for (let i = 0; i < separator; i++) if (db[i] !== 0) return false;
  if (db[separator] !== 0x01) return false;
  return equalBytes(pssHash(mHash, db.subarray(db.length - PSS_SALT_LENGTH)), h);
}

/** DER DigestInfo of a SHA-256 digest (the T of RFC 8017 9.2). */
function sha256DigestInfo(digest: Uint8Array): Uint8Array {
  const t = new Uint8Array(SHA256_DIGEST_INFO_PREFIX.length + digest.length);
  t.set(SHA256_DIGEST_INFO_PREFIX);
  t.set(digest, SHA256_DIGEST_INFO_PREFIX.length);
  return t;
}

/** EMSA-PKCS1-v1_5 encoding of a SHA-256 digest, k bytes long. */
function emsaPkcs1Encode(digest: Uint8Array, k: number): Uint8Array {
  const t = sha256DigestInfo(digest);
  const em = new Uint8Array(k).fill(0xff);
  em[0] = 0x00;
  em[1] = 0x01;
  em[k - t.length - 1] = 0x00;
  em.set(t, k - t.length);
  return em;
}

const OAEP_HASH: Readonly<Record<Exclude<EncryptionAlgorithm, "SM2PKE">, "sha256" | "sha1">> = { RSAES_OAEP_SHA_256: 'sha256', RSAES_OAEP_SHA_1: 'sha1' } as const;

function oaepHash(algorithm: EncryptionAlgorithm): 'sha256' | 'sha1' {
  if (algorithm === 'SM2PKE') throw new KmsError('InternalFailure', 'SM2PKE reached the RSA engine');
  return OAEP_HASH[algorithm];
}

/** RSAES-OAEP decryption with an optional label (the KMS API never sets one; Wycheproof does). */
export function rsaOaepDecrypt(key: KeyObject, algorithm: EncryptionAlgorithm, ciphertext: Uint8Array, label?: Uint8Array): Uint8Array {
  assertRsaCiphertextLength(key, ciphertext);
  try {
    return new Uint8Array(
      privateDecrypt(
        { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHash(algorithm), ...(label ? { oaepLabel: label } : {}) },
        ciphertext,
      ),
    );
  } catch {
    // One message for every failure: telling padding errors apart is an oracle (Manger's attack).
    throw invalidParameter('CiphertextBlob', `cannot be decrypted with this key and ${algorithm} (wrong key, wrong algorithm or corrupted ciphertext)`);
  }
}

/**
 * The check RSAES-OAEP decryption makes before the private key is used: a ciphertext is exactly
 * k = ceil(modulus bits / 8) bytes (RFC 8017 section 7.1.2 step 1b). Public data only, so `key` may
 * be the public or the private KeyObject: the engine's assertDecryptable makes it with the public one.
 */
export function assertRsaCiphertextLength(key: KeyObject, ciphertext: Uint8Array): void {
  const k = Math.ceil(modulusBits(key) / 8);
  if (ciphertext.length !== k) {
    throw invalidParameter('CiphertextBlob', `must be exactly ${k} bytes for this RSA key, got ${ciphertext.length}`);
  }
}

function modulusBits(key: KeyObject): number {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits === undefined) throw new KmsError('InternalFailure', 'RSA key without a modulus length');
  return bits;
}

function specForModulus(bits: number | undefined, parameter: string): KeySpec {
  const spec = KEY_SPECS.find((s) => KEY_SPEC_TABLE[s].family === 'RSA' && KEY_SPEC_TABLE[s].bits === bits);
  if (!spec) throw invalidParameter(parameter, `RSA modulus of ${bits ?? '?'} bits is not one of 2048, 3072, 4096`);
  return spec;
}

export class RsaPublicKey implements PublicKey {
  readonly spec: KeySpec;
  readonly spki: Uint8Array;
  readonly key: KeyObject;
  private readonly k: number;
  private readonly bits: number;

  constructor(key: KeyObject, parameter = 'PublicKey') {
    if (key.asymmetricKeyType !== 'rsa') throw invalidParameter(parameter, `is a ${key.asymmetricKeyType ?? 'unknown'} key, not RSA`);
    this.key = key;
    this.bits = modulusBits(key);
    this.spec = specForModulus(this.bits, parameter);
    this.k = Math.ceil(this.bits / 8);
    this.spki = new Uint8Array(key.export({ format: 'der', type: 'spki' }));
  }

  static fromSpki(der: Uint8Array, parameter = 'PublicKey'): RsaPublicKey {
    let key: KeyObject;
    try {
      key = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
    } catch {
      throw invalidParameter(parameter, 'is not a valid RSA SubjectPublicKeyInfo');
    }
    return new RsaPublicKey(key, parameter);
  }

  verifyDigest(algorithm: SigningAlgorithm, digest: Uint8Array, signature: Uint8Array): boolean {
    if (signature.length !== this.k) return false;
    let encoded: Uint8Array;
    try {
      encoded = new Uint8Array(publicDecrypt({ key: this.key, padding: constants.RSA_NO_PADDING }, signature));
    } catch {
      return false; // signature representative >= n
    }
    if (algorithm === 'RSA_PKCS1_SHA_256') return equalBytes(encoded, emsaPkcs1Encode(digest, this.k));
    if (algorithm === 'RSA_PSS_SHA_256') return emsaPssVerify(digest, encoded, this.bits);
    throw new KmsError('InternalFailure', `${algorithm} reached the RSA engine`);
  }

  encrypt(algorithm: EncryptionAlgorithm, plaintext: Uint8Array): Uint8Array {
    return new Uint8Array(
      publicEncrypt({ key: this.key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHash(algorithm) }, plaintext),
    );
  }

  messageDigester(): Digester {
    return createDigester('SHA-256');
  }
}

export class RsaPrivateKey implements PrivateKey {
  readonly spec: KeySpec;
  readonly publicKey: RsaPublicKey;
  private key: KeyObject | undefined;

  constructor(key: KeyObject, parameter = 'PrivateKey') {
    if (key.asymmetricKeyType !== 'rsa') throw invalidParameter(parameter, `is a ${key.asymmetricKeyType ?? 'unknown'} key, not RSA`);
    this.key = key;
    this.publicKey = new RsaPublicKey(createPublicKey(key), parameter);
    this.spec = this.publicKey.spec;
  }

  static async generate(spec: KeySpec): Promise<RsaPrivateKey> {
    const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: KEY_SPEC_TABLE[spec].bits, publicExponent: 0x10001 });
    return new RsaPrivateKey(privateKey);
  }

  static fromPkcs8(der: Uint8Array, parameter = 'PrivateKey'): RsaPrivateKey {
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
    } catch {
      throw invalidParameter(parameter, 'is not a valid RSA PKCS#8 private key');
    }
    return new RsaPrivateKey(key, parameter);
  }

  private get live(): KeyObject {
    if (!this.key) throw new KmsError('Vault.Locked', 'this private key has been wiped');
    return this.key;
  }

  signDigest(algorithm: SigningAlgorithm, digest: Uint8Array): Uint8Array {
    const bits = modulusBits(this.live);
    if (algorithm === 'RSA_PKCS1_SHA_256') {
      // OpenSSL's type-1 padding of DigestInfo is exactly EMSA-PKCS1-v1_5 (deterministic).
      return new Uint8Array(privateEncrypt({ key: this.live, padding: constants.RSA_PKCS1_PADDING }, sha256DigestInfo(digest)));
    }
    if (algorithm === 'RSA_PSS_SHA_256') {
      const em = emsaPssEncode(digest, bits);
      return new Uint8Array(privateEncrypt({ key: this.live, padding: constants.RSA_NO_PADDING }, em));
    }
    throw new KmsError('InternalFailure', `${algorithm} reached the RSA engine`);
  }

  decrypt(algorithm: EncryptionAlgorithm, ciphertext: Uint8Array): Uint8Array {
    return rsaOaepDecrypt(this.live, algorithm, ciphertext);
  }

  exportPkcs8(): Uint8Array {
    return new Uint8Array(this.live.export({ format: 'der', type: 'pkcs8' }));
  }

  wipe(): void {
    this.key = undefined;
  }
}
