// The crypto engine's entry points: every check of the contract (algorithm valid for the spec,
// digest length, plaintext limit, key encodings) happens here, once, before a family's key class
// is reached. Runtime: Node (and Electron's main process / key worker).
import { KmsError, invalidParameter } from '../contract/errors.ts';
import {
  ALGORITHM_TABLE,
  DIGEST_LENGTH,
  KEY_SPEC_TABLE,
  KEY_USAGES,
  isEncryptionAlgorithm,
  isKeySpec,
  isSigningAlgorithm,
  maxPlaintextBytes,
  type Algorithm,
  type EncryptionAlgorithm,
  type KeySpec,
  type KeyUsage,
  type SigningAlgorithm,
} from '../contract/specs.ts';
import { curveOfAlgorithm, parseEcPkcs8, parsePoint, parseSpki } from './ec-encoding.ts';
import { EcdsaPrivateKey, EcdsaPublicKey, isEcdsaCurve } from './ecdsa.ts';
import { encodeRsBytes } from './der.ts';
import { signP256Digests, type DigestSignRequest } from './p256-sign.ts';
import type { PrivateKey, PublicKey } from './keys.ts';
import type { Digester } from './hash.ts';
import { OID } from './oids.ts';
import { decodePem, encodePem, isPem } from './pem.ts';
import { RsaPrivateKey, RsaPublicKey, assertRsaCiphertextLength } from './rsa.ts';
import { Sm2PrivateKey, Sm2PublicKey, parseSm2Ciphertext } from './sm2.ts';
import { AsnParser } from '@peculiar/asn1-schema';
import { PrivateKeyInfo } from '@peculiar/asn1-pkcs8';

export type { PrivateKey, PublicKey } from './keys.ts';

/** Refuses an algorithm the spec (or the key's usage, when given) does not allow, naming the valid ones. */
export function assertAlgorithmFor(spec: KeySpec, algorithm: unknown, usage?: KeyUsage, parameter = 'Algorithm'): Algorithm {
  const { algorithms } = KEY_SPEC_TABLE[spec];
  // (Every signature passes here: with a usage, no array is built.)
  const valid: readonly Algorithm[] = usage ? algorithms[usage] : [...algorithms['SIGN/VERIFY'], ...algorithms['ENCRYPT/DECRYPT']];
  if (typeof algorithm !== 'string' || !valid.includes(algorithm as Algorithm)) {
    const shown = typeof algorithm === 'string' ? algorithm : typeof algorithm;
    const where = usage ? `${spec} keys with usage ${usage}` : `${spec} keys`;
    // The algorithm is the spec's, for the other usage: say how to make a key that takes it (the
    // usage is fixed at creation; CreateKey without KeyUsage gives the spec's default).
    const other = KEY_USAGES.find((u) => u !== usage && usage !== undefined && KEY_SPEC_TABLE[spec].algorithms[u].includes(shown as Algorithm));
    const remedy = other
      ? `. A key's usage is fixed when it is created${KEY_SPEC_TABLE[spec].defaultUsage === usage ? ` (${usage} is ${spec}'s default)` : ''}: ` +
        `create a ${other === 'SIGN/VERIFY' ? 'signing' : 'encryption'} key with CreateKey --KeySpec ${spec} --KeyUsage ${other}`
      : '';
    throw invalidParameter(parameter, `${shown} is not valid for ${where}; valid: ${valid.join(', ') || 'none'}${remedy}`);
  }
  return algorithm as Algorithm;
}

function signingAlgorithm(spec: KeySpec, algorithm: unknown): SigningAlgorithm {
  const alg = assertAlgorithmFor(spec, algorithm, 'SIGN/VERIFY');
  if (!isSigningAlgorithm(alg)) throw new KmsError('InternalFailure', 'specs table inconsistent');
  return alg;
}

function encryptionAlgorithm(spec: KeySpec, algorithm: unknown): EncryptionAlgorithm {
  const alg = assertAlgorithmFor(spec, algorithm, 'ENCRYPT/DECRYPT');
  if (!isEncryptionAlgorithm(alg)) throw new KmsError('InternalFailure', 'specs table inconsistent');
  return alg;
}

/**
 * The Digest check of AsymmetricSign and AsymmetricVerify: signDigest makes it in the key worker,
 * and a DryRun AsymmetricSign (which never reaches the worker) calls this same function.
 */
export function assertDigest(digest: Uint8Array, algorithm: Algorithm): void {
  if (digest.length !== DIGEST_LENGTH) {
    const hash = ALGORITHM_TABLE[algorithm].hash;
    throw invalidParameter('Digest', `must be the ${DIGEST_LENGTH}-byte ${hash} digest for ${algorithm}, got ${digest.length} bytes`);
  }
}

export async function generateKey(spec: KeySpec): Promise<PrivateKey> {
  if (!isKeySpec(spec)) throw invalidParameter('KeySpec', `${String(spec)} is not a supported key spec`);
  const info = KEY_SPEC_TABLE[spec];
  if (info.family === 'RSA') return RsaPrivateKey.generate(spec);
  if (info.family === 'SM2') return Sm2PrivateKey.generate();
  if (info.curve && isEcdsaCurve(info.curve)) return EcdsaPrivateKey.generate(info.curve);
  throw new KmsError('InternalFailure', `no generator for ${spec}`);
}

export function signDigest(key: PrivateKey, algorithm: unknown, digest: Uint8Array): Uint8Array {
  const alg = signingAlgorithm(key.spec, algorithm);
  assertDigest(digest, alg);
  return key.signDigest(alg, digest);
}

function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new KmsError('InternalFailure', String(thrown));
}

