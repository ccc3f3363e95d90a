// The sigstore bundle format through the real handler table: signMessage dispatches one
// AsymmetricSign (audited as test:sigstore), the bundle is what @sigstore/bundle parses and
// @sigstore/verify accepts offline with the public key, and the format's own verify agrees with
// it on good, changed and malformed input.
import { createHash, createPublicKey } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { describe, expect, it } from 'vitest';
import { listAuditEntries } from '../audit/audit-log.ts';
import { signMessage, type Signer } from '../actions/format-signing.ts';
import { importPublicKey } from '../crypto/public-key.ts';
import { useActionVault, type MadeKey } from '../../test/support/action-vault.ts';
import { codeOf, verifyInChunks } from '../../test/support/formats.ts';
import { SIGSTORE_BUNDLE_MEDIA_TYPE, sigstoreFormat } from './sigstore.ts';

const v = useActionVault('sigstore-format');
const signer = (): Signer => ({ vault: v.vault, caller: 'test' });

async function* chunks(message: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let at = 0; at < message.length; at += size) yield await Promise.resolve(message.subarray(at, at + size));
}

const spkiOf = (pem: string) => importPublicKey(pem).spki;
const hintOf = (pem: string) => createHash('sha256').update(spkiOf(pem)).digest('base64');

/** @sigstore/verify with only this public key and no transparency log, CT log or timestamp required. */
function sigstoreAccepts(bundle: Uint8Array, artifact: Uint8Array, pem: string): boolean {
  const parsed = bundleFromJSON(JSON.parse(Buffer.from(bundle).toString('utf8')));
  const trust = toTrustMaterial({ mediaType: '', certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [] }, (hint) => {
    if (hint !== hintOf(pem)) throw new Error(`unknown key hint ${hint}`);
    return { publicKey: createPublicKey(pem), validFor: () => true };
  });
  const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  try {
    verifier.verify(toSignedEntity(parsed, Buffer.from(artifact)));
    return true;
  } catch {
    return false;
  }
}

const ownVerify = (bundle: Uint8Array, message: Uint8Array, publicKey: string) => verifyInChunks(sigstoreFormat, bundle, message, { publicKey: Buffer.from(publicKey) }, 1000);

const message = new Uint8Array(70_001).map((_, i) => (i * 7 + 3) & 0xff);
const keys: Partial<Record<'EC_P256' | 'RSA_2048', MadeKey>> = {};
const bundles: Partial<Record<'EC_P256' | 'RSA_2048', Uint8Array>> = {};

