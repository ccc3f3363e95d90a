// WORKER-ONLY: passphrase encryption and decryption of PKCS#8 private keys (RFC 5958
// EncryptedPrivateKeyInfo) for exporting and importing them: PBES2 (RFC 8018) with scrypt
// (RFC 7914) or PBKDF2-HMAC-SHA-256 and AES-256-CBC, the format `openssl pkcs8 -topk8 -v2
// aes-256-cbc` writes and `openssl pkey -passin` reads. Its inputs and outputs are private key
// bytes, so only core/worker imports it (the layering lint refuses any other importer); the PEM
// armour of the encrypted file, which holds no plaintext key, is core/x509/pkcs8-export.ts.
// The functions are pure (bytes in, bytes out). Decryption is strict: unknown algorithms are named and refused,
// parameters are bounded (no passphrase-file denial of service), the DER must be canonical, and
// a wrong passphrase or damaged ciphertext gives one uniform message. Runtime: Node.
import { createCipheriv, createDecipheriv, pbkdf2, randomBytes, scrypt, type ScryptOptions } from 'node:crypto';
import {
  AsnIntegerArrayBufferConverter,
  AsnProp,
  AsnPropTypes,
  AsnType,
  AsnTypeTypes,
} from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { EncryptedData, EncryptedPrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { KEY_SPEC_TABLE, type KeySpec, type SigningAlgorithm } from '../contract/specs.ts';
import { KmsError, invalidParameter } from '../contract/errors.ts';
import { derInteger, derUnsigned, parseStrictDer, serializeDer } from '../crypto/der.ts';
import { importPrivateKey, signDigest, verifyDigest } from '../crypto/engine.ts';

export const PKCS8_OID = {
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  scrypt: '1.3.6.1.4.1.11591.4.11',
  hmacWithSHA256: '1.2.840.113549.2.9',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
} as const;

/** Names for OIDs we refuse, so the error says what the file uses. */
const KNOWN_NAMES: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.5.3': 'PBES1 pbeWithMD5AndDES-CBC',
  '1.2.840.113549.1.5.10': 'PBES1 pbeWithSHA1AndDES-CBC',
  '1.2.840.113549.1.12.1.3': 'PKCS#12 pbeWithSHAAnd3-KeyTripleDES-CBC',
  '1.2.840.113549.1.12.1.6': 'PKCS#12 pbeWithSHAAnd40BitRC2-CBC',
  '1.2.840.113549.2.7': 'hmacWithSHA1',
  '1.2.840.113549.2.8': 'hmacWithSHA224',
  '1.2.840.113549.2.10': 'hmacWithSHA384',
  '1.2.840.113549.2.11': 'hmacWithSHA512',
  '1.2.156.10197.1.401.2': 'hmacWithSM3',
  '1.2.840.113549.3.7': 'des-ede3-cbc',
  '1.3.14.3.2.7': 'des-cbc',
  '1.2.840.113549.3.2': 'rc2-cbc',
  '2.16.840.1.101.3.4.1.2': 'aes-128-cbc',
  '2.16.840.1.101.3.4.1.22': 'aes-192-cbc',
  '2.16.840.1.101.3.4.1.46': 'aes-256-gcm',
  '1.2.156.10197.1.104.2': 'sm4-cbc',
};

function named(oid: string): string {
  const name = KNOWN_NAMES[oid];
  return name ? `${name} (${oid})` : oid;
}

// ---- ASN.1 schemas (decorators applied as functions: erasableSyntaxOnly) ----

/** PBES2-params ::= SEQUENCE { keyDerivationFunc AlgorithmIdentifier, encryptionScheme AlgorithmIdentifier } */
export class Pbes2Params {
  keyDerivationFunc = new AlgorithmIdentifier();
  encryptionScheme = new AlgorithmIdentifier();
}
AsnType({ type: AsnTypeTypes.Sequence })(Pbes2Params);
AsnProp({ type: AlgorithmIdentifier })(Pbes2Params.prototype, 'keyDerivationFunc');
AsnProp({ type: AlgorithmIdentifier })(Pbes2Params.prototype, 'encryptionScheme');

