import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sm2 as smCryptoV2, sm3 as smCryptoV2Sm3 } from 'sm-crypto-v2';
import { bytesToHex } from '@noble/curves/utils.js';
import { Sm3, sm3 } from '../../core/crypto/sm3.ts';
import { createDigester } from '../../core/crypto/hash.ts';
import { sm2Za } from '../../core/crypto/sm2.ts';
import { Sm2Point } from '../../core/crypto/curves.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('SM3', () => {
  // GB/T 32905-2016, appendix A: examples 1 and 2.
  it('matches the standard\'s examples', () => {
    expect(hex(sm3(Buffer.from('abc')))).toBe('66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
    expect(hex(sm3(Buffer.from('abcd'.repeat(16))))).toBe('debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732');
  });

  it('agrees with OpenSSL (node:crypto) and sm-crypto-v2 on every length around block edges, in any chunking', () => {
    for (const length of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4096 + 3]) {
      const data = randomBytes(length);
      const expected = createHash('sm3').update(data).digest('hex');
      expect(hex(sm3(data))).toBe(expected);
      expect(smCryptoV2Sm3(data)).toBe(expected);
      const chunked = new Sm3();
      for (let i = 0; i < data.length; ) {
        const step = 1 + ((i * 7) % 97);
        chunked.update(data.subarray(i, i + step));
        i += step;
      }
      expect(hex(chunked.digest())).toBe(expected);
    }
  });

  it('has a portable digester equal to the native one', () => {
    const data = randomBytes(300_000);
    const portable = createDigester('SM3', { portable: true });
    const native = createDigester('SM3');
    portable.update(data);
    native.update(data);
    expect(hex(portable.digest())).toBe(hex(native.digest()));
  });
});

describe('SM2 Z_A', () => {
  it('equals sm-crypto-v2\'s getZ (so the curve constants and ENTL/ID layout agree)', () => {
    for (let i = 0; i < 5; i++) {
      const { publicKey } = smCryptoV2.generateKeyPairHex();
      const point = Sm2Point.fromHex(publicKey);
      expect(bytesToHex(sm2Za(point))).toBe(bytesToHex(smCryptoV2.getZ(publicKey)));
      expect(bytesToHex(sm2Za(point, 'ALICE123@YAHOO.COM'))).toBe(bytesToHex(smCryptoV2.getZ(publicKey, 'ALICE123@YAHOO.COM')));
    }
  });
});