export interface SignDigestRequest {
  key: PrivateKey;
  algorithm: unknown;
  digest: Uint8Array;
}

/**
 * Several signDigest calls at once, each answered with its signature or the error it alone would
 * have thrown. P-256 signatures made together share one (blinded) nonce inversion, which is most of
 * a lone signature's cost (p256-sign.ts); the key worker batches the requests that arrive together.
 */
export function signDigests(requests: readonly SignDigestRequest[]): (Uint8Array | Error)[] {
  const results: (Uint8Array | Error)[] = new Array<Uint8Array | Error>(requests.length);
  const fast: DigestSignRequest[] = [];
  const fastAt: number[] = [];
  requests.forEach(({ key, algorithm, digest }, i) => {
    try {
      const alg = signingAlgorithm(key.spec, algorithm);
      assertDigest(digest, alg);
      const request = key instanceof EcdsaPrivateKey ? key.fastRequest(digest) : undefined;
      if (request) {
        fast.push(request);
        fastAt.push(i);
      } else {
        results[i] = key.signDigest(alg, digest);
      }
    } catch (error) {
      results[i] = asError(error);
    }
  });
  if (fast.length > 0) {
    try {
      signP256Digests(fast).forEach(({ r, s }, j) => (results[fastAt[j]!] = encodeRsBytes(r, s)));
    } catch (error) {
      for (const i of fastAt) results[i] = asError(error);
    }
  }
  return results;
}

/** true when valid, false when not; InvalidParameter when the signature or digest is malformed. */
export function verifyDigest(key: PublicKey, algorithm: unknown, digest: Uint8Array, signature: Uint8Array): boolean {
  const alg = signingAlgorithm(key.spec, algorithm);
  assertDigest(digest, alg);
  if (signature.length === 0) throw invalidParameter('Value', 'signature is empty');
  return key.verifyDigest(alg, digest, signature);
}

export function encrypt(key: PublicKey, algorithm: unknown, plaintext: Uint8Array): Uint8Array {
  const alg = encryptionAlgorithm(key.spec, algorithm);
  const limit = maxPlaintextBytes(key.spec, alg);
  if (plaintext.length === 0) throw invalidParameter('Plaintext', 'is empty');
  if (plaintext.length > limit) {
    throw invalidParameter('Plaintext', `is ${plaintext.length} bytes; ${key.spec} with ${alg} takes at most ${limit} bytes`);
  }
  return key.encrypt(alg, plaintext);
}

/** The checks of every decryption before its family's: the algorithm for the spec, CiphertextBlob not empty. */
function decryptionAlgorithm(spec: KeySpec, algorithm: unknown, ciphertext: Uint8Array): EncryptionAlgorithm {
  const alg = encryptionAlgorithm(spec, algorithm);
  if (ciphertext.length === 0) throw invalidParameter('CiphertextBlob', 'is empty');
  return alg;
}

/**
 * Every check decryption makes that needs no private key: the algorithm for the spec, CiphertextBlob
 * not empty, then the family's shape (RSA: exactly the modulus length; SM2: the DER SEQUENCE
 * { x, y, C3, C2 } with C1 on the curve), through the same functions the keys' decrypt calls
 * (assertRsaCiphertextLength, parseSm2Ciphertext). A DryRun AsymmetricDecrypt makes them with the
 * stored public key, so it cannot answer otherwise than decrypt; only whether the ciphertext
 * decrypts is left, which takes the private key.
 */
