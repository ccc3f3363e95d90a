// JSON Web Signature, compact serialization (RFC 7515 section 7.1), over a whole file as the
// payload: RS256 and PS256 for RSA keys, ES256 for P-256 and ES256K for secp256k1 (RFC 7518
// section 3, RFC 8812 section 3.2). SM2 has no registered JOSE algorithm and is refused.
//
// Protected header: {"alg": ..., "kid": <the key version's KeyVersionId>}. The kid is the one
// GetPublicKeyBundle puts in the version's JWK (`Jwk.kid`), so a verifier holding the .jwk file
// (or a JWK Set of them) finds the key by it. No "typ": the payload is an arbitrary file.
//
// The payload is streamed: it is base64url-encoded chunk by chunk (carrying the 0-2 bytes that do
// not fill a 3-byte group to the next chunk) and the encoding is hashed as it is made, so the
// SHA-256 of the signing input ASCII(BASE64URL(header) || "." || BASE64URL(payload)) is ready after
// the last chunk. With `detached` the token is `header..signature` (RFC 7515 appendix F) and the
// payload is never kept; attached tokens keep the encoded payload and are limited to
// MAX_ATTACHED_PAYLOAD bytes of file (use --detached beyond that).
//
// Prepared (a signing request): {Sha256 of the signing input, Alg, Kid}; the header comes first in
// the signing input, so a request needs the key version and its spec (Request.NeedsPublicKey
// otherwise). The station always makes a detached token; attachJwsPayload puts the payload back.
//
// ES256/ES256K signatures are the fixed 64-byte r || s JWS requires, converted from the DER that
// AsymmetricSign returns; PS256 is the engine's RSA_PSS_SHA_256 (MGF1-SHA-256, 32-byte salt).
//
// Verifying: a detached token's payload is the message fed in; an attached token is checked over
// its own payload, and a message fed in must be that payload (so `verify --in FILE` proves FILE
// is what was signed); with VerifyMaterial.withoutMessage the token's payload alone is checked.
import { decodeBase64, encodeBase64 } from '../contract/base64.ts';
import { KmsError, missingParameter } from '../contract/errors.ts';
import type { KeySpec, SigningAlgorithm } from '../contract/specs.ts';
import { decodeRsSignature, derInteger, encodeRsBytes } from '../crypto/der.ts';
import { encodeEcSpki, parsePoint } from '../crypto/ec-encoding.ts';
import { createDigester, importPublicKey, verifyDigest, type Digester, type PublicKey } from '../crypto/public-key.ts';
import { escapeText } from '../contract/escape-text.ts';
import {
  beginFromHalves,
  hashingPreparation,
  preparedBytes,
  readPrepared,
  type FormatOptions,
  type KnownKey,
  type PendingPreparation,
  type PendingVerification,
  type PreparedMessage,
  type PreparedSignature,
  type SignatureFormat,
  type SigningKeyInfo,
  type VerifyMaterial,
} from './format.ts';

/**
 * The largest file an attached token carries: its token (4/3 of it) stays under the 16 MiB that
 * `deskkms verify` reads as a signature file, and an app session holds at most that much; a JWS is
 * a token, not a release artifact's carrier. --detached has no limit.
 */
export const MAX_ATTACHED_PAYLOAD = 11 << 20;

type JwsAlg = 'RS256' | 'PS256' | 'ES256' | 'ES256K';

const SIGNING_ALGORITHM: Readonly<Record<JwsAlg, SigningAlgorithm>> = {
  RS256: 'RSA_PKCS1_SHA_256',
  PS256: 'RSA_PSS_SHA_256',
  ES256: 'ECDSA_SHA_256',
  ES256K: 'ECDSA_SHA_256',
};

const isJwsAlg = (value: unknown): value is JwsAlg => typeof value === 'string' && Object.hasOwn(SIGNING_ALGORITHM, value);