/** PBKDF2-params ::= SEQUENCE { salt OCTET STRING, iterationCount INTEGER, keyLength INTEGER OPTIONAL, prf AlgorithmIdentifier DEFAULT hmacWithSHA1 } */
export class Pbkdf2Params {
  salt: ArrayBuffer = new ArrayBuffer(0);
  iterationCount: ArrayBuffer = new ArrayBuffer(0);
  keyLength?: ArrayBuffer;
  prf?: AlgorithmIdentifier;
}
AsnType({ type: AsnTypeTypes.Sequence })(Pbkdf2Params);
AsnProp({ type: AsnPropTypes.OctetString })(Pbkdf2Params.prototype, 'salt');
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })(Pbkdf2Params.prototype, 'iterationCount');
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter, optional: true })(Pbkdf2Params.prototype, 'keyLength');
AsnProp({ type: AlgorithmIdentifier, optional: true })(Pbkdf2Params.prototype, 'prf');

/** scrypt-params ::= SEQUENCE { salt OCTET STRING, costParameter, blockSize, parallelizationParameter, keyLength INTEGER OPTIONAL } */
export class ScryptParams {
  salt: ArrayBuffer = new ArrayBuffer(0);
  costParameter: ArrayBuffer = new ArrayBuffer(0);
  blockSize: ArrayBuffer = new ArrayBuffer(0);
  parallelizationParameter: ArrayBuffer = new ArrayBuffer(0);
  keyLength?: ArrayBuffer;
}
AsnType({ type: AsnTypeTypes.Sequence })(ScryptParams);
AsnProp({ type: AsnPropTypes.OctetString })(ScryptParams.prototype, 'salt');
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })(ScryptParams.prototype, 'costParameter');
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })(ScryptParams.prototype, 'blockSize');
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })(ScryptParams.prototype, 'parallelizationParameter');
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter, optional: true })(ScryptParams.prototype, 'keyLength');

// ---- defaults and limits ----

export const PKCS8_DEFAULTS = {
  kdf: 'scrypt',
  /**
   * scrypt N = 2^14, r = 8, p = 1 (16 MiB, OpenSSL's own default). OpenSSL 3.0 decrypts PKCS#8
   * only within a 32 MiB scrypt memory limit, so N >= 2^15 (with r = 8) is not readable by
   * `openssl pkey`; larger N is allowed for files only DeskKMS reads back.
   */
  scryptN: 1 << 14,
  scryptR: 8,
  scryptP: 1,
  /** OWASP 2023 minimum for PBKDF2-HMAC-SHA-256. */
  pbkdf2Iterations: 600_000,
  saltBytes: 16,
} as const;

export const PKCS8_LIMITS = {
  maxScryptN: 1 << 20,
  maxScryptMemory: 1024 * 1024 * 1024,
  maxScryptP: 16,
  minPbkdf2Iterations: 1_000,
  maxPbkdf2Iterations: 10_000_000,
  minSaltBytes: 8,
  maxSaltBytes: 64,
} as const;

const KEY_BYTES = 32;
const IV_BYTES = 16;
const DAMAGED = 'the passphrase does not decrypt this key or the file is damaged';

export type Pkcs8Kdf = 'scrypt' | 'pbkdf2';

export interface EncryptPkcs8Options {
  readonly kdf?: Pkcs8Kdf;
  /** PBKDF2 iteration count (default 600,000). */
  readonly iterations?: number;
  /** scrypt cost N, a power of two (default 2^14; OpenSSL 3.0 reads at most 2^14 with r = 8). */
  readonly scryptN?: number;
}

type KdfParams =
  | { readonly kdf: 'scrypt'; readonly salt: Uint8Array; readonly n: number; readonly r: number; readonly p: number }
  | { readonly kdf: 'pbkdf2'; readonly salt: Uint8Array; readonly iterations: number };

function deriveKey(passphrase: Uint8Array, params: KdfParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, key: Buffer): void => (error ? reject(error) : resolve(key));
    if (params.kdf === 'pbkdf2') {
      pbkdf2(passphrase, params.salt, params.iterations, KEY_BYTES, 'sha256', done);
    } else {
      const memory = 128 * params.n * params.r * params.p;
      const options: ScryptOptions = { N: params.n, r: params.r, p: params.p, maxmem: memory + 16 * 1024 * 1024 };
      scrypt(passphrase, params.salt, KEY_BYTES, options, done);
    }
  });
}

function assertPassphrase(passphrase: Uint8Array): void {
  if (!(passphrase instanceof Uint8Array)) throw invalidParameter('Passphrase', 'must be bytes');
  if (passphrase.length === 0) throw invalidParameter('Passphrase', 'is empty');
}

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 2 && (n & (n - 1)) === 0;
}

