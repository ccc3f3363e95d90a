// Interop with the OpenSSL 3 command line, for every key spec and algorithm in KEY_SPEC_TABLE
// (iterated, never listed here, so a new spec or algorithm is covered, or fails loudly in
// openssl-peer.ts's mappings, without touching this file).
//
// SIGN/VERIFY:  our signature over a Digest verified by `openssl dgst` over the message and by
//               `openssl pkeyutl` over the Digest; the Digest itself checked against OpenSSL's
//               hash (SM3(Z_A || M) for SM2DSA, Z_A computed here from the published constants);
//               OpenSSL's signatures verified by verifyDigest, tampered ones refused.
// ENCRYPT/DECRYPT: both directions through `openssl pkeyutl`, the plaintext limit (DESIGN.md's
//               table), tampered ciphertext refused.
// Keys:         our PKCS#8 and SPKI read by OpenSSL; keys made by `openssl genpkey` imported.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsError } from '../../core/contract/errors.ts';
import {
  ALGORITHM_TABLE,
  ENCRYPTION_ALGORITHMS,
  KEY_SPEC_TABLE,
  SIGNING_ALGORITHMS,
  SM2_DEFAULT_ID,
  isEncryptionAlgorithm,
  isSigningAlgorithm,
  maxPlaintextBytes,
  type EncryptionAlgorithm,
  type KeySpec,
  type KeySpecInfo,
  type SigningAlgorithm,
} from '../../core/contract/specs.ts';
import {
  decrypt,
  digestMessage,
  encrypt,
  generateKey,
  importPrivateKey,
  importPublicKey,
  publicKeyPem,
  signDigest,
  verifyDigest,
  type PrivateKey,
  type PublicKey,
} from '../../core/crypto/engine.ts';
import {
  OPENSSL_DIGEST,
  TempDir,
  dgstArgs,
  flipByte,
  genpkeyArgs,
  openssl,
  opensslAsync,
  opensslVersion,
  pkeyutlDecryptArgs,
  pkeyutlEncryptArgs,
  pkeyutlVerifyArgs,
  runOpenssl,
  type OpensslResult,
} from './openssl-peer.ts';

// Key pairs: symmetric specs have no public key (their OpenSSL and vector checks: test/unit/sm4-vectors.test.ts, aes-gcm-wycheproof.test.ts).
const SPECS: readonly KeySpecInfo[] = Object.values(KEY_SPEC_TABLE).filter((info) => info.symmetric === undefined);

/** DESIGN.md section 3, "Max plaintext", copied literally: the engine must agree with the document. */
const DESIGN_MAX_PLAINTEXT: Readonly<Partial<Record<KeySpec, Readonly<Partial<Record<EncryptionAlgorithm, number>>>>>> = {
  RSA_2048: { RSAES_OAEP_SHA_256: 190, RSAES_OAEP_SHA_1: 214 },
  RSA_3072: { RSAES_OAEP_SHA_256: 318, RSAES_OAEP_SHA_1: 342 },
  RSA_4096: { RSAES_OAEP_SHA_256: 446, RSAES_OAEP_SHA_1: 470 },
  EC_SM2: { SM2PKE: 6047 },
};

/** The KMS contract's SM2 distinguishing ID (OpenSSL's default is empty). */
const KMS_SM2_ID = '1234567812345678';

/** SM2 recommended curve, GB/T 32918.5-2017: a, b, xG, yG. */
const SM2_CURVE_HEX = [
  'FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC',
  '28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93',
  '32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7',
  'BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0',
] as const;

/** Message sizes for message mode: empty, 1 byte, around a hash block, odd, 1 MiB. */
const MESSAGE_SIZES = [0, 1, 64, 1001, 1 << 20] as const;

interface Message {
  readonly bytes: Uint8Array;
  readonly file: string;
  /** The same length (or 1 byte when empty) with a different last byte. */
  readonly other: Uint8Array;
  readonly otherFile: string;
}

