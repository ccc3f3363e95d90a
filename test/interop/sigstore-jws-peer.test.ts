// The sigstore and JWS formats against their real verifiers, offline:
// - @sigstore/verify (4.1.3) accepts the bundle with a trust material that knows only the key
//   version's public key (found by the bundle's hint) and requires no transparency-log entry, no
//   CT log entry and no timestamp; openssl checks the same raw signature over the artifact;
// - jose (5.10) compactVerify / flattenedVerify (detached) accept RS256, PS256, ES256 and ES256K
//   tokens with the JWK GetPublicKeyBundle returns.
// Every peer also refuses a changed byte.
import { createPublicKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { compactVerify, flattenedVerify, importJWK, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { signMessage, type Signer } from '../../core/actions/format-signing.ts';
import type { KeySpec, SigningAlgorithm } from '../../core/contract/specs.ts';
import { useActionVault, type MadeKey } from '../support/action-vault.ts';
import { runOpenssl } from './openssl-peer.ts';

const v = useActionVault('sigstore-jws-peer');
const signer = (): Signer => ({ vault: v.vault, caller: 'test' });

async function* chunks(message: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let at = 0; at < message.length; at += size) yield await Promise.resolve(message.subarray(at, at + size));
}

const artifact = new Uint8Array(200_003).map((_, i) => (i * 31 + 17) & 0xff);
const changed = artifact.slice();
changed[100_000] = changed[100_000]! ^ 0x01;

const made: Partial<Record<KeySpec, MadeKey>> = {};
async function keyOf(spec: KeySpec): Promise<MadeKey> {
  return (made[spec] ??= await v.makeKey(spec, 'SIGN/VERIFY'));
}

async function bundleOf(key: MadeKey) {
  return v.call('GetPublicKeyBundle', { KeyId: key.keyId, KeyVersionId: key.versionId });
}

/** @sigstore/verify, offline: the only trusted key is `pem`, found by `hint`; no tlog, CT log or timestamp required. */
function sigstoreVerify(bundleFile: Uint8Array, message: Uint8Array, hint: string, pem: string): { ok: true } | { ok: false; error: string } {
  const bundle = bundleFromJSON(JSON.parse(Buffer.from(bundleFile).toString('utf8')));
  const trust = toTrustMaterial({ mediaType: '', certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [] }, (wanted) => {
    if (wanted !== hint) throw new Error(`no trusted key with hint ${wanted}`);
    return { publicKey: createPublicKey(pem), validFor: () => true }; // @sigstore/verify works on node:crypto KeyObjects
  });
  try {
    new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(bundle, Buffer.from(message)));
    return { ok: true };
  } catch (error) {
    return { ok: false, error: String(error) };
  }
}

/** `openssl dgst -sha256 -verify pub.pem -signature sig.der file`, the raw signature inside the bundle. */
function opensslVerifies(pem: string, signature: Uint8Array, message: Uint8Array): { status: number; out: string } {
  const pub = v.file('pub.pem');
  const sig = v.file('sig.der');
  const file = v.file('artifact.bin');
  writeFileSync(pub, pem);
  writeFileSync(sig, signature);
  writeFileSync(file, message);
  const r = runOpenssl(['dgst', '-sha256', '-verify', pub, '-signature', sig, file]);
  return { status: r.status, out: `${r.stdout.toString('utf8')}${r.stderr}`.trim() };
}

describe('sigstore bundles: @sigstore/verify and openssl', () => {
  for (const spec of ['EC_P256', 'RSA_2048', 'RSA_4096'] as const) {
    it(`${spec}: both accept the bundle's signature over the artifact and refuse a changed byte`, async () => {
      const key = await keyOf(spec);
      const { output } = await signMessage(signer(), { key: key.keyId, format: 'sigstore' }, chunks(artifact, 65_536));
      const json = JSON.parse(Buffer.from(output).toString('utf8'));
      const publicBundle = await bundleOf(key);
      expect(json.verificationMaterial.publicKey.hint).toBe(publicBundle.Fingerprints.SpkiSha256Base64);
      const hint = json.verificationMaterial.publicKey.hint as string;

      expect(sigstoreVerify(output, artifact, hint, key.pem)).toEqual({ ok: true });
      const refused = sigstoreVerify(output, changed, hint, key.pem);
      expect(refused).toMatchObject({ ok: false, error: expect.stringMatching(/signature verification failed/) });
      // Another key under the same hint is refused too (the trust material decides, not the bundle).
      const otherPem = spec === 'EC_P256' ? (await keyOf('RSA_2048')).pem : (await keyOf('EC_P256')).pem;
      expect(sigstoreVerify(output, artifact, hint, otherPem)).toMatchObject({ ok: false });

      const signature = Buffer.from(json.messageSignature.signature as string, 'base64');
      expect(opensslVerifies(key.pem, signature, artifact)).toEqual({ status: 0, out: 'Verified OK' });
      expect(opensslVerifies(key.pem, signature, changed)).toMatchObject({ status: 1, out: expect.stringMatching(/Verification failure/) });
      const flipped = Buffer.from(signature);
      flipped[flipped.length - 3] = flipped[flipped.length - 3]! ^ 0x10;
      expect(opensslVerifies(key.pem, flipped, artifact).status).not.toBe(0);
      // A bundle with that flipped signature: @sigstore/verify refuses it as well.
      json.messageSignature.signature = flipped.toString('base64');
      expect(sigstoreVerify(Buffer.from(JSON.stringify(json)), artifact, hint, key.pem)).toMatchObject({ ok: false });
    });
  }
});

