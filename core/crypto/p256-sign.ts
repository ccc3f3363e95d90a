// Digest-mode ECDSA signing over P-256 with OpenSSL doing the costly steps.
//
// noble signs P-256 at ~2,000/s in pure JavaScript. Here the two expensive operations go to the
// OpenSSL (or BoringSSL, in Electron) that node:crypto links:
// - R = k·G is node:crypto's ECDH `setPrivateKey(k)` + `getPublicKey()`: the library's fixed-base
//   scalar multiplication (on x86-64 OpenSSL, ecp_nistz256: constant time, precomputed table of G).
// - k⁻¹ mod n is one modular exponentiation k^(n-2) mod n (Fermat; n is prime) through an RSA
//   *public* operation whose modulus is n and whose exponent is n-2. The exponent is public, so the
//   exponentiation's sequence of operations does not depend on a secret; its base is blinded: we
//   invert k·b for a fresh random b and multiply by b afterwards, so the value the library sees is
//   uniformly random and independent of k. Where the library refuses such a key (BoringSSL caps
//   RSA exponents at 33 bits) the inversion falls back to BigInt's extended Euclid on the same
//   blinded value.
// - Several signatures made together share one inversion (Montgomery's trick), blinded the same way.
//
// The nonce is RFC 6979's HMAC-DRBG (SHA-256) with the "additional data" of section 3.6: 32 fresh
// random bytes per signature, so it is hedged: deterministic security if the random source fails,
// and no repeated k from a repeated (key, digest) even if the DRBG state were observed. Nothing is
// precomputed: every k is derived inside the call that uses it.
//
// What this does not hide (as noble does not): the final s = k⁻¹·(e + r·d) mod n is BigInt
// arithmetic, whose running time may depend on the operands' lengths. BigInts cannot be wiped; the
// nonce's byte buffers are zeroed after use.
import { constants, createECDH, createPublicKey, getCurves, publicEncrypt, randomFillSync, type ECDH, type KeyObject } from 'node:crypto';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';
import { hmacSha256 } from './hmac.ts';

const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const HALF_N = N >> 1n;

export interface RsValues {
  r: bigint;
  s: bigint;
}

/** A scalar mod n as the 32 big-endian bytes of RFC 6979's int2octets. */
const to32 = (value: bigint): Uint8Array => numberToBytesBE(value, 32);

const TAG_0 = Buffer.of(0x00);
const TAG_1 = Buffer.of(0x01);

/**
 * RFC 6979 section 3.2 steps b-h with SHA-256 for a 256-bit order, plus section 3.6's additional
 * data. Yields candidate nonces k in [1, n-1]; the caller asks for another only when r or s is 0.
 */
export class NonceDrbg {
  private k: Buffer;
  private v: Buffer = Buffer.alloc(32, 1);

  constructor(secret: Uint8Array, digest: Uint8Array, additional: Uint8Array) {
    const h = bytesToNumberBE(digest);
    const h1 = to32(h >= N ? h - N : h); // bits2octets: the digest reduced mod n
    this.k = hmacSha256(Buffer.alloc(32, 0), this.v, TAG_0, secret, h1, additional);
    this.v = hmacSha256(this.k, this.v);
    this.k = hmacSha256(this.k, this.v, TAG_1, secret, h1, additional);
    this.v = hmacSha256(this.k, this.v);
    h1.fill(0);
  }

  /** The next k in [1, n-1] as 32 bytes (step h; out-of-range candidates are skipped as 3.2 h.3 says). */
  next(): Buffer {
    for (;;) {
      this.v = hmacSha256(this.k, this.v);
      const candidate = bytesToNumberBE(this.v);
      if (candidate >= 1n && candidate < N) return Buffer.from(this.v);
      this.reseed();
    }
  }

  /** Step h.3: K = HMAC_K(V || 0x00), V = HMAC_K(V). */
  reseed(): void {
    this.k = hmacSha256(this.k, this.v, TAG_0);
    this.v = hmacSha256(this.k, this.v);
  }

  wipe(): void {
    this.k.fill(0);
    this.v.fill(0);
  }
}

// ---- inversion mod n
/** The BigInt route (exported for its test; used when the library refuses the exponent). */
export function euclidInverse(a: bigint): bigint {
  let [r0, r1] = [N, a];
  let [x0, x1] = [0n, 1n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [x0, x1] = [x1, x0 - q * x1];
  }
  return x0 < 0n ? x0 + N : x0;
}

function fermatKey(): KeyObject | undefined {
  try {
    const b64 = (v: bigint): string => Buffer.from(to32(v)).toString('base64url');
    const key = createPublicKey({ key: { kty: 'RSA', n: b64(N), e: b64(N - 2n) }, format: 'jwk' });
    const probe = 0x1234567890abcdefn;
    return (libraryPower(key, probe) * probe) % N === 1n ? key : undefined;
  } catch {
    return undefined;
  }
}

function libraryPower(key: KeyObject, base: bigint): bigint {
  return bytesToNumberBE(publicEncrypt({ key, padding: constants.RSA_NO_PADDING }, to32(base)));
}

