// publicPoint (d·G by node:crypto's ECDH where the library has the curve) against noble's own
// multiplication, the route it replaced, on every curve: edge scalars and random ones.
import { randomBytes } from 'node:crypto';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';
import { describe, expect, it } from 'vitest';
import { CURVE_POINTS, curveOrder, publicPoint, type CurveName } from './curves.ts';

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

  it('leaves the caller its scalar untouched', () => {
    const scalar = randomBytes(32);
    scalar[0] = 0x01; // below every order
    const copy = Uint8Array.from(scalar);
    publicPoint('P-256', scalar);
    expect(Uint8Array.from(scalar)).toEqual(copy);
  });
});
