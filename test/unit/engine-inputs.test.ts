// Every bad input gets a KmsError with its Code and a message naming the problem: never a crash
// (TypeError, RangeError, a library's own error) and never a wrong "valid".
import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { KmsError, type ErrorCode } from '../../core/contract/errors.ts';
import { ASYMMETRIC_KEY_SPECS, type KeySpec } from '../../core/contract/specs.ts';
import { curveOrder, curvePrime } from '../../core/crypto/curves.ts';
import { decodeSm2Ciphertext, encodeRsSignature, encodeSm2Ciphertext } from '../../core/crypto/der.ts';
import {
  decrypt,
  digestMessage,
  encrypt,
  generateKey,
  importPrivateKey,
  importPublicKey,
  publicKeyPem,
  signDigest,
  verifyDigest,
  type PrivateKey,
} from '../../core/crypto/engine.ts';
import { sha256 } from '../../core/crypto/hash.ts';

function kmsErrorOf(fn: () => unknown): KmsError {
  try {
    fn();
  } catch (error) {
    if (error instanceof KmsError) return error;
    throw new Error(`expected a KmsError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a KmsError, but the call succeeded');
}

function expectError(fn: () => unknown, code: ErrorCode, message: RegExp): void {
  const error = kmsErrorOf(fn);
  expect(error.code).toBe(code);
  expect(error.message).toMatch(message);
}

const keys = {} as Record<KeySpec, PrivateKey>;
const digest = sha256(new TextEncoder().encode('release-1.0.tar.gz'));

beforeAll(async () => {
  for (const spec of ASYMMETRIC_KEY_SPECS) keys[spec] = await generateKey(spec);
});

describe('algorithm for spec', () => {
  it('refuses an algorithm the spec does not have, naming the valid ones', () => {
    expectError(() => signDigest(keys.EC_P256, 'RSA_PSS_SHA_256', digest), 'InvalidParameter', /RSA_PSS_SHA_256 is not valid for EC_P256 .*valid: ECDSA_SHA_256/);
    expectError(() => signDigest(keys.RSA_2048, 'SM2DSA', digest), 'InvalidParameter', /valid: RSA_PSS_SHA_256, RSA_PKCS1_SHA_256/);
    expectError(() => encrypt(keys.EC_P256K.publicKey, 'RSAES_OAEP_SHA_256', new Uint8Array(4)), 'InvalidParameter', /valid: none/);
    expectError(() => signDigest(keys.RSA_2048, 'RSAES_OAEP_SHA_256', digest), 'InvalidParameter', /^Algorithm: RSAES_OAEP_SHA_256 is not valid/);
    expectError(() => decrypt(keys.EC_SM2, 'SM2DSA', new Uint8Array(100)), 'InvalidParameter', /valid: SM2PKE/);
    expectError(() => signDigest(keys.EC_SM2, 42, digest), 'InvalidParameter', /number is not valid/);
  });
});

describe('Digest', () => {
  it.each([0, 20, 31, 33, 64])('refuses a %i-byte digest for every spec', (length) => {
    for (const spec of ASYMMETRIC_KEY_SPECS) {
      const alg = spec.startsWith('RSA') ? 'RSA_PKCS1_SHA_256' : spec === 'EC_SM2' ? 'SM2DSA' : 'ECDSA_SHA_256';
      expectError(() => signDigest(keys[spec], alg, new Uint8Array(length)), 'InvalidParameter', new RegExp(`^Digest: must be the 32-byte .* got ${length} bytes`));
      expectError(() => verifyDigest(keys[spec].publicKey, alg, new Uint8Array(length), new Uint8Array(8)), 'InvalidParameter', /^Digest:/);
    }
  });
});

describe('signatures that are not what they claim', () => {
  const ecSpecs = [
    ['EC_P256', 'ECDSA_SHA_256', 'P-256'],
    ['EC_P256K', 'ECDSA_SHA_256', 'secp256k1'],
    ['EC_SM2', 'SM2DSA', 'SM2'],
  ] as const;

  it.each(ecSpecs)('%s: trailing garbage, BER lengths, negative and non-minimal integers are InvalidParameter', (spec, alg) => {
    const good = signDigest(keys[spec], alg, digest);
    expect(verifyDigest(keys[spec].publicKey, alg, digest, good)).toBe(true);
    expectError(() => verifyDigest(keys[spec].publicKey, alg, digest, Uint8Array.from([...good, 0])), 'InvalidParameter', /not canonical DER/);
    const longForm = Uint8Array.from([0x30, 0x81, good[1]!, ...good.subarray(2)]);
    expectError(() => verifyDigest(keys[spec].publicKey, alg, digest, longForm), 'InvalidParameter', /not canonical DER/);
    expectError(() => verifyDigest(keys[spec].publicKey, alg, digest, Uint8Array.from([0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01])), 'InvalidParameter', /r is negative/);
    expectError(() => verifyDigest(keys[spec].publicKey, alg, digest, Uint8Array.from([0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01])), 'InvalidParameter', /non-minimal/);
    expectError(() => verifyDigest(keys[spec].publicKey, alg, digest, Uint8Array.from([0x04, 0x02, 0x01, 0x01])), 'InvalidParameter', /not a DER-encoded signature/);
    expectError(() => verifyDigest(keys[spec].publicKey, alg, digest, new Uint8Array(0)), 'InvalidParameter', /empty/);
  });

  it.each(ecSpecs)('%s: r or s of 0 or >= n is invalid, not an error and never valid', (spec, alg, curve) => {
    const n = curveOrder(curve);
    for (const [r, s] of [
      [0n, 1n],
      [1n, 0n],
      [n, 1n],
      [1n, n],
      [n + 1n, n - 1n],
    ] as const) {
      expect(verifyDigest(keys[spec].publicKey, alg, digest, encodeRsSignature({ r, s }))).toBe(false);
    }
  });

  it('RSA: a signature of the wrong length or >= n is invalid', () => {
    for (const spec of ['RSA_2048', 'RSA_4096'] as const) {
      const good = signDigest(keys[spec], 'RSA_PSS_SHA_256', digest);
      expect(verifyDigest(keys[spec].publicKey, 'RSA_PSS_SHA_256', digest, good)).toBe(true);
      expect(verifyDigest(keys[spec].publicKey, 'RSA_PSS_SHA_256', digest, good.subarray(1))).toBe(false);
      expect(verifyDigest(keys[spec].publicKey, 'RSA_PSS_SHA_256', digest, Uint8Array.from([0, ...good]))).toBe(false);
      expect(verifyDigest(keys[spec].publicKey, 'RSA_PKCS1_SHA_256', digest, new Uint8Array(good.length).fill(0xff))).toBe(false);
      // A PSS signature does not pass as PKCS#1 v1.5, nor the other way round.
      expect(verifyDigest(keys[spec].publicKey, 'RSA_PKCS1_SHA_256', digest, good)).toBe(false);
      const pkcs1 = signDigest(keys[spec], 'RSA_PKCS1_SHA_256', digest);
      expect(verifyDigest(keys[spec].publicKey, 'RSA_PSS_SHA_256', digest, pkcs1)).toBe(false);
    }
  });

  it('a signature by another key of the same spec, or over another digest, is invalid for every spec', async () => {
    for (const spec of ASYMMETRIC_KEY_SPECS) {
      const other = await generateKey(spec);
      const alg = spec.startsWith('RSA') ? 'RSA_PSS_SHA_256' : spec === 'EC_SM2' ? 'SM2DSA' : 'ECDSA_SHA_256';
      const sig = signDigest(other, alg, digest);
      expect(verifyDigest(keys[spec].publicKey, alg, digest, sig)).toBe(false);
      expect(verifyDigest(other.publicKey, alg, sha256(new Uint8Array([1])), sig)).toBe(false);
    }
  });
});

describe('encryption inputs', () => {
  it('names the limit when the plaintext is too long, and refuses an empty one', () => {
    expectError(() => encrypt(keys.RSA_2048.publicKey, 'RSAES_OAEP_SHA_256', new Uint8Array(191)), 'InvalidParameter', /191 bytes; RSA_2048 with RSAES_OAEP_SHA_256 takes at most 190 bytes/);
    expectError(() => encrypt(keys.RSA_4096.publicKey, 'RSAES_OAEP_SHA_1', new Uint8Array(471)), 'InvalidParameter', /at most 470 bytes/);
    expectError(() => encrypt(keys.EC_SM2.publicKey, 'SM2PKE', new Uint8Array(6048)), 'InvalidParameter', /at most 6047 bytes/);
    expectError(() => encrypt(keys.EC_SM2.publicKey, 'SM2PKE', new Uint8Array(0)), 'InvalidParameter', /^Plaintext: is empty/);
    expect(decrypt(keys.EC_SM2, 'SM2PKE', encrypt(keys.EC_SM2.publicKey, 'SM2PKE', new Uint8Array(6047).fill(7)))).toEqual(new Uint8Array(6047).fill(7));
  });

  it('RSA: tampered, truncated, or other-algorithm ciphertext is one uniform InvalidParameter', () => {
    const ct = encrypt(keys.RSA_3072.publicKey, 'RSAES_OAEP_SHA_256', new TextEncoder().encode('secret'));
    const tampered = ct.slice();
    tampered[100]! ^= 1;
    expectError(() => decrypt(keys.RSA_3072, 'RSAES_OAEP_SHA_256', tampered), 'InvalidParameter', /^CiphertextBlob: cannot be decrypted/);
    expectError(() => decrypt(keys.RSA_3072, 'RSAES_OAEP_SHA_1', ct), 'InvalidParameter', /^CiphertextBlob: cannot be decrypted/);
    expectError(() => decrypt(keys.RSA_3072, 'RSAES_OAEP_SHA_256', ct.subarray(1)), 'InvalidParameter', /exactly 384 bytes/);
    expectError(() => decrypt(keys.RSA_2048, 'RSAES_OAEP_SHA_256', ct), 'InvalidParameter', /exactly 256 bytes/);
  });

  it('SM2: tampered C2/C3, off-curve or out-of-field C1, bad C3 length and BER are refused', () => {
    const pt = new TextEncoder().encode('attack at dawn');
    const ct = encrypt(keys.EC_SM2.publicKey, 'SM2PKE', pt);
    expect(decrypt(keys.EC_SM2, 'SM2PKE', ct)).toEqual(pt);
    const parts = decodeSm2Ciphertext(ct);
    const c2 = parts.c2.slice();
    c2[0]! ^= 1;
    expectError(() => decrypt(keys.EC_SM2, 'SM2PKE', encodeSm2Ciphertext({ ...parts, c2 })), 'InvalidParameter', /cannot be decrypted/);
    const c3 = parts.c3.slice();
    c3[31]! ^= 1;
    expectError(() => decrypt(keys.EC_SM2, 'SM2PKE', encodeSm2Ciphertext({ ...parts, c3 })), 'InvalidParameter', /cannot be decrypted/);
    expectError(() => decrypt(keys.EC_SM2, 'SM2PKE', encodeSm2Ciphertext({ ...parts, y: parts.y ^ 1n })), 'InvalidParameter', /not a valid point on SM2/);
    expectError(() => decrypt(keys.EC_SM2, 'SM2PKE', encodeSm2Ciphertext({ ...parts, x: curvePrime('SM2') })), 'InvalidParameter', /exceed the field/);
    expectError(() => decrypt(keys.EC_SM2, 'SM2PKE', encodeSm2Ciphertext({ ...parts, c3: parts.c3.subarray(1) })), 'InvalidParameter', /C3 must be 32 bytes/);
    expectError(() => decrypt(keys.EC_SM2, 'SM2PKE', encodeSm2Ciphertext({ ...parts, c2: new Uint8Array(0) })), 'InvalidParameter', /C2 is empty/);
    expectError(() => decrypt(keys.EC_SM2, 'SM2PKE', Uint8Array.from([...ct, 0])), 'InvalidParameter', /not canonical DER/);
    expectError(() => decrypt(keys.EC_SM2, 'SM2PKE', ct.subarray(0, ct.length - 1)), 'InvalidParameter', /not a DER-encoded SM2 ciphertext/);
    // The raw C1||C3||C2 layout (sm-crypto's default) is not the contract's encoding.
    expectError(() => decrypt(keys.EC_SM2, 'SM2PKE', Uint8Array.from([0x04, ...parts.c3, ...parts.c2])), 'InvalidParameter', /DER/);
  });
});

describe('public keys', () => {
  it('reads PEM and DER SubjectPublicKeyInfo of every spec and finds the spec', () => {
    for (const spec of ASYMMETRIC_KEY_SPECS) {
      expect(importPublicKey(keys[spec].publicKey.spki).spec).toBe(spec);
      expect(importPublicKey(publicKeyPem(keys[spec].publicKey)).spec).toBe(spec);
    }
  });

  it('refuses an off-curve point, infinity, a compressed point with no square root, and a truncated key', () => {
    const spki = keys.EC_P256.publicKey.spki.slice();
    spki[spki.length - 1]! ^= 1;
    expectError(() => importPublicKey(spki), 'InvalidParameter', /not a valid point on P-256/);
    const sm2 = keys.EC_SM2.publicKey.spki.slice();
    sm2[sm2.length - 1]! ^= 1;
    expectError(() => importPublicKey(sm2), 'InvalidParameter', /not a valid point on SM2/);
    expectError(() => importPublicKey(keys.EC_P256K.publicKey.spki.subarray(0, 40)), 'InvalidParameter', /PublicKey/);
    expectError(() => importPublicKey(Uint8Array.from([...keys.RSA_2048.publicKey.spki, 0])), 'InvalidParameter', /not canonical DER/);
  });

  it('refuses keys outside the contract: P-384, RSA-1024, explicit curve parameters, Ed25519', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'der', type: 'spki' });
    expectError(() => importPublicKey(new Uint8Array(p384)), 'InvalidParameter', /curve 1\.3\.132\.0\.34 is not P-256, secp256k1 or SM2/);
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'der', type: 'spki' });
    expectError(() => importPublicKey(new Uint8Array(rsa1024)), 'InvalidParameter', /1024 bits is not one of 2048, 3072, 4096/);
    const explicit = generateKeyPairSync('ec', { namedCurve: 'P-256', paramEncoding: 'explicit' }).publicKey.export({ format: 'der', type: 'spki' });
    expectError(() => importPublicKey(new Uint8Array(explicit)), 'InvalidParameter', /explicit EC curve parameters/);
    const ed = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
    expectError(() => importPublicKey(new Uint8Array(ed)), 'InvalidParameter', /not id-ecPublicKey/);
  });

  it('refuses PEM with another label, mismatched armour, or junk', () => {
    const pem = publicKeyPem(keys.EC_P256.publicKey);
    expectError(() => importPublicKey(pem.replaceAll('PUBLIC KEY', 'RSA PUBLIC KEY')), 'InvalidParameter', /"RSA PUBLIC KEY" block; expected "PUBLIC KEY"/);
    expectError(() => importPublicKey(pem.replace('END PUBLIC KEY', 'END PRIVATE KEY')), 'InvalidParameter', /does not match/);
    expectError(() => importPublicKey(pem.replace(/\n[A-Za-z0-9]/, '\n!')), 'InvalidParameter', /PEM|base64/);
    expectError(() => importPublicKey('hello'), 'InvalidParameter', /PEM text or DER/);
    expectError(() => importPublicKey(new Uint8Array([1, 2, 3])), 'InvalidParameter', /not a DER-encoded SubjectPublicKeyInfo/);
  });
});

describe('private keys', () => {
  it('round-trips PKCS#8 for every spec, and signs the same as the original', () => {
    for (const spec of ASYMMETRIC_KEY_SPECS) {
      const copy = importPrivateKey(keys[spec].exportPkcs8(), spec);
      expect(copy.publicKey.spki).toEqual(keys[spec].publicKey.spki);
    }
    const copy = importPrivateKey(keys.RSA_2048.exportPkcs8());
    expect(signDigest(copy, 'RSA_PKCS1_SHA_256', digest)).toEqual(signDigest(keys.RSA_2048, 'RSA_PKCS1_SHA_256', digest));
  });

  it('refuses a key of another spec than asked, garbage, and a PKCS#8 whose embedded public key lies', () => {
    expectError(() => importPrivateKey(keys.EC_P256.exportPkcs8(), 'EC_P256K'), 'InvalidParameter', /is a EC_P256 key, expected EC_P256K/);
    expectError(() => importPrivateKey(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00])), 'InvalidParameter', /PKCS#8/);
    // Splice P-256 key B's public point into key A's PKCS#8: the pair no longer matches.
    const a = keys.EC_P256.exportPkcs8();
    const bPoint = keys.EC_P256.publicKey.spki.subarray(-65);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'der', type: 'spki' }).subarray(-65);
    const idx = Buffer.from(a).indexOf(Buffer.from(bPoint));
    expect(idx).toBeGreaterThan(0);
    const lying = a.slice();
    lying.set(other, idx);
    expectError(() => importPrivateKey(lying), 'InvalidParameter', /embedded public key does not match/);
  });

  it('a wiped key refuses to work with Vault.Locked', async () => {
    for (const spec of ['EC_P256', 'EC_SM2', 'RSA_2048'] as const) {
      const key = await generateKey(spec);
      key.wipe();
      const alg = spec === 'RSA_2048' ? 'RSA_PKCS1_SHA_256' : spec === 'EC_SM2' ? 'SM2DSA' : 'ECDSA_SHA_256';
      expectError(() => signDigest(key, alg, digest), 'Vault.Locked', /wiped/);
    }
  });
});

describe('message digests', () => {
  it('is SHA-256(M) for RSA and ECDSA and differs by key for SM2DSA (Z_A)', async () => {
    const msg = new TextEncoder().encode('abc');
    expect(await digestMessage(keys.EC_P256.publicKey, 'ECDSA_SHA_256', msg)).toEqual(sha256(msg));
    expect(await digestMessage(keys.RSA_2048.publicKey, 'RSA_PSS_SHA_256', msg)).toEqual(sha256(msg));
    const other = await generateKey('EC_SM2');
    const a = await digestMessage(keys.EC_SM2.publicKey, 'SM2DSA', msg);
    const b = await digestMessage(other.publicKey, 'SM2DSA', msg);
    expect(a).not.toEqual(b);
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (const part of [msg.subarray(0, 1), msg.subarray(1)]) yield await Promise.resolve(part);
    }
    const seen: number[] = [];
    expect(await digestMessage(keys.EC_SM2.publicKey, 'SM2DSA', chunks(), (n) => seen.push(n))).toEqual(a);
    expect(seen).toEqual([1, 3]);
  });
});