export function assertDecryptable(key: PublicKey, algorithm: unknown, ciphertext: Uint8Array): EncryptionAlgorithm {
  const alg = decryptionAlgorithm(key.spec, algorithm, ciphertext);
  if (key instanceof RsaPublicKey) assertRsaCiphertextLength(key.key, ciphertext);
  else if (key instanceof Sm2PublicKey) parseSm2Ciphertext(ciphertext);
  else throw new KmsError('InternalFailure', `no decryption for ${key.spec}`);
  return alg;
}

/** Decrypts in the key worker: the common checks here, the family's in the key's own decrypt (the functions assertDecryptable calls). */
export function decrypt(key: PrivateKey, algorithm: unknown, ciphertext: Uint8Array): Uint8Array {
  return key.decrypt(decryptionAlgorithm(key.spec, algorithm, ciphertext), ciphertext);
}

/** Digest of a whole message (streamed), as AsymmetricSign expects it for this key and algorithm. */
export async function digestMessage(
  key: PublicKey,
  algorithm: unknown,
  message: Uint8Array | AsyncIterable<Uint8Array>,
  onProgress?: (bytes: number) => void,
): Promise<Uint8Array> {
  const alg = signingAlgorithm(key.spec, algorithm);
  return feedDigester(key.messageDigester(alg), message, onProgress);
}

/** Streams `message` through `digester`, reporting the running byte count. */
export async function feedDigester(
  digester: Digester,
  message: Uint8Array | AsyncIterable<Uint8Array>,
  onProgress?: (bytes: number) => void,
): Promise<Uint8Array> {
  if (message instanceof Uint8Array) {
    digester.update(message);
    onProgress?.(message.length);
  } else {
    let total = 0;
    for await (const chunk of message) {
      digester.update(chunk);
      total += chunk.length;
      onProgress?.(total);
    }
  }
  return digester.digest();
}

/** A public key from SubjectPublicKeyInfo, PEM ("PUBLIC KEY") or DER; the spec is read from it. */
export function importPublicKey(data: Uint8Array | string, parameter = 'PublicKey'): PublicKey {
  let der: Uint8Array;
  if (isPem(data)) der = decodePem(typeof data === 'string' ? data : new TextDecoder().decode(data), 'PUBLIC KEY', parameter);
  else if (typeof data === 'string') throw invalidParameter(parameter, 'must be PEM text or DER bytes');
  else der = data;
  const spki = parseSpki(der, parameter);
  if (spki.algorithm.algorithm === OID.rsaEncryption) return RsaPublicKey.fromSpki(der, parameter);
  const curve = curveOfAlgorithm(spki.algorithm, parameter);
  const point = parsePoint(curve, new Uint8Array(spki.subjectPublicKey), parameter);
  return curve === 'SM2' ? new Sm2PublicKey(point) : new EcdsaPublicKey(curve, point);
}

/** A private key from PKCS#8 PrivateKeyInfo DER; `spec`, when given, must match the key. */
export function importPrivateKey(der: Uint8Array, spec?: KeySpec, parameter = 'PrivateKey'): PrivateKey {
  let algorithm: string;
  try {
    algorithm = AsnParser.parse(der, PrivateKeyInfo).privateKeyAlgorithm.algorithm;
  } catch {
    throw invalidParameter(parameter, 'is not a DER-encoded PKCS#8 PrivateKeyInfo');
  }
  let key: PrivateKey;
  if (algorithm === OID.rsaEncryption) {
    key = RsaPrivateKey.fromPkcs8(der, parameter);
  } else {
    const material = parseEcPkcs8(der, parameter);
    const { curve } = material;
    key = curve === 'SM2' ? new Sm2PrivateKey(material) : isEcdsaCurve(curve) ? new EcdsaPrivateKey({ ...material, curve }) : unreachable();
  }
  if (spec !== undefined && key.spec !== spec) {
    key.wipe();
    throw invalidParameter(parameter, `is a ${key.spec} key, expected ${spec}`);
  }
  return key;
}

function unreachable(): never {
  throw new KmsError('InternalFailure', 'unreachable');
}

export function publicKeyPem(key: PublicKey): string {
  return encodePem(key.spki, 'PUBLIC KEY');
}
