// The P-256 fast path (core/crypto/p256-sign.ts) against peers nobody here wrote: RFC 6979's
// own vectors, @noble/curves' RFC 6979 signer, and OpenSSL verifying 100,000 signatures made
// across 100 keys (the library through node:crypto, and a sample through the `openssl` command).
// Wycheproof's P-256 verification cases run unchanged in wycheproof.test.ts.
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { bytesToNumberBE } from '@noble/curves/utils.js';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeRsSignature, encodeRsBytes, encodeRsSignature, encodeRsSignatureBySchema } from '../../core/crypto/der.ts';
import { importPrivateKey, signDigest, signDigests, verifyDigest, type SignDigestRequest } from '../../core/crypto/engine.ts';
import type { PrivateKey } from '../../core/crypto/keys.ts';
import { NonceDrbg, P256_ORDER as N, euclidInverse, inversionRoute, invertAll, isScalar, signP256Digests } from '../../core/crypto/p256-sign.ts';
import { TempDir, pkeyutlVerifyArgs, runOpenssl } from './openssl-peer.ts';

const HALF_N = N >> 1n;
const hex = (v: bigint): string => v.toString(16).padStart(64, '0');

interface OpensslKey {
  key: PrivateKey;
  spki: KeyObject;
}

function opensslKey(): OpensslKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { key: importPrivateKey(new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' })), 'EC_P256'), spki: publicKey };
}

function digestOf(message: string | Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(message).digest());
}

/**
 * OpenSSL (node:crypto's library) verifying a signature over digest = SHA-256(message): node's
 * verify hashes what it is given, so it is given the message whose digest was signed.
 */
function opensslVerifies(spki: KeyObject, message: string | Uint8Array, der: Uint8Array): boolean {
  return verify('sha256', typeof message === 'string' ? Buffer.from(message) : message, { key: spki, dsaEncoding: 'der' }, der);
}

/** RFC 6979 with no additional data: the deterministic signature the RFC's appendix lists. */
function deterministic(secret: Uint8Array, digest: Uint8Array): { r: bigint; s: bigint } {
  const { r, s } = signP256Digests([{ secret, digest }], () => new Uint8Array(0))[0]!;
  expect([r.length, s.length]).toEqual([32, 32]);
  return { r: bytesToNumberBE(r), s: bytesToNumberBE(s) };
}