interface OurKey {
  readonly priv: PrivateKey;
  readonly pub: PublicKey;
  readonly pubPem: string;
  readonly keyDer: string;
  readonly keyPem: string;
}

interface TheirKey {
  readonly keyPem: string;
  readonly pubPem: string;
  readonly pubPemText: string;
  readonly spki: Uint8Array;
  readonly pkcs8: Uint8Array;
}

let tmp: TempDir;
let messages: Message[] = [];
const ours = new Map<KeySpec, OurKey>();
const theirs = new Map<KeySpec, TheirKey>();

function ourKey(spec: KeySpec): OurKey {
  const key = ours.get(spec);
  if (!key) throw new Error(`no generated key for ${spec}`);
  return key;
}

function theirKey(spec: KeySpec): TheirKey {
  const key = theirs.get(spec);
  if (!key) throw new Error(`no openssl key for ${spec}`);
  return key;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function expectSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const at = actual.findIndex((b, i) => b !== expected[i]);
  expect(at, `${what}: first differing byte`).toBe(-1);
}

function describeRun(r: OpensslResult): string {
  return `openssl ${r.args.join(' ')} -> ${r.status}\nstdout: ${r.stdout.toString('utf8').trim()}\nstderr: ${r.stderr.trim()}`;
}

function expectOpensslOk(r: OpensslResult, stdoutIncludes: string): void {
  expect(r.status, describeRun(r)).toBe(0);
  expect(r.stdout.toString('utf8'), describeRun(r)).toContain(stdoutIncludes);
}

function expectOpensslRefuses(r: OpensslResult): void {
  expect(r.status, describeRun(r)).not.toBe(0);
}

function thrown(run: () => unknown): unknown {
  let value: unknown;
  try {
    value = run();
  } catch (error) {
    return error;
  }
  throw new Error(`expected a KmsError, got a result: ${value instanceof Uint8Array ? `${value.length} bytes` : String(value)}`);
}

function expectInvalidParameter(error: unknown): KmsError {
  expect(error).toBeInstanceOf(KmsError);
  const kms = error as KmsError;
  expect(kms.code, kms.message).toBe('InvalidParameter');
  return kms;
}

/** A verification that must not succeed: false, or InvalidParameter for a malformed signature. */
function expectRejected(run: () => boolean, what: string): void {
  let result: boolean;
  try {
    result = run();
  } catch (error) {
    expectInvalidParameter(error);
    return;
  }
  expect(result, what).toBe(false);
}

/** First, second and last byte, the middle, and a few fixed offsets (inside C1, C3, C2 of SM2). */
function tamperPositions(length: number): number[] {
  return [...new Set([0, 1, 5, 40, 80, 110, Math.floor(length / 2), length - 1])].filter((i) => i < length).sort((a, b) => a - b);
}

/** Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA), with the point from OpenSSL's SPKI. */
function independentSm2Za(opensslSpki: Uint8Array): Uint8Array {
  const point = opensslSpki.subarray(opensslSpki.length - 65);
  expect(point[0], 'uncompressed point at the end of the SPKI').toBe(0x04);
  const id = Buffer.from(KMS_SM2_ID, 'utf8');
  const entl = id.length * 8;
  const h = createHash('sm3').update(Uint8Array.of(entl >> 8, entl & 0xff)).update(id);
  for (const constant of SM2_CURVE_HEX) h.update(Buffer.from(constant, 'hex'));
  return new Uint8Array(h.update(point.subarray(1)).digest());
}

/** What the standard says the Digest of `m` is, computed by OpenSSL (`openssl dgst -binary`). */
function opensslDigest(algorithm: SigningAlgorithm, pub: OurKey, m: Message): Uint8Array {
  const hash = ALGORITHM_TABLE[algorithm].hash;
  const name = OPENSSL_DIGEST[hash];
  if (hash !== 'SM3') return new Uint8Array(openssl(['dgst', `-${name}`, '-binary', m.file]));
  const spki = new Uint8Array(openssl(['pkey', '-pubin', '-in', pub.pubPem, '-outform', 'DER']));
  const za = independentSm2Za(spki);
  const zm = new Uint8Array(za.length + m.bytes.length);
  zm.set(za);
  zm.set(m.bytes, za.length);
  return new Uint8Array(openssl(['dgst', `-${name}`, '-binary', tmp.write('za-msg.bin', zm)]));
}

