// Unwrapping of imported key material (Alibaba Cloud KMS bring-your-own-key, see
// core/contract/key-import.ts for the construction). Runs only in the key worker: the wrapping
// private key, the ephemeral symmetric key and the target private key never leave it.
import { createDecipheriv, getCiphers, randomBytes } from 'node:crypto';
import { sm4 } from 'sm-crypto-v2';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';
import { KmsError } from '../contract/errors.ts';
import { WRAPPING_ALGORITHMS, isSymmetricWrapping, type AsymmetricWrappingAlgorithm, type WrappingAlgorithm } from '../contract/key-import.ts';
import { createHmac } from 'node:crypto';
import { KEY_SPEC_TABLE, type KeySpec } from '../contract/specs.ts';
import { publicPoint } from '../crypto/curves.ts';
import { encodeSm2Ciphertext } from '../crypto/der.ts';
import { encodeEcPkcs8, maxScalar } from '../crypto/ec-encoding.ts';
import { decrypt, importPrivateKey, signDigest, verifyDigest, type PrivateKey } from '../crypto/engine.ts';
import { AsnParser } from '@peculiar/asn1-schema';
import { PrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { RSAPrivateKey } from '@peculiar/asn1-rsa';

function incorrect(reason: string): KmsError {
  return new KmsError('IncorrectKeyMaterial', `EncryptedKeyMaterial: ${reason}`);
}

/**
 * Bytes wrapped directly under the token's wrapping key: RSAES-OAEP (SHA-256 or SHA-1), or SM2PKE as
 * raw C1 || C3 || C2 (C1 = 0x04 || x || y, as the wrapping party writes it) or GM/T 0009 DER.
 */
function unwrapUnder(wrappingKey: PrivateKey, algorithm: 'RSAES_OAEP_SHA_256' | 'RSAES_OAEP_SHA_1' | 'SM2PKE', wrapped: Uint8Array, what: string, name: WrappingAlgorithm): Uint8Array {
  try {
    if (algorithm !== 'SM2PKE') return decrypt(wrappingKey, algorithm, wrapped);
    if (wrapped[0] === 0x30) return decrypt(wrappingKey, 'SM2PKE', wrapped);
    if (wrapped[0] !== 0x04) throw incorrect(`the SM2-wrapped ${what} does not start with an uncompressed point (0x04) or a DER SEQUENCE`);
    const der = encodeSm2Ciphertext({
      x: bytesToNumberBE(wrapped.subarray(1, 33)),
      y: bytesToNumberBE(wrapped.subarray(33, 65)),
      c3: wrapped.subarray(65, 97),
      c2: wrapped.subarray(97),
    });
    return decrypt(wrappingKey, 'SM2PKE', der);
  } catch (error) {
    if (error instanceof KmsError && error.code === 'IncorrectKeyMaterial') throw error;
    throw incorrect(`the wrapped ${what} does not decrypt with this import token's wrapping key (${name}); it was wrapped for another token, or altered`);
  }
}

/** The ephemeral symmetric key, unwrapped with the token's wrapping private key. */
function unwrapEphemeralKey(wrappingKey: PrivateKey, algorithm: AsymmetricWrappingAlgorithm, wrapped: Uint8Array): Uint8Array {
  const key = unwrapUnder(wrappingKey, algorithm === 'RSAES_OAEP_SHA_256_AES_256_ECB_PKCS7_PAD' ? 'RSAES_OAEP_SHA_256' : 'SM2PKE', wrapped, 'ephemeral key', algorithm);
  const expected = WRAPPING_ALGORITHMS[algorithm].ephemeralKeyBytes;
  if (key.length !== expected) {
    key.fill(0);
    throw incorrect(`the ephemeral key is ${key.length} bytes; ${algorithm} uses ${expected}`);
  }
  return key;
}

const NODE_HAS_SM4 = getCiphers().includes('sm4-ecb');

function decryptEcb(algorithm: AsymmetricWrappingAlgorithm, key: Uint8Array, body: Uint8Array): Uint8Array {
  try {
    if (algorithm === 'RSAES_OAEP_SHA_256_AES_256_ECB_PKCS7_PAD') {
      const decipher = createDecipheriv('aes-256-ecb', key, null);
      return new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()]));
    }
    if (NODE_HAS_SM4) {
      const decipher = createDecipheriv('sm4-ecb', key, null).setAutoPadding(false);
      return new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()]));
    }
    // Electron's BoringSSL has no SM4.
    return sm4.decrypt(body, key, { mode: 'ecb', padding: 'none', output: 'array' });
  } catch {
    throw incorrect('the encrypted private key does not decrypt (bad PKCS#7 padding): it was altered or encrypted under another key');
  }
}

/** PKCS#8 for the target key: as sent, or built from EC_SM2's 32-byte private scalar D. */
function targetPkcs8(spec: KeySpec, plain: Uint8Array): Uint8Array {
  if (spec !== 'EC_SM2' || plain.length !== 32) return plain;
  const d = bytesToNumberBE(plain);
  if (d < 1n || d > maxScalar('SM2')) throw incorrect('the SM2 private scalar D is out of range');
  const scalar = numberToBytesBE(d, 32);
  return encodeEcPkcs8('SM2', scalar, publicPoint('SM2', scalar));
}

