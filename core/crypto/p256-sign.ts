// Digest-mode ECDSA signing over P-256 with OpenSSL doing the costly steps.
//
// noble signs P-256 at ~2,000/s in pure JavaScript. Here the work is split three ways:
// - R = k·G is node:crypto's ECDH `setPrivateKey(k)` + `getPublicKey()`: the library's fixed-base
//   scalar multiplication (on x86-64 OpenSSL, ecp_nistz256: constant time, precomputed table of G),
//   in OpenSSL or, in Electron, BoringSSL.
// - Everything else mod n that touches a secret is WebAssembly written here (p256-inverse.wat):
//   k⁻¹ by a constant-time safegcd (Bernstein-Yang), and s = k⁻¹·(e + r·d) by Montgomery
//   products, all a fixed sequence of instructions whatever the values. The inversion is blinded:
//   the module inverts b·k for 32 fresh random bytes b and multiplies by b afterwards, so the value
//   inverted is (within about 2^-32) uniformly random and independent of k. The module checks its
//   inversion and each s it writes (k·s = e + r·d), and gives no s when a check fails. Several signatures made together share one
//   inversion (Montgomery's trick), blinded the same way.
// - Where WebAssembly is off (Electron with V8 --jitless) the same steps run on BigInt (invertAll:
//   Euclid on the blinded value, then products mod n), whose time may depend on the operands.
//
// The nonce is RFC 6979's HMAC-DRBG (SHA-256) with the "additional data" of section 3.6: 32 fresh
// random bytes per signature, so it is hedged: deterministic security if the random source fails,
// and no repeated k from a repeated (key, digest) even if the DRBG state were observed. Nothing is
// precomputed: every k is derived inside the call that uses it.
//
// What passes through BigInt: nothing, where WebAssembly runs. r and s stay bytes to the DER
// encoding (going through BigInt for the low-S step and the encoding cost ~2 µs a signature), and
// the DRBG's candidate test and bits2octets work on bytes. What cannot be wiped: the strings one-shot
// hashing returns (the DRBG's K and V pass through them). The nonces' bytes, the DRBGs' buffers,
// the random bytes and the module's memory are zeroed after use, whether the call signs or throws.
import { createECDH, hash, randomFillSync, type ECDH } from 'node:crypto';
import { OPENSSL_CURVE, SCALAR_ONE, libraryHasCurve } from './curves.ts';
import { bigintToBytes, bytesToBigint } from './der.ts';
import { MAX_SIGNATURE_JOBS, signatureScalars, wasmInverseAvailable, type SignatureJob } from './p256-inverse.ts';

const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** A signature's r and s, each as 32 big-endian bytes (r in [1, n-1], s in [1, (n-1)/2]: low-S). */
export interface RsBytes {
  r: Buffer;
  s: Buffer;
}

/** A scalar mod n as the 32 big-endian bytes of RFC 6979's int2octets. */
const to32 = (value: bigint): Buffer => bigintToBytes(value, 32);
const N_BYTES = to32(N);
const HALF_N_BYTES = to32(N >> 1n);

/**
 * out = a − b over 32 big-endian bytes; returns the borrow: 1 when a < b. The same steps whatever
 * the values (the nonce candidates pass through it), and no BigInt: two conversions to BigInt were
 * ~1 µs of a signature's 28.
 */
function subtract(a: Uint8Array, b: Uint8Array, out: Uint8Array): number {
  let borrow = 0;
  for (let i = 31; i >= 0; i--) {
    const d = a[i]! - b[i]! - borrow;
    out[i] = d & 0xff;
    borrow = (d >> 8) & 1;
  }
  return borrow;
}

/** out = a − n; 1 when a < n. */
const subtractN = (a: Uint8Array, out: Uint8Array): number => subtract(a, N_BYTES, out);

/**
 * The low-S form of a public s in [1, n-1]: s itself up to (n-1)/2, else n - s (a new buffer).
 * (The comparison takes variable time: s is the signature's.)
 */
function lowS(s: Buffer): Buffer {
  if (s.compare(HALF_N_BYTES) <= 0) return s;
  const out = Buffer.allocUnsafe(32);
  subtract(N_BYTES, s, out);
  return out;
}

