// Public-key bundles (issue 5) against independent consumers: OpenSSL reads the PEM and DER,
// ssh-keygen reads the OpenSSH line and prints our fingerprint, WebCrypto and jose import the JWKs
// and verify signatures made by the engine (as the vault makes them). writeBundle (bundle-writer.ts) is checked for
// its all-or-nothing directory and its refusal to overwrite.
import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey, verify as nodeVerify, type JsonWebKey } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { numberToBytesBE } from '@noble/curves/utils.js';
import { compactVerify, importJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ASYMMETRIC_KEY_SPECS, KEY_SPEC_TABLE, type KeySpec, type SigningAlgorithm } from '../../core/contract/specs.ts';
import { decodeRsSignature } from '../../core/crypto/der.ts';
import { generateKey, signDigest, type PrivateKey } from '../../core/crypto/engine.ts';
import {
  MANIFEST_FILE,
  assembleBundle,
  bundleFileNames,
  publicKeyFormats,
  type ManifestFile,
  type ManifestOmission,
  type PublicKeyBundle,
} from '../../core/x509/public-bundle.ts';
import { writeBundle } from '../../core/x509/bundle-writer.ts';
import { openssl } from '../interop/openssl-peer.ts';
import { KmsError } from '../../core/contract/errors.ts';
import { rejection } from '../support/errors.ts';

const KEY_ID = 'key-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';
const versionId = (spec: KeySpec): string => `ver-${spec.toLowerCase().replace(/_/g, '-')}-5e6f7a8b`;
const sha256 = (data: Uint8Array | string): Buffer => createHash('sha256').update(data).digest();
const b64url = (data: Uint8Array | string): string => Buffer.from(data).toString('base64url');
const MESSAGE = new TextEncoder().encode('DeskKMS public-key bundle interop');

const SSH_KEYGEN = process.env['SSH_KEYGEN'] ?? 'ssh-keygen';

/** Runs ssh-keygen; a missing binary fails the test with the package to install. */
function sshKeygen(args: readonly string[]): string {
  const r = spawnSync(SSH_KEYGEN, args, { encoding: 'utf8' });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error(
      `${SSH_KEYGEN} not found: install Debian package openssh-client (apt-get install openssh-client; test/setup/system-deps.sh installs it)`,
    );
  }
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`ssh-keygen ${args.join(' ')} exited ${String(r.status)}:\n${r.stderr}`);
  return r.stdout;
}

/** IEEE P1363 r || s (32 bytes each) from our DER ECDSA signature. */
function p1363(der: Uint8Array): Uint8Array {
  const { r, s } = decodeRsSignature(der);
  const out = new Uint8Array(64);
  out.set(numberToBytesBE(r, 32), 0);
  out.set(numberToBytesBE(s, 32), 32);
  return out;
}

function isFile(entry: ManifestFile | ManifestOmission): entry is ManifestFile {
  return !('omitted' in entry);
}

const keys = new Map<KeySpec, PrivateKey>();
const bundles = new Map<KeySpec, PublicKeyBundle>();
let scratch: string;

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'deskkms-bundle-'));
  await Promise.all(
    ASYMMETRIC_KEY_SPECS.map(async (spec) => {
      const key = await generateKey(spec);
      keys.set(spec, key);
      bundles.set(spec, publicKeyFormats(key.publicKey.spki, { keyId: KEY_ID, keyVersionId: versionId(spec), spec }));
    }),
  );
});