async function* chunked(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  const sizes = [1, 63, 65_536, 7];
  let offset = 0;
  for (let i = 0; offset < bytes.length; i++) {
    const size = sizes[i % sizes.length] ?? 1;
    yield await Promise.resolve(bytes.subarray(offset, offset + size));
    offset += size;
  }
}

beforeAll(async () => {
  tmp = new TempDir('deskkms-openssl-');
  messages = MESSAGE_SIZES.map((size) => {
    const bytes = new Uint8Array(randomBytes(size));
    const other = size === 0 ? Uint8Array.of(0x61) : flipByte(bytes, -1);
    return { bytes, file: tmp.write(`msg-${size}.bin`, bytes), other, otherFile: tmp.write(`other-${size}.bin`, other) };
  });

  const makeOurs = SPECS.map(async (info) => {
    const priv = await generateKey(info.spec);
    const keyDer = tmp.write(`${info.spec}-ours.p8.der`, priv.exportPkcs8());
    const keyPem = tmp.path(`${info.spec}-ours.key.pem`);
    await opensslAsync(['pkey', '-inform', 'DER', '-in', keyDer, '-out', keyPem]);
    const pubPem = tmp.write(`${info.spec}-ours.pub.pem`, publicKeyPem(priv.publicKey));
    ours.set(info.spec, { priv, pub: priv.publicKey, pubPem, keyDer, keyPem });
  });
  const makeTheirs = SPECS.map(async (info) => {
    const keyPem = tmp.path(`${info.spec}-openssl.key.pem`);
    await opensslAsync(['genpkey', ...genpkeyArgs(info), '-out', keyPem]);
    const pubPem = tmp.path(`${info.spec}-openssl.pub.pem`);
    await opensslAsync(['pkey', '-in', keyPem, '-pubout', '-out', pubPem]);
    const spki = new Uint8Array(await opensslAsync(['pkey', '-in', keyPem, '-pubout', '-outform', 'DER']));
    const pkcs8 = new Uint8Array(await opensslAsync(['pkcs8', '-topk8', '-nocrypt', '-outform', 'DER', '-in', keyPem]));
    theirs.set(info.spec, { keyPem, pubPem, pubPemText: fs.readFileSync(pubPem, 'utf8'), spki, pkcs8 });
  });
  await Promise.all([...makeOurs, ...makeTheirs]);
});

afterAll(() => {
  for (const key of ours.values()) key.priv.wipe();
  tmp?.remove();
});

describe('OpenSSL peer', () => {
  it('is OpenSSL 3 with SM2/SM3', () => {
    expect(opensslVersion()).toMatch(/^OpenSSL 3\./);
    expect(openssl(['dgst', '-sm3', '-binary'], { input: new Uint8Array(0) }).toString('hex')).toBe(
      '1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b',
    );
  });

  it('the suite reaches every algorithm and the DESIGN.md limits table matches KEY_SPEC_TABLE', () => {
    const signing = new Set(SPECS.flatMap((info) => info.algorithms['SIGN/VERIFY']));
    const encryption = new Set(SPECS.flatMap((info) => info.algorithms['ENCRYPT/DECRYPT']));
    expect([...signing].sort()).toEqual([...SIGNING_ALGORITHMS].sort());
    expect([...encryption].sort()).toEqual([...ENCRYPTION_ALGORITHMS].sort());
    const fromTable = SPECS.flatMap((info) => info.algorithms['ENCRYPT/DECRYPT'].map((alg) => `${info.spec}/${alg}`)).sort();
    const fromDesign = Object.entries(DESIGN_MAX_PLAINTEXT)
      .flatMap(([spec, algs]) => Object.keys(algs ?? {}).map((alg) => `${spec}/${alg}`))
      .sort();
    expect(fromDesign).toEqual(fromTable);
    expect(SM2_DEFAULT_ID).toBe(KMS_SM2_ID);
  });
});