/** Whether public bytes are all zero (r or s of 0: RFC 6979 3.2 h.3 asks for another k). */
const isZero = (bytes: Uint8Array): boolean => bytes.every((b) => b === 0);

/** subtractN's output when only the borrow is wanted (zeroed after each use). */
const difference = Buffer.alloc(32);

/** Whether 32 big-endian bytes are a scalar in [1, n-1] (RFC 6979 3.2 h.3's test of a candidate k). */
export function isScalar(bytes: Uint8Array): boolean {
  let any = 0;
  for (let i = 0; i < 32; i++) any |= bytes[i]!;
  const below = subtractN(bytes, difference);
  difference.fill(0);
  return ((-any >>> 31) & below) === 1;
}

/** HMAC-SHA-256's block; K is 32 bytes, so its pads are K XOR ipad/opad then 32 constant bytes. */
const BLOCK = 64;
/** Where the message starts in the inner block: ipad-key ‖ V ‖ tag ‖ x ‖ h1 ‖ additional. */
const TAIL = BLOCK + 32;
/** The longest tail: the tag, x, h1 and 32 bytes of additional data. */
const SEED_TAIL = 1 + 32 + 32 + 32;

/**
 * RFC 6979 section 3.2 steps b-h with SHA-256 for a 256-bit order, plus section 3.6's additional
 * data. Yields candidate nonces k in [1, n-1]; the caller asks for another only when r or s is 0.
 *
 * Each step is an HMAC-SHA-256 over V and a short tail, written here over two buffers the DRBG
 * owns (RFC 2104 from two one-shot hashes, as core/crypto/hmac.ts does): the five HMACs of a
 * nonce cost ~0.65 µs each this way against ~1.05 µs through the general hmac().
 */
export class NonceDrbg {
  /** K, V, the inner and the outer block, in one allocation (four cost ~0.7 µs more a nonce). */
  private readonly state = Buffer.alloc(64 + TAIL + SEED_TAIL + BLOCK + 32);
  private readonly k = this.state.subarray(0, 32);
  private readonly v = this.state.subarray(32, 64).fill(1);
  private readonly inner = this.state.subarray(64, 64 + TAIL + SEED_TAIL).fill(0x36);
  private readonly outer = this.state.subarray(64 + TAIL + SEED_TAIL).fill(0x5c);
  private wiped = false;

  constructor(secret: Uint8Array, digest: Uint8Array, additional: Uint8Array) {
    if (secret.length !== 32 || digest.length !== 32 || additional.length > 32) throw new RangeError('RFC 6979 here: x and the digest are 32 bytes, the additional data at most 32');
    const seed = 65 + additional.length;
    this.inner.set(secret, TAIL + 1);
    // bits2octets: the digest reduced mod n (a 256-bit digest is below 2n: one subtraction)
    const h1 = this.inner.subarray(TAIL + 33, TAIL + 65);
    if (subtractN(digest, h1) === 1) h1.set(digest);
    this.inner.set(additional, TAIL + 65);
    this.step(this.k, 0x00, seed); // K = HMAC_K(V || 0x00 || x || h1 || extra)
    this.step(this.v); // V = HMAC_K(V)
    this.step(this.k, 0x01, seed); // K = HMAC_K(V || 0x01 || x || h1 || extra)
    this.step(this.v);
    this.inner.fill(0, TAIL);
  }

  /** target = HMAC_K(V || tag || the next tailLength - 1 bytes of the tail); tailLength 0: HMAC_K(V). */
  private step(target: Buffer, tag = 0, tailLength = 0): void {
    if (this.wiped) throw new Error('RFC 6979 DRBG used after wipe()');
    const { k, inner, outer } = this;
    for (let i = 0; i < 32; i++) {
      inner[i] = k[i]! ^ 0x36;
      outer[i] = k[i]! ^ 0x5c;
    }
    this.v.copy(inner, BLOCK);
    inner[TAIL] = tag;
    outer.write(hash('sha256', inner.subarray(0, TAIL + tailLength), 'binary'), BLOCK, 'binary');
    target.write(hash('sha256', outer, 'binary'), 0, 'binary');
  }

  /** The next k in [1, n-1] as 32 bytes (step h; out-of-range candidates are skipped as 3.2 h.3 says). */
  next(): Buffer {
    for (;;) {
      this.step(this.v);
      if (isScalar(this.v)) return Buffer.from(this.v);
      this.reseed();
    }
  }

