// Compact JWS through the real handler table: signMessage dispatches one AsymmetricSign (audited as
// test:jws) over SHA-256 of the signing input, with the payload base64url-encoded as it streams in;
// the format's verify reads its tokens (attached and detached, SPKI or JWK) and refuses changed,
// malformed and unsecured ones. jose checks the same tokens in test/interop/sigstore-jws-peer.test.ts.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { listAuditEntries } from '../audit/audit-log.ts';
import { signMessage, type Signer } from '../actions/format-signing.ts';
import type { KeySpec, SigningAlgorithm } from '../contract/specs.ts';
import { importPublicKey, verifyDigest } from '../crypto/public-key.ts';
import { encodeRsSignature } from '../crypto/der.ts';
import { useActionVault, type MadeKey } from '../../test/support/action-vault.ts';
import { codeOf, verifyInChunks } from '../../test/support/formats.ts';
import { MAX_ATTACHED_PAYLOAD, jwsFormat } from './jws.ts';

const v = useActionVault('jws-format');
const signer = (): Signer => ({ vault: v.vault, caller: 'test' });

async function* chunks(message: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let at = 0; at < message.length; at += size) yield await Promise.resolve(message.subarray(at, at + size));
}

const b64url = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');
const ownVerify = (token: Uint8Array | string, message: Uint8Array, publicKey: Uint8Array | string) => verifyInChunks(jwsFormat, token, message, { publicKey: Buffer.from(publicKey) }, 777);

/** An independent check of a token's signature with the engine's public-key verifier. */
function signatureChecks(token: string, pem: string, payload: Uint8Array): boolean {
  const [h, p, s] = token.split('.') as [string, string, string];
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
  const input = `${h}.${p === '' ? b64url(payload) : p}`;
  const digest = createHash('sha256').update(input, 'ascii').digest();
  const sig = Buffer.from(s, 'base64url');
  const algorithm: SigningAlgorithm = header.alg === 'RS256' ? 'RSA_PKCS1_SHA_256' : header.alg === 'PS256' ? 'RSA_PSS_SHA_256' : 'ECDSA_SHA_256';
  const value = header.alg.startsWith('ES')
    ? encodeRsSignature({ r: BigInt(`0x${sig.subarray(0, 32).toString('hex')}`), s: BigInt(`0x${sig.subarray(32).toString('hex')}`) })
    : sig;
  return verifyDigest(importPublicKey(pem), algorithm, digest, value);
}

const message = new Uint8Array(50_002).map((_, i) => (i * 13 + 5) & 0xff);
const keys: Partial<Record<KeySpec, MadeKey>> = {};
const tokens: Record<string, string> = {};

const CASES: { spec: KeySpec; alg: string; algorithm?: SigningAlgorithm }[] = [
  { spec: 'RSA_2048', alg: 'RS256' },
  { spec: 'RSA_2048', alg: 'PS256', algorithm: 'RSA_PSS_SHA_256' },
  { spec: 'EC_P256', alg: 'ES256' },
  { spec: 'EC_P256K', alg: 'ES256K' },
];

