// OpenPGP wire pieces (RFC 4880, RFC 9580 for v4 keys and signatures), built and read by hand:
// packet framing, MPIs, signature subpackets, v4 public-key bodies, fingerprints and ASCII armor
// with its CRC-24. Only what release signing needs: RSA (algorithm 1) and ECDSA (19) over P-256
// and secp256k1, SHA-256 (8). Every reader is strict: a length that runs past its container, a
// truncated field or trailing bytes is Format.Malformed naming what was being read.
import { createHash, createPublicKey } from 'node:crypto';
import { KmsError } from '../contract/errors.ts';
import { stripLeadingZeros } from '../crypto/der.ts';
import { curveOfAlgorithm, encodeEcSpki, parsePoint, parseSpki } from '../crypto/ec-encoding.ts';
import { OID } from '../crypto/oids.ts';

export const TAG = { signature: 2, publicKey: 6, marker: 10, trust: 12, userId: 13, publicSubkey: 14, userAttribute: 17 } as const;
export const PK_RSA = 1;
export const PK_ECDSA = 19;
export const HASH_SHA256 = 8;
export const SUBPACKET = {
  creationTime: 2,
  expirationTime: 3,
  keyExpirationTime: 9,
  preferredSymmetric: 11,
  issuer: 16,
  preferredHash: 21,
  preferredCompression: 22,
  primaryUserId: 25,
  keyFlags: 27,
  features: 30,
  issuerFingerprint: 33,
} as const;

export const malformed = (what: string, why: string): KmsError => new KmsError('Format.Malformed', `${what}: ${why}`);

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function u16(n: number): Uint8Array {
  return new Uint8Array([(n >>> 8) & 0xff, n & 0xff]);
}

