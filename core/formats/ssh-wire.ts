// The SSH wire encoding (RFC 4251 section 5: uint32, length-prefixed strings, mpints) and the
// public-key blobs of the two OpenSSH key types a vault key can be (RFC 4253 ssh-rsa, RFC 5656
// ecdsa-sha2-nistp256), for SSHSIG (sshsig.ts). Reading is strict: every length is checked against
// what is left, mpints must be minimal and non-negative, and a structure must be read to its end.
// A malformed input is Format.Malformed; a well-formed key of a type the vault cannot hold
// (ssh-ed25519, nistp384, certificates...) is Format.UnsupportedKeySpec, naming the type.
// Pure: no file system; DER is built and parsed with @peculiar/asn1-* (through core/crypto where it can).
import { createHash } from 'node:crypto';
import { AsnParser } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { RSAPublicKey } from '@peculiar/asn1-rsa';
import { KmsError } from '../contract/errors.ts';
import { escapeText } from '../contract/escape-text.ts';
import { KEY_SPEC_TABLE, type KeySpec } from '../contract/specs.ts';
import { decodeRsSignature, serializeDer } from '../crypto/der.ts';
import { encodeEcSpki, parsePoint, parseSpki } from '../crypto/ec-encoding.ts';
import { OID } from '../crypto/oids.ts';
import { importPublicKey, type PublicKey } from '../crypto/public-key.ts';

/** SSH's mpints and signature halves are big-endian integers: the one conversion core/crypto uses. */
export { bytesToBigint } from '../crypto/der.ts';

const encoder = new TextEncoder();
/** Strict UTF-8: a name or namespace that is not UTF-8 is malformed, not silently replaced. */
const decoder = new TextDecoder('utf-8', { fatal: true });

export function malformed(message: string): KmsError {
  return new KmsError('Format.Malformed', message);
}

/** The OpenSSH key types a vault key version can be, by spec family. */
export type SshKeyType = 'ssh-rsa' | 'ecdsa-sha2-nistp256';

/** Why OpenSSH cannot carry the spec, or undefined when it can. */
export function sshUnsupported(spec: KeySpec): string | undefined {
  const info = KEY_SPEC_TABLE[spec];
  if (info.family === 'RSA' || info.curve === 'P-256') return undefined;
  const what = info.curve === 'secp256k1' ? 'secp256k1' : 'SM2';
  return `OpenSSH has no key type for ${what} (its ECDSA key types, RFC 5656, are nistp256/384/521 only), so ssh-keygen cannot verify an SSH signature made with ${spec}`;
}

/** Key types OpenSSH knows that a vault key never is: recognised so that the refusal names them. */
const OTHER_SSH_KEY_TYPES: ReadonlySet<string> = new Set([
  'ssh-ed25519',
  'ssh-ed448',
  'ssh-dss',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ecdsa-sha2-nistp256@openssh.com',
  'sk-ssh-ed25519@openssh.com',
  'ssh-rsa-cert-v01@openssh.com',
  'ssh-dss-cert-v01@openssh.com',
  'ssh-ed25519-cert-v01@openssh.com',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp521-cert-v01@openssh.com',
  'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'sk-ssh-ed25519-cert-v01@openssh.com',
]);

/** True for every OpenSSH public key type name (the two a vault key can be and the others). */
export function isSshKeyTypeName(name: string): boolean {
  return name === 'ssh-rsa' || name === 'ecdsa-sha2-nistp256' || OTHER_SSH_KEY_TYPES.has(name);
}

// --- writing ---

/** Builds an SSH wire structure. */
export class SshWriter {
  private readonly parts: Uint8Array[] = [];

  raw(bytes: Uint8Array | string): this {
    this.parts.push(typeof bytes === 'string' ? encoder.encode(bytes) : bytes);
    return this;
  }

  uint32(n: number): this {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, n, false);
    return this.raw(out);
  }

  string(data: Uint8Array | string): this {
    const body = typeof data === 'string' ? encoder.encode(data) : data;
    return this.uint32(body.length).raw(body);
  }

  /** mpint of a non-negative integer (big-endian magnitude or bigint): minimal two's complement. */
  mpint(value: Uint8Array | bigint): this {
    return this.string(mpintBody(value));
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const p of this.parts) {
      out.set(p, offset);
      offset += p.length;
    }
    return out;
  }
}