const JWS_CASES: { spec: KeySpec; alg: 'RS256' | 'PS256' | 'ES256' | 'ES256K'; algorithm?: SigningAlgorithm }[] = [
  { spec: 'RSA_2048', alg: 'RS256' },
  { spec: 'RSA_2048', alg: 'PS256', algorithm: 'RSA_PSS_SHA_256' },
  { spec: 'EC_P256', alg: 'ES256' },
  { spec: 'EC_P256K', alg: 'ES256K' },
];

describe('JWS: jose with the JWK from GetPublicKeyBundle', () => {
  for (const { spec, alg, algorithm } of JWS_CASES) {
    it(`${alg} (${spec}): compactVerify accepts the attached token and refuses a changed payload or byte`, async () => {
      const key = await keyOf(spec);
      const jwk = (await bundleOf(key)).Jwk as JWK;
      expect(jwk.kid).toBe(key.versionId);
      const publicKey = await importJWK(jwk, alg);
      const options = { ...(algorithm ? { algorithm } : {}) };
      const { output } = await signMessage(signer(), { key: key.keyId, format: 'jws', options }, chunks(artifact, 10_000));
      const token = Buffer.from(output).toString('utf8');

      const verified = await compactVerify(token, publicKey, { algorithms: [alg] });
      expect(verified.protectedHeader).toEqual({ alg, kid: key.versionId });
      expect(Buffer.from(verified.payload).equals(Buffer.from(artifact))).toBe(true);

      const [h, , s] = token.split('.') as [string, string, string];
      await expect(compactVerify(`${h}.${Buffer.from(changed).toString('base64url')}.${s}`, publicKey, { algorithms: [alg] })).rejects.toMatchObject({
        code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
      });
      const sig = Buffer.from(s, 'base64url');
      sig[10] = sig[10]! ^ 0x01;
      const [, p] = token.split('.');
      await expect(compactVerify(`${h}.${p}.${sig.toString('base64url')}`, publicKey)).rejects.toMatchObject({ code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
    });

    it(`${alg} (${spec}): detached header..signature verifies with flattenedVerify given the payload, not a changed one`, async () => {
      const key = await keyOf(spec);
      const publicKey = await importJWK((await bundleOf(key)).Jwk as JWK, alg);
      const options = { detached: true, ...(algorithm ? { algorithm } : {}) };
      const { output } = await signMessage(signer(), { key: key.keyId, format: 'jws', options }, chunks(artifact, 3_333));
      const [h, p, s] = Buffer.from(output).toString('utf8').split('.') as [string, string, string];
      expect(p).toBe('');
      const verified = await flattenedVerify({ protected: h, payload: Buffer.from(artifact).toString('base64url'), signature: s }, publicKey, { algorithms: [alg] });
      expect(verified.protectedHeader).toEqual({ alg, kid: key.versionId });
      await expect(
        flattenedVerify({ protected: h, payload: Buffer.from(changed).toString('base64url'), signature: s }, publicKey, { algorithms: [alg] }),
      ).rejects.toMatchObject({ code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
    });
  }

  it('jose refuses a token under another key of the same kind', async () => {
    const other = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const { output } = await signMessage(signer(), { key: other.keyId, format: 'jws' }, chunks(artifact, 50_000));
    const publicKey = await importJWK((await bundleOf(await keyOf('EC_P256'))).Jwk as JWK, 'ES256');
    await expect(compactVerify(Buffer.from(output).toString('utf8'), publicKey)).rejects.toMatchObject({ code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
  });
});