function checkScrypt(n: number, r: number, p: number, parameter: string): void {
  if (!isPowerOfTwo(n)) throw invalidParameter(parameter, `scrypt cost N=${n} is not a power of two`);
  if (n > PKCS8_LIMITS.maxScryptN) throw invalidParameter(parameter, `scrypt cost N=${n} is over the limit 2^20`);
  if (r < 1 || p < 1 || p > PKCS8_LIMITS.maxScryptP) throw invalidParameter(parameter, `scrypt blockSize r=${r}, parallelization p=${p} out of range`);
  if (128 * n * r * p > PKCS8_LIMITS.maxScryptMemory) {
    throw invalidParameter(parameter, `scrypt N=${n}, r=${r}, p=${p} needs more than 1 GiB of memory`);
  }
}

function checkIterations(iterations: number, parameter: string): void {
  if (!Number.isSafeInteger(iterations) || iterations < PKCS8_LIMITS.minPbkdf2Iterations || iterations > PKCS8_LIMITS.maxPbkdf2Iterations) {
    throw invalidParameter(parameter, `PBKDF2 iteration count ${iterations} is outside 1,000..10,000,000`);
  }
}

const DER_NULL = new Uint8Array([0x05, 0x00]);

function octetStringDer(bytes: Uint8Array): ArrayBuffer {
  // Only short lengths are needed here (IVs).
  const out = new Uint8Array(2 + bytes.length);
  out[0] = 0x04;
  out[1] = bytes.length;
  out.set(bytes, 2);
  return out.buffer;
}

function toBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer;
}

// ---- encryption ----

/** PKCS#8 PrivateKeyInfo DER → EncryptedPrivateKeyInfo DER (PBES2, scrypt or PBKDF2-HMAC-SHA-256, AES-256-CBC). */
export async function encryptPkcs8(pkcs8Der: Uint8Array, passphrase: Uint8Array, options: EncryptPkcs8Options = {}): Promise<Uint8Array> {
  assertPassphrase(passphrase);
  const kdf = options.kdf ?? PKCS8_DEFAULTS.kdf;
  if (kdf !== 'scrypt' && kdf !== 'pbkdf2') throw invalidParameter('Kdf', `${String(kdf)} is not scrypt or pbkdf2`);
  // Never encrypt something that is not a key we can read back.
  importPrivateKey(pkcs8Der).wipe();

  const salt = new Uint8Array(randomBytes(PKCS8_DEFAULTS.saltBytes));
  const iv = new Uint8Array(randomBytes(IV_BYTES));
  let params: KdfParams;
  let kdfAlgorithm: AlgorithmIdentifier;
  if (kdf === 'scrypt') {
    const n = options.scryptN ?? PKCS8_DEFAULTS.scryptN;
    checkScrypt(n, PKCS8_DEFAULTS.scryptR, PKCS8_DEFAULTS.scryptP, 'ScryptN');
    params = { kdf, salt, n, r: PKCS8_DEFAULTS.scryptR, p: PKCS8_DEFAULTS.scryptP };
    const sp = new ScryptParams();
    sp.salt = toBuffer(salt);
    sp.costParameter = derInteger(BigInt(n));
    sp.blockSize = derInteger(BigInt(params.r));
    sp.parallelizationParameter = derInteger(BigInt(params.p));
    sp.keyLength = derInteger(BigInt(KEY_BYTES));
    kdfAlgorithm = new AlgorithmIdentifier({ algorithm: PKCS8_OID.scrypt, parameters: toBuffer(serializeDer(sp)) });
  } else {
    const iterations = options.iterations ?? PKCS8_DEFAULTS.pbkdf2Iterations;
    checkIterations(iterations, 'Iterations');
    params = { kdf, salt, iterations };
    const pp = new Pbkdf2Params();
    pp.salt = toBuffer(salt);
    pp.iterationCount = derInteger(BigInt(iterations));
    pp.keyLength = derInteger(BigInt(KEY_BYTES));
    pp.prf = new AlgorithmIdentifier({ algorithm: PKCS8_OID.hmacWithSHA256, parameters: toBuffer(DER_NULL) });
    kdfAlgorithm = new AlgorithmIdentifier({ algorithm: PKCS8_OID.pbkdf2, parameters: toBuffer(serializeDer(pp)) });
  }

  const key = await deriveKey(passphrase, params);
  let ciphertext: Uint8Array;
  try {
    const cipher = createCipheriv('aes-256-cbc', key, iv);
    ciphertext = new Uint8Array(Buffer.concat([cipher.update(pkcs8Der), cipher.final()]));
  } finally {
    key.fill(0);
  }

  const pbes2 = new Pbes2Params();
  pbes2.keyDerivationFunc = kdfAlgorithm;
  pbes2.encryptionScheme = new AlgorithmIdentifier({ algorithm: PKCS8_OID.aes256Cbc, parameters: octetStringDer(iv) });
  const info = new EncryptedPrivateKeyInfo({
    encryptionAlgorithm: new AlgorithmIdentifier({ algorithm: PKCS8_OID.pbes2, parameters: toBuffer(serializeDer(pbes2)) }),
    encryptedData: new EncryptedData(ciphertext),
  });
  return serializeDer(info);
}