afterAll(() => {
  for (const key of keys.values()) key.wipe();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

function bundleOf(spec: KeySpec): PublicKeyBundle {
  const b = bundles.get(spec);
  if (!b) throw new Error(`no bundle for ${spec}`);
  return b;
}

/** The bundle's JWK as a plain JSON object (what a consumer reads from the .jwk.json file). */
function jwkOf(spec: KeySpec): JsonWebKey & Record<string, string> {
  const jwk = bundleOf(spec).jwk;
  if (!jwk) throw new Error(`no JWK for ${spec}`);
  return JSON.parse(JSON.stringify(jwk)) as JsonWebKey & Record<string, string>;
}

/** The KmsError a synchronous call throws. */
function thrown(fn: () => unknown): KmsError {
  try {
    fn();
  } catch (error) {
    if (error instanceof KmsError) return error;
    throw error;
  }
  throw new Error('expected a KmsError');
}

function keyOf(spec: KeySpec): PrivateKey {
  const k = keys.get(spec);
  if (!k) throw new Error(`no key for ${spec}`);
  return k;
}

const written = new Map<KeySpec, string>();
async function bundleDir(spec: KeySpec): Promise<string> {
  let dir = written.get(spec);
  if (!dir) {
    dir = path.join(scratch, `bundle-${spec}`);
    await writeBundle(dir, bundleOf(spec));
    written.set(spec, dir);
  }
  return dir;
}

describe.each(ASYMMETRIC_KEY_SPECS)('%s bundle', (spec) => {
  const info = KEY_SPEC_TABLE[spec];
  const names = bundleFileNames(versionId(spec));

  it('SPKI PEM and DER are what OpenSSL reads and writes', async () => {
    const b = bundleOf(spec);
    const dir = await bundleDir(spec);
    expect(b.der).toEqual(keyOf(spec).publicKey.spki);
    const fromPem = openssl(['pkey', '-pubin', '-in', path.join(dir, names['spki-pem']), '-outform', 'DER']);
    expect(new Uint8Array(fromPem)).toEqual(b.der);
    const fromDer = openssl(['pkey', '-pubin', '-inform', 'DER', '-in', path.join(dir, names['spki-der']), '-outform', 'PEM']);
    expect(fromDer.toString('utf8')).toBe(b.pem);
  });

  it('fingerprints of the SPKI match an independent hash of OpenSSL output', () => {
    const b = bundleOf(spec);
    const der = openssl(['pkey', '-pubin', '-outform', 'DER'], { input: new TextEncoder().encode(b.pem) });
    const digest = openssl(['dgst', '-sha256', '-binary'], { input: der });
    expect(b.fingerprints.spkiSha256Hex).toBe(digest.toString('hex'));
    expect(b.fingerprints.spkiSha256Base64).toBe(digest.toString('base64'));
    expect(b.fingerprints.spkiSha256Hex).toMatch(/^[0-9a-f]{64}$/);
  });

  if (info.family === 'RSA' || info.curve === 'P-256') {
    const sshType = info.family === 'RSA' ? 'ssh-rsa' : 'ecdsa-sha2-nistp256';
    const sshKind = info.family === 'RSA' ? 'RSA' : 'ECDSA';

    it(`OpenSSH ${sshType}: ssh-keygen -l prints our fingerprint, type and comment`, async () => {
      const b = bundleOf(spec);
      const dir = await bundleDir(spec);
      const comment = `deskkms:${KEY_ID}:${versionId(spec)}`;
      expect(b.openssh).toMatch(new RegExp(`^${sshType} [A-Za-z0-9+/]+=* ${comment}\\n$`));
      const out = sshKeygen(['-l', '-E', 'sha256', '-f', path.join(dir, names.openssh)]).trim();
      expect(out).toBe(`${info.bits} ${b.fingerprints.openssh} ${comment} (${sshKind})`);
      expect(b.fingerprints.openssh).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    });

    it('ssh-keygen converts the OpenSSH line back to our SPKI', async () => {
      const dir = await bundleDir(spec);
      const pem = sshKeygen(['-e', '-m', 'PKCS8', '-f', path.join(dir, names.openssh)]);
      expect(new Uint8Array(openssl(['pkey', '-pubin', '-outform', 'DER'], { input: new TextEncoder().encode(pem) }))).toEqual(
        bundleOf(spec).der,
      );
    });
  } else {
    it('has no OpenSSH line, and the manifest says why', () => {
      const b = bundleOf(spec);
      expect(b.openssh).toBeUndefined();
      expect(b.fingerprints.openssh).toBeUndefined();
      const entry = b.manifest.formats.openssh;
      expect(isFile(entry)).toBe(false);
      expect((entry as ManifestOmission).reason).toMatch(info.curve === 'SM2' ? /SM2/ : /secp256k1/);
    });
  }

  if (info.family === 'RSA') {
    it('RSA JWK: n and e without leading zeros, kid = KeyVersionId, no alg/use', () => {
      const jwk = jwkOf(spec);
      expect(Object.keys(jwk).sort()).toEqual(['e', 'kid', 'kty', 'n']);
      expect(jwk['kty']).toBe('RSA');
      expect(jwk['kid']).toBe(versionId(spec));
      expect(jwk['e']).toBe('AQAB');
      const n = Buffer.from(jwk['n']!, 'base64url');
      expect(n.length * 8).toBe(info.bits);
      expect(n[0]).not.toBe(0);
      // Node reads the JWK as the same key.
      expect(new Uint8Array(createPublicKey({ key: jwk, format: 'jwk' }).export({ format: 'der', type: 'spki' }))).toEqual(
        bundleOf(spec).der,
      );
    });

    it.each([
      ['RSA_PSS_SHA_256', { name: 'RSA-PSS', hash: 'SHA-256' }, { name: 'RSA-PSS', saltLength: 32 }, 'PS256'],
      ['RSA_PKCS1_SHA_256', { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, { name: 'RSASSA-PKCS1-v1_5' }, 'RS256'],
    ] as const)('the JWK imports into WebCrypto and jose and verifies %s', async (algorithm, importAlg, verifyAlg, jwsAlg) => {
      const signature = signDigest(keyOf(spec), algorithm satisfies SigningAlgorithm, sha256(MESSAGE));
      const key = await crypto.subtle.importKey('jwk', jwkOf(spec), importAlg, false, ['verify']);
      expect(await crypto.subtle.verify(verifyAlg, key, signature, MESSAGE)).toBe(true);
      const tampered = Uint8Array.from(MESSAGE);
      tampered[0] = tampered[0]! ^ 1;
      expect(await crypto.subtle.verify(verifyAlg, key, signature, tampered)).toBe(false);
      await verifyJws(spec, algorithm, jwsAlg);
    });
  } else if (info.curve === 'P-256' || info.curve === 'secp256k1') {
    it(`EC JWK: crv ${info.curve}, 32-byte x and y of the SPKI point, kid = KeyVersionId`, () => {
      const b = bundleOf(spec);
      const jwk = jwkOf(spec);
      expect(Object.keys(jwk).sort()).toEqual(['crv', 'kid', 'kty', 'x', 'y']);
      expect(jwk).toMatchObject({ kty: 'EC', crv: info.curve, kid: versionId(spec) });
      const x = Buffer.from(jwk['x']!, 'base64url');
      const y = Buffer.from(jwk['y']!, 'base64url');
      expect([x.length, y.length]).toEqual([32, 32]);
      expect(b.der.subarray(b.der.length - 65)).toEqual(new Uint8Array([4, ...x, ...y]));
      expect(new Uint8Array(createPublicKey({ key: jwk, format: 'jwk' }).export({ format: 'der', type: 'spki' }))).toEqual(b.der);
    });

    if (info.curve === 'P-256') {
      it('the JWK imports into WebCrypto ECDSA P-256 and verifies an engine signature (P1363)', async () => {
        const der = signDigest(keyOf(spec), 'ECDSA_SHA_256', sha256(MESSAGE));
        const key = await crypto.subtle.importKey('jwk', jwkOf(spec), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
        const alg = { name: 'ECDSA', hash: 'SHA-256' };
        expect(await crypto.subtle.verify(alg, key, p1363(der), MESSAGE)).toBe(true);
        const bad = p1363(der);
        bad[63] = bad[63]! ^ 1;
        expect(await crypto.subtle.verify(alg, key, bad, MESSAGE)).toBe(false);
      });
    }

    const jwsAlg = info.curve === 'P-256' ? 'ES256' : 'ES256K';
    it(`the JWK imports with jose and verifies a ${jwsAlg} JWS built from an engine signature`, async () => {
      await verifyJws(spec, 'ECDSA_SHA_256', jwsAlg);
    });
  } else {
    it('SM2: no JWK, and the manifest says why', () => {
      const b = bundleOf(spec);
      expect(b.jwk).toBeUndefined();
      const entry = b.manifest.formats.jwk;
      expect(isFile(entry)).toBe(false);
      expect((entry as ManifestOmission).reason).toMatch(/SM2 has no registered JWK curve/);
    });
  }

  it('manifest names the key, lists the formats and fingerprints, and matches the files', async () => {
    const b = bundleOf(spec);
    const dir = await bundleDir(spec);
    const onDisk = JSON.parse(await fsp.readFile(path.join(dir, MANIFEST_FILE), 'utf8')) as unknown;
    expect(onDisk).toEqual(b.manifest);
    expect(b.manifest).toMatchObject({ KeyId: KEY_ID, KeyVersionId: versionId(spec), KeySpec: spec, fingerprints: b.fingerprints });
    expect(b.manifest.fingerprints.openssh).toBe(b.fingerprints.openssh);

    const expectedFiles = [MANIFEST_FILE];
    for (const [format, entry] of Object.entries(b.manifest.formats)) {
      if (!isFile(entry)) continue;
      expect(entry.file).toBe(names[format as keyof typeof names]);
      expectedFiles.push(entry.file);
      const bytes = await fsp.readFile(path.join(dir, entry.file));
      expect(sha256(bytes).toString('hex')).toBe(entry.sha256);
    }
    expect((await fsp.readdir(dir)).sort()).toEqual(expectedFiles.sort());

    const present = Object.entries(b.manifest.formats)
      .filter(([, e]) => isFile(e))
      .map(([f]) => f)
      .sort();
    const want = ['spki-der', 'spki-pem'];
    if (b.jwk) want.push('jwk');
    if (b.openssh) want.push('openssh');
    expect(present).toEqual(want.sort());

    expect(await fsp.readFile(path.join(dir, names['spki-pem']), 'utf8')).toBe(b.pem);
    expect(new Uint8Array(await fsp.readFile(path.join(dir, names['spki-der'])))).toEqual(b.der);
    if (b.jwk) expect(JSON.parse(await fsp.readFile(path.join(dir, names.jwk), 'utf8'))).toEqual(b.jwk);
    if (b.openssh) expect(await fsp.readFile(path.join(dir, names.openssh), 'utf8')).toBe(b.openssh);
  });
});

/** A compact JWS over MESSAGE whose signature the engine made; verified by jose with the bundle's JWK. */
async function verifyJws(spec: KeySpec, algorithm: SigningAlgorithm, jwsAlg: 'PS256' | 'RS256' | 'ES256' | 'ES256K'): Promise<void> {
  const signingInput = `${b64url(JSON.stringify({ alg: jwsAlg, kid: versionId(spec) }))}.${b64url(MESSAGE)}`;
  const raw = signDigest(keyOf(spec), algorithm, sha256(signingInput));
  const signature = jwsAlg.startsWith('ES') ? p1363(raw) : raw;
  const key = await importJWK(jwkOf(spec) as JWK, jwsAlg);
  const result = await compactVerify(`${signingInput}.${b64url(signature)}`, key);
  expect(result.protectedHeader).toEqual({ alg: jwsAlg, kid: versionId(spec) });
  expect(new Uint8Array(result.payload)).toEqual(MESSAGE);
  await expect(compactVerify(`${signingInput}.${b64url(Uint8Array.from(signature, (v, i) => (i === 5 ? v ^ 1 : v)))}`, key)).rejects.toThrow();
  if (jwsAlg === 'ES256K') {
    // Second, independent consumer for secp256k1 (WebCrypto has none): OpenSSL via node:crypto's JWK import.
    const nodeKey = createPublicKey({ key: jwkOf(spec), format: 'jwk' });
    expect(nodeVerify('sha256', new TextEncoder().encode(signingInput), { key: nodeKey, dsaEncoding: 'der' }, raw)).toBe(true);
  }
}

describe('publicKeyFormats input checks', () => {
  it('refuses a KeySpec that does not match the key', () => {
    const error = thrown(
      () => publicKeyFormats(bundleOf('EC_P256').der, { keyId: KEY_ID, keyVersionId: 'v1', spec: 'EC_P256K' }),
    );
    expect(error.code).toBe('InvalidParameter');
    expect(error.message).toMatch(/EC_P256 key, expected EC_P256K/);
  });

  it.each(['../escape', 'a/b', 'has space', '.hidden', '', 'x:y'])('refuses KeyVersionId %j', (bad) => {
    const error = thrown(() => publicKeyFormats(bundleOf('EC_P256').der, { keyId: KEY_ID, keyVersionId: bad, spec: 'EC_P256' }));
    expect(error.code).toBe('InvalidParameter');
    expect(error.message).toMatch(/^KeyVersionId:/);
  });

  it('refuses bytes that are not a SubjectPublicKeyInfo', () => {
    const error = thrown(
      () => publicKeyFormats(new Uint8Array([1, 2, 3]), { keyId: KEY_ID, keyVersionId: 'v1', spec: 'EC_P256' }),
    );
    expect(error.code).toBe('InvalidParameter');
  });

  it('is deterministic', () => {
    const spec = 'RSA_2048';
    const again = publicKeyFormats(keyOf(spec).publicKey.spki, { keyId: KEY_ID, keyVersionId: versionId(spec), spec });
    expect(again).toEqual(bundleOf(spec));
  });
});

describe('writeBundle', () => {
  const leftovers = async (parent: string): Promise<string[]> => (await fsp.readdir(parent)).filter((n) => n.includes('.partial-'));

  it('creates the directory whole and returns the written paths', async () => {
    const parent = path.join(scratch, 'fresh', 'nested');
    const dir = path.join(parent, 'p256');
    const b = bundleOf('EC_P256');
    const paths = await writeBundle(dir, b);
    const n = bundleFileNames(versionId('EC_P256'));
    expect(paths).toEqual([n['spki-pem'], n['spki-der'], n.jwk, n.openssh, MANIFEST_FILE].map((f) => path.join(dir, f)));
    for (const p of paths) expect(fs.statSync(p).isFile()).toBe(true);
    expect(await leftovers(parent)).toEqual([]);
  });

  it('writes only the files an SM2 key has', async () => {
    const dir = path.join(scratch, 'sm2-only');
    const paths = await writeBundle(dir, bundleOf('EC_SM2'));
    const n = bundleFileNames(versionId('EC_SM2'));
    expect(paths.map((p) => path.basename(p))).toEqual([n['spki-pem'], n['spki-der'], MANIFEST_FILE]);
  });

  it('accepts an existing empty directory', async () => {
    const dir = path.join(scratch, 'empty');
    await fsp.mkdir(dir);
    await writeBundle(dir, bundleOf('RSA_2048'));
    expect((await fsp.readdir(dir)).length).toBe(5);
    expect(await leftovers(scratch)).toEqual([]);
  });

  it('refuses to overwrite a bundle of the same version and leaves it untouched', async () => {
    const dir = path.join(scratch, 'twice');
    const first = bundleOf('EC_P256');
    await writeBundle(dir, first);
    const before = await snapshot(dir);
    // Same version id, different key material: must not replace the first bundle.
    const other = publicKeyFormats(bundleOf('EC_P256K').der, { keyId: KEY_ID, keyVersionId: versionId('EC_P256'), spec: 'EC_P256K' });
    const error = await rejection(writeBundle(dir, other));
    expect(error.code).toBe('InvalidParameter');
    expect(error.message).toContain(`already holds a bundle of key version ${versionId('EC_P256')}`);
    expect(await snapshot(dir)).toEqual(before);
    expect(await leftovers(scratch)).toEqual([]);
  });

  it('refuses a non-empty directory holding something else', async () => {
    const dir = path.join(scratch, 'occupied');
    await fsp.mkdir(dir);
    await fsp.writeFile(path.join(dir, 'notes.txt'), 'mine');
    const error = await rejection(writeBundle(dir, bundleOf('EC_P256')));
    expect(error.code).toBe('InvalidParameter');
    expect(error.message).toMatch(/is not empty/);
    expect(await fsp.readdir(dir)).toEqual(['notes.txt']);
  });

  it('refuses a path that is a file', async () => {
    const file = path.join(scratch, 'a-file');
    await fsp.writeFile(file, 'x');
    const error = await rejection(writeBundle(file, bundleOf('EC_P256')));
    expect(error.code).toBe('InvalidParameter');
  });

  it('loses a race to a bundle that appears meanwhile: refuses, keeps the other, removes its temp dir', async () => {
    const parent = path.join(scratch, 'race');
    const dir = path.join(parent, 'b');
    const realRename = fsp.rename.bind(fsp);
    const spy = vi.spyOn(fsp, 'rename').mockImplementationOnce(async (from, to) => {
      await writeBundle(dir, bundleOf('EC_P256')); // the competitor wins
      return realRename(from, to);
    });
    try {
      const error = await rejection(writeBundle(dir, bundleOf('RSA_2048')));
      expect(error.code).toBe('InvalidParameter');
      expect(error.message).toContain('already holds a bundle');
    } finally {
      spy.mockRestore();
    }
    const n = bundleFileNames(versionId('EC_P256'));
    expect((await fsp.readdir(dir)).sort()).toEqual([n['spki-pem'], n['spki-der'], n.jwk, n.openssh, MANIFEST_FILE].sort());
    expect(await fsp.readdir(parent)).toEqual(['b']);
  });

  it('removes its temp dir when writing fails midway', async () => {
    const parent = path.join(scratch, 'failing');
    const dir = path.join(parent, 'b');
    await fsp.mkdir(parent);
    const spy = vi.spyOn(fsp, 'rename').mockRejectedValueOnce(Object.assign(new Error('EIO: simulated'), { code: 'EIO' }));
    try {
      await expect(writeBundle(dir, bundleOf('EC_P256'))).rejects.toThrow(/EIO/);
    } finally {
      spy.mockRestore();
    }
    expect(await fsp.readdir(parent)).toEqual([]);
  });
});

describe('assembleBundle (what `deskkms pubkey` writes from a GetPublicKeyBundle answer)', () => {
  it.each(ASYMMETRIC_KEY_SPECS)('%s: the formats as answered (OpenSSH line without its newline) give the same bundle, manifest included, with no key parsed', (spec) => {
    const b = bundleOf(spec);
    const omitted = Object.fromEntries(
      (['jwk', 'openssh'] as const).flatMap((f) => {
        const entry = b.manifest.formats[f];
        return 'omitted' in entry ? [[f, entry.reason]] : [];
      }),
    );
    const chain = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    const assembled = assembleBundle({
      keyId: KEY_ID,
      keyVersionId: versionId(spec),
      spec,
      pem: b.pem,
      der: b.der,
      ...(b.jwk ? { jwk: b.jwk } : {}),
      ...(b.openssh !== undefined ? { openssh: b.openssh.trimEnd() } : {}),
      fingerprints: b.fingerprints,
      omitted,
    });
    expect(assembled).toEqual(b);
    const withChain = publicKeyFormats(keyOf(spec).publicKey.spki, { keyId: KEY_ID, keyVersionId: versionId(spec), spec, certificateChain: chain });
    expect(assembleBundle({ keyId: KEY_ID, keyVersionId: versionId(spec), spec, pem: b.pem, der: b.der, ...(b.jwk ? { jwk: b.jwk } : {}), ...(b.openssh !== undefined ? { openssh: b.openssh } : {}), fingerprints: b.fingerprints, omitted, certificateChain: chain })).toEqual(withChain);
  });

  it('refuses an OpenSSH line of a key type the bundle does not write', () => {
    const b = bundleOf('EC_P256');
    expect(() => assembleBundle({ keyId: KEY_ID, keyVersionId: 'v1', spec: 'EC_P256', pem: b.pem, der: b.der, openssh: 'ssh-ed25519 AAAA x', fingerprints: b.fingerprints, omitted: {} })).toThrow(
      expect.objectContaining({ code: 'InternalFailure' }) as Error,
    );
  });
});

async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await fsp.readdir(dir)).sort()) out[name] = sha256(await fsp.readFile(path.join(dir, name))).toString('hex');
  return out;
}