/** The JWS algorithms a key of `spec` signs with (first: the default). */
function algsFor(spec: KeySpec): readonly JwsAlg[] {
  switch (spec) {
    case 'RSA_2048':
    case 'RSA_3072':
    case 'RSA_4096':
      return ['RS256', 'PS256'];
    case 'EC_P256':
      return ['ES256'];
    case 'EC_P256K':
      return ['ES256K'];
    default:
      return [];
  }
}

function unsupported(spec: KeySpec): string | undefined {
  if (spec === 'EC_SM2') return 'JOSE has no registered algorithm for SM2 signatures (RFC 7518 and the IANA JWS registry list none)';
  return algsFor(spec).length > 0 ? undefined : `JWS has no algorithm for ${spec} keys`;
}

function algFor(spec: KeySpec, algorithm: SigningAlgorithm | undefined): JwsAlg {
  const reason = unsupported(spec);
  if (reason !== undefined) throw new KmsError('Format.UnsupportedKeySpec', `jws: ${reason}`);
  const algs = algsFor(spec);
  if (algorithm === undefined) return algs[0]!;
  const alg = algs.find((a) => SIGNING_ALGORITHM[a] === algorithm);
  if (!alg) {
    const valid = algs.map((a) => `${SIGNING_ALGORITHM[a]} (${a})`).join(', ');
    throw new KmsError('InvalidParameter', `Algorithm: ${algorithm} is not a JWS algorithm of ${spec} keys; valid: ${valid}`);
  }
  return alg;
}

const ascii = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  return encodeBase64(bytes).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Strict base64url without padding (RFC 7515 section 2); non-canonical trailing bits are refused. */
function fromBase64url(text: string, where: string): Uint8Array {
  if (!BASE64URL.test(text) || text.length % 4 === 1) throw malformed(`${where} is not base64url (RFC 7515: URL-safe alphabet, no padding)`);
  const standard = text.replace(/-/g, '+').replace(/_/g, '/');
  try {
    return decodeBase64(standard + '='.repeat((4 - (standard.length % 4)) % 4), where);
  } catch {
    throw malformed(`${where} is not canonical base64url`);
  }
}

/**
 * Base64url of a stream, fed in chunks of any size: each call returns the text for the complete
 * 3-byte groups seen so far; end() returns the rest. The text is also hashed into `hash`.
 */
class StreamingBase64url {
  private carry = new Uint8Array(0);
  private readonly hash: Digester;

  constructor(hash: Digester) {
    this.hash = hash;
  }

  push(chunk: Uint8Array): string {
    let bytes = chunk;
    if (this.carry.length > 0) {
      bytes = new Uint8Array(this.carry.length + chunk.length);
      bytes.set(this.carry);
      bytes.set(chunk, this.carry.length);
    }
    const whole = bytes.length - (bytes.length % 3);
    this.carry = bytes.slice(whole);
    return this.emit(bytes.subarray(0, whole));
  }

  end(): string {
    const rest = this.carry;
    this.carry = new Uint8Array(0);
    return this.emit(rest);
  }

  private emit(bytes: Uint8Array): string {
    if (bytes.length === 0) return '';
    const text = base64url(bytes);
    this.hash.update(ascii.encode(text));
    return text;
  }
}

const needsKeyFacts = () =>
  new KmsError(
    'Request.NeedsPublicKey',
    'jws: the protected header {"alg","kid"} is signed before the payload, so it needs the key version and its public key: give --public-key and --version, or the version\'s JWK with its kid',
  );

const headerOf = (alg: JwsAlg, kid: string): string => base64url(ascii.encode(JSON.stringify({ alg, kid })));

/**
 * Hashing for a JWS: the SHA-256 of the signing input, which starts with the header naming the
 * alg (from the key's spec) and the kid (the KeyVersionId). Prepared: {Sha256, Alg, Kid}, and the
 * encoded Payload when the token is attached (signing at once; a request is always detached).
 */
