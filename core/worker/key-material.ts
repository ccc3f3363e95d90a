// Unwrapping of imported key material (Alibaba Cloud KMS bring-your-own-key, see
// core/contract/key-import.ts for the construction). Runs only in the key worker: the wrapping
// private key, the ephemeral symmetric key and the target private key never leave it.
import { createDecipheriv, getCiphers, randomBytes } from 'node:crypto';
import { sm4 } from 'sm-crypto-v2';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';
import { KmsError } from '../contract/errors.ts';
import { WRAPPING_ALGORITHMS, type WrappingAlgorithm } from '../contract/key-import.ts';
import { KEY_SPEC_TABLE, type KeySpec } from '../contract/specs.ts';
import { CURVE_POINTS } from '../crypto/curves.ts';
import { encodeSm2Ciphertext } from '../crypto/der.ts';
import { encodeEcPkcs8, maxScalar } from '../crypto/ec-encoding.ts';
import { decrypt, importPrivateKey, signDigest, verifyDigest, type PrivateKey } from '../crypto/engine.ts';
import { AsnParser } from '@peculiar/asn1-schema';
import { PrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { RSAPrivateKey } from '@peculiar/asn1-rsa';

function incorrect(reason: string): KmsError {
  return new KmsError('IncorrectKeyMaterial', `EncryptedKeyMaterial: ${reason}`);
}

/** The ephemeral symmetric key, unwrapped with the token's wrapping private key. */
function unwrapEphemeralKey(wrappingKey: PrivateKey, algorithm: WrappingAlgorithm, wrapped: Uint8Array): Uint8Array {
  let key: Uint8Array;
  try {
    if (algorithm === 'RSAES_OAEP_SHA_256_AES_256_ECB_PKCS7_PAD') {
      key = decrypt(wrappingKey, 'RSAES_OAEP_SHA_256', wrapped);
    } else {
      // Raw C1 || C3 || C2 with C1 = 0x04 || x || y, as the wrapping party writes it; the engine takes GM/T 0009 DER.
      if (wrapped[0] !== 0x04) throw incorrect('the SM2-wrapped key does not start with an uncompressed point (0x04)');
      const der = encodeSm2Ciphertext({
        x: bytesToNumberBE(wrapped.subarray(1, 33)),
        y: bytesToNumberBE(wrapped.subarray(33, 65)),
        c3: wrapped.subarray(65, 97),
        c2: wrapped.subarray(97),
      });
      key = decrypt(wrappingKey, 'SM2PKE', der);
    }
  } catch (error) {
    if (error instanceof KmsError && error.code === 'IncorrectKeyMaterial') throw error;
    throw incorrect(`the wrapped ephemeral key does not decrypt with this import token's wrapping key (${algorithm}); it was wrapped for another token, or altered`);
  }
  const expected = WRAPPING_ALGORITHMS[algorithm].ephemeralKeyBytes;
  if (key.length !== expected) {
    key.fill(0);
    throw incorrect(`the ephemeral key is ${key.length} bytes; ${algorithm} uses ${expected}`);
  }
  return key;
}

const NODE_HAS_SM4 = getCiphers().includes('sm4-ecb');

function decryptEcb(algorithm: WrappingAlgorithm, key: Uint8Array, body: Uint8Array): Uint8Array {
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
  return encodeEcPkcs8('SM2', numberToBytesBE(d, 32), CURVE_POINTS.SM2.BASE.multiply(d));
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
  algorithm: WrappingAlgorithm,
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
 * the wrapping public key, as Alibaba's guide for symmetric BYOK describes. The raw key, checked for
 * its length; IncorrectKeyMaterial otherwise.
 */
export function unwrapSymmetricMaterial(wrappingKey: PrivateKey, algorithm: WrappingAlgorithm, material: Uint8Array, spec: KeySpec): Uint8Array {
  // H2 (issue 18) replaces this body.
  void wrappingKey;
  void material;
  throw new KmsError('UnsupportedOperation', `importing ${spec} key material with ${algorithm} is not supported yet`);
}