// ---- decryption ----

function smallInteger(content: ArrayBuffer, field: string, parameter: string): number {
  const value = derUnsigned(content, field, parameter);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw invalidParameter(parameter, `${field} ${value} is out of range`);
  return Number(value);
}

function requireParameters(alg: AlgorithmIdentifier, what: string, parameter: string): Uint8Array {
  if (!alg.parameters) throw invalidParameter(parameter, `${what} parameters are missing`);
  return new Uint8Array(alg.parameters);
}

function checkSalt(salt: ArrayBuffer, parameter: string): Uint8Array {
  const bytes = new Uint8Array(salt);
  if (bytes.length < PKCS8_LIMITS.minSaltBytes || bytes.length > PKCS8_LIMITS.maxSaltBytes) {
    throw invalidParameter(parameter, `salt of ${bytes.length} bytes is outside ${PKCS8_LIMITS.minSaltBytes}..${PKCS8_LIMITS.maxSaltBytes}`);
  }
  return bytes;
}

function checkKeyLength(keyLength: ArrayBuffer | undefined, parameter: string): void {
  if (keyLength === undefined) return;
  const n = smallInteger(keyLength, 'keyLength', parameter);
  if (n !== KEY_BYTES) throw invalidParameter(parameter, `key length ${n} does not match AES-256 (32 bytes)`);
}

function parseKdf(alg: AlgorithmIdentifier, parameter: string): KdfParams {
  if (alg.algorithm === PKCS8_OID.scrypt) {
    const sp = parseStrictDer(requireParameters(alg, 'scrypt', parameter), ScryptParams, 'scrypt-params', parameter);
    const salt = checkSalt(sp.salt, parameter);
    const n = smallInteger(sp.costParameter, 'scrypt costParameter', parameter);
    const r = smallInteger(sp.blockSize, 'scrypt blockSize', parameter);
    const p = smallInteger(sp.parallelizationParameter, 'scrypt parallelizationParameter', parameter);
    checkScrypt(n, r, p, parameter);
    checkKeyLength(sp.keyLength, parameter);
    return { kdf: 'scrypt', salt, n, r, p };
  }
  if (alg.algorithm === PKCS8_OID.pbkdf2) {
    const pp = parseStrictDer(requireParameters(alg, 'PBKDF2', parameter), Pbkdf2Params, 'PBKDF2-params', parameter);
    const prf = pp.prf?.algorithm ?? '1.2.840.113549.2.7';
    if (prf !== PKCS8_OID.hmacWithSHA256) {
      throw invalidParameter(parameter, `PBKDF2 pseudo-random function ${named(prf)} is not supported; use hmacWithSHA256`);
    }
    // The ASN.1 library reads NULL parameters as null.
    const prfParams = pp.prf?.parameters;
    if (prfParams !== undefined && prfParams !== null) {
      throw invalidParameter(parameter, 'hmacWithSHA256 parameters must be NULL or absent');
    }
    const salt = checkSalt(pp.salt, parameter);
    const iterations = smallInteger(pp.iterationCount, 'PBKDF2 iterationCount', parameter);
    checkIterations(iterations, parameter);
    checkKeyLength(pp.keyLength, parameter);
    return { kdf: 'pbkdf2', salt, iterations };
  }
  throw invalidParameter(parameter, `key derivation function ${named(alg.algorithm)} is not supported; use scrypt or PBKDF2`);
}