function prepare(key: KnownKey, options: FormatOptions): PendingPreparation {
  const fromSpki = key.spki ? importPublicKey(key.spki, '--public-key').spec : undefined;
  if (fromSpki !== undefined && key.spec !== undefined && fromSpki !== key.spec) throw new KmsError('InvalidParameter', `--public-key: is a ${fromSpki} key, not ${key.spec}`);
  const spec = fromSpki ?? key.spec;
  if (spec === undefined || key.keyVersionId === undefined) throw needsKeyFacts();
  const alg = algFor(spec, options.algorithm);
  const kid = key.keyVersionId;
  const detached = options.detached === true;
  const hash = createDigester('SHA-256');
  hash.update(ascii.encode(`${headerOf(alg, kid)}.`));
  const encoder = new StreamingBase64url(hash);
  const payload: string[] = [];
  let size = 0;
  return hashingPreparation(
    'jws',
    (chunk) => {
      size += chunk.length;
      if (!detached && size > MAX_ATTACHED_PAYLOAD) throw tooLarge();
      const text = encoder.push(chunk);
      if (!detached && text) payload.push(text);
    },
    () => {
      const text = encoder.end();
      if (!detached && text) payload.push(text);
      return { Sha256: preparedBytes(hash.digest()), Alg: alg, Kid: kid, ...(detached ? {} : { Payload: payload.join('') }) };
    },
  );
}

const tooLarge = () =>
  new KmsError(
    'InvalidParameter',
    `jws: the file is over ${MAX_ATTACHED_PAYLOAD >> 20} MiB, the most an attached JWS carries; use --detached (the token then holds no payload and the verifier reads the file)`,
  );

const PREPARED = {
  Sha256: { kind: 'bytes', length: 32 },
  Alg: { kind: 'text', pattern: /^(RS256|PS256|ES256|ES256K)$/ },
  Kid: { kind: 'text', pattern: /^[\x21-\x7e]{1,256}$/ },
  Payload: { kind: 'text', pattern: BASE64URL, optional: true },
} as const;

/** The token of a prepared signing input: `header..signature` (detached) or with the Payload prepared here. */
function complete(key: SigningKeyInfo, options: FormatOptions, prepared: PreparedMessage): PreparedSignature {
  const alg = algFor(key.spec, options.algorithm);
  const read = readPrepared('jws', prepared, PREPARED);
  if (read.Kid !== key.keyVersionId) {
    throw new KmsError('Request.Mismatch', `jws: the signing input names kid ${escapeText(read.Kid, 64)}, not this key version ${key.keyVersionId}`);
  }
  if (read.Alg !== alg) throw new KmsError('Request.Mismatch', `jws: the signing input names alg ${read.Alg}, but this ${key.spec} key signs ${alg} here`);
  if (read.Payload !== undefined && options.detached === true) throw new KmsError('Request.Malformed', 'Prepared (jws): carries a Payload for a detached token');
  const header = headerOf(alg, key.keyVersionId);
  const digest = read.Sha256;
  const algorithm = SIGNING_ALGORITHM[alg];
  return {
    toSign: () => ({ algorithm, digest }),
    finish(value) {
      const signature = alg.startsWith('ES') ? rawRs(value) : value;
      return ascii.encode(`${header}.${read.Payload ?? ''}.${base64url(signature)}`);
    },
  };
}

/**
 * A detached token (`header..signature`) with its payload put back (RFC 7515 appendix F): the
 * attached token of the same signature. InvalidParameter for a payload over MAX_ATTACHED_PAYLOAD,
 * Format.Malformed for a token that is not a detached compact JWS.
 */
export function attachJwsPayload(detachedToken: Uint8Array, payload: Uint8Array): Uint8Array {
  const token = parseCompactJws(detachedToken);
  if (token.payloadText !== '') throw malformed('the token already carries a payload (it is not detached)');
  if (payload.length > MAX_ATTACHED_PAYLOAD) throw tooLarge();
  return ascii.encode(`${token.headerText}.${base64url(payload)}.${base64url(token.signature)}`);
}