for (const info of SPECS) {
  const spec = info.spec;

  describe(spec, () => {
    describe('keys', () => {
      it('exportPkcs8() is read by openssl pkey -inform DER with the same public key, and passes pkey -check', () => {
        const k = ourKey(spec);
        const spki = new Uint8Array(openssl(['pkey', '-inform', 'DER', '-in', k.keyDer, '-pubout', '-outform', 'DER']));
        expect(hex(spki)).toBe(hex(k.pub.spki));
        expectOpensslOk(runOpenssl(['pkey', '-inform', 'DER', '-in', k.keyDer, '-check', '-noout']), 'Key is valid');
        // ...and our PUBLIC KEY PEM is read back to the same SPKI.
        const fromPem = new Uint8Array(openssl(['pkey', '-pubin', '-in', k.pubPem, '-outform', 'DER']));
        expect(hex(fromPem)).toBe(hex(k.pub.spki));
      });

      it(`a key from openssl genpkey ${genpkeyArgs(info).join(' ')} imports as ${spec}`, () => {
        const t = theirKey(spec);
        const pub = importPublicKey(t.pubPemText);
        expect(pub.spec).toBe(spec);
        expect(hex(pub.spki)).toBe(hex(t.spki));
        expect(importPublicKey(t.spki).spec).toBe(spec);
        const priv = importPrivateKey(t.pkcs8);
        expect(priv.spec).toBe(spec);
        expect(hex(priv.publicKey.spki)).toBe(hex(t.spki));
        expect(importPrivateKey(t.pkcs8, spec).spec).toBe(spec);
        const wrong = SPECS.find((other) => other.spec !== spec);
        if (wrong) expectInvalidParameter(thrown(() => importPrivateKey(t.pkcs8, wrong.spec)));
        // Our re-export of OpenSSL's key is a key OpenSSL reads back to the same public key.
        const reexported = tmp.write(`${spec}-reexport.p8.der`, priv.exportPkcs8());
        const spki = new Uint8Array(openssl(['pkey', '-inform', 'DER', '-in', reexported, '-pubout', '-outform', 'DER']));
        expect(hex(spki)).toBe(hex(t.spki));
      });
    });

    for (const algorithm of info.algorithms['SIGN/VERIFY']) {
      if (!isSigningAlgorithm(algorithm)) throw new Error(`${algorithm} is listed under SIGN/VERIFY`);

      describe(algorithm, () => {
        it('message mode: openssl dgst -verify accepts our signature over the message', async () => {
          const k = ourKey(spec);
          for (const m of messages) {
            const digest = await digestMessage(k.pub, algorithm, m.bytes);
            const signature = tmp.write('sig.bin', signDigest(k.priv, algorithm, digest));
            expectOpensslOk(runOpenssl(dgstArgs(algorithm, { verify: k.pubPem, signature }, m.file)), 'Verified OK');
            // Control: the same command refuses the signature for another message.
            expectOpensslRefuses(runOpenssl(dgstArgs(algorithm, { verify: k.pubPem, signature }, m.otherFile)));
          }
          // Streaming the 1 MiB message in odd chunks gives the same Digest.
          const big = messages[messages.length - 1];
          if (!big) throw new Error('no messages');
          const whole = await digestMessage(k.pub, algorithm, big.bytes);
          let progress = 0;
          const streamed = await digestMessage(k.pub, algorithm, chunked(big.bytes), (n) => (progress = n));
          expect(hex(streamed)).toBe(hex(whole));
          expect(progress).toBe(big.bytes.length);
        });

        it('the Digest is the standard one (openssl dgst over M, or over Z_A || M for SM3)', async () => {
          const k = ourKey(spec);
          for (const m of messages) {
            const digest = await digestMessage(k.pub, algorithm, m.bytes);
            expect(digest.length).toBe(32);
            expect(hex(digest), `${m.bytes.length}-byte message`).toBe(hex(opensslDigest(algorithm, k, m)));
          }
        });

        it('digest mode: openssl pkeyutl -verify accepts our signature over the Digest', async () => {
          const k = ourKey(spec);
          for (const m of messages) {
            const digest = await digestMessage(k.pub, algorithm, m.bytes);
            const digestFile = tmp.write('digest.bin', digest);
            const sigFile = tmp.write('sig.bin', signDigest(k.priv, algorithm, digest));
            expectOpensslOk(runOpenssl(pkeyutlVerifyArgs(algorithm, k.pubPem, digestFile, sigFile)), 'Signature Verified Successfully');
            // Control: pkeyutl refuses it over a different Digest.
            const wrongDigest = tmp.write('digest-wrong.bin', flipByte(digest, 0));
            expectOpensslRefuses(runOpenssl(pkeyutlVerifyArgs(algorithm, k.pubPem, wrongDigest, sigFile)));
          }
        });

        it('reverse: verifyDigest accepts openssl dgst -sign signatures; tampered ones and other messages are refused', async () => {
          const k = ourKey(spec);
          for (const m of messages) {
            const sigFile = tmp.path('openssl-sig.bin');
            openssl(dgstArgs(algorithm, { sign: k.keyPem, out: sigFile }, m.file));
            const signature = tmp.read(sigFile);
            const digest = await digestMessage(k.pub, algorithm, m.bytes);
            expect(verifyDigest(k.pub, algorithm, digest, signature), `${m.bytes.length}-byte message`).toBe(true);
            if (algorithm === 'RSA_PKCS1_SHA_256') {
              // Deterministic: OpenSSL's signature and ours are the same bytes.
              expect(hex(signDigest(k.priv, algorithm, digest))).toBe(hex(signature));
            }
            for (const i of tamperPositions(signature.length)) {
              expectRejected(() => verifyDigest(k.pub, algorithm, digest, flipByte(signature, i)), `signature with byte ${i} flipped`);
            }
            const otherDigest = await digestMessage(k.pub, algorithm, m.other);
            expectRejected(() => verifyDigest(k.pub, algorithm, otherDigest, signature), 'signature for another message');
          }
        });

        it('openssl-generated key: imported private key signs for openssl, imported public key verifies openssl', async () => {
          const t = theirKey(spec);
          const priv = importPrivateKey(t.pkcs8, spec);
          const pub = importPublicKey(t.pubPemText);
          for (const m of messages.filter((x) => x.bytes.length <= 1001)) {
            const digest = await digestMessage(pub, algorithm, m.bytes);
            const signature = tmp.write('sig.bin', signDigest(priv, algorithm, digest));
            expectOpensslOk(runOpenssl(dgstArgs(algorithm, { verify: t.pubPem, signature }, m.file)), 'Verified OK');
            const sigFile = tmp.path('openssl-sig.bin');
            openssl(dgstArgs(algorithm, { sign: t.keyPem, out: sigFile }, m.file));
            expect(verifyDigest(pub, algorithm, digest, tmp.read(sigFile))).toBe(true);
          }
          priv.wipe();
        });
      });
    }

    for (const algorithm of info.algorithms['ENCRYPT/DECRYPT']) {
      if (!isEncryptionAlgorithm(algorithm)) throw new Error(`${algorithm} is listed under ENCRYPT/DECRYPT`);
      const limit = maxPlaintextBytes(spec, algorithm);
      const sizes = [...new Set([1, 2, 32, limit - 1, limit])].filter((n) => n >= 1 && n <= limit);

      describe(algorithm, () => {
        it(`maxPlaintextBytes is DESIGN.md's ${String(DESIGN_MAX_PLAINTEXT[spec]?.[algorithm])}`, () => {
          expect(limit).toBe(DESIGN_MAX_PLAINTEXT[spec]?.[algorithm]);
        });

        it('openssl pkeyutl -encrypt, decrypt() recovers the plaintext (up to exactly the limit)', () => {
          const k = ourKey(spec);
          for (const size of sizes) {
            const plaintext = new Uint8Array(randomBytes(size));
            const ctFile = tmp.path('openssl-ct.bin');
            openssl(pkeyutlEncryptArgs(algorithm, k.pubPem, tmp.write('pt.bin', plaintext), ctFile));
            expectSameBytes(decrypt(k.priv, algorithm, tmp.read(ctFile)), plaintext, `${size}-byte plaintext`);
          }
        });

        it('encrypt(), openssl pkeyutl -decrypt recovers the plaintext (up to exactly the limit)', () => {
          const k = ourKey(spec);
          for (const size of sizes) {
            const plaintext = new Uint8Array(randomBytes(size));
            const ptFile = tmp.path('openssl-pt.bin');
            openssl(pkeyutlDecryptArgs(algorithm, k.keyPem, tmp.write('ct.bin', encrypt(k.pub, algorithm, plaintext)), ptFile));
            expectSameBytes(tmp.read(ptFile), plaintext, `${size}-byte plaintext`);
          }
        });

        it('one byte over the limit is refused with InvalidParameter naming the limit', () => {
          const k = ourKey(spec);
          const over = new Uint8Array(randomBytes(limit + 1));
          const error = expectInvalidParameter(thrown(() => encrypt(k.pub, algorithm, over)));
          expect(error.message).toMatch(new RegExp(`\\b${limit}\\b`));
          if (info.family === 'RSA') {
            // The limit is OAEP's own (k - 2hLen - 2): OpenSSL refuses one byte more too.
            // (SM2 encryption has no limit of its own; 6047 is the KMS's.)
            expectOpensslRefuses(runOpenssl(pkeyutlEncryptArgs(algorithm, k.pubPem, tmp.write('pt.bin', over), tmp.path('ct.bin'))));
          }
        });

        it('an openssl ciphertext with one byte flipped is refused with InvalidParameter', () => {
          const k = ourKey(spec);
          const plaintext = new Uint8Array(randomBytes(Math.min(limit, 100)));
          const ctFile = tmp.path('openssl-ct.bin');
          openssl(pkeyutlEncryptArgs(algorithm, k.pubPem, tmp.write('pt.bin', plaintext), ctFile));
          const ciphertext = tmp.read(ctFile);
          expectSameBytes(decrypt(k.priv, algorithm, ciphertext), plaintext, 'untampered');
          for (const i of tamperPositions(ciphertext.length)) {
            for (const mask of [0x01, 0x80]) {
              expectInvalidParameter(thrown(() => decrypt(k.priv, algorithm, flipByte(ciphertext, i, mask))));
            }
          }
        });

        it('openssl-generated key: imported keys decrypt openssl ciphertext and encrypt for openssl', () => {
          const t = theirKey(spec);
          const priv = importPrivateKey(t.pkcs8, spec);
          const pub = importPublicKey(t.pubPemText);
          for (const size of [1, limit]) {
            const plaintext = new Uint8Array(randomBytes(size));
            const ctFile = tmp.path('openssl-ct.bin');
            openssl(pkeyutlEncryptArgs(algorithm, t.pubPem, tmp.write('pt.bin', plaintext), ctFile));
            expectSameBytes(decrypt(priv, algorithm, tmp.read(ctFile)), plaintext, `openssl -> us, ${size} bytes`);
            const ptFile = tmp.path('openssl-pt.bin');
            openssl(pkeyutlDecryptArgs(algorithm, t.keyPem, tmp.write('ct.bin', encrypt(pub, algorithm, plaintext)), ptFile));
            expectSameBytes(tmp.read(ptFile), plaintext, `us -> openssl, ${size} bytes`);
          }
          priv.wipe();
        });
      });
    }
  });
}