describe('P-256 digest signing through node:crypto', () => {
  // RFC 6979 appendix A.2.5, ECDSA with P-256 and SHA-256 (IETF Trust, BSD-licensed code
  // components; the values are test data). Our signatures are low-S: s may come back as n - s.
  const x = Buffer.from('C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721', 'hex');
  it.each([
    ['sample', 'EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716', 'F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8'],
    ['test', 'F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367', '019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083'],
  ])('without added randomness it is RFC 6979 (A.2.5, message %j)', (message, r, s) => {
    const sig = deterministic(x, digestOf(message));
    expect(hex(sig.r)).toBe(r.toLowerCase());
    const vs = BigInt('0x' + s);
    expect(sig.s).toBe(vs > HALF_N ? N - vs : vs);
  });

  it('without added randomness it equals @noble/curves RFC 6979 for random keys and digests, digests above n included', () => {
    const edges = [N - 1n, N, N + 1n, (1n << 256n) - 1n, 0n, 1n].map((v) => Buffer.from(hex(v), 'hex'));
    const digests = [...edges, ...Array.from({ length: 194 }, () => randomBytes(32))];
    for (const digest of digests) {
      const secret = p256.utils.randomSecretKey();
      const ours = deterministic(secret, digest);
      const theirs = p256.Signature.fromBytes(p256.sign(digest, secret, { prehash: false, lowS: true, extraEntropy: false, format: 'compact' }), 'compact');
      expect([hex(ours.r), hex(ours.s)]).toEqual([hex(theirs.r), hex(theirs.s)]);
    }
  });

  it('takes the private scalar as 32 bytes only (a key keeps no copy of it as a number, which could not be wiped)', () => {
    const digest = digestOf('length');
    expect(() => signP256Digests([{ secret: new Uint8Array(31).fill(1), digest }])).toThrow(RangeError);
    expect(() => signP256Digests([{ secret: new Uint8Array(33).fill(1), digest }])).toThrow(RangeError);
    expect(signP256Digests([{ secret: new Uint8Array(32).fill(1), digest }])).toHaveLength(1);
  });

  it('is hedged: the same key and digest signed 1,000 times give 1,000 different r, each valid and low-S', () => {
    const { key, spki } = opensslKey();
    const digest = digestOf('one release');
    const rs = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const der = signDigest(key, 'ECDSA_SHA_256', digest);
      const { r, s } = decodeRsSignature(der);
      expect(s <= HALF_N).toBe(true);
      rs.add(hex(r));
      expect(opensslVerifies(spki, 'one release', der)).toBe(true);
    }
    expect(rs.size).toBe(1000);
  });

  it('OpenSSL verifies 100,000 signatures across 100 keys, singly and in batches of 1 to 64; no r repeats', () => {
    const keys = Array.from({ length: 100 }, opensslKey);
    const seen = new Set<string>();
    let verified = 0;
    let made = 0;
    let batch = 1;
    while (made < 100_000) {
      const size = Math.min(batch, 100_000 - made);
      const requests: (SignDigestRequest & { spki: KeyObject; message: Buffer })[] = Array.from({ length: size }, (_, i) => {
        const { key, spki } = keys[(made + i) % keys.length]!;
        const message = randomBytes(16);
        return { key, algorithm: 'ECDSA_SHA_256', digest: digestOf(message), spki, message };
      });
      const results = size === 1 ? [signDigest(requests[0]!.key, 'ECDSA_SHA_256', requests[0]!.digest)] : signDigests(requests);
      results.forEach((result, i) => {
        if (!(result instanceof Uint8Array)) throw result;
        if (opensslVerifies(requests[i]!.spki, requests[i]!.message, result)) verified++;
        seen.add(hex(decodeRsSignature(result).r));
      });
      made += size;
      batch = (batch % 64) + 1;
    }
    expect(verified).toBe(100_000);
    expect(seen.size).toBe(100_000);
  });

  describe('the openssl command', () => {
    const tmp = new TempDir('deskkms-p256-');
    afterAll(() => tmp.remove());
    it('verifies signatures of 20 keys with pkeyutl (digest mode) and refuses a changed digest', () => {
      for (let i = 0; i < 20; i++) {
        const { key, spki } = opensslKey();
        const digest = digestOf(`artifact ${i}`);
        const pub = tmp.write('pub.pem', spki.export({ format: 'pem', type: 'spki' }));
        const sig = tmp.write('sig.der', signDigest(key, 'ECDSA_SHA_256', digest));
        const good = runOpenssl(pkeyutlVerifyArgs('ECDSA_SHA_256', pub, tmp.write('digest.bin', digest), sig));
        expect(good.stdout.toString('utf8') + good.stderr).toContain('Signature Verified Successfully');
        const bad = runOpenssl(pkeyutlVerifyArgs('ECDSA_SHA_256', pub, tmp.write('digest.bin', digestOf(`artifact ${i}!`)), sig));
        expect(bad.status).not.toBe(0);
      }
    });
  });

  it('a batch answers each request alone: a wiped key and a wrong digest length fail only their own entries', () => {
    const a = opensslKey();
    const b = opensslKey();
    b.key.wipe();
    const digest = digestOf('x');
    const results = signDigests([
      { key: a.key, algorithm: 'ECDSA_SHA_256', digest },
      { key: b.key, algorithm: 'ECDSA_SHA_256', digest },
      { key: a.key, algorithm: 'ECDSA_SHA_256', digest: digest.subarray(0, 31) },
      { key: a.key, algorithm: 'RSA_PSS_SHA_256', digest },
      { key: a.key, algorithm: 'ECDSA_SHA_256', digest },
    ]);
    expect(opensslVerifies(a.spki, 'x', results[0] as Uint8Array)).toBe(true);
    expect(opensslVerifies(a.spki, 'x', results[4] as Uint8Array)).toBe(true);
    expect(results[1]).toMatchObject({ code: 'Vault.Locked' });
    expect(results[2]).toMatchObject({ code: 'InvalidParameter' });
    expect(results[3]).toBeInstanceOf(Error);
    expect(() => signDigest(b.key, 'ECDSA_SHA_256', digest)).toThrow(/wiped/);
  });

  it('inverts mod n through the WebAssembly safegcd here, blinded, in groups, and agrees with Euclid', () => {
    expect(inversionRoute()).toBe('WebAssembly safegcd');
    const values = [1n, 2n, N - 1n, N - 2n, ...Array.from({ length: 500 }, () => (bytesToNumberBE(randomBytes(32)) % (N - 1n)) + 1n)];
    const inverses = invertAll(values);
    values.forEach((v, i) => {
      expect((v * inverses[i]!) % N).toBe(1n);
      expect(euclidInverse(v)).toBe(inverses[i]);
    });
    expect(invertAll([values[7]!])[0]).toBe(euclidInverse(values[7]!));
  });

  it('takes a nonce candidate only in [1, n-1] (RFC 6979 3.2 h.3)', () => {
    const bytes = (v: bigint) => Buffer.from(hex(v), 'hex');
    for (const v of [1n, 2n, 0xffn, 1n << 255n, N - 2n, N - 1n]) expect(isScalar(bytes(v)), hex(v)).toBe(true);
    for (const v of [0n, N, N + 1n, N + 0x100n, (1n << 256n) - 1n]) expect(isScalar(bytes(v)), hex(v)).toBe(false);
    for (let i = 0; i < 2000; i++) {
      const v = bytesToNumberBE(randomBytes(32));
      expect(isScalar(bytes(v))).toBe(v >= 1n && v < N);
    }
  });

  it('a wiped nonce DRBG refuses to run (its zeroed pads would give values that are no HMACs)', () => {
    const drbg = new NonceDrbg(randomBytes(32), randomBytes(32), randomBytes(32));
    expect(drbg.next()).toHaveLength(32);
    drbg.wipe();
    expect(() => drbg.next()).toThrow(/after wipe/);
    expect(() => drbg.reseed()).toThrow(/after wipe/);
  });

  it('writes DER signatures byte for byte as the ASN.1 schema serializer does, and reads them back', () => {
    const edges = [0n, 1n, 0x7fn, 0x80n, 0xffn, 0x100n, (1n << 255n) - 1n, 1n << 255n, N - 1n, (1n << 1000n) + 12345n];
    for (const r of edges) {
      for (const s of [1n, 0x80n, N - 1n, 1n << 1000n]) {
        const ours = encodeRsSignature({ r, s });
        expect(Buffer.from(ours).toString('hex'), `${r} ${s}`).toBe(Buffer.from(encodeRsSignatureBySchema({ r, s })).toString('hex'));
        if (r > 0n) expect(decodeRsSignature(ours)).toEqual({ r, s });
      }
    }
    // from bytes: any length, leading zeros or none, a top bit set or not, zero, nothing
    const bytesOf = (v: bigint, length: number): Uint8Array => Buffer.from(v.toString(16).padStart(2 * length, '0'), 'hex');
    const byteEdges: [bigint, Uint8Array][] = [[0n, new Uint8Array(0)], [0n, new Uint8Array(32)], [0n, Uint8Array.of(0)]];
    for (const v of edges) for (const pad of [0, 1, 3]) byteEdges.push([v, bytesOf(v, Math.ceil(v.toString(16).length / 2) + pad)]);
    for (const [r, rBytes] of byteEdges) {
      for (const [s, sBytes] of byteEdges.filter((_, i) => i % 5 === 0)) {
        expect(Buffer.from(encodeRsBytes(rBytes, sBytes)).toString('hex'), `${r} ${s}`).toBe(Buffer.from(encodeRsSignatureBySchema({ r, s })).toString('hex'));
      }
    }
  });

  it('a PKCS#8 key from OpenSSL signs the same way as a generated one (the scalar is read as 32 bytes)', () => {
    const { key, spki } = opensslKey();
    const digest = digestOf('pkcs8');
    const der = signDigest(key, 'ECDSA_SHA_256', digest);
    expect(opensslVerifies(spki, 'pkcs8', der)).toBe(true);
    // The engine's own verification (noble) agrees.
    expect(verifyDigest(key.publicKey, 'ECDSA_SHA_256', digest, der)).toBe(true);
    expect(createPublicKey({ key: Buffer.from(key.publicKey.spki), format: 'der', type: 'spki' }).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(encodeRsSignature(decodeRsSignature(der))).toEqual(der);
  });
});