const big = (bytes: ArrayBuffer): bigint => bytesToNumberBE(new Uint8Array(bytes));

/**
 * Every RSA private component agrees with the others (n = pq, d inverts e modulo p-1 and q-1,
 * the CRT values derive from them). Signing uses only the CRT values, so a damaged d or n would
 * pass a pairwise test and fail later elsewhere.
 */
function assertRsaConsistent(pkcs8: Uint8Array): void {
  const info = AsnParser.parse(pkcs8, PrivateKeyInfo);
  const k = AsnParser.parse(info.privateKey.buffer, RSAPrivateKey);
  const [n, e, d, p, q, dp, dq, qi] = [k.modulus, k.publicExponent, k.privateExponent, k.prime1, k.prime2, k.exponent1, k.exponent2, k.coefficient].map(big) as [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint];
  const ok =
    p > 1n && q > 1n && n === p * q && (e * d) % (p - 1n) === 1n && (e * d) % (q - 1n) === 1n &&
    dp === d % (p - 1n) && dq === d % (q - 1n) && (qi * q) % p === 1n;
  if (!ok) throw incorrect('the RSA private key is inconsistent (its components do not belong together): it is damaged');
}

/** Signs a random digest and verifies it: proves the private key and its public key belong together. */
function pairwiseCheck(key: PrivateKey): void {
  const info = KEY_SPEC_TABLE[key.spec];
  const algorithm = info.family === 'RSA' ? 'RSA_PKCS1_SHA_256' : info.algorithms['SIGN/VERIFY'][0];
  const digest = new Uint8Array(randomBytes(32));
  if (!algorithm || !verifyDigest(key.publicKey, algorithm, digest, signDigest(key, algorithm, digest))) {
    throw incorrect('the private key fails its pairwise consistency check (a signature does not verify with its own public key): it is damaged');
  }
}

/**
 * Unwraps EncryptedKeyMaterial with the import token's wrapping key and returns the target key,
 * checked to be a consistent key of `spec`, and its PKCS#8 (the caller seals and wipes it).
 */
export function unwrapKeyMaterial(
  wrappingKey: PrivateKey,
  algorithm: AsymmetricWrappingAlgorithm,
  material: Uint8Array,
  spec: KeySpec,
): { key: PrivateKey; pkcs8: Uint8Array } {
  const { wrappedKeyBytes, block } = WRAPPING_ALGORITHMS[algorithm];
  const body = material.subarray(wrappedKeyBytes);
  if (material.length <= wrappedKeyBytes || body.length % block !== 0) {
    throw incorrect(
      `is ${material.length} bytes; ${algorithm} needs the ${wrappedKeyBytes}-byte wrapped ephemeral key followed by whole ${block}-byte blocks of the encrypted private key (truncated?)`,
    );
  }
  const ephemeral = unwrapEphemeralKey(wrappingKey, algorithm, material.subarray(0, wrappedKeyBytes));
  let plain: Uint8Array;
  try {
    plain = decryptEcb(algorithm, ephemeral, body);
  } finally {
    ephemeral.fill(0);
  }
  let pkcs8: Uint8Array | undefined;
  try {
    pkcs8 = targetPkcs8(spec, plain);
    let key: PrivateKey;
    try {
      key = importPrivateKey(pkcs8, spec, 'EncryptedKeyMaterial');
    } catch (error) {
      if (error instanceof KmsError && error.code === 'InvalidParameter') throw new KmsError('IncorrectKeyMaterial', `${error.message} (key ${spec})`);
      throw error;
    }
    try {
      if (KEY_SPEC_TABLE[spec].family === 'RSA') assertRsaConsistent(pkcs8);
      pairwiseCheck(key);
    } catch (error) {
      key.wipe();
      throw error;
    }
    const out = pkcs8 === plain ? plain.slice() : pkcs8;
    return { key, pkcs8: out };
  } finally {
    plain.fill(0);
  }
}

/**
 * Symmetric key material (Aliyun_AES_256: 32 bytes, Aliyun_SM4: 16 bytes), wrapped directly under
 * the wrapping public key (core/contract/key-import.ts SYMMETRIC_WRAPPING_ALGORITHMS). The raw key,
 * checked for its length; IncorrectKeyMaterial otherwise.
 */
export function unwrapSymmetricMaterial(wrappingKey: PrivateKey, algorithm: WrappingAlgorithm, material: Uint8Array, spec: KeySpec): Uint8Array {
  const keyBytes = KEY_SPEC_TABLE[spec].symmetric?.keyBytes;
  if (keyBytes === undefined || !isSymmetricWrapping(algorithm)) throw incorrect(`${algorithm} does not wrap ${spec} key material`);
  const raw = unwrapUnder(wrappingKey, algorithm, material, 'key material', algorithm);
  if (raw.length !== keyBytes) {
    raw.fill(0);
    throw incorrect(`is ${spec} key material of ${raw.length} bytes; a ${spec} key is ${keyBytes} bytes`);
  }
  return raw;
}

/**
 * A symmetric version's key check value: HMAC-SHA256 keyed with the key over a fixed label. Stored in
 * place of a public key, it lets a re-import (after DeleteKeyMaterial) be compared with the first
 * material without keeping the key, and tells nothing about it.
 */
export function keyCheckValue(raw: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', raw).update('DeskKMS symmetric key check value').digest());
}