describe('sigstore bundles', () => {
  for (const spec of ['EC_P256', 'RSA_2048'] as const) {
    it(`${spec}: signs a streamed message into a v0.3 bundle that @sigstore/verify accepts; one AsymmetricSign audited as test:sigstore`, async () => {
      const key = (keys[spec] = await v.makeKey(spec, 'SIGN/VERIFY'));
      const before = listAuditEntries(v.vault.store.db, { newestFirst: true, limit: 1 })[0]!.seq;
      const { output, key: used } = await signMessage(signer(), { key: key.keyId, format: 'sigstore' }, chunks(message, 4099));
      bundles[spec] = output;
      expect(used).toMatchObject({ keyId: key.keyId, keyVersionId: key.versionId, spec, newest: true });

      const json = JSON.parse(Buffer.from(output).toString('utf8'));
      expect(json).toEqual({
        mediaType: SIGSTORE_BUNDLE_MEDIA_TYPE,
        verificationMaterial: { publicKey: { hint: hintOf(key.pem) }, tlogEntries: [] },
        messageSignature: {
          messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(message).digest('base64') },
          signature: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/),
        },
      });
      const signs = listAuditEntries(v.vault.store.db, { action: 'AsymmetricSign' }).filter((e) => e.seq > before);
      expect(signs).toHaveLength(1);
      expect(signs[0]).toMatchObject({ action: 'AsymmetricSign', caller: 'test:sigstore', code: 'OK', keyId: key.keyId, keyVersionId: key.versionId });

      expect(sigstoreAccepts(output, message, key.pem)).toBe(true);
      expect(ownVerify(output, message, key.pem)).toEqual({ valid: true, signer: hintOf(key.pem) });
      // DER public key works too.
      const der = sigstoreFormat.verify(output, { publicKey: spkiOf(key.pem) });
      der.update(message);
      expect(der.result().valid).toBe(true);
    });

    it(`${spec}: a changed byte of the message is refused by @sigstore/verify and by verify`, () => {
      const key = keys[spec]!;
      const changed = message.slice();
      changed[31_337] = changed[31_337]! ^ 0x01;
      expect(sigstoreAccepts(bundles[spec]!, changed, key.pem)).toBe(false);
      expect(ownVerify(bundles[spec]!, changed, key.pem)).toMatchObject({ valid: false, reason: expect.stringMatching(/messageDigest/) });
      // A bundle whose digest is made to match the changed message still fails on the signature.
      const json = JSON.parse(Buffer.from(bundles[spec]!).toString('utf8'));
      json.messageSignature.messageDigest.digest = createHash('sha256').update(changed).digest('base64');
      const forged = Buffer.from(JSON.stringify(json));
      expect(sigstoreAccepts(forged, changed, key.pem)).toBe(false);
      expect(ownVerify(forged, changed, key.pem)).toMatchObject({ valid: false, reason: 'the signature does not verify with this public key' });
      // A flipped signature byte.
      const sig = Buffer.from(json.messageSignature.signature as string, 'base64');
      sig[sig.length - 5] = sig[sig.length - 5]! ^ 0x40;
      const original = JSON.parse(Buffer.from(bundles[spec]!).toString('utf8'));
      original.messageSignature.signature = sig.toString('base64');
      const flipped = Buffer.from(JSON.stringify(original));
      expect(sigstoreAccepts(flipped, message, key.pem)).toBe(false);
      expect(ownVerify(flipped, message, key.pem).valid).toBe(false);
    });
  }

  it('another key: both verifiers refuse, and verify names the bundle\'s hint', () => {
    const ec = keys.EC_P256!;
    const rsa = keys.RSA_2048!;
    const result = ownVerify(bundles.EC_P256!, message, rsa.pem);
    expect(result).toEqual({ valid: false, reason: expect.stringContaining(`the bundle's hint names another key: "${hintOf(ec.pem)}"`) });
    expect(() => sigstoreAccepts(bundles.EC_P256!, message, rsa.pem)).not.toThrow();
    expect(sigstoreAccepts(bundles.EC_P256!, message, rsa.pem)).toBe(false);
  });

  it('refuses EC_P256K and EC_SM2 keys with Format.UnsupportedKeySpec naming the reason', async () => {
    expect(sigstoreFormat.unsupported('EC_P256')).toBeUndefined();
    expect(sigstoreFormat.unsupported('RSA_4096')).toBeUndefined();
    for (const spec of ['EC_P256K', 'EC_SM2'] as const) {
      expect(sigstoreFormat.unsupported(spec)).toMatch(spec === 'EC_SM2' ? /no SM2 key type/ : /no secp256k1 key type/);
      const key = await v.makeKey(spec, 'SIGN/VERIFY');
      await expect(signMessage(signer(), { key: key.keyId, format: 'sigstore' }, chunks(message, 100))).rejects.toMatchObject({
        code: 'Format.UnsupportedKeySpec',
        message: expect.stringMatching(/^sigstore: sigstore has no/),
      });
      // Its public key cannot verify a bundle either.
      expect(codeOf(() => sigstoreFormat.verify(bundles.EC_P256!, { publicKey: Buffer.from(key.pem) }))).toMatch(/^Format\.UnsupportedKeySpec/);
    }
  });

  it('refuses an RSA algorithm other than PKCS#1 v1.5 (what @sigstore/verify checks) before signing', async () => {
    await expect(
      signMessage(signer(), { key: keys.RSA_2048!.keyId, format: 'sigstore', options: { algorithm: 'RSA_PSS_SHA_256' } }, chunks(message, 100)),
    ).rejects.toMatchObject({ code: 'InvalidParameter', message: expect.stringMatching(/RSA_PKCS1_SHA_256/) });
  });

  it('parses bundles strictly: garbage, other layouts and members are refused with codes', () => {
    const good = JSON.parse(Buffer.from(bundles.EC_P256!).toString('utf8'));
    const pem = Buffer.from(keys.EC_P256!.pem);
    const variant = (change: (b: any) => void) => {
      const copy = structuredClone(good);
      change(copy);
      return codeOf(() => sigstoreFormat.verify(Buffer.from(JSON.stringify(copy)), { publicKey: pem }));
    };
    expect(codeOf(() => sigstoreFormat.verify(Buffer.from('not json'), { publicKey: pem }))).toMatch(/^Format\.Malformed: sigstore bundle: is not JSON/);
    expect(codeOf(() => sigstoreFormat.verify(Buffer.from([0xff, 0xfe]), { publicKey: pem }))).toMatch(/^Format\.Malformed/);
    expect(codeOf(() => sigstoreFormat.verify(Buffer.from('[]'), { publicKey: pem }))).toMatch(/^Format\.Malformed: sigstore bundle: bundle is not a JSON object/);
    expect(variant((b) => (b.mediaType = 'application/json'))).toMatch(/^Format\.Malformed: .*mediaType/);
    expect(variant((b) => delete b.mediaType)).toMatch(/^Format\.Malformed: .*mediaType/);
    expect(variant((b) => (b.extra = 1))).toMatch(/^Format\.Malformed: .*bundle\.extra/);
    expect(variant((b) => delete b.messageSignature)).toMatch(/^Format\.Malformed: .*messageSignature is not a JSON object/);
    expect(variant((b) => (b.messageSignature.messageDigest.algorithm = 'SHA2_512'))).toMatch(/^Format\.Malformed: .*not SHA2_256/);
    expect(variant((b) => (b.messageSignature.messageDigest.digest = 'AAAA'))).toMatch(/^Format\.Malformed: .*3 bytes/);
    expect(variant((b) => (b.messageSignature.signature = 'not base64!'))).toMatch(/^Format\.Malformed: .*signature is not canonical/);
    expect(variant((b) => (b.messageSignature.signature = ''))).toMatch(/^Format\.Malformed: .*signature is missing/);
    expect(variant((b) => (b.messageSignature.signature = Buffer.from('not DER').toString('base64')))).toBe('no error'); // caught at result()
    expect(variant((b) => delete b.verificationMaterial.publicKey)).toMatch(/^Format\.Malformed: .*publicKey is missing/);
    expect(variant((b) => (b.verificationMaterial.publicKey.keyId = 'x'))).toMatch(/^Format\.Malformed: .*publicKey\.keyId/);
    expect(variant((b) => (b.verificationMaterial.tlogEntries = {}))).toMatch(/^Format\.Malformed: .*tlogEntries is not an array/);
    expect(variant((b) => (b.verificationMaterial.tlogEntries = [{ logIndex: '1' }]))).toMatch(/^InvalidParameter: .*1 transparency-log entries/);
    expect(variant((b) => (b.verificationMaterial.certificate = { rawBytes: 'AAAA' }))).toMatch(/^InvalidParameter: .*certificate/);
    expect(variant((b) => (b.dsseEnvelope = { payload: 'AAAA' }))).toMatch(/^InvalidParameter: .*DSSE/);
    expect(codeOf(() => sigstoreFormat.verify(bundles.EC_P256!, {}))).toMatch(/^MissingParameter: --public-key/);
    expect(codeOf(() => sigstoreFormat.verify(bundles.EC_P256!, { publicKey: pem, withoutMessage: true }))).toMatch(/^MissingParameter: --in/);

    // A signature value that is not DER ECDSA does not verify (as openssl and @sigstore/verify say), naming why.
    const notDer = structuredClone(good);
    notDer.messageSignature.signature = Buffer.from('not DER').toString('base64');
    const pending = sigstoreFormat.verify(Buffer.from(JSON.stringify(notDer)), { publicKey: pem });
    pending.update(message);
    expect(pending.result()).toEqual({ valid: false, reason: expect.stringMatching(/^messageSignature\.signature is not a ECDSA_SHA_256 signature/) });
    // @sigstore/verify refuses the same bundle.
    expect(sigstoreAccepts(Buffer.from(JSON.stringify(notDer)), message, keys.EC_P256!.pem)).toBe(false);
  });

  it('names the key that verified, never the bundle\'s unsigned hint alone', () => {
    const pem = keys.EC_P256!.pem;
    const json = JSON.parse(Buffer.from(bundles.EC_P256!).toString('utf8'));
    json.verificationMaterial.publicKey.hint = 'prod-release-key (Acme Corp)';
    const relabelled = Buffer.from(JSON.stringify(json));
    // The hint is outside the signature: the bundle still verifies, under the real key's hint.
    expect(ownVerify(relabelled, message, pem)).toEqual({ valid: true, signer: `${hintOf(pem)} (the bundle's unsigned hint says "prod-release-key (Acme Corp)")` });
    json.verificationMaterial.publicKey.hint = '';
    expect(ownVerify(Buffer.from(JSON.stringify(json)), message, pem)).toEqual({ valid: true, signer: hintOf(pem) });
  });

  it('reads the legacy v0.3 media type and a numeric SHA2_256 (proto3 JSON allows both)', () => {
    const json = JSON.parse(Buffer.from(bundles.EC_P256!).toString('utf8'));
    json.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.3';
    json.messageSignature.messageDigest.algorithm = 1;
    expect(ownVerify(Buffer.from(JSON.stringify(json)), message, keys.EC_P256!.pem).valid).toBe(true);
  });
});