export function u32(n: number): Uint8Array {
  return new Uint8Array([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

const readU32 = (b: Uint8Array, at: number): number => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

/** A new-format length (RFC 4880 4.2.2): one, two or five octets. */
function lengthOctets(n: number): Uint8Array {
  if (n < 192) return new Uint8Array([n]);
  if (n < 8384) return new Uint8Array([((n - 192) >> 8) + 192, (n - 192) & 0xff]);
  return concat(new Uint8Array([0xff]), u32(n));
}

/** A packet in the new format (CTB 0xC0 | tag). */
export function packet(tag: number, body: Uint8Array): Uint8Array {
  return concat(new Uint8Array([0xc0 | tag]), lengthOctets(body.length), body);
}

export interface Packet {
  readonly tag: number;
  readonly body: Uint8Array;
}

/**
 * Every packet of a key block or signature, old or new format. Partial and indeterminate
 * lengths (only legal for data packets, which neither a detached signature nor a certificate
 * holds) are refused, as is a length running past the end.
 */
export function readPackets(bytes: Uint8Array, what: string): Packet[] {
  const packets: Packet[] = [];
  let at = 0;
  while (at < bytes.length) {
    const ctb = bytes[at++]!;
    if ((ctb & 0x80) === 0) throw malformed(what, `byte ${at - 1} is not a packet header (0x${ctb.toString(16).padStart(2, '0')})`);
    let tag: number;
    let length: number;
    if ((ctb & 0x40) !== 0) {
      tag = ctb & 0x3f;
      const first = bytes[at++];
      if (first === undefined) throw malformed(what, 'cut short in a packet header');
      if (first < 192) length = first;
      else if (first < 224) {
        const second = bytes[at++];
        if (second === undefined) throw malformed(what, 'cut short in a packet header');
        length = ((first - 192) << 8) + second + 192;
      } else if (first === 255) {
        if (at + 4 > bytes.length) throw malformed(what, 'cut short in a packet header');
        length = readU32(bytes, at);
        at += 4;
      } else throw malformed(what, `packet ${packets.length + 1} (tag ${tag}) has a partial length, which only data packets may have`);
    } else {
      tag = (ctb >> 2) & 0x0f;
      const type = ctb & 3;
      if (type === 3) throw malformed(what, `packet ${packets.length + 1} (tag ${tag}) has an indeterminate length`);
      const size = 1 << type;
      if (at + size > bytes.length) throw malformed(what, 'cut short in a packet header');
      length = 0;
      for (let i = 0; i < size; i++) length = length * 256 + bytes[at + i]!;
      at += size;
    }
    if (tag === 0) throw malformed(what, 'packet tag 0 is reserved');
    if (at + length > bytes.length) throw malformed(what, `packet ${packets.length + 1} (tag ${tag}) claims ${length} bytes, ${bytes.length - at} remain`);
    packets.push({ tag, body: bytes.subarray(at, at + length) });
    at += length;
  }
  return packets;
}

/** A cursor over one packet body; every read past the end is Format.Malformed. */
export class Reader {
  at = 0;
  readonly bytes: Uint8Array;
  readonly what: string;
  constructor(bytes: Uint8Array, what: string) {
    this.bytes = bytes;
    this.what = what;
  }
  get left(): number {
    return this.bytes.length - this.at;
  }
  take(n: number, field: string): Uint8Array {
    if (n > this.left) throw malformed(this.what, `cut short in ${field}`);
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  u8(field: string): number {
    return this.take(1, field)[0]!;
  }
  u16(field: string): number {
    const b = this.take(2, field);
    return (b[0]! << 8) | b[1]!;
  }
  u32(field: string): number {
    return readU32(this.take(4, field), 0);
  }
  /** An MPI: bit count, then exactly that many bits (no leading zero octets, top bit where the count says). */
  mpi(field: string): Uint8Array {
    const bits = this.u16(`${field}'s length`);
    const value = this.take((bits + 7) >> 3, field);
    const top = bits === 0 ? 0 : 32 - Math.clz32(value[0]!);
    if (bits === 0 || top !== ((bits - 1) & 7) + 1) throw malformed(this.what, `${field} is not a well-formed MPI (its bit count ${bits} does not match its value)`);
    return value;
  }
  end(): void {
    if (this.left !== 0) throw malformed(this.what, `${this.left} unexpected trailing bytes`);
  }
}

/** An MPI of an unsigned big-endian integer (leading zero octets dropped). */
export function mpi(value: Uint8Array): Uint8Array {
  const v = stripLeadingZeros(value);
  const bits = v[0] === 0 ? 0 : (v.length - 1) * 8 + (32 - Math.clz32(v[0]!));
  return concat(u16(bits), v);
}

export function bigintBytes(n: bigint): Uint8Array {
  const h = n.toString(16);
  return new Uint8Array(Buffer.from(h.length % 2 ? `0${h}` : h, 'hex'));
}

// ---------------------------------------------------------------------------------------------
// Subpackets (RFC 4880 5.2.3.1)

export interface Subpacket {
  readonly type: number;
  readonly critical: boolean;
  readonly data: Uint8Array;
}

export function subpacket(type: number, data: Uint8Array, critical = false): Uint8Array {
  return concat(lengthOctets(data.length + 1), new Uint8Array([type | (critical ? 0x80 : 0)]), data);
}

export function readSubpackets(area: Uint8Array, what: string): Subpacket[] {
  const r = new Reader(area, what);
  const out: Subpacket[] = [];
  while (r.left > 0) {
    const first = r.u8('a subpacket length');
    let length: number;
    if (first < 192) length = first;
    else if (first < 255) length = ((first - 192) << 8) + r.u8('a subpacket length') + 192;
    else length = r.u32('a subpacket length');
    if (length === 0) throw malformed(what, 'a subpacket has length 0 (no type)');
    const body = r.take(length, 'a subpacket');
    out.push({ type: body[0]! & 0x7f, critical: (body[0]! & 0x80) !== 0, data: body.subarray(1) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// v4 public keys (RFC 4880 5.5.2, RFC 6637 9 for ECDSA)

const CURVE_PACKET_OIDS: Readonly<Record<'P-256' | 'secp256k1', Uint8Array>> = {
  // The OID's DER content octets, without tag and length (RFC 6637 section 9).
  'P-256': new Uint8Array([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]), // 1.2.840.10045.3.1.7
  secp256k1: new Uint8Array([0x2b, 0x81, 0x04, 0x00, 0x0a]), // 1.3.132.0.10
};

function curveOfPacketOid(oid: Uint8Array): 'P-256' | 'secp256k1' | undefined {
  for (const curve of ['P-256', 'secp256k1'] as const) {
    if (Buffer.from(oid).equals(CURVE_PACKET_OIDS[curve])) return curve;
  }
  return undefined;
}

/** What a v4 key packet holds, with the SPKI the engine verifies with. */
export interface PgpPublicKey {
  readonly body: Uint8Array;
  readonly created: number;
  readonly algorithm: typeof PK_RSA | typeof PK_ECDSA;
  readonly spki: Uint8Array;
  readonly fingerprint: string;
  readonly keyId: string;
  /** RSA modulus length in bytes (signature MPIs are left-padded to it). */
  readonly modulusBytes?: number;
}

export function fingerprintOf(body: Uint8Array): string {
  return hex(createHash('sha1').update(keyHashPrefix(body)).digest());
}

/** The bytes a key packet contributes to fingerprints and signature hashes: 0x99, length, body. */
export function keyHashPrefix(body: Uint8Array): Uint8Array {
  return concat(new Uint8Array([0x99]), u16(body.length), body);
}

/** The v4 key packet body of a SubjectPublicKeyInfo: RSA (n, e) or ECDSA (curve OID, uncompressed point). */
export function keyBody(spki: Uint8Array, created: number): { body: Uint8Array; algorithm: typeof PK_RSA | typeof PK_ECDSA } {
  const info = parseSpki(spki, 'PublicKey');
  const head = concat(new Uint8Array([4]), u32(created));
  if (info.algorithm.algorithm === OID.rsaEncryption) {
    const jwk = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({ format: 'jwk' });
    const n = new Uint8Array(Buffer.from(jwk.n!, 'base64url'));
    const e = new Uint8Array(Buffer.from(jwk.e!, 'base64url'));
    return { body: concat(head, new Uint8Array([PK_RSA]), mpi(n), mpi(e)), algorithm: PK_RSA };
  }
  const point = new Uint8Array(info.subjectPublicKey);
  const curve = curveOfAlgorithm(info.algorithm, 'PublicKey');
  if (curve === 'SM2') throw new KmsError('Format.UnsupportedKeySpec', 'OpenPGP: no public-key algorithm carries SM2');
  const oid = CURVE_PACKET_OIDS[curve];
  return { body: concat(head, new Uint8Array([PK_ECDSA, oid.length]), oid, mpi(point)), algorithm: PK_ECDSA };
}

/**
 * Reads a v4 public key or subkey packet. Key versions other than 4, and algorithms other than
 * RSA and ECDSA on P-256/secp256k1, are returned as `undefined` with the reason (a certificate may
 * hold subkeys DeskKMS cannot use; the caller decides whether that matters).
 */
export function readKeyBody(body: Uint8Array, what: string): PgpPublicKey | { readonly unsupported: string; readonly fingerprint?: string } {
  const r = new Reader(body, what);
  const version = r.u8('the key version');
  if (version !== 4) return { unsupported: `a version ${version} key (DeskKMS reads v4 keys)` };
  const created = r.u32('the key creation time');
  const algorithm = r.u8('the key algorithm');
  const fingerprint = fingerprintOf(body);
  if (algorithm === PK_RSA || algorithm === 2 || algorithm === 3) {
    const n = r.mpi('the RSA modulus');
    const e = r.mpi('the RSA exponent');
    r.end();
    let spki: Uint8Array;
    try {
      const key = createPublicKey({ key: { kty: 'RSA', n: Buffer.from(n).toString('base64url'), e: Buffer.from(e).toString('base64url') }, format: 'jwk' });
      spki = new Uint8Array(key.export({ format: 'der', type: 'spki' }));
    } catch {
      throw malformed(what, 'the RSA key is not valid');
    }
    if (algorithm !== PK_RSA) return { unsupported: `an RSA key flagged ${algorithm === 2 ? 'encrypt-only' : 'sign-only'} (deprecated algorithm ${algorithm})`, fingerprint };
    return { body, created, algorithm: PK_RSA, spki, fingerprint, keyId: fingerprint.slice(24), modulusBytes: n.length };
  }
  if (algorithm === PK_ECDSA) {
    const oidLength = r.u8('the curve OID length');
    if (oidLength === 0 || oidLength === 0xff) throw malformed(what, `curve OID length ${oidLength} is reserved`);
    const oid = r.take(oidLength, 'the curve OID');
    const point = r.mpi('the EC point');
    r.end();
    const curve = curveOfPacketOid(oid);
    if (!curve) return { unsupported: `an ECDSA key on a curve other than P-256 and secp256k1 (OID bytes ${hex(oid)})`, fingerprint };
    let spki: Uint8Array;
    try {
      spki = encodeEcSpki(curve, parsePoint(curve, point, 'point'));
    } catch {
      throw malformed(what, `the ECDSA point is not a valid ${curve} point`);
    }
    return { body, created, algorithm: PK_ECDSA, spki, fingerprint, keyId: fingerprint.slice(24) };
  }
  return { unsupported: `public-key algorithm ${algorithm} (${ALGORITHM_NAMES[algorithm] ?? 'unknown'})`, fingerprint };
}

const ALGORITHM_NAMES: Readonly<Record<number, string>> = { 16: 'ElGamal', 17: 'DSA', 18: 'ECDH', 19: 'ECDSA', 22: 'EdDSA', 25: 'X25519', 26: 'X448', 27: 'Ed25519', 28: 'Ed448' };

// ---------------------------------------------------------------------------------------------
// ASCII armor (RFC 4880 section 6, RFC 9580 section 6.2) with its CRC-24

export function crc24(bytes: Uint8Array): number {
  let crc = 0xb704ce;
  for (const byte of bytes) {
    crc ^= byte << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

export type ArmorLabel = 'PGP SIGNATURE' | 'PGP PUBLIC KEY BLOCK';

export function armor(label: ArmorLabel, data: Uint8Array): Uint8Array {
  const body = (Buffer.from(data).toString('base64').match(/.{1,64}/g) ?? []).join('\n');
  const crc = Buffer.from(u32(crc24(data)).subarray(1)).toString('base64');
  return new TextEncoder().encode(`-----BEGIN ${label}-----\n\n${body}\n=${crc}\n-----END ${label}-----\n`);
}

const ARMOR_HEADER = /^[A-Za-z][A-Za-z0-9-]*: .*$/;
const BASE64_LINE = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The packets of an armored block with this label, or of binary input (first byte a packet
 * header). Armor must be one block: BEGIN line, "Key: value" headers, a blank line, base64
 * lines, an optional "=" CRC-24 line that must match, END line. Text around the block is refused.
 */
export function dearmor(input: Uint8Array, label: ArmorLabel, what: string): Uint8Array {
  if (input.length === 0) throw malformed(what, 'is empty');
  if ((input[0]! & 0x80) !== 0) return input; // binary
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch {
    throw malformed(what, 'is neither binary OpenPGP nor ASCII armor (not UTF-8 text)');
  }
  const lines = text.split(/\r?\n/).map((l) => l.replace(/[ \t]+$/, ''));
  while (lines.length > 0 && lines[0] === '') lines.shift();
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const begin = `-----BEGIN ${label}-----`;
  if (lines[0] !== begin) {
    const found = /^-----BEGIN ([A-Z0-9 ,/]+)-----$/.exec(lines[0] ?? '');
    throw malformed(what, found ? `is armored as "${found[1]}", expected "${label}"` : `does not start with ${begin}`);
  }
  if (lines[lines.length - 1] !== `-----END ${label}-----`) throw malformed(what, `does not end with -----END ${label}----- (one armored block only)`);
  let i = 1;
  while (i < lines.length - 1 && lines[i] !== '') {
    if (!ARMOR_HEADER.test(lines[i]!)) throw malformed(what, `armor header line ${i + 1} is not "Key: value" (the blank line after the headers is missing?)`);
    i++;
  }
  if (lines[i] !== '') throw malformed(what, 'the armor has no blank line before its data');
  const data = lines.slice(i + 1, lines.length - 1);
  let checksum: string | undefined;
  if (data.length > 0 && data[data.length - 1]!.startsWith('=')) checksum = data.pop()!.slice(1);
  for (const line of data) if (!BASE64_LINE.test(line)) throw malformed(what, 'the armor holds a line that is not base64');
  const joined = data.join('');
  if (joined.length === 0 || joined.length % 4 !== 0 || /=[^=]/.test(joined)) throw malformed(what, 'the armored data is not valid base64');
  const bytes = new Uint8Array(Buffer.from(joined, 'base64'));
  if (Buffer.from(bytes).toString('base64') !== joined) throw malformed(what, 'the armored data is not canonical base64');
  if (checksum !== undefined) {
    if (!/^[A-Za-z0-9+/]{4}$/.test(checksum)) throw malformed(what, 'the armor checksum line is not 4 base64 characters');
    const crc = Buffer.from(checksum, 'base64');
    if (((crc[0]! << 16) | (crc[1]! << 8) | crc[2]!) !== crc24(bytes)) throw malformed(what, 'the armor checksum (CRC-24) does not match its data: the file was changed or damaged');
  }
  return bytes;
}