describe('compact JWS', () => {
  for (const { spec, alg, algorithm } of CASES) {
    it(`${spec} ${alg}: header {alg, kid}, the streamed payload, one AsymmetricSign audited as test:jws; verify accepts`, async () => {
      const key = (keys[spec] ??= await v.makeKey(spec, 'SIGN/VERIFY'));
      const before = listAuditEntries(v.vault.store.db, { newestFirst: true, limit: 1 })[0]!.seq;
      const options = algorithm ? { algorithm } : {};
      const { output } = await signMessage(signer(), { key: key.keyId, format: 'jws', options }, chunks(message, 1001));
      const token = (tokens[alg] = text(output));
      const [h, p, s] = token.split('.');
      expect(JSON.parse(Buffer.from(h!, 'base64url').toString('utf8'))).toEqual({ alg, kid: key.versionId });
      expect(p).toBe(b64url(message));
      expect(s).toMatch(/^[A-Za-z0-9_-]+$/);
      if (alg.startsWith('ES')) expect(Buffer.from(s!, 'base64url')).toHaveLength(64);
      else expect(Buffer.from(s!, 'base64url')).toHaveLength(256);
      const signs = listAuditEntries(v.vault.store.db, { action: 'AsymmetricSign' }).filter((e) => e.seq > before);
      expect(signs).toHaveLength(1);
      expect(signs[0]).toMatchObject({ caller: 'test:jws', code: 'OK', keyId: key.keyId, keyVersionId: key.versionId });

      expect(signatureChecks(token, key.pem, message)).toBe(true);
      expect(ownVerify(token, message, key.pem)).toEqual({ valid: true, signer: key.versionId });
      // The key version's JWK (GetPublicKeyBundle) verifies it too.
      const bundle = await v.call('GetPublicKeyBundle', { KeyId: key.keyId, KeyVersionId: key.versionId });
      expect(ownVerify(token, message, JSON.stringify(bundle.Jwk))).toEqual({ valid: true, signer: key.versionId });
    });
  }

  it('RS256 is the RSA default; each alg is bound to its key spec', async () => {
    expect(text(Buffer.from(tokens.RS256!.split('.')[0]!, 'base64url'))).toContain('"RS256"');
    await expect(signMessage(signer(), { key: keys.EC_P256!.keyId, format: 'jws', options: { algorithm: 'RSA_PSS_SHA_256' } }, chunks(message, 100))).rejects.toMatchObject({
      code: 'InvalidParameter',
      message: expect.stringMatching(/ECDSA_SHA_256 \(ES256\)/),
    });
    // A token verified with a key of another spec is invalid, naming the mismatch.
    expect(ownVerify(tokens.ES256!, message, keys.RSA_2048!.pem)).toMatchObject({ valid: false, reason: expect.stringMatching(/alg ES256 does not fit this RSA_2048/) });
    expect(ownVerify(tokens.ES256K!, message, keys.EC_P256!.pem)).toMatchObject({ valid: false, reason: expect.stringMatching(/ES256K does not fit this EC_P256/) });
    expect(ownVerify(tokens.ES256!, message, keys.EC_P256K!.pem)).toMatchObject({ valid: false });
    // HS256 with the RSA public key as an HMAC secret: the classic confusion, refused.
    const [, p] = tokens.RS256!.split('.');
    const hs = `${b64url(JSON.stringify({ alg: 'HS256' }))}.${p}.${b64url('x'.repeat(32))}`;
    expect(ownVerify(hs, message, keys.RSA_2048!.pem)).toMatchObject({ valid: false, reason: expect.stringMatching(/alg HS256/) });
  });

  it('refuses EC_SM2 with Format.UnsupportedKeySpec naming the reason', async () => {
    expect(jwsFormat.unsupported('EC_SM2')).toMatch(/no registered algorithm for SM2/);
    for (const spec of ['RSA_3072', 'RSA_4096', 'EC_P256', 'EC_P256K'] as const) expect(jwsFormat.unsupported(spec)).toBeUndefined();
    const sm2 = await v.makeKey('EC_SM2', 'SIGN/VERIFY');
    await expect(signMessage(signer(), { key: sm2.keyId, format: 'jws' }, chunks(message, 100))).rejects.toMatchObject({
      code: 'Format.UnsupportedKeySpec',
      message: expect.stringMatching(/SM2/),
    });
    expect(codeOf(() => jwsFormat.verify(Buffer.from(tokens.ES256!), { publicKey: Buffer.from(sm2.pem) }))).toMatch(/^Format\.UnsupportedKeySpec/);
  });

  it('base64url-encodes across chunk boundaries of every size', async () => {
    const small = message.subarray(0, 301);
    const expected = b64url(small);
    for (const size of [1, 2, 3, 4, 5, 7, 64, 300, 301, 302]) {
      const { output } = await signMessage(signer(), { key: keys.EC_P256!.keyId, format: 'jws' }, chunks(small, size));
      const token = text(output);
      expect(token.split('.')[1], `chunks of ${size}`).toBe(expected);
      expect(signatureChecks(token, keys.EC_P256!.pem, small), `chunks of ${size}`).toBe(true);
    }
    // Empty payload: `header..signature`, which reads as detached over the empty message.
    const { output } = await signMessage(signer(), { key: keys.EC_P256!.keyId, format: 'jws' }, chunks(new Uint8Array(0), 1));
    expect(text(output)).toMatch(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/);
    expect(ownVerify(output, new Uint8Array(0), keys.EC_P256!.pem).valid).toBe(true);
  });

  it('detached: header..signature; verify reads the payload from the message and refuses a changed one', async () => {
    for (const spec of ['RSA_2048', 'EC_P256'] as const) {
      const key = keys[spec]!;
      const { output } = await signMessage(signer(), { key: key.keyId, format: 'jws', options: { detached: true } }, chunks(message, 4096));
      const token = text(output);
      expect(token).toMatch(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/);
      tokens[`${spec}-detached`] = token;
      expect(signatureChecks(token, key.pem, message)).toBe(true);
      expect(ownVerify(token, message, key.pem)).toEqual({ valid: true, signer: key.versionId });
      const changed = message.slice();
      changed[12_345] = changed[12_345]! ^ 0x80;
      expect(ownVerify(token, changed, key.pem)).toMatchObject({ valid: false, reason: expect.stringMatching(/does not verify/) });
      expect(ownVerify(token, message.subarray(1), key.pem).valid).toBe(false);
      // A detached token needs its payload.
      expect(codeOf(() => jwsFormat.verify(output, { publicKey: Buffer.from(key.pem), withoutMessage: true }))).toMatch(/^MissingParameter: --in/);
    }
  });

  it('attached: a changed payload, header or signature byte, or a file that is not the payload, is invalid', () => {
    const key = keys.EC_P256!;
    const token = tokens.ES256!;
    const [h, p, s] = token.split('.') as [string, string, string];
    const changed = message.slice();
    changed[0] = changed[0]! ^ 0x01;
    expect(ownVerify(`${h}.${b64url(changed)}.${s}`, changed, key.pem)).toMatchObject({ valid: false, reason: expect.stringMatching(/does not verify/) });
    expect(ownVerify(token, changed, key.pem)).toMatchObject({ valid: false, reason: expect.stringMatching(/not the token's payload/) });
    const header2 = b64url(JSON.stringify({ alg: 'ES256', kid: key.versionId, typ: 'JWT' }));
    expect(ownVerify(`${header2}.${p}.${s}`, message, key.pem).valid).toBe(false);
    const sig = Buffer.from(s, 'base64url');
    sig[40] = sig[40]! ^ 0x01;
    expect(ownVerify(`${h}.${p}.${b64url(sig)}`, message, key.pem).valid).toBe(false);
    // Without a file (VerifyMaterial.withoutMessage), the attached token is checked over its own payload.
    const alone = jwsFormat.verify(Buffer.from(token), { publicKey: Buffer.from(key.pem), withoutMessage: true });
    expect(alone.result()).toEqual({ valid: true, signer: key.versionId });
    const forged = jwsFormat.verify(Buffer.from(`${h}.${b64url(changed)}.${s}`), { publicKey: Buffer.from(key.pem), withoutMessage: true });
    expect(forged.result().valid).toBe(false);
    // A trailing newline (an editor's) is accepted; anything else after the token is not.
    expect(ownVerify(`${token}\n`, message, key.pem).valid).toBe(true);
    expect(codeOf(() => jwsFormat.verify(Buffer.from(`${token} `), { publicKey: Buffer.from(key.pem) }))).toMatch(/^Format\.Malformed/);
  });

  it('refuses malformed tokens, alg none, crit and bad keys with codes', () => {
    const pem = Buffer.from(keys.EC_P256!.pem);
    const [h, p, s] = tokens.ES256!.split('.') as [string, string, string];
    const parse = (token: string | Uint8Array) => codeOf(() => jwsFormat.verify(Buffer.from(token), { publicKey: pem }));
    expect(parse('garbage')).toMatch(/^Format\.Malformed: JWS: a compact JWS has three/);
    expect(parse('a.b.c.d.e')).toMatch(/a JWE\?/);
    expect(parse(Buffer.from([0xff, 0x2e, 0x2e]))).toMatch(/^Format\.Malformed: JWS: is not text/);
    expect(parse(`.${p}.${s}`)).toMatch(/protected header is empty/);
    expect(parse(`${h}=.${p}.${s}`)).toMatch(/protected header is not base64url/);
    expect(parse(`${b64url('not json')}.${p}.${s}`)).toMatch(/not JSON/);
    expect(parse(`${b64url('[1]')}.${p}.${s}`)).toMatch(/not a JSON object/);
    expect(parse(`${b64url('{"kid":"x"}')}.${p}.${s}`)).toMatch(/no "alg"/);
    expect(parse(`${b64url('{"alg":"none"}')}.${p}.`)).toMatch(/^Format\.Malformed: JWS: alg "none"/);
    expect(parse(`${b64url('{"alg":"none"}')}.${p}.${s}`)).toMatch(/^Format\.Malformed: JWS: alg "none"/);
    expect(parse(`${b64url('{"alg":"ES256","b64":false,"crit":["b64"]}')}.${p}.${s}`)).toMatch(/critical extensions/);
    expect(parse(`${b64url('{"alg":"ES256","kid":7}')}.${p}.${s}`)).toMatch(/"kid" is not a string/);
    expect(parse(`${h}.${p}+.${s}`)).toMatch(/payload is not base64url/);
    expect(parse(`${h}.${p}.`)).toMatch(/signature is empty/);
    expect(parse(`${h}.${p}.${s.slice(0, -1)}B`)).toMatch(/signature is not canonical base64url/); // non-zero unused bits
    expect(parse(`${h}.${p}.${s}AAA`)).toMatch(/signature is not base64url/); // 89 characters: no byte string has that length
    // An ES256 signature that is not 64 bytes does not verify (as in jose), naming why.
    const short = jwsFormat.verify(Buffer.from(`${h}.${p}.${s.slice(0, 84)}`), { publicKey: pem });
    short.update(message);
    expect(short.result()).toMatchObject({ valid: false, reason: 'an ES256 signature is 64 bytes (r || s, RFC 7518 section 3.4); this is 63' });

    const token = Buffer.from(tokens.ES256!);
    const key = (publicKey: string) => codeOf(() => jwsFormat.verify(token, { publicKey: Buffer.from(publicKey) }));
    expect(codeOf(() => jwsFormat.verify(token, {}))).toMatch(/^MissingParameter: --public-key/);
    expect(key('{"kty":"EC"')).toMatch(/^InvalidParameter: --public-key: starts like a JWK but is not JSON/);
    expect(key('{"kty":"oct","k":"AAAA"}')).toMatch(/private member "k"/);
    expect(key('{"keys":[]}')).toMatch(/JWK Set/);
    expect(key('{"kty":"OKP","crv":"Ed25519","x":"AAAA"}')).toMatch(/kty "OKP" is not RSA or EC/);
    expect(key('{"kty":"EC","crv":"P-384","x":"AAAA","y":"AAAA"}')).toMatch(/curve "P-384"/);
    expect(key(`{"kty":"EC","crv":"P-256","x":"${b64url(new Uint8Array(32))}","y":"${b64url(new Uint8Array(32))}"}`)).toMatch(/not a valid point/);
    expect(key('not a key')).toMatch(/^InvalidParameter/);
  });

  it('a private JWK is refused (its public part is what verifies)', async () => {
    const bundle = await v.call('GetPublicKeyBundle', { KeyId: keys.EC_P256!.keyId, KeyVersionId: keys.EC_P256!.versionId });
    const withD = { ...bundle.Jwk, d: b64url(new Uint8Array(32).fill(1)) };
    expect(codeOf(() => jwsFormat.verify(Buffer.from(tokens.ES256!), { publicKey: Buffer.from(JSON.stringify(withD)) }))).toMatch(/private member "d"/);
    // Another key's JWK: invalid, naming both kids.
    const other = await v.call('GetPublicKeyBundle', { KeyId: keys.EC_P256K!.keyId, KeyVersionId: keys.EC_P256K!.versionId });
    const p256Other = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const otherJwk = (await v.call('GetPublicKeyBundle', { KeyId: p256Other.keyId, KeyVersionId: p256Other.versionId })).Jwk;
    expect(other.Jwk.crv).toBe('secp256k1');
    expect(ownVerify(tokens.ES256!, message, JSON.stringify(otherJwk))).toMatchObject({ valid: false, reason: expect.stringContaining(`kid ${keys.EC_P256!.versionId}`) });
  });

  it(`attached tokens stop at ${MAX_ATTACHED_PAYLOAD >> 20} MiB with InvalidParameter naming --detached; detached signs the same stream`, async () => {
    const block = new Uint8Array(1 << 20).fill(0x61);
    async function* big(): AsyncIterable<Uint8Array> {
      for (let i = 0; i < (MAX_ATTACHED_PAYLOAD >> 20) + 1; i++) yield await Promise.resolve(block);
    }
    await expect(signMessage(signer(), { key: keys.EC_P256!.keyId, format: 'jws' }, big())).rejects.toMatchObject({
      code: 'InvalidParameter',
      message: expect.stringMatching(new RegExp(`over ${MAX_ATTACHED_PAYLOAD >> 20} MiB.*use --detached`)),
    });
    const { output } = await signMessage(signer(), { key: keys.EC_P256!.keyId, format: 'jws', options: { detached: true } }, big());
    expect(output.length).toBeLessThan(300);
    const pending = jwsFormat.verify(output, { publicKey: Buffer.from(keys.EC_P256!.pem) });
    for await (const chunk of big()) pending.update(chunk);
    expect(pending.result().valid).toBe(true);
  });
});
