// publicPoint (d·G by node:crypto's ECDH where the library has the curve) against noble's own
// multiplication, the route it replaced, on every curve: edge scalars and random ones; and that
// the library's route is the one taken here (OpenSSL has all three curves), its copy of d
// overwritten after. (curves-boringssl.test.ts: a library with P-256 only.)
import type * as NodeCrypto from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';
import { describe, expect, it, vi } from 'vitest';
import { CURVE_POINTS, SCALAR_ONE, curveOrder, publicPoint, type CurveName } from './curves.ts';

/** Every ECDH object made and the private keys set on it, in order. */
const ecdhLog = vi.hoisted(() => [] as { curve: string; keys: Uint8Array[] }[]);
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof NodeCrypto>();
  const createECDH = (curve: string) => {
    const ecdh = real.createECDH(curve);
    const entry = { curve, keys: [] as Uint8Array[] };
    ecdhLog.push(entry);
    const setPrivateKey = ecdh.setPrivateKey.bind(ecdh) as (key: Uint8Array) => void;
    ecdh.setPrivateKey = ((key: Uint8Array) => {
      entry.keys.push(Uint8Array.from(key));
      setPrivateKey(key);
    }) as typeof ecdh.setPrivateKey;
    return ecdh;
  };
  return { ...real, default: { ...real, createECDH }, createECDH };
});

const CURVES: readonly CurveName[] = ['P-256', 'secp256k1', 'SM2'];

describe('publicPoint', () => {
  for (const curve of CURVES) {
    it(`${curve}: the same point as noble's d·G, for 1, 2, n-2, n-1 and 200 random scalars`, () => {
      const n = curveOrder(curve);
      const scalars = [1n, 2n, n - 2n, n - 1n];
      while (scalars.length < 204) {
        const d = bytesToNumberBE(randomBytes(32)) % n;
        if (d !== 0n) scalars.push(d);
      }
      for (const d of scalars) {
        const point = publicPoint(curve, numberToBytesBE(d, 32));
        expect(point.equals(CURVE_POINTS[curve].BASE.multiply(d)), `${curve} d=${d.toString(16)}`).toBe(true);
      }
    });
  }

  it("takes the library's route on each curve here, and overwrites its copy of d with 1 after", () => {
    for (const [curve, name] of [['P-256', 'prime256v1'], ['secp256k1', 'secp256k1'], ['SM2', 'SM2']] as const) {
      ecdhLog.length = 0;
      const scalar = numberToBytesBE(curveOrder(curve) - 12345n, 32);
      publicPoint(curve, scalar);
      expect(ecdhLog.map((e) => e.curve), curve).toEqual([name]);
      expect(ecdhLog[0]!.keys, curve).toEqual([scalar, SCALAR_ONE]);
    }
  });

  it('leaves the caller its scalar untouched', () => {
    const scalar = randomBytes(32);
    scalar[0] = 0x01; // below every order
    const copy = Uint8Array.from(scalar);
    publicPoint('P-256', scalar);
    expect(Uint8Array.from(scalar)).toEqual(copy);
  });
});