let fermat: KeyObject | null | undefined;

/** a⁻¹ mod n for a in [1, n-1]; a must already be blinded (uniformly random). */
function invertBlinded(a: bigint): bigint {
  if (fermat === undefined) fermat = fermatKey() ?? null;
  return fermat ? libraryPower(fermat, a) : euclidInverse(a);
}

function randomScalar(): bigint {
  const bytes = randomFillSync(Buffer.allocUnsafe(40)); // 320 bits reduced mod n: bias < 2^-64
  const value = (bytesToNumberBE(bytes) % (N - 1n)) + 1n;
  bytes.fill(0);
  return value;
}

/** Inverses of every value in one blinded library inversion (Montgomery's trick). */
export function invertAll(values: readonly bigint[]): bigint[] {
  const prefix: bigint[] = new Array<bigint>(values.length);
  let acc = 1n;
  for (let i = 0; i < values.length; i++) {
    acc = (acc * values[i]!) % N;
    prefix[i] = acc;
  }
  const blind = randomScalar();
  let inv = (invertBlinded((acc * blind) % N) * blind) % N;
  const out: bigint[] = new Array<bigint>(values.length);
  for (let i = values.length - 1; i > 0; i--) {
    out[i] = (inv * prefix[i - 1]!) % N;
    inv = (inv * values[i]!) % N;
  }
  out[0] = inv;
  return out;
}

// ---- signing
let ecdh: ECDH | null | undefined;

/** Whether this runtime's library has P-256 for the fast path (OpenSSL and BoringSSL both do). */
export function fastP256Available(): boolean {
  if (ecdh === undefined) ecdh = getCurves().includes('prime256v1') ? createECDH('prime256v1') : null;
  return ecdh !== null;
}

export interface DigestSignRequest {
  /** The private scalar d as 32 big-endian bytes and as a number. */
  secret: Uint8Array;
  d: bigint;
  /** The 32-byte digest (SHA-256 of the message). */
  digest: Uint8Array;
}

interface Prepared {
  k: bigint;
  r: bigint;
  e: bigint;
  d: bigint;
  drbg: NonceDrbg;
}

function commitment(drbg: NonceDrbg): { k: bigint; r: bigint } {
  for (;;) {
    const kBytes = drbg.next();
    ecdh!.setPrivateKey(kBytes);
    const point = ecdh!.getPublicKey();
    const k = bytesToNumberBE(kBytes);
    kBytes.fill(0);
    const x = bytesToNumberBE(point.subarray(1, 33));
    const r = x >= N ? x - N : x;
    if (r !== 0n) return { k, r };
    drbg.reseed();
  }
}

/**
 * Signs each digest; the nonces' inversions are shared (one library call for the lot). Returns
 * low-S (r, s) pairs in request order. Throws when the fast path is unavailable.
 */
export function signP256Digests(requests: readonly DigestSignRequest[], additional?: (i: number) => Uint8Array): RsValues[] {
  if (!fastP256Available()) throw new Error('P-256 is not available in this runtime');
  const prepared: Prepared[] = requests.map((req, i) => {
    const extra = additional ? additional(i) : randomFillSync(Buffer.allocUnsafe(32));
    const secret = req.secret.length === 32 ? req.secret : to32(req.d); // int2octets(x)
    const drbg = new NonceDrbg(secret, req.digest, extra);
    if (secret !== req.secret) secret.fill(0);
    if (!additional) extra.fill(0);
    const e = bytesToNumberBE(req.digest) % N;
    return { ...commitment(drbg), e, d: req.d, drbg };
  });
  for (;;) {
    const inverses = invertAll(prepared.map((p) => p.k));
    const out: RsValues[] = [];
    let retry = -1;
    for (let i = 0; i < prepared.length && retry < 0; i++) {
      const p = prepared[i]!;
      const s = (inverses[i]! * ((p.e + p.r * p.d) % N)) % N;
      if (s === 0n) retry = i;
      else out.push({ r: p.r, s: s > HALF_N ? N - s : s });
    }
    if (retry < 0) {
      for (const p of prepared) p.drbg.wipe();
      return out;
    }
    // s = 0 (probability ~2^-256): RFC 6979 3.2 h.3, the next candidate for that signature
    const p = prepared[retry]!;
    p.drbg.reseed();
    Object.assign(p, commitment(p.drbg));
  }
}

/**
 * Overwrites the library's copy of the last nonce (with the last signature it would give the key
 * away). Called when a key is wiped (lock, forget), not after every signature: while the key is
 * open it sits in the same memory anyway.
 */
export function scrubNonceState(): void {
  if (ecdh) ecdh.setPrivateKey(to32(1n));
}

export function signP256Digest(request: DigestSignRequest): RsValues {
  return signP256Digests([request])[0]!;
}

/** For tests: which inversion the runtime uses. */
export function inversionRoute(): 'library' | 'euclid' {
  if (fermat === undefined) fermat = fermatKey() ?? null;
  return fermat ? 'library' : 'euclid';
}

export const P256_ORDER = N;
