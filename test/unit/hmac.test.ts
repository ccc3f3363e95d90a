// core/crypto/hmac.ts against node:crypto's createHmac (OpenSSL's HMAC), and RFC 4231's test
// case 2 for HMAC-SHA-256 (IETF Trust; test data): keys of every length class (empty, short, one
// block, longer than a block: hashed first), empty and multi-part messages, SHA-1, SHA-256, SM3.
import { createHmac, getHashes, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hmac, hmacSha256, type HmacHash } from '../../core/crypto/hmac.ts';

const ALGORITHMS: HmacHash[] = ['sha256', 'sha1', ...(getHashes().includes('sm3') ? (['sm3'] as const) : [])];

describe('HMAC from one-shot hashes', () => {
  it('is RFC 4231 test case 2 (key "Jefe")', () => {
    expect(hmacSha256(Buffer.from('Jefe'), 'what do ya want ', 'for nothing?').toString('hex')).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it.each(ALGORITHMS)('%s equals createHmac for keys of 0 to 200 bytes and messages in parts', (algorithm) => {
    for (const keyLength of [0, 1, 20, 32, 63, 64, 65, 100, 200]) {
      for (const parts of [[], [''], ['a'], [randomBytes(1), 'é', randomBytes(300)], [randomBytes(4096)]] as (string | Uint8Array)[][]) {
        const key = randomBytes(keyLength);
        const expected = createHmac(algorithm, key);
        for (const part of parts) expected.update(part);
        expect(hmac(algorithm, key, parts).toString('hex'), `${algorithm} key ${keyLength}`).toBe(expected.digest('hex'));
      }
    }
  });

  it('does not change the key it is given (a long key is hashed into a copy)', () => {
    const key = randomBytes(100);
    const copy = Buffer.from(key);
    hmac('sha256', key, ['x']);
    expect(key).toEqual(copy);
  });
});