/** DER SEQUENCE { r, s } (AsymmetricSign's ECDSA Value) to JWS's 64-byte r || s. */
function rawRs(der: Uint8Array): Uint8Array {
  const { r, s } = decodeRsSignature(der, 'Value');
  const out = new Uint8Array(64);
  out.set(fixed32(r), 0);
  out.set(fixed32(s), 32);
  return out;
}

function fixed32(n: bigint): Uint8Array {
  if (n >> 256n !== 0n) throw new KmsError('InternalFailure', 'jws: ECDSA scalar over 256 bits');
  const out = new Uint8Array(32);
  let v = n;
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function toBigint(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

const malformed = (why: string) => new KmsError('Format.Malformed', `JWS: ${why}`);

interface ParsedToken {
  readonly header: Record<string, unknown>;
  readonly alg: string;
  readonly kid?: string;
  /** The encoded header and payload as they appear in the token. */
  readonly headerText: string;
  readonly payloadText: string;
  readonly signature: Uint8Array;
}

/** The largest token read: an attached token of the largest payload, with room for its header. */
const MAX_TOKEN = Math.ceil((MAX_ATTACHED_PAYLOAD * 4) / 3) + (64 << 10);

export function parseCompactJws(bytes: Uint8Array): ParsedToken {
  if (bytes.length > MAX_TOKEN) throw malformed(`the token is ${bytes.length} bytes, over what deskkms writes; a larger payload is verified detached`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw malformed('is not text (UTF-8)');
  }
  text = text.replace(/\r?\n$/, ''); // one final newline, as an editor leaves it
  const parts = text.split('.');
  if (parts.length !== 3) {
    throw malformed(`a compact JWS has three base64url parts separated by dots (header.payload.signature); this has ${parts.length}${parts.length === 5 ? ' (a JWE?)' : ''}`);
  }
  const [headerText, payloadText, signatureText] = parts as [string, string, string];
  if (headerText === '') throw malformed('the protected header is empty');
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(fromBase64url(headerText, 'protected header')));
  } catch (error) {
    if (error instanceof KmsError) throw error;
    throw malformed('the protected header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw malformed('the protected header is not a JSON object');
  const fields = header as Record<string, unknown>;
  if (typeof fields.alg !== 'string') throw malformed('the protected header has no "alg"');
  if (fields.alg === 'none') throw malformed('alg "none" (an unsecured JWS, RFC 7518 section 3.6) is never accepted');
  if (fields.crit !== undefined) {
    // RFC 7515 section 4.1.11: a recipient that does not understand every listed extension must reject it (b64=false included).
    throw malformed(`the protected header lists critical extensions ${JSON.stringify(fields.crit)}, which deskkms does not implement`);
  }
  if (fields.kid !== undefined && typeof fields.kid !== 'string') throw malformed('"kid" is not a string');
  if (!BASE64URL.test(payloadText)) throw malformed('the payload is not base64url');
  const signature = fromBase64url(signatureText, 'signature');
  if (signature.length === 0) throw malformed('the signature is empty');
  return { header: fields, alg: fields.alg, ...(typeof fields.kid === 'string' ? { kid: fields.kid } : {}), headerText, payloadText, signature };
}

// ---------------------------------------------------------------------------------------------
// Verification keys: SubjectPublicKeyInfo (PEM or DER) or a public JWK (RFC 7517), such as the
// .jwk file of the public key bundle. A JWK is turned into SubjectPublicKeyInfo DER and read by the
// same importPublicKey as every other public key (point on the curve, RSA size checks).

const CURVE_OF_CRV: Readonly<Record<string, 'P-256' | 'secp256k1'>> = { 'P-256': 'P-256', secp256k1: 'secp256k1' };

function derLength(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let n = length; n > 0; n >>= 8) bytes.unshift(n & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

function tlv(tag: number, ...contents: Uint8Array[]): Uint8Array {
  const length = contents.reduce((sum, c) => sum + c.length, 0);
  const head = [tag, ...derLength(length)];
  const out = new Uint8Array(head.length + length);
  out.set(head);
  let at = head.length;
  for (const c of contents) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** SubjectPublicKeyInfo { rsaEncryption NULL, BIT STRING RSAPublicKey { n, e } } (RFC 8017 appendix A.1.1). */
function rsaSpki(n: bigint, e: bigint): Uint8Array {
  const rsaEncryption = Uint8Array.of(0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00);
  const key = tlv(0x30, tlv(0x02, new Uint8Array(derInteger(n))), tlv(0x02, new Uint8Array(derInteger(e))));
  return tlv(0x30, tlv(0x30, rsaEncryption), tlv(0x03, Uint8Array.of(0), key));
}

function jwkMember(jwk: Record<string, unknown>, name: string): Uint8Array {
  const value = jwk[name];
  if (typeof value !== 'string' || value === '') throw new KmsError('InvalidParameter', `--public-key: the JWK has no "${name}"`);
  try {
    return fromBase64url(value, `JWK "${name}"`);
  } catch {
    throw new KmsError('InvalidParameter', `--public-key: the JWK's "${name}" is not base64url`);
  }
}

/** A public JWK as SubjectPublicKeyInfo DER, and its kid. */
export function jwkToSpki(text: string): { spki: Uint8Array; kid?: string } {
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch {
    throw new KmsError('InvalidParameter', '--public-key: starts like a JWK but is not JSON');
  }
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new KmsError('InvalidParameter', '--public-key: the JWK is not a JSON object');
  const key = jwk as Record<string, unknown>;
  if ('keys' in key) throw new KmsError('InvalidParameter', '--public-key: a JWK Set; give the one JWK of the signing key version (its .jwk file)');
  for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) {
    if (secret in key) throw new KmsError('InvalidParameter', `--public-key: the JWK holds private member "${secret}"; give the public JWK`);
  }
  const kid = typeof key.kid === 'string' ? key.kid : undefined;
  if (key.kty === 'RSA') {
    const spki = rsaSpki(toBigint(jwkMember(key, 'n')), toBigint(jwkMember(key, 'e')));
    return { spki, ...(kid ? { kid } : {}) };
  }
  if (key.kty === 'EC') {
    const curve = typeof key.crv === 'string' ? CURVE_OF_CRV[key.crv] : undefined;
    if (!curve) throw new KmsError('InvalidParameter', `--public-key: JWK curve ${JSON.stringify(key.crv ?? null) ?? 'undefined'} is not P-256 or secp256k1`);
    const x = jwkMember(key, 'x');
    const y = jwkMember(key, 'y');
    if (x.length !== 32 || y.length !== 32) throw new KmsError('InvalidParameter', `--public-key: JWK ${curve} coordinates must be 32 bytes each`);
    const encoded = new Uint8Array(65);
    encoded[0] = 4;
    encoded.set(x, 1);
    encoded.set(y, 33);
    return { spki: encodeEcSpki(curve, parsePoint(curve, encoded, '--public-key')), ...(kid ? { kid } : {}) };
  }
  throw new KmsError('InvalidParameter', `--public-key: JWK kty ${JSON.stringify(key.kty ?? null) ?? 'undefined'} is not RSA or EC`);
}

function verifierKey(material: VerifyMaterial): { key: PublicKey; kid?: string } {
  if (!material.publicKey) throw missingParameter('--public-key (SubjectPublicKeyInfo PEM/DER or the key version\'s JWK)');
  const head = new TextDecoder().decode(material.publicKey.subarray(0, 64)).trimStart();
  if (head.startsWith('{')) {
    const { spki, kid } = jwkToSpki(new TextDecoder().decode(material.publicKey));
    return { key: importPublicKey(spki, '--public-key'), ...(kid ? { kid } : {}) };
  }
  return { key: importPublicKey(material.publicKey, '--public-key') };
}

/** The DER signature AsymmetricVerify's engine reads, from a token's signature bytes; undefined when it cannot be one. */
function engineSignature(alg: JwsAlg, signature: Uint8Array): Uint8Array | undefined {
  if (!alg.startsWith('ES')) return signature;
  if (signature.length !== 64) return undefined;
  return encodeRsBytes(signature.subarray(0, 32), signature.subarray(32));
}

function verify(signatureFile: Uint8Array, material: VerifyMaterial): PendingVerification {
  const token = parseCompactJws(signatureFile);
  const { key, kid: jwkKid } = verifierKey(material);
  const reason = unsupported(key.spec);
  if (reason !== undefined) throw new KmsError('Format.UnsupportedKeySpec', `jws: ${reason}`);
  const detached = token.payloadText === '';
  // Attached: the signing input is the token's own text; the file given (if any) must be its payload.
  const signingInput = createDigester('SHA-256');
  signingInput.update(ascii.encode(`${token.headerText}.`));
  const encoder = new StreamingBase64url(detached ? signingInput : createDigester('SHA-256'));
  const messageHash = createDigester('SHA-256');
  let messageBytes = 0;
  if (detached && material.withoutMessage) throw missingParameter('--in');
  const embedded = detached ? undefined : fromBase64url(token.payloadText, 'payload');
  return {
    update(chunk) {
      messageBytes += chunk.length;
      if (detached) encoder.push(chunk);
      else messageHash.update(chunk);
    },
    result() {
      const signer = token.kid ?? jwkKid;
      const algs = algsFor(key.spec);
      if (!isJwsAlg(token.alg) || !algs.includes(token.alg)) {
        return { valid: false, ...(signer ? { signer } : {}), reason: `alg ${token.alg} does not fit this ${key.spec} public key (it verifies ${algs.join(' or ')})` };
      }
      let digest: Uint8Array;
      if (detached) {
        encoder.end();
        digest = signingInput.digest();
      } else {
        signingInput.update(ascii.encode(token.payloadText));
        digest = signingInput.digest();
        const given = messageHash.digest();
        const carried = createDigester('SHA-256');
        carried.update(embedded!);
        // Without a file, the token's own payload is what it signs; with one, they must be the same.
        if (!material.withoutMessage && !equal(given, carried.digest())) {
          return { valid: false, ...(signer ? { signer } : {}), reason: `the file given (${messageBytes} bytes) is not the token's payload (${embedded!.length} bytes)` };
        }
      }
      const value = engineSignature(token.alg, token.signature);
      if (!value) {
        // RFC 7518 section 3.4: an ECDSA JWS signature is exactly 64 bytes; anything else does not verify (as in jose).
        return { valid: false, ...(signer ? { signer } : {}), reason: `an ${token.alg} signature is 64 bytes (r || s, RFC 7518 section 3.4); this is ${token.signature.length}` };
      }
      const valid = verifyDigest(key, SIGNING_ALGORITHM[token.alg], digest, value);
      if (valid) return { valid: true, ...(signer ? { signer } : {}) };
      const other = token.kid !== undefined && jwkKid !== undefined && token.kid !== jwkKid;
      return {
        valid: false,
        ...(signer ? { signer } : {}),
        reason: other ? `signed by another key (kid ${token.kid}; this JWK is ${jwkKid})` : 'the signature does not verify with this public key (a changed payload or header, or another key)',
      };
    },
  };
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export const jwsFormat: SignatureFormat = {
  name: 'jws',
  extension: '.jws',
  description: 'JSON Web Signature, compact (RS256, PS256, ES256, ES256K; --detached leaves the payload out): jose and other JOSE libraries',
  unsupported,
  begin: (key, options) => beginFromHalves(jwsFormat, key, options),
  prepare,
  complete,
  /** The signing input starts with the header: no SHA-256 of the file can be derived from it. */
  fileSha256: (prepared) => {
    readPrepared('jws', prepared, PREPARED);
    return undefined;
  },
  verify,
};