function parseIv(alg: AlgorithmIdentifier, parameter: string): Uint8Array {
  if (alg.algorithm !== PKCS8_OID.aes256Cbc) {
    throw invalidParameter(parameter, `encryption scheme ${named(alg.algorithm)} is not supported; use aes-256-cbc`);
  }
  const p = requireParameters(alg, 'aes-256-cbc', parameter);
  if (p.length !== 2 + IV_BYTES || p[0] !== 0x04 || p[1] !== IV_BYTES) {
    throw invalidParameter(parameter, 'aes-256-cbc parameters must be a 16-byte OCTET STRING IV');
  }
  return p.slice(2);
}

/** A signature algorithm every spec has, for the pairwise consistency check. */
function probeAlgorithm(spec: KeySpec): SigningAlgorithm {
  const algorithms = KEY_SPEC_TABLE[spec].algorithms['SIGN/VERIFY'] as readonly SigningAlgorithm[];
  const alg = algorithms.includes('RSA_PKCS1_SHA_256') ? 'RSA_PKCS1_SHA_256' : algorithms[0];
  if (!alg) throw new KmsError('InternalFailure', `no signing algorithm for ${spec}`);
  return alg;
}

export interface DecryptPkcs8Options {
  /** When given, the key must be of this spec (importing a new version of an existing key). */
  readonly spec?: KeySpec;
  readonly parameter?: string;
}

/**
 * EncryptedPrivateKeyInfo DER → the PKCS#8 PrivateKeyInfo DER inside it, checked to be a key of a
 * supported spec (and of `options.spec` when given) whose private and public halves agree.
 */
export async function decryptPkcs8(der: Uint8Array, passphrase: Uint8Array, options: DecryptPkcs8Options = {}): Promise<Uint8Array> {
  const parameter = options.parameter ?? 'EncryptedPrivateKey';
  assertPassphrase(passphrase);
  const info = parseStrictDer(der, EncryptedPrivateKeyInfo, 'PKCS#8 EncryptedPrivateKeyInfo', parameter);
  const scheme = info.encryptionAlgorithm;
  if (scheme.algorithm !== PKCS8_OID.pbes2) {
    throw invalidParameter(parameter, `encryption algorithm ${named(scheme.algorithm)} is not supported; use PBES2`);
  }
  const pbes2 = parseStrictDer(requireParameters(scheme, 'PBES2', parameter), Pbes2Params, 'PBES2-params', parameter);
  // The cipher is checked before the (costly) key derivation.
  const iv = parseIv(pbes2.encryptionScheme, parameter);
  const kdf = parseKdf(pbes2.keyDerivationFunc, parameter);
  const ciphertext = new Uint8Array(info.encryptedData.buffer);
  if (ciphertext.length === 0 || ciphertext.length % IV_BYTES !== 0) throw invalidParameter(parameter, DAMAGED);

  const key = await deriveKey(passphrase, kdf);
  let plaintext: Uint8Array;
  try {
    const decipher = createDecipheriv('aes-256-cbc', key, iv);
    const parts = [decipher.update(ciphertext), decipher.final()];
    plaintext = new Uint8Array(Buffer.concat(parts));
    for (const part of parts) part.fill(0);
  } catch {
    throw invalidParameter(parameter, DAMAGED);
  } finally {
    key.fill(0);
  }

  let privateKey;
  try {
    privateKey = importPrivateKey(plaintext, undefined, parameter);
  } catch {
    // Valid padding by chance under a wrong passphrase, or a damaged file: the same answer.
    plaintext.fill(0);
    throw invalidParameter(parameter, DAMAGED);
  }
  try {
    // Pairwise consistency: a flipped byte inside the key material can still parse.
    const algorithm = probeAlgorithm(privateKey.spec);
    const digest = new Uint8Array(32).fill(0x5a);
    let consistent: boolean;
    try {
      consistent = verifyDigest(privateKey.publicKey, algorithm, digest, signDigest(privateKey, algorithm, digest));
    } catch {
      consistent = false;
    }
    if (!consistent) {
      plaintext.fill(0);
      throw invalidParameter(parameter, DAMAGED);
    }
    if (options.spec !== undefined && privateKey.spec !== options.spec) {
      plaintext.fill(0);
      throw invalidParameter(parameter, `is a ${privateKey.spec} key, expected ${options.spec}`);
    }
  } finally {
    privateKey.wipe();
  }
  return plaintext;
}
