// The three elliptic curves of the contract as @noble/curves point types, used to parse and
// validate every public point (on-curve, not infinity) the same way. P-256 and secp256k1 come
// from noble; SM2's recommended curve (GB/T 32918.5-2017) is built from its published constants.
import { createECDH, getCurves } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { bytesToNumberBE } from '@noble/curves/utils.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { weierstrass, type WeierstrassPoint, type WeierstrassPointCons } from '@noble/curves/abstract/weierstrass.js';

export type CurveName = 'P-256' | 'secp256k1' | 'SM2';

export const Sm2Point: WeierstrassPointCons<bigint> = weierstrass({
  p: 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn,
  n: 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n,
  h: 1n,
  a: 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn,
  b: 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n,
  Gx: 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n,
  Gy: 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n,
});

export const CURVE_POINTS: Readonly<Record<CurveName, WeierstrassPointCons<bigint>>> = {
  'P-256': p256.Point,
  secp256k1: secp256k1.Point,
  SM2: Sm2Point,
};

export type CurvePoint = WeierstrassPoint<bigint>;

/** Group order n of a curve. */
export function curveOrder(curve: CurveName): bigint {
  return CURVE_POINTS[curve].Fn.ORDER;
}

/** Field prime p of a curve. */
export function curvePrime(curve: CurveName): bigint {
  return CURVE_POINTS[curve].Fp.ORDER;
}

/** node:crypto's (OpenSSL's) name of each curve. */
export const OPENSSL_CURVE: Readonly<Record<CurveName, string>> = { 'P-256': 'prime256v1', secp256k1: 'secp256k1', SM2: 'SM2' };
let libraryCurves: ReadonlySet<string> | undefined;
/** The scalar 1, written over a library's copy of a secret scalar. */
export const SCALAR_ONE: Uint8Array = Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? 1 : 0));

/** Whether node:crypto's library has the curve (OpenSSL: all three; Electron's BoringSSL: P-256 only). */
export function libraryHasCurve(curve: CurveName): boolean {
  libraryCurves ??= new Set(getCurves());
  return libraryCurves.has(OPENSSL_CURVE[curve]);
}

/**
 * The public point d·G of a private scalar d (32 bytes, big-endian, already checked to be in
 * [1, n-1]). By node:crypto's ECDH where the runtime's library has the curve (OpenSSL: all three;
 * Electron's BoringSSL: P-256), whose scalar multiplication is constant-time; else by noble. The
 * first noble multiplication in a process builds its table of G's multiples (~30-36 ms here), and
 * a CLI command that opens one key (git's signing programs, deskkms sign) paid it on every run;
 * OpenSSL's takes under 1 ms. The same point either way (core/crypto/curves.test.ts).
 */
export function publicPoint(curve: CurveName, scalar: Uint8Array): CurvePoint {
  if (!libraryHasCurve(curve)) return CURVE_POINTS[curve].BASE.multiply(bytesToNumberBE(scalar));
  // An object of its own, not the signer's (p256-sign.ts): scrubbed below and then dropped.
  const ecdh = createECDH(OPENSSL_CURVE[curve]);
  try {
    ecdh.setPrivateKey(scalar);
    return CURVE_POINTS[curve].fromBytes(new Uint8Array(ecdh.getPublicKey()));
  } finally {
    // The library's copy of d overwritten before the object is left to the collector.
    ecdh.setPrivateKey(SCALAR_ONE);
  }
}