  /** Step h.3: K = HMAC_K(V || 0x00), V = HMAC_K(V). */
  reseed(): void {
    this.step(this.k, 0x00, 1);
    this.step(this.v);
  }

  /** Zeroes the state (its constant pads too): the DRBG refuses to run after this. */
  wipe(): void {
    this.wiped = true;
    this.state.fill(0);
  }
}

// ---- inversion mod n
/** The BigInt route (exported for its test; used where WebAssembly is off). */
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

/**
 * Random bytes a blinding factor is made of. BigInt: 320 bits reduced mod n-1, a bias below
 * 2^-64. The WebAssembly module takes the first 32 as b, used mod n: b·k is then within about
 * 2^-32 of uniform (b = 0 mod n, probability about 2^-255, fails the module's check).
 */
const BLIND_BYTES = 40;

/** A blinding factor in [1, n-1] from BLIND_BYTES random bytes (zeroed after). */
function randomScalar(bytes: Uint8Array): bigint {
  const value = (bytesToBigint(bytes) % (N - 1n)) + 1n;
  bytes.fill(0);
  return value;
}

/**
 * Inverses of every value in one blinded inversion (Montgomery's trick), on BigInt: the route
 * where WebAssembly is off (scalarsByBigint), so the blinded value is inverted by Euclid. `random`
 * is BLIND_BYTES fresh random bytes for the blinding factor (drawn here when absent); they are
 * zeroed.
 */
export function invertAll(values: readonly bigint[], random?: Uint8Array): bigint[] {
  const prefix: bigint[] = new Array<bigint>(values.length);
  let acc = 1n;
  for (let i = 0; i < values.length; i++) {
    acc = (acc * values[i]!) % N;
    prefix[i] = acc;
  }
  const blind = randomScalar(random ?? randomFillSync(Buffer.allocUnsafe(BLIND_BYTES)));
  let inv = (euclidInverse((acc * blind) % N) * blind) % N;
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
  if (ecdh === undefined) ecdh = libraryHasCurve('P-256') ? createECDH(OPENSSL_CURVE['P-256']) : null;
  return ecdh !== null;
}

export interface DigestSignRequest {
  /**
   * The private scalar d as 32 big-endian bytes (RFC 6979's int2octets(x)). No copy of it as a
   * number is kept: a BigInt cannot be wiped when the key is.
   */
  secret: Uint8Array;
  /** The 32-byte digest (SHA-256 of the message). */
  digest: Uint8Array;
}

/**
 * A signature on its way: its job for signatureScalars (k, zeroed when the call ends; the
 * x-coordinate of k·G; the digest as e; int2octets(d) as d), r = x mod n, and its nonce's DRBG.
 */
interface Prepared extends SignatureJob {
  r: Buffer;
  drbg: NonceDrbg;
}

/** The next nonce from the DRBG whose r is not 0 (RFC 6979 3.2 h.3), with R = k·G's x-coordinate. */
function commitment(drbg: NonceDrbg): { k: Buffer; x: Buffer; r: Buffer } {
  for (;;) {
    const k = drbg.next();
    try {
      ecdh!.setPrivateKey(k);
      const x = ecdh!.getPublicKey().subarray(1, 33);
      // r = x mod n (public): x < p < 2n, so at most one subtraction
      const r = Buffer.allocUnsafe(32);
      if (subtractN(x, r) === 1) x.copy(r);
      if (!isZero(r)) return { k, x, r };
    } catch (error) {
      k.fill(0);
      throw error;
    }
    k.fill(0);
    drbg.reseed();
  }
}

/**
 * signatureScalars' values on BigInt, for where WebAssembly is off: k⁻¹·(e + x·d) mod n for each
 * job, the k inverted together in one inversion blinded by `random` (BLIND_BYTES, zeroed). The
 * same values, in variable time.
 */
export function scalarsByBigint(jobs: readonly SignatureJob[], random: Uint8Array): bigint[] {
  const inverses = invertAll(
    jobs.map((j) => bytesToBigint(j.k)),
    random,
  );
  return jobs.map((j, i) => (inverses[i]! * ((bytesToBigint(j.e) + bytesToBigint(j.x) * bytesToBigint(j.d)) % N)) % N);
}