function bigintBytes(n: bigint): Uint8Array {
  if (n < 0n) throw new KmsError('InternalFailure', 'a negative mpint');
  if (n === 0n) return new Uint8Array(0);
  const hex = n.toString(16);
  return Uint8Array.from(Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex'));
}

function mpintBody(value: Uint8Array | bigint): Uint8Array {
  let magnitude = typeof value === 'bigint' ? bigintBytes(value) : value;
  let i = 0;
  while (i < magnitude.length && magnitude[i] === 0) i++;
  magnitude = magnitude.subarray(i);
  if (magnitude.length === 0 || (magnitude[0]! & 0x80) === 0) return magnitude;
  const padded = new Uint8Array(magnitude.length + 1);
  padded.set(magnitude, 1);
  return padded;
}

// --- reading ---

/** Reads an SSH wire structure; `what` names it in errors ("the SSH signature"). */
export class SshReader {
  private offset = 0;
  private readonly data: Uint8Array;
  private readonly what: string;
  private readonly view: DataView;

  constructor(data: Uint8Array, what: string) {
    this.data = data;
    this.what = what;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  get remaining(): number {
    return this.data.length - this.offset;
  }

  raw(length: number, field: string): Uint8Array {
    if (length > this.remaining) throw malformed(`${this.what} is truncated in its ${field}`);
    const out = this.data.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  uint32(field: string): number {
    if (this.remaining < 4) throw malformed(`${this.what} is truncated in its ${field}`);
    const n = this.view.getUint32(this.offset, false);
    this.offset += 4;
    return n;
  }

  string(field: string): Uint8Array {
    const length = this.uint32(`${field} length`);
    if (length > this.remaining) throw malformed(`${this.what}: its ${field} claims ${length} bytes, only ${this.remaining} follow`);
    return this.raw(length, field);
  }

  /** A string that must be UTF-8 text without NUL (names, namespaces). */
  text(field: string): string {
    const bytes = this.string(field);
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      throw malformed(`${this.what}: its ${field} is not UTF-8 text`);
    }
    if (text.includes('\0')) throw malformed(`${this.what}: its ${field} contains a NUL character`);
    return text;
  }

  /** A non-negative mpint in minimal encoding, as its big-endian magnitude (no leading zeros). */
  mpint(field: string, maxBytes: number): Uint8Array {
    const body = this.string(field);
    if (body.length > 0 && (body[0]! & 0x80) !== 0) throw malformed(`${this.what}: its ${field} is negative`);
    if (body.length > 1 && body[0] === 0 && (body[1]! & 0x80) === 0) throw malformed(`${this.what}: its ${field} is not minimally encoded`);
    const magnitude = body.length > 0 && body[0] === 0 ? body.subarray(1) : body;
    if (magnitude.length > maxBytes) throw malformed(`${this.what}: its ${field} is ${magnitude.length} bytes, more than ${maxBytes}`);
    return magnitude;
  }

  /** Refuses trailing bytes. */
  end(): void {
    if (this.remaining !== 0) throw malformed(`${this.what} has ${this.remaining} trailing bytes`);
  }
}

// --- public-key blobs ---

/** The OpenSSH public-key blob of a vault key (SPKI DER or PEM); Format.UnsupportedKeySpec for secp256k1 and SM2. */
export function sshKeyBlob(spki: Uint8Array | string): { readonly type: SshKeyType; readonly blob: Uint8Array; readonly key: PublicKey } {
  const key = importPublicKey(spki, 'PublicKey');
  const reason = sshUnsupported(key.spec);
  if (reason !== undefined) throw new KmsError('Format.UnsupportedKeySpec', `a ${key.spec} key has no OpenSSH form: ${reason}`);
  const info = parseSpki(key.spki, 'PublicKey');
  if (KEY_SPEC_TABLE[key.spec].family === 'RSA') {
    const rsa = AsnParser.parse(info.subjectPublicKey, RSAPublicKey);
    const blob = new SshWriter().string('ssh-rsa').mpint(new Uint8Array(rsa.publicExponent)).mpint(new Uint8Array(rsa.modulus)).bytes();
    return { type: 'ssh-rsa', blob, key };
  }
  // importPublicKey re-encodes EC keys uncompressed.
  const point = new Uint8Array(info.subjectPublicKey);
  const blob = new SshWriter().string('ecdsa-sha2-nistp256').string('nistp256').string(point).bytes();
  return { type: 'ecdsa-sha2-nistp256', blob, key };
}

/** An OpenSSH public-key blob read back into a vault public key (strict; the blob must be read to its end). */
export function parseSshKeyBlob(blob: Uint8Array, what: string): { readonly type: SshKeyType; readonly key: PublicKey } {
  const reader = new SshReader(blob, what);
  const type = reader.text('key type');
  if (type === 'ssh-rsa') {
    const e = reader.mpint('RSA exponent', 8);
    const n = reader.mpint('RSA modulus', 2048);
    reader.end();
    if (e.length === 0 || n.length === 0) throw malformed(`${what}: an RSA key with a zero exponent or modulus`);
    const spki = serializeDer(
      new SubjectPublicKeyInfo({
        algorithm: new AlgorithmIdentifier({ algorithm: OID.rsaEncryption, parameters: null }),
        subjectPublicKey: serializeDer(new RSAPublicKey({ modulus: derMagnitude(n), publicExponent: derMagnitude(e) })).slice().buffer,
      }),
    );
    return { type, key: importKey(spki, what) };
  }
  if (type === 'ecdsa-sha2-nistp256') {
    const curve = reader.text('curve name');
    if (curve !== 'nistp256') throw malformed(`${what}: an ecdsa-sha2-nistp256 key names curve ${escapeText(curve, 64)}`);
    const q = reader.string('EC point');
    reader.end();
    let point;
    try {
      point = parsePoint('P-256', q, what);
    } catch {
      throw malformed(`${what}: its EC point is not a valid P-256 point`);
    }
    return { type, key: importKey(encodeEcSpki('P-256', point), what) };
  }
  if (OTHER_SSH_KEY_TYPES.has(type)) {
    throw new KmsError('Format.UnsupportedKeySpec', `${what} is an ${type} key: DeskKMS reads ssh-rsa (2048, 3072, 4096 bits) and ecdsa-sha2-nistp256 keys only`);
  }
  throw malformed(`${what} has the unknown key type ${escapeText(type, 64)}`);
}

/** A DER INTEGER's content octets for a non-negative magnitude. */
function derMagnitude(magnitude: Uint8Array): ArrayBuffer {
  const out = (magnitude[0]! & 0x80) !== 0 ? Uint8Array.from([0, ...magnitude]) : magnitude.slice();
  return out.buffer;
}

function importKey(spki: Uint8Array, what: string): PublicKey {
  try {
    return importPublicKey(spki, what);
  } catch (error) {
    // An RSA modulus of another size: a well-formed key the vault's key specs do not include.
    if (error instanceof KmsError && error.code === 'InvalidParameter') throw new KmsError('Format.UnsupportedKeySpec', error.message);
    throw error;
  }
}

/** "SHA256:" + unpadded base64 of SHA-256 of the key blob: what ssh-keygen -l prints. */
export function blobFingerprint(blob: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * The SSH signature (RFC 4253 section 6.6 / RFC 5656 section 3.1.2 body) of an AsymmetricSign
 * Value made with the key's SSH algorithm: ecdsa-sha2-nistp256 is string(mpint r, mpint s) from the
 * DER ECDSA-Sig-Value, rsa-sha2-256 the RSASSA-PKCS1-v1_5 signature itself (the agent, agent-server.ts).
 */
export function sshSignatureBody(type: SshKeyType, value: Uint8Array): { readonly algorithm: 'ecdsa-sha2-nistp256' | 'rsa-sha2-256'; readonly blob: Uint8Array } {
  if (type === 'ssh-rsa') return { algorithm: 'rsa-sha2-256', blob: value };
  const { r, s } = decodeRsSignature(value, 'Value');
  return { algorithm: 'ecdsa-sha2-nistp256', blob: new SshWriter().mpint(r).mpint(s).bytes() };
}

/** The name ssh-keygen gives the key family in "Good signature ... with ECDSA key". */
export function sshKeyFamily(type: SshKeyType): 'RSA' | 'ECDSA' {
  return type === 'ssh-rsa' ? 'RSA' : 'ECDSA';
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Canonical base64 (what OpenSSH writes): Format.Malformed for anything else. */
export function decodeBase64Strict(text: string, what: string): Uint8Array {
  if (text.length === 0 || text.length % 4 !== 0 || !BASE64.test(text)) throw malformed(`${what} is not base64`);
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) throw malformed(`${what} is not canonical base64`);
  return new Uint8Array(bytes);
}
