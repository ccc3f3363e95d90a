import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from '../../core/contract/base64.ts';
import { KmsError } from '../../core/contract/errors.ts';

function rejection(value: unknown): KmsError {
  try {
    decodeBase64(value, 'Digest');
  } catch (error) {
    if (error instanceof KmsError) return error;
    throw error;
  }
  throw new Error(`accepted ${String(value)}`);
}

describe('strict base64', () => {
  it('round-trips every length of bytes', () => {
    for (let n = 0; n < 70; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
      const text = encodeBase64(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('base64'));
      expect(decodeBase64(text, 'Digest')).toEqual(bytes);
    }
  });

  it('matches Buffer on large random inputs (the table-driven codec)', () => {
    for (const n of [1 << 20, (1 << 20) + 1, (1 << 20) + 2]) {
      const bytes = new Uint8Array(n).map((_, i) => (i * 2654435761) >>> 24);
      const text = encodeBase64(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('base64'));
      expect(Buffer.from(decodeBase64(text, 'Digest')).equals(Buffer.from(bytes))).toBe(true);
    }
  });

  it.each([
    ['missing padding', 'AAE'],
    ['embedded whitespace', 'AAEC AwQ='],
    ['trailing newline', 'AAECAwQ=\n'],
    ['url-safe alphabet', 'A-_CAwQ='],
    ['non-zero unused bits', 'QR=='],
    ['too much padding', 'AA==='],
    ['padding inside', 'AA==AAAA'],
    ['only padding', '===='],
    ['a character outside ASCII whose low byte is a base64 letter', 'AAE\u0141'],
    ['non-zero unused bits with one pad', 'AAF='],
    ['not a string', 42],
  ])('refuses %s, naming the parameter', (_label, value) => {
    const error = rejection(value);
    expect(error.code).toBe('InvalidParameter');
    expect(error.message).toMatch(/^Digest: /);
  });
});