/**
 * s for each prepared signature, as 32 big-endian bytes (public from here on): by the WebAssembly
 * module, a group of up to 64 per blinded inversion, or by scalarsByBigint. `random` holds
 * BLIND_BYTES fresh bytes per group of 64; they are zeroed.
 */
function scalarsOf(prepared: readonly Prepared[], random: Uint8Array): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, group = 0; at < prepared.length; at += MAX_SIGNATURE_JOBS, group++) {
    const jobs = prepared.slice(at, at + MAX_SIGNATURE_JOBS);
    const blinding = random.subarray(group * BLIND_BYTES, (group + 1) * BLIND_BYTES);
    try {
      const fast = signatureScalars(jobs, blinding.subarray(0, 32));
      out.push(...(fast ?? scalarsByBigint(jobs, blinding).map(to32)));
    } finally {
      blinding.fill(0);
    }
  }
  return out;
}

/**
 * Signs each digest; the nonces' inversions are shared (one inversion per 64). Returns low-S (r, s)
 * pairs as bytes, in request order. Throws when the fast path is unavailable.
 */
export function signP256Digests(requests: readonly DigestSignRequest[], additional?: (i: number) => Uint8Array): RsBytes[] {
  if (!fastP256Available()) throw new Error('P-256 is not available in this runtime');
  // One draw from the system's generator for the whole call: each request's 32 bytes of RFC 6979
  // additional data (unless the caller gives them) and each group's blinding factor.
  const groups = Math.ceil(requests.length / MAX_SIGNATURE_JOBS);
  const extraAt = BLIND_BYTES * groups;
  const random = randomFillSync(Buffer.allocUnsafe(extraAt + (additional ? 0 : 32 * requests.length)));
  const prepared: Prepared[] = [];
  const drbgs: NonceDrbg[] = [];
  /** What is wiped at the end besides the DRBGs and nonces: a retry's blinding bytes. */
  const scratch: Uint8Array[] = [random];
  try {
    requests.forEach((req, i) => {
      const extra = additional ? additional(i) : random.subarray(extraAt + 32 * i, extraAt + 32 * (i + 1));
      const secret = req.secret;
      if (secret.length !== 32) throw new RangeError('p256 sign: the private scalar is 32 bytes');
      const drbg = new NonceDrbg(secret, req.digest, extra);
      drbgs.push(drbg);
      prepared.push({ ...commitment(drbg), e: req.digest, d: secret, drbg });
    });
    let blinding: Uint8Array = random.subarray(0, extraAt);
    for (;;) {
      const scalars = scalarsOf(prepared, blinding);
      const out: RsBytes[] = [];
      let retry = -1;
      for (let i = 0; i < prepared.length && retry < 0; i++) {
        const s = scalars[i]!;
        if (isZero(s)) retry = i;
        else out.push({ r: prepared[i]!.r, s: lowS(s) });
      }
      if (retry < 0) return out;
      // s = 0 (probability ~2^-256): RFC 6979 3.2 h.3, the next candidate for that signature,
      // and new blinding factors
      const p = prepared[retry]!;
      p.k.fill(0);
      p.drbg.reseed();
      Object.assign(p, commitment(p.drbg));
      blinding = randomFillSync(Buffer.allocUnsafe(extraAt));
      scratch.push(blinding);
    }
  } finally {
    // whether the call signed or threw: the nonces, the DRBGs' state and the random bytes go
    for (const p of prepared) p.k.fill(0);
    for (const drbg of drbgs) drbg.wipe();
    for (const bytes of scratch) bytes.fill(0);
  }
}

/**
 * Overwrites the library's copy of the last nonce (with the last signature it would give the key
 * away). Called when a key is wiped (lock, forget), not after every signature: while the key is
 * open it sits in the same memory anyway.
 */
export function scrubNonceState(): void {
  if (ecdh) ecdh.setPrivateKey(SCALAR_ONE);
}

export function signP256Digest(request: DigestSignRequest): RsBytes {
  return signP256Digests([request])[0]!;
}

/** For tests: which inversion the runtime uses. */
export function inversionRoute(): 'WebAssembly safegcd' | 'BigInt Euclid' {
  return wasmInverseAvailable() ? 'WebAssembly safegcd' : 'BigInt Euclid';
}

export const P256_ORDER = N;
