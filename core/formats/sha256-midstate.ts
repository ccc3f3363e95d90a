// SHA-256 (FIPS 180-4) whose state can be taken out after a message and resumed elsewhere: what
// an OpenPGP signing request carries instead of a final hash. node:crypto's Hash cannot export its
// state, so this is a small pure implementation. From the state after the file, the station both
// finishes the hash (padding only: the file's SHA-256, which the operator is shown) and continues
// it with the signature's hashed part (the Digest it signs): the two are bound by the same state.
import { KmsError } from '../contract/errors.ts';

/** The state after some bytes: H (eight big-endian words), the bytes of the unfinished block, the bytes fed so far. */
export interface Sha256State {
  readonly H: Uint8Array;
  readonly Tail: Uint8Array;
  readonly Length: number;
}

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const INITIAL = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/** The longest message whose bit length fits the 64-bit length field exactly as a JS number allows. */
const MAX_LENGTH = Number.MAX_SAFE_INTEGER;

export class Sha256Midstate {
  private readonly h = new Int32Array(INITIAL);
  private readonly w = new Int32Array(64);
  private readonly block = new Uint8Array(64);
  private buffered = 0;
  private length = 0;
  private finished = false;

  /** A hash resumed from a state taken with state() (here or on another machine). */
  static resume(state: Sha256State): Sha256Midstate {
    if (state.H.length !== 32) throw new KmsError('InvalidParameter', `SHA-256 state: H is ${state.H.length} bytes, not 32`);
    if (!Number.isSafeInteger(state.Length) || state.Length < 0) throw new KmsError('InvalidParameter', 'SHA-256 state: Length is not a whole number of bytes');
    if (state.Tail.length !== state.Length % 64) throw new KmsError('InvalidParameter', `SHA-256 state: Tail is ${state.Tail.length} bytes; after ${state.Length} bytes it is ${state.Length % 64}`);
    const hash = new Sha256Midstate();
    for (let i = 0; i < 8; i++) {
      const o = i * 4;
      hash.h[i] = (state.H[o]! << 24) | (state.H[o + 1]! << 16) | (state.H[o + 2]! << 8) | state.H[o + 3]!;
    }
    hash.block.set(state.Tail);
    hash.buffered = state.Tail.length;
    hash.length = state.Length;
    return hash;
  }

  update(chunk: Uint8Array): this {
    if (this.finished) throw new KmsError('InternalFailure', 'SHA-256: update after digest');
    if (this.length + chunk.length > MAX_LENGTH) throw new KmsError('InvalidParameter', 'SHA-256: message too long');
    this.length += chunk.length;
    let at = 0;
    if (this.buffered > 0) {
      const take = Math.min(64 - this.buffered, chunk.length);
      this.block.set(chunk.subarray(0, take), this.buffered);
      this.buffered += take;
      at = take;
      if (this.buffered < 64) return this;
      this.compress(this.block, 0);
      this.buffered = 0;
    }
    // Whole blocks straight from the chunk, no copy.
    for (; at + 64 <= chunk.length; at += 64) this.compress(chunk, at);
    if (at < chunk.length) {
      this.block.set(chunk.subarray(at));
      this.buffered = chunk.length - at;
    }
    return this;
  }

  /** The state after the bytes fed so far (the hash can still be fed or finished). */
  state(): Sha256State {
    const H = new Uint8Array(32);
    for (let i = 0; i < 8; i++) {
      const v = this.h[i]!;
      H[i * 4] = v >>> 24;
      H[i * 4 + 1] = (v >>> 16) & 0xff;
      H[i * 4 + 2] = (v >>> 8) & 0xff;
      H[i * 4 + 3] = v & 0xff;
    }
    return { H, Tail: this.block.slice(0, this.buffered), Length: this.length };
  }

  /** The SHA-256 of everything fed (padding and the 64-bit bit length); the hash is then done. */
  digest(): Uint8Array {
    if (this.finished) throw new KmsError('InternalFailure', 'SHA-256: digest twice');
    const bits = this.length * 8;
    const high = Math.floor(bits / 0x100000000);
    const low = bits >>> 0;
    const pad = new Uint8Array((this.buffered < 56 ? 56 : 120) - this.buffered + 8);
    pad[0] = 0x80;
    const n = pad.length;
    pad[n - 8] = high >>> 24;
    pad[n - 7] = (high >>> 16) & 0xff;
    pad[n - 6] = (high >>> 8) & 0xff;
    pad[n - 5] = high & 0xff;
    pad[n - 4] = low >>> 24;
    pad[n - 3] = (low >>> 16) & 0xff;
    pad[n - 2] = (low >>> 8) & 0xff;
    pad[n - 1] = low & 0xff;
    const length = this.length;
    this.update(pad);
    this.length = length;
    this.finished = true;
    return this.state().H;
  }

  private compress(data: Uint8Array, o: number): void {
    const w = this.w;
    const h = this.h;
    for (let i = 0; i < 16; i++, o += 4) w[i] = (data[o]! << 24) | (data[o + 1]! << 16) | (data[o + 2]! << 8) | data[o + 3]!;
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15]!;
      const y = w[i - 2]!;
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
    }
    let a = h[0]!;
    let b = h[1]!;
    let c = h[2]!;
    let d = h[3]!;
    let e = h[4]!;
    let f = h[5]!;
    let g = h[6]!;
    let hh = h[7]!;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (hh + S1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] = (h[0]! + a) | 0;
    h[1] = (h[1]! + b) | 0;
    h[2] = (h[2]! + c) | 0;
    h[3] = (h[3]! + d) | 0;
    h[4] = (h[4]! + e) | 0;
    h[5] = (h[5]! + f) | 0;
    h[6] = (h[6]! + g) | 0;
    h[7] = (h[7]! + hh) | 0;
  }
}
