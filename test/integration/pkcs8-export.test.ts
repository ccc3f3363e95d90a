// Passphrase-encrypted PKCS#8 (core/x509/pkcs8-pbes2.ts; its PEM armour core/x509/pkcs8-export.ts)
// against the OpenSSL 3 command line: our scrypt and PBKDF2 exports of every spec are read by
// `openssl pkey -passin`, OpenSSL's `pkcs8 -topk8` exports are read by us, keys survive the round
// trip, and bad files are refused with clear InvalidParameter messages.
import { afterAll, describe, expect, it } from 'vitest';
import { AsnParser } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { EncryptedPrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { ASYMMETRIC_KEY_SPECS, type KeySpec } from '../../core/contract/specs.ts';
import { derInteger, serializeDer } from '../../core/crypto/der.ts';
import { importPrivateKey, publicKeyPem, signDigest, verifyDigest, type PrivateKey } from '../../core/crypto/engine.ts';
import { encodePem } from '../../core/crypto/pem.ts';
import { encryptedPkcs8Pem, readEncryptedPkcs8 } from '../../core/x509/pkcs8-export.ts';
import { PKCS8_OID, Pbes2Params, Pbkdf2Params, ScryptParams, decryptPkcs8, encryptPkcs8 } from '../../core/x509/pkcs8-pbes2.ts';
import { TempDir, flipByte, openssl } from '../interop/openssl-peer.ts';
import { rejection } from '../support/errors.ts';
import { keyFor } from '../support/keys.ts';

const PASSPHRASE = 'correct horse battery staple';
const PASS = new TextEncoder().encode(PASSPHRASE);
const DAMAGED = 'EncryptedPrivateKey: the passphrase does not decrypt this key or the file is damaged';

const tmp = new TempDir('deskkms-pkcs8-');
afterAll(() => tmp.remove());
const passFile = tmp.write('pass.txt', PASSPHRASE);


/** `openssl pkey -passin file:… -pubout` of an encrypted PEM file. */
function opensslPublicPem(encryptedPem: string): string {
  const file = tmp.write('enc.pem', encryptedPem);
  return openssl(['pkey', '-in', file, '-passin', `file:${passFile}`, '-pubout']).toString('utf8');
}

/** `openssl pkcs8 -topk8` of our plain PKCS#8 with the given cipher options. */
function opensslEncrypt(key: PrivateKey, options: readonly string[]): string {
  const plain = tmp.write('plain.pem', encodePem(key.exportPkcs8(), 'PRIVATE KEY'));
  const out = tmp.path('openssl-enc.pem');
  openssl(['pkcs8', '-topk8', '-in', plain, '-passout', `file:${passFile}`, ...options, '-out', out]);
  return new TextDecoder().decode(tmp.read(out));
}

const DIGEST = new Uint8Array(32).map((_, i) => i * 7 + 1);

describe.each(ASYMMETRIC_KEY_SPECS)('%s', (spec) => {
  it('our scrypt and PBKDF2 exports decrypt with openssl pkey -passin to our public key', async () => {
    const key = await keyFor(spec);
    const expected = publicKeyPem(key.publicKey);
    for (const kdf of ['scrypt', 'pbkdf2'] as const) {
      const der = await encryptPkcs8(key.exportPkcs8(), PASS, { kdf });
      expect(opensslPublicPem(encryptedPkcs8Pem(der)), kdf).toBe(expected);
    }
  });

  it('reads openssl pkcs8 -topk8 exports (PBKDF2-HMAC-SHA-256 600,000 and scrypt, AES-256-CBC)', async () => {
    const key = await keyFor(spec);
    const variants = [
      ['-v2', 'aes-256-cbc', '-v2prf', 'hmacWithSHA256', '-iter', '600000'],
      ['-scrypt'],
    ];
    for (const options of variants) {
      const pem = opensslEncrypt(key, options);
      const pkcs8 = await decryptPkcs8(readEncryptedPkcs8(pem), PASS, { spec });
      const imported = importPrivateKey(pkcs8, spec);
      expect(imported.publicKey.spki, options.join(' ')).toEqual(key.publicKey.spki);
      // PEM given as bytes reads the same.
      expect(await decryptPkcs8(readEncryptedPkcs8(new TextEncoder().encode(pem)), PASS)).toEqual(pkcs8);
    }
  });

  it('round trip: export → import gives a key that signs like the original', async () => {
    const key = await keyFor(spec);
    const der = await encryptPkcs8(key.exportPkcs8(), PASS, { kdf: 'pbkdf2', iterations: 1_000 });
    const imported = importPrivateKey(await decryptPkcs8(der, PASS, { spec }), spec);
    if (spec.startsWith('RSA_')) {
      expect(signDigest(imported, 'RSA_PKCS1_SHA_256', DIGEST)).toEqual(signDigest(key, 'RSA_PKCS1_SHA_256', DIGEST));
    } else {
      const algorithm = spec === 'EC_SM2' ? 'SM2DSA' : 'ECDSA_SHA_256';
      const signature = signDigest(imported, algorithm, DIGEST);
      expect(verifyDigest(key.publicKey, algorithm, DIGEST, signature)).toBe(true);
    }
  });
});

describe('bad input', () => {
  const spec: KeySpec = 'EC_P256';

  async function ours(kdf: 'scrypt' | 'pbkdf2' = 'scrypt'): Promise<Uint8Array> {
    const key = await keyFor(spec);
    return encryptPkcs8(key.exportPkcs8(), PASS, kdf === 'scrypt' ? { kdf, scryptN: 1 << 10 } : { kdf, iterations: 1_000 });
  }

  async function refused(der: Uint8Array | Promise<Uint8Array>, passphrase = PASS): Promise<string> {
    const error = await rejection(Promise.resolve(der).then((d) => decryptPkcs8(d, passphrase)));
    expect(error.code).toBe('InvalidParameter');
    return error.message;
  }

  /** Re-encodes `der` after `mutate` changes its PBES2 parameters. */
  function rewrite(der: Uint8Array, mutate: (pbes2: Pbes2Params) => void): Uint8Array {
    const info = AsnParser.parse(der, EncryptedPrivateKeyInfo);
    const pbes2 = AsnParser.parse(info.encryptionAlgorithm.parameters!, Pbes2Params);
    mutate(pbes2);
    info.encryptionAlgorithm.parameters = serializeDer(pbes2).slice().buffer;
    return serializeDer(info);
  }

  function rewriteScrypt(der: Uint8Array, mutate: (p: ScryptParams) => void): Uint8Array {
    return rewrite(der, (pbes2) => {
      const sp = AsnParser.parse(pbes2.keyDerivationFunc.parameters!, ScryptParams);
      mutate(sp);
      pbes2.keyDerivationFunc.parameters = serializeDer(sp).slice().buffer;
    });
  }

  function rewritePbkdf2(der: Uint8Array, mutate: (p: Pbkdf2Params) => void): Uint8Array {
    return rewrite(der, (pbes2) => {
      const pp = AsnParser.parse(pbes2.keyDerivationFunc.parameters!, Pbkdf2Params);
      mutate(pp);
      pbes2.keyDerivationFunc.parameters = serializeDer(pp).slice().buffer;
    });
  }

  it('a wrong passphrase', async () => {
    expect(await refused(ours('scrypt'), new TextEncoder().encode('wrong'))).toBe(DAMAGED);
    expect(await refused(ours('pbkdf2'), new TextEncoder().encode('wrong'))).toBe(DAMAGED);
    const pem = opensslEncrypt(await keyFor(spec), ['-v2', 'aes-256-cbc', '-v2prf', 'hmacWithSHA256', '-iter', '600000']);
    expect(await refused(readEncryptedPkcs8(pem), new TextEncoder().encode(`${PASSPHRASE}!`))).toBe(DAMAGED);
  });

  it('a flipped ciphertext byte (anywhere in the ciphertext)', async () => {
    const der = await ours();
    const info = AsnParser.parse(der, EncryptedPrivateKeyInfo);
    const length = info.encryptedData.byteLength;
    const start = der.length - length;
    // Last byte (padding), second-to-last block (flips padding bits), middle (key material), first block.
    for (const offset of [length - 1, length - 17, Math.floor(length / 2), 0, 5]) {
      expect(await refused(flipByte(der, start + offset)), `offset ${offset}`).toBe(DAMAGED);
    }
  });

  it('a flipped IV or salt byte', async () => {
    const der = await ours();
    const info = AsnParser.parse(der, EncryptedPrivateKeyInfo);
    const length = info.encryptedData.byteLength;
    // The IV's last byte sits just before the encryptedData OCTET STRING header.
    const header = length < 128 ? 2 : length < 256 ? 3 : 4;
    expect(await refused(flipByte(der, der.length - length - header - 1))).toBe(DAMAGED);
  });

  it('a truncated file and trailing garbage', async () => {
    const der = await ours();
    for (const cut of [1, 16, der.length - 10]) {
      expect(await refused(der.subarray(0, der.length - cut))).toMatch(/^EncryptedPrivateKey: .*EncryptedPrivateKeyInfo/);
    }
    expect(await refused(Uint8Array.from([...der, 0]))).toBe(
      'EncryptedPrivateKey: PKCS#8 EncryptedPrivateKeyInfo is not canonical DER (trailing bytes, indefinite or non-minimal lengths)',
    );
    const pem = encryptedPkcs8Pem(der);
    const lines = pem.trim().split('\n');
    const truncatedPem = [...lines.slice(0, 2), lines.at(-1)!].join('\n');
    expect(await refused(readEncryptedPkcs8(truncatedPem))).toMatch(/EncryptedPrivateKeyInfo/);
  });

  it('unknown ciphers and PRFs from openssl, named', async () => {
    const key = await keyFor(spec);
    expect(await refused(readEncryptedPkcs8(opensslEncrypt(key, ['-v2', 'des3'])))).toBe(
      'EncryptedPrivateKey: encryption scheme des-ede3-cbc (1.2.840.113549.3.7) is not supported; use aes-256-cbc',
    );
    expect(await refused(readEncryptedPkcs8(opensslEncrypt(key, ['-v2', 'aes-128-cbc'])))).toBe(
      'EncryptedPrivateKey: encryption scheme aes-128-cbc (2.16.840.1.101.3.4.1.2) is not supported; use aes-256-cbc',
    );
    expect(await refused(readEncryptedPkcs8(opensslEncrypt(key, ['-v2', 'aes-256-cbc', '-v2prf', 'hmacWithSHA1'])))).toBe(
      'EncryptedPrivateKey: PBKDF2 pseudo-random function hmacWithSHA1 (1.2.840.113549.2.7) is not supported; use hmacWithSHA256',
    );
    expect(await refused(readEncryptedPkcs8(opensslEncrypt(key, ['-v1', 'PBE-SHA1-3DES'])))).toBe(
      'EncryptedPrivateKey: encryption algorithm PKCS#12 pbeWithSHAAnd3-KeyTripleDES-CBC (1.2.840.113549.1.12.1.3) is not supported; use PBES2',
    );
    const unknownKdf = rewrite(await ours(), (p) => {
      p.keyDerivationFunc = new AlgorithmIdentifier({ algorithm: '1.2.3.4.5', parameters: p.keyDerivationFunc.parameters });
    });
    expect(await refused(unknownKdf)).toBe('EncryptedPrivateKey: key derivation function 1.2.3.4.5 is not supported; use scrypt or PBKDF2');
  });

  it('unreasonable KDF parameters', async () => {
    const scrypt = await ours('scrypt');
    const pbkdf2 = await ours('pbkdf2');
    const int = (n: number): ArrayBuffer => derInteger(BigInt(n));
    expect(await refused(rewriteScrypt(scrypt, (p) => (p.costParameter = int(1000))))).toBe(
      'EncryptedPrivateKey: scrypt cost N=1000 is not a power of two',
    );
    expect(await refused(rewriteScrypt(scrypt, (p) => (p.costParameter = int(2 ** 21))))).toBe(
      'EncryptedPrivateKey: scrypt cost N=2097152 is over the limit 2^20',
    );
    expect(await refused(rewriteScrypt(scrypt, (p) => {
      p.costParameter = int(2 ** 20);
      p.blockSize = int(16);
    }))).toBe('EncryptedPrivateKey: scrypt N=1048576, r=16, p=1 needs more than 1 GiB of memory');
    expect(await refused(rewriteScrypt(scrypt, (p) => (p.keyLength = int(16))))).toBe(
      'EncryptedPrivateKey: key length 16 does not match AES-256 (32 bytes)',
    );
    expect(await refused(rewritePbkdf2(pbkdf2, (p) => (p.iterationCount = int(10_000_001))))).toBe(
      'EncryptedPrivateKey: PBKDF2 iteration count 10000001 is outside 1,000..10,000,000',
    );
    expect(await refused(rewritePbkdf2(pbkdf2, (p) => (p.iterationCount = int(999))))).toBe(
      'EncryptedPrivateKey: PBKDF2 iteration count 999 is outside 1,000..10,000,000',
    );
    expect(await refused(rewritePbkdf2(pbkdf2, (p) => (p.keyLength = int(24))))).toBe(
      'EncryptedPrivateKey: key length 24 does not match AES-256 (32 bytes)',
    );
    expect(await refused(rewritePbkdf2(pbkdf2, (p) => (p.iterationCount = new Uint8Array([0, 0x10, 0]).buffer))))
      .toBe('EncryptedPrivateKey: PBKDF2 iterationCount has a non-minimal INTEGER encoding');
  });

  it('a key of another spec than the target', async () => {
    const der = await ours();
    const error = await rejection(decryptPkcs8(der, PASS, { spec: 'EC_SM2' }));
    expect(error.code).toBe('InvalidParameter');
    expect(error.message).toBe('EncryptedPrivateKey: is a EC_P256 key, expected EC_SM2');
  });

  it('a wrong PEM label, an empty passphrase and encrypt-side limits', async () => {
    const key = await keyFor(spec);
    expect(() => readEncryptedPkcs8(encodePem(key.exportPkcs8(), 'PRIVATE KEY'))).toThrow(
      'EncryptedPrivateKey: is a PEM "PRIVATE KEY" block; expected "ENCRYPTED PRIVATE KEY"',
    );
    expect(() => readEncryptedPkcs8('not pem')).toThrow(/must be PEM/);
    expect((await rejection(encryptPkcs8(key.exportPkcs8(), new Uint8Array(0)))).message).toBe('Passphrase: is empty');
    expect((await rejection(encryptPkcs8(key.exportPkcs8(), PASS, { kdf: 'pbkdf2', iterations: 10 }))).message).toBe(
      'Iterations: PBKDF2 iteration count 10 is outside 1,000..10,000,000',
    );
    expect((await rejection(encryptPkcs8(key.exportPkcs8(), PASS, { scryptN: 3000 }))).message).toBe(
      'ScryptN: scrypt cost N=3000 is not a power of two',
    );
    expect((await rejection(encryptPkcs8(new Uint8Array([1, 2, 3]), PASS))).message).toBe(
      'PrivateKey: is not a DER-encoded PKCS#8 PrivateKeyInfo',
    );
  });

  it('defaults: scrypt N=2^14 r=8 p=1 and PBKDF2 600,000 iterations, AES-256-CBC with a 16-byte IV', async () => {
    const key = await keyFor(spec);
    const timings: Record<string, number> = {};
    for (const kdf of ['scrypt', 'pbkdf2'] as const) {
      const start = performance.now();
      const der = await encryptPkcs8(key.exportPkcs8(), PASS, { kdf });
      timings[kdf] = Math.round(performance.now() - start);
      const pbes2 = AsnParser.parse(AsnParser.parse(der, EncryptedPrivateKeyInfo).encryptionAlgorithm.parameters!, Pbes2Params);
      expect(pbes2.encryptionScheme.algorithm).toBe(PKCS8_OID.aes256Cbc);
      const text = openssl(['asn1parse', '-inform', 'DER', '-in', tmp.write('d.der', der)]).toString('utf8');
      if (kdf === 'scrypt') {
        expect(text).toMatch(/:scrypt[\s\S]*INTEGER\s+:4000\n[\s\S]*INTEGER\s+:08\n[\s\S]*INTEGER\s+:01\n[\s\S]*INTEGER\s+:20\n/);
      } else {
        expect(text).toMatch(/:PBKDF2[\s\S]*INTEGER\s+:0927C0\n[\s\S]*INTEGER\s+:20\n[\s\S]*:hmacWithSHA256/);
      }
      expect(text).toMatch(/:aes-256-cbc\n.*OCTET STRING\s+\[HEX DUMP\]:[0-9A-F]{32}\n/);
    }
    console.log(`pkcs8 export timings (ms): ${JSON.stringify(timings)}`);
  });
});
