// Aliyun_SM4 keys' cipher, SM4-GCM from sm-crypto-v2 (core/crypto/symmetric.ts), against the standards'
// vectors (test/vectors/sm4/README.md) and against OpenSSL, which implements the SM4 block cipher on
// its own: node:crypto's sm4-ecb and sm4-ctr (OpenSSL 3.5 in Node) and the openssl CLI (Debian's 3.0).
// Neither OpenSSL has SM4-GCM, so the test builds GCM from OpenSSL's SM4-CTR and a GHASH of its own
// (NIST SP 800-38D) and requires the same ciphertext and tag as the product's SM4-GCM.
import { execFileSync } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { sm4 } from 'sm-crypto-v2';
import { describe, expect, it } from 'vitest';
import { gcmDecrypt, gcmEncrypt } from '../../core/crypto/symmetric.ts';

const h = (s: string) => Buffer.from(s, 'hex');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const block = (b: Uint8Array, key: Uint8Array) => sm4.encrypt(b, key, { mode: 'ecb', padding: 'none', output: 'array' });

describe('SM4 block cipher (GB/T 32907-2016, Appendix A)', () => {
  const k = h('0123456789abcdeffedcba9876543210');
  it('example 1: one encryption', () => {
    expect(hex(block(k, k))).toBe('681edf34d206965e86b3e94f536e4246');
  });
  it('example 2: 1,000,000 encryptions of the block under the same key', () => {
    let b: Uint8Array = k;
    for (let i = 0; i < 1_000_000; i++) b = block(b, k);
    expect(hex(b)).toBe('595298c7c6fd271f0402f804c33d3f66');
  });
  it('agrees with OpenSSL (node:crypto sm4-ecb and the openssl CLI) on random keys and blocks', () => {
    const key = randomBytes(16);
    const data = randomBytes(16 * 8);
    const ecb = createCipheriv('sm4-ecb', key, null).setAutoPadding(false);
    const openssl = Buffer.concat([ecb.update(data), ecb.final()]);
    const mine = Buffer.concat(Array.from({ length: 8 }, (_, i) => block(data.subarray(16 * i, 16 * i + 16), key)));
    expect(hex(mine)).toBe(hex(openssl));
    const cli = execFileSync('openssl', ['enc', '-sm4-ecb', '-nopad', '-K', hex(key)], { input: data });
    expect(hex(cli)).toBe(hex(openssl));
  });
});

/** GF(2^128) multiplication in GCM's bit order (SP 800-38D, algorithm 1). */
function gfMul(x: bigint, y: bigint): bigint {
  const R = 0xe1n << 120n;
  let z = 0n;
  let v = y;
  for (let i = 127n; i >= 0n; i--) {
    if ((x >> i) & 1n) z ^= v;
    v = v & 1n ? (v >> 1n) ^ R : v >> 1n;
  }
  return z;
}
const toBig = (b: Uint8Array) => BigInt(`0x${hex(b) || '0'}`);
function ghash(hKey: Uint8Array, aad: Uint8Array, ct: Uint8Array): Buffer {
  const pad = (b: Uint8Array) => Buffer.concat([b, Buffer.alloc((16 - (b.length % 16)) % 16)]);
  const lengths = Buffer.alloc(16);
  lengths.writeBigUInt64BE(BigInt(aad.length * 8), 0);
  lengths.writeBigUInt64BE(BigInt(ct.length * 8), 8);
  const data = Buffer.concat([pad(aad), pad(ct), lengths]);
  const H = toBig(hKey);
  let x = 0n;
  for (let i = 0; i < data.length; i += 16) x = gfMul(x ^ toBig(data.subarray(i, i + 16)), H);
  return h(x.toString(16).padStart(32, '0'));
}
/** SM4-GCM with a 96-bit IV built from OpenSSL's SM4 (ECB for H and E(J0), CTR for the data). */
function opensslSm4Gcm(key: Uint8Array, iv: Uint8Array, pt: Uint8Array, aad: Uint8Array): { ciphertext: Buffer; tag: Buffer } {
  const ecb = (b: Uint8Array) => createCipheriv('sm4-ecb', key, null).setAutoPadding(false).update(b);
  const j0 = Buffer.concat([iv, h('00000001')]);
  const counter = Buffer.concat([iv, h('00000002')]);
  const ctr = createCipheriv('sm4-ctr', key, counter);
  const ciphertext = Buffer.concat([ctr.update(pt), ctr.final()]);
  const s = ghash(ecb(Buffer.alloc(16)), aad, ciphertext);
  const ek = ecb(j0);
  return { ciphertext, tag: Buffer.from(s.map((b, i) => b ^ ek[i]!)) };
}

describe('SM4-GCM', () => {
  // RFC 8998, Appendix A.1.
  const key = h('0123456789ABCDEFFEDCBA9876543210');
  const iv = h('00001234567800000000ABCD');
  const aad = h('FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2');
  const pt = h('AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDDEEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA');
  const ct = '17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D'.toLowerCase();
  const tag = '83DE3541E4C2B58177E065A9BF7B62EC'.toLowerCase();

  it("RFC 8998 A.1 through the product's gcmEncrypt and gcmDecrypt", () => {
    const out = gcmEncrypt('SM4-GCM', key, iv, pt, aad);
    expect(hex(out.ciphertext)).toBe(ct);
    expect(hex(out.tag)).toBe(tag);
    expect(hex(gcmDecrypt('SM4-GCM', key, iv, h(ct), h(tag), aad))).toBe(hex(pt));
  });

  it('the GCM built from OpenSSL gives RFC 8998 A.1 too (the construction under test is right)', () => {
    const out = opensslSm4Gcm(key, iv, pt, aad);
    expect(hex(out.ciphertext)).toBe(ct);
    expect(hex(out.tag)).toBe(tag);
  });

  it('agrees with the GCM built from OpenSSL on random keys, IVs, lengths and associated data', () => {
    for (const length of [0, 1, 15, 16, 17, 100, 6144]) {
      const k = randomBytes(16);
      const n = randomBytes(12);
      const a = randomBytes(length % 50);
      const p = randomBytes(length);
      const mine = gcmEncrypt('SM4-GCM', k, n, p, a);
      const theirs = opensslSm4Gcm(k, n, p, a);
      expect(hex(mine.ciphertext), `length ${length}`).toBe(hex(theirs.ciphertext));
      expect(hex(mine.tag), `length ${length}`).toBe(hex(theirs.tag));
    }
  });

  it('refuses a flipped byte of the ciphertext, tag, IV or associated data as InvalidCiphertext', () => {
    const flip = (b: Buffer, at = 0) => Buffer.from(b.map((x, i) => (i === at ? x ^ 0x80 : x)));
    for (const [c, t, n, a] of [
      [flip(h(ct), 63), h(tag), iv, aad],
      [h(ct), flip(h(tag), 15), iv, aad],
      [h(ct), h(tag), flip(iv, 11), aad],
      [h(ct), h(tag), iv, flip(aad, 19)],
    ] as const) {
      expect(() => gcmDecrypt('SM4-GCM', key, n, c, t, a)).toThrow(expect.objectContaining({ code: 'InvalidCiphertext' }));
    }
  });
});
