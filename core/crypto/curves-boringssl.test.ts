// publicPoint where node:crypto's library has P-256 only (Electron's BoringSSL): secp256k1 and SM2
// fall back to noble's multiplication, with the same points, and never ask the library.
import type * as NodeCrypto from 'node:crypto';
import { numberToBytesBE } from '@noble/curves/utils.js';
import { describe, expect, it, vi } from 'vitest';
import { CURVE_POINTS, curveOrder, publicPoint } from './curves.ts';

const asked = vi.hoisted(() => [] as string[]);
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof NodeCrypto>();
  const getCurves = () => ['prime256v1', 'secp384r1', 'secp521r1'];
  const createECDH = (curve: string) => {
    asked.push(curve);
    return real.createECDH(curve);
  };
  return { ...real, default: { ...real, getCurves, createECDH }, getCurves, createECDH };
});

describe('publicPoint with a library that has P-256 only', () => {
  it('asks the library for P-256 and noble for secp256k1 and SM2, the same points either way', () => {
    for (const curve of ['P-256', 'secp256k1', 'SM2'] as const) {
      for (const d of [1n, 7n, curveOrder(curve) - 1n]) {
        expect(publicPoint(curve, numberToBytesBE(d, 32)).equals(CURVE_POINTS[curve].BASE.multiply(d)), `${curve} ${d}`).toBe(true);
      }
    }
    expect(asked).toEqual(['prime256v1', 'prime256v1', 'prime256v1']);
  });
});
