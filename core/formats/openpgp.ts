// OpenPGP (RFC 4880, RFC 9580's v4 keys and signatures) over AsymmetricSign: a v4 public-key
// packet made from the key version's public key and CreationDate (so its fingerprint never
// changes), detached binary signatures (type 0x00) that gpg, sq and OpenPGP.js verify, and the
// certificate (key packet, User ID, positive-certification self-signature signed in the vault).
// OpenPGP.js cannot sign with an external signer, so the packets are built here by hand
// (openpgp-packets.ts); the hash OpenPGP signs is a SHA-256 over the message and the signature's
// hashed part, which is exactly the precomputed Digest AsymmetricSign takes (RSA_PKCS1_SHA_256 and
// ECDSA_SHA_256 alike). RSA keys are public-key algorithm 1, P-256 and secp256k1 keys ECDSA (19)
// with the curve OIDs GnuPG uses; SM2 has no OpenPGP algorithm and is refused.
import { createHash, createVerify, type Hash, type Verify } from 'node:crypto';
import { KmsError, missingParameter, invalidParameter } from '../contract/errors.ts';
import type { KeySpec, SigningAlgorithm } from '../contract/specs.ts';
import { decodeRsSignature, encodeRsSignature } from '../crypto/der.ts';
import { importPublicKey, verifyDigest, type PublicKey } from '../crypto/public-key.ts';
import {
  beginFromHalves,
  hashingPreparation,
  preparedBytes,
  readPrepared,
  type FormatOptions,
  type KnownKey,
  type PendingPreparation,
  type PendingSignature,
  type PendingVerification,
  type PreparedMessage,
  type PreparedSignature,
  type ReadPrepared,
  type SignatureFormat,
  type SigningKeyInfo,
  type VerifyMaterial,
  type VerifyResult,
} from './format.ts';
import {
  HASH_SHA256,
  PK_ECDSA,
  PK_RSA,
  Reader,
  SUBPACKET,
  TAG,
  armor,
  bigintBytes,
  concat,
  dearmor,
  fingerprintOf,
  hex,
  keyBody,
  keyHashPrefix,
  malformed,
  mpi,
  packet,
  readKeyBody,
  readPackets,
  readSubpackets,
  subpacket,
  u16,
  u32,
  type PgpPublicKey,
  type Subpacket,
} from './openpgp-packets.ts';
import { Sha256Midstate } from './sha256-midstate.ts';

const SIG_BINARY = 0x00;
const SIG_TEXT = 0x01;
const SIG_POSITIVE_CERTIFICATION = 0x13;
const SIG_SUBKEY_BINDING = 0x18;
const SIG_PRIMARY_KEY_BINDING = 0x19;
const SIG_DIRECT_KEY = 0x1f;
const SIG_KEY_REVOCATION = 0x20;
const SIG_SUBKEY_REVOCATION = 0x28;
const SUBPACKET_EMBEDDED_SIGNATURE = 32;
const KEY_FLAG_SIGN = 0x02;
const CERTIFICATIONS = new Set([0x10, 0x11, 0x12, 0x13]);

/** The longest User ID accepted, in UTF-8 bytes. */
export const MAX_USER_ID_BYTES = 1024;

function unsupported(spec: KeySpec): string | undefined {
  if (spec === 'EC_SM2') {
    return 'OpenPGP defines no SM2 public-key algorithm (RFC 4880 and RFC 9580 sign with RSA, DSA, ECDSA on NIST, brainpool and secp256k1 curves, and EdDSA), so gpg and sq cannot verify an SM2 signature; use an RSA, EC_P256 or EC_P256K key';
  }
  return undefined;
}

function assertSupported(spec: KeySpec): void {
  const reason = unsupported(spec);
  if (reason) throw new KmsError('Format.UnsupportedKeySpec', `OpenPGP cannot carry a ${spec} key: ${reason}`);
}

function signingAlgorithm(spec: KeySpec): SigningAlgorithm {
  return spec.startsWith('RSA_') ? 'RSA_PKCS1_SHA_256' : 'ECDSA_SHA_256';
}

/** Seconds since the epoch of a Date, checked to fit OpenPGP's 32-bit time fields. */
function seconds(date: Date, what: string): number {
  const t = Math.floor(date.getTime() / 1000);
  if (!Number.isFinite(t) || t < 0 || t > 0xffffffff) throw invalidParameter(what, `${String(date)} is not a time OpenPGP can record (1970..2106)`);
  return t;
}

interface KeyPacket {
  readonly body: Uint8Array;
  readonly algorithm: typeof PK_RSA | typeof PK_ECDSA;
  readonly fingerprint: string;
  readonly created: number;
}

/** The key version's v4 public-key packet: its creation time is the version's CreationDate, in whole seconds. */
function keyPacketOf(key: SigningKeyInfo): KeyPacket {
  assertSupported(key.spec);
  const created = seconds(key.created, 'key CreationDate');
  const { body, algorithm } = keyBody(key.spki, created);
  return { body, algorithm, fingerprint: fingerprintOf(body), created };
}

/** The v4 fingerprint (SHA-1 of the key packet), 40 upper-case hex digits. */
export function openpgpFingerprint(key: SigningKeyInfo): string {
  return keyPacketOf(key).fingerprint;
}

/** The long key ID: the fingerprint's low 64 bits, 16 upper-case hex digits. */
export function openpgpKeyId(key: SigningKeyInfo): string {
  return openpgpFingerprint(key).slice(24);
}

/** The public-key algorithm number (1 RSA, 19 ECDSA), as gpg's status lines print it. */
export function openpgpAlgorithm(key: SigningKeyInfo): number {
  return keyPacketOf(key).algorithm;
}

/** The fields of a v4 signature up to its hashed subpackets: what the trailer counts. */
function hashedPart(type: number, algorithm: number, hashed: Uint8Array): Uint8Array {
  return concat(new Uint8Array([4, type, algorithm, HASH_SHA256]), u16(hashed.length), hashed);
}

function trailer(part: Uint8Array): Uint8Array {
  return concat(part, new Uint8Array([4, 0xff]), u32(part.length));
}

/** One v4 signature made through AsymmetricSign: the hash is fed, the packet wrapped by `wrap`. */
class PgpPendingSignature implements PendingSignature {
  private readonly hash: Hash = createHash('sha256');
  private readonly part: Uint8Array;
  private readonly unhashed: Uint8Array;
  private digest: Uint8Array | undefined;
  private done = false;
  private readonly key: SigningKeyInfo;
  private readonly keyPacket: KeyPacket;
  private readonly acceptsMessage: boolean;
  private readonly wrap: (signaturePacket: Uint8Array) => Uint8Array;

  constructor(
    key: SigningKeyInfo,
    keyPacket: KeyPacket,
    type: number,
    hashed: Uint8Array,
    prefix: Uint8Array,
    acceptsMessage: boolean,
    wrap: (signaturePacket: Uint8Array) => Uint8Array,
  ) {
    this.key = key;
    this.keyPacket = keyPacket;
    this.acceptsMessage = acceptsMessage;
    this.wrap = wrap;
    this.part = hashedPart(type, keyPacket.algorithm, hashed);
    this.unhashed = issuerKeyIdSubpacket(keyPacket.fingerprint);
    this.hash.update(prefix);
  }

  update(chunk: Uint8Array): void {
    if (!this.acceptsMessage) throw new KmsError('InternalFailure', 'an OpenPGP certification signs no message');
    if (this.digest) throw new KmsError('InternalFailure', 'OpenPGP: update after toSign');
    this.hash.update(chunk);
  }

  toSign(): { readonly algorithm: SigningAlgorithm; readonly digest: Uint8Array } {
    this.digest ??= new Uint8Array(this.hash.update(trailer(this.part)).digest());
    return { algorithm: signingAlgorithm(this.key.spec), digest: this.digest };
  }

  finish(value: Uint8Array): Uint8Array {
    const digest = this.digest;
    if (!digest || this.done) throw new KmsError('InternalFailure', 'OpenPGP: finish before toSign, or twice');
    this.done = true;
    return this.wrap(signaturePacket(this.key, this.keyPacket, this.part, this.unhashed, digest, value));
  }
}

/** The v4 signature packet of AsymmetricSign's Value over `digest`, checked against the key first. */
function signaturePacket(key: SigningKeyInfo, keyPacket: KeyPacket, part: Uint8Array, unhashed: Uint8Array, digest: Uint8Array, value: Uint8Array): Uint8Array {
  let mpis: Uint8Array;
  if (keyPacket.algorithm === PK_RSA) mpis = mpi(value);
  else {
    const { r, s } = decodeRsSignature(value, 'Value');
    mpis = concat(mpi(bigintBytes(r)), mpi(bigintBytes(s)));
  }
  // The signature must verify before it is handed out (a wrong key or digest is a bug, not a file).
  if (!verifyDigest(importPublicKey(key.spki), signingAlgorithm(key.spec), digest, value)) {
    throw new KmsError('InternalFailure', 'OpenPGP: AsymmetricSign returned a signature that does not verify with the key version');
  }
  return packet(TAG.signature, concat(part, u16(unhashed.length), unhashed, digest.subarray(0, 2), mpis));
}

function issuerSubpackets(fingerprint: string): Uint8Array {
  return subpacket(SUBPACKET.issuerFingerprint, concat(new Uint8Array([4]), new Uint8Array(Buffer.from(fingerprint, 'hex'))));
}

function issuerKeyIdSubpacket(fingerprint: string): Uint8Array {
  return subpacket(SUBPACKET.issuer, new Uint8Array(Buffer.from(fingerprint.slice(24), 'hex')));
}

// Detached signatures in two halves (signing at once, or a signing request across the air gap).
// The signature time is options.time (a request's Created). When the key is known (its public key
// and CreationDate: signing at once) the hashed area names the issuer's fingerprint, as before:
//   Prepared {Layout: "issuer-hashed", Time, Fingerprint, Sha256}.
// When it is not (a request made without the vault), the issuer cannot be hashed: the hashed area
// holds the creation time only, the issuer's fingerprint and key ID go in the unhashed area (where
// gpg, sq and OpenPGP.js find them too), and the request carries the SHA-256 STATE after the
// file (sha256-midstate.ts): the station continues it with the hashed part for its key's
// public-key algorithm (the Digest it signs) and finishes it with padding alone (the file's
// SHA-256, which it shows and checks: fileSha256), so both come from the one state:
//   Prepared {Layout: "issuer-unhashed-midstate", Time, Midstate (H, 32 bytes), Tail (the bytes
//   after the last whole 64-byte block), Length (the file's size)}.
const HASHED_ISSUER = 'issuer-hashed';
const UNHASHED_ISSUER = 'issuer-unhashed-midstate';

function prepareDetached(key: KnownKey, options: FormatOptions): PendingPreparation {
  if (key.spec !== undefined) assertSupported(key.spec);
  const spec = key.spki ? importPublicKey(key.spki, '--public-key').spec : key.spec;
  if (spec !== undefined) assertSupported(spec);
  if (spec !== undefined && key.spec !== undefined && spec !== key.spec) throw new KmsError('InvalidParameter', `--public-key: is a ${spec} key, not ${key.spec}`);
  const time = seconds(options.time ?? new Date(), 'time');
  if (key.spki !== undefined && key.created !== undefined) {
    const hash = createHash('sha256');
    const update = (chunk: Uint8Array): void => void hash.update(chunk);
    const created = seconds(key.created, 'key CreationDate');
    const { body, algorithm } = keyBody(key.spki, created);
    if (time < created) throw invalidParameter('time', 'the signature would be older than the key version (verifiers refuse it)');
    const fingerprint = fingerprintOf(body);
    const part = hashedPart(SIG_BINARY, algorithm, hashedIssuer(time, fingerprint));
    return hashingPreparation('openpgp', update, () => ({
      Layout: HASHED_ISSUER,
      Time: time,
      Fingerprint: fingerprint,
      Sha256: preparedBytes(new Uint8Array(hash.update(trailer(part)).digest())),
    }));
  }
  const midstate = new Sha256Midstate();
  return hashingPreparation(
    'openpgp',
    (chunk) => void midstate.update(chunk),
    () => {
      const state = midstate.state();
      return { Layout: UNHASHED_ISSUER, Time: time, Midstate: preparedBytes(state.H), Tail: preparedBytes(state.Tail), Length: state.Length };
    },
  );
}

/** The SHA-256 state a midstate preparation carries (Request.Malformed when its members do not fit together). */
function midstateOf(read: ReadPrepared<typeof PREPARED>): Sha256Midstate {
  if (read.Midstate === undefined || read.Tail === undefined || read.Length === undefined) throw malformedPrepared(`${UNHASHED_ISSUER} needs Midstate, Tail and Length`);
  if (read.Tail.length !== read.Length % 64) throw malformedPrepared(`Tail is ${read.Tail.length} bytes; after ${read.Length} bytes it is ${read.Length % 64}`);
  return Sha256Midstate.resume({ H: read.Midstate, Tail: read.Tail, Length: read.Length });
}

const malformedPrepared = (why: string) => new KmsError('Request.Malformed', `Prepared (openpgp): ${why}`);

/** A request's file SHA-256: its midstate finished; signing at once carries none (undefined). */
function fileSha256(prepared: PreparedMessage): Uint8Array | undefined {
  const read = readPrepared('openpgp', prepared, PREPARED);
  if (read.Layout !== UNHASHED_ISSUER) return undefined;
  return midstateOf(read).digest();
}

function hashedIssuer(time: number, fingerprint: string): Uint8Array {
  return concat(subpacket(SUBPACKET.creationTime, u32(time)), issuerSubpackets(fingerprint));
}

const PREPARED = {
  Layout: { kind: 'text', pattern: /^(issuer-hashed|issuer-unhashed-midstate)$/ },
  Time: { kind: 'integer', min: 0, max: 0xffffffff },
  Fingerprint: { kind: 'text', pattern: /^[0-9A-F]{40}$/, optional: true },
  Sha256: { kind: 'bytes', length: 32, optional: true },
  Midstate: { kind: 'bytes', length: 32, optional: true },
  Tail: { kind: 'bytes', optional: true },
  Length: { kind: 'integer', min: 0, max: Number.MAX_SAFE_INTEGER, optional: true },
} as const;

function completeDetached(key: SigningKeyInfo, options: FormatOptions, prepared: PreparedMessage): PreparedSignature {
  const keyPacket = keyPacketOf(key);
  const read = readPrepared('openpgp', prepared, PREPARED);
  const time = read.Time;
  if (options.time !== undefined && seconds(options.time, 'time') !== time) {
    throw new KmsError('Request.Mismatch', `openpgp: the file was hashed for a signature dated ${new Date(time * 1000).toISOString()}, not ${options.time.toISOString()}`);
  }
  if (time < keyPacket.created) {
    throw new KmsError('Request.Mismatch', `openpgp: the signature would be dated ${new Date(time * 1000).toISOString()}, before this key version was created (verifiers refuse it)`);
  }
  let hashed: Uint8Array;
  let unhashed: Uint8Array;
  let digest: Uint8Array;
  if (read.Layout === HASHED_ISSUER) {
    if (read.Fingerprint === undefined || read.Sha256 === undefined) throw malformedPrepared(`${HASHED_ISSUER} needs Fingerprint and Sha256`);
    if (read.Midstate !== undefined || read.Tail !== undefined || read.Length !== undefined) throw malformedPrepared(`${HASHED_ISSUER} has no Midstate, Tail or Length`);
    if (read.Fingerprint !== keyPacket.fingerprint) throw new KmsError('Request.Mismatch', `openpgp: the file was hashed for key ${read.Fingerprint}, not this key version ${keyPacket.fingerprint}`);
    hashed = hashedIssuer(time, keyPacket.fingerprint);
    unhashed = issuerKeyIdSubpacket(keyPacket.fingerprint);
    digest = read.Sha256;
  } else {
    if (read.Fingerprint !== undefined || read.Sha256 !== undefined) throw malformedPrepared(`${UNHASHED_ISSUER} has no Fingerprint or Sha256`);
    const state = midstateOf(read);
    hashed = subpacket(SUBPACKET.creationTime, u32(time));
    unhashed = concat(issuerSubpackets(keyPacket.fingerprint), issuerKeyIdSubpacket(keyPacket.fingerprint));
    digest = state.update(trailer(hashedPart(SIG_BINARY, keyPacket.algorithm, hashed))).digest();
  }
  const part = hashedPart(SIG_BINARY, keyPacket.algorithm, hashed);
  const algorithm = signingAlgorithm(key.spec);
  let done = false;
  return {
    toSign: () => ({ algorithm, digest }),
    finish(value) {
      if (done) throw new KmsError('InternalFailure', 'OpenPGP: finish twice');
      const sig = signaturePacket(key, keyPacket, part, unhashed, digest, value);
      done = true;
      return armor('PGP SIGNATURE', sig);
    },
  };
}

/** Checks a User ID given on the command line: UTF-8, printable, one line, not too long. */
export function checkUserId(userId: string, parameter = '--user-id'): Uint8Array {
  if (typeof userId !== 'string' || userId.trim() === '') throw invalidParameter(parameter, 'is empty; give "Name <email>"');
  if (/[\uD800-\uDFFF]/u.test(userId)) throw invalidParameter(parameter, 'is not valid Unicode (a lone surrogate)');
  if (/[\p{Cc}\u2028\u2029]/u.test(userId)) throw invalidParameter(parameter, 'holds a control character or line break; a User ID is one line of text');
  if (userId !== userId.trim()) throw invalidParameter(parameter, 'starts or ends with white space');
  const bytes = new TextEncoder().encode(userId);
  if (bytes.length > MAX_USER_ID_BYTES) throw invalidParameter(parameter, `is ${bytes.length} bytes of UTF-8; at most ${MAX_USER_ID_BYTES}`);
  return bytes;
}

/**
 * The certificate of a key version: toSign() is the positive certification (0x13) of the key
 * packet and the User ID, finish(Value) the armored "PGP PUBLIC KEY BLOCK" (key, User ID,
 * self-signature). The self-signature is dated options.time, by default the key version's creation
 * like the key packet: a certificate exported today then also binds the signatures made before
 * today (sq refuses a signature older than the binding signature it finds). Never before the key.
 */
export function beginCertificate(key: SigningKeyInfo, userId: string, options: { readonly time?: Date } = {}): PendingSignature {
  const uid = checkUserId(userId);
  const keyPacket = keyPacketOf(key);
  const time = Math.max(options.time ? seconds(options.time, 'time') : keyPacket.created, keyPacket.created);
  const hashed = concat(
    subpacket(SUBPACKET.creationTime, u32(time)),
    issuerSubpackets(keyPacket.fingerprint),
    subpacket(SUBPACKET.keyFlags, new Uint8Array([0x03])), // certify and sign
    subpacket(SUBPACKET.preferredSymmetric, new Uint8Array([9, 7])), // AES-256, AES-128
    subpacket(SUBPACKET.preferredHash, new Uint8Array([8, 10, 9])), // SHA-256, SHA-512, SHA-384
    subpacket(SUBPACKET.preferredCompression, new Uint8Array([0])), // uncompressed
    subpacket(SUBPACKET.features, new Uint8Array([0x01])), // modification detection
    subpacket(SUBPACKET.primaryUserId, new Uint8Array([1])),
  );
  const prefix = concat(keyHashPrefix(keyPacket.body), userIdHashPrefix(uid));
  const keyAndUid = concat(packet(TAG.publicKey, keyPacket.body), packet(TAG.userId, uid));
  return new PgpPendingSignature(key, keyPacket, SIG_POSITIVE_CERTIFICATION, hashed, prefix, false, (sig) =>
    armor('PGP PUBLIC KEY BLOCK', concat(keyAndUid, sig)),
  );
}

function userIdHashPrefix(uid: Uint8Array): Uint8Array {
  return concat(new Uint8Array([0xb4]), u32(uid.length), uid);
}

// ---------------------------------------------------------------------------------------------
// Reading signatures and certificates

interface ParsedSignature {
  readonly type: number;
  readonly pkAlgorithm: number;
  readonly hashAlgorithm: number;
  /** Version through hashed subpackets (what the trailer covers). */
  readonly part: Uint8Array;
  readonly hashed: readonly Subpacket[];
  readonly unhashed: readonly Subpacket[];
  readonly left16: Uint8Array;
  /** The signature's MPIs, or undefined for an algorithm DeskKMS does not verify. */
  readonly mpis?: readonly Uint8Array[];
  readonly created: number;
}

const HASH_NAMES: Readonly<Record<number, string>> = { 1: 'MD5', 2: 'SHA-1', 3: 'RIPEMD-160', 8: 'SHA-256', 9: 'SHA-384', 10: 'SHA-512', 11: 'SHA-224', 12: 'SHA3-256', 14: 'SHA3-512' };
const KNOWN_SUBPACKETS = new Set<number>([2, 3, 4, 5, 7, 9, 11, 12, 16, 21, 22, 23, 24, 25, 27, 28, 29, 30, 31, 32, 33, 34]);

function readSignature(body: Uint8Array, what: string): ParsedSignature {
  const r = new Reader(body, what);
  const version = r.u8('the signature version');
  if (version !== 4) throw malformed(what, `is a version ${version} signature; DeskKMS reads v4 signatures (gpg and sq make them for v4 keys)`);
  const type = r.u8('the signature type');
  const pkAlgorithm = r.u8('the public-key algorithm');
  const hashAlgorithm = r.u8('the hash algorithm');
  const hashedArea = r.take(r.u16('the hashed subpacket length'), 'the hashed subpackets');
  const part = body.subarray(0, r.at);
  const unhashedArea = r.take(r.u16('the unhashed subpacket length'), 'the unhashed subpackets');
  const left16 = r.take(2, 'the hash prefix');
  let mpis: Uint8Array[] | undefined;
  if (pkAlgorithm === PK_RSA) mpis = [r.mpi('the RSA signature')];
  else if (pkAlgorithm === PK_ECDSA) mpis = [r.mpi('the ECDSA r'), r.mpi('the ECDSA s')];
  if (mpis) r.end();
  const hashed = readSubpackets(hashedArea, `${what} (hashed subpackets)`);
  const unhashed = readSubpackets(unhashedArea, `${what} (unhashed subpackets)`);
  const creation = hashed.filter((s) => s.type === SUBPACKET.creationTime);
  if (creation.length !== 1 || creation[0]!.data.length !== 4) throw malformed(what, 'has no single signature creation time in its hashed subpackets (RFC 4880 5.2.3.4 requires one)');
  const created = new Reader(creation[0]!.data, what).u32('the creation time');
  return { type, pkAlgorithm, hashAlgorithm, part, hashed, unhashed, left16, ...(mpis ? { mpis } : {}), created };
}

/** The issuer the signature names: the v4 fingerprint (hashed or not), else the key ID. */
function issuerOf(sig: ParsedSignature): { fingerprint?: string; keyId?: string } {
  const all = [...sig.hashed, ...sig.unhashed];
  const fpr = all.find((s) => s.type === SUBPACKET.issuerFingerprint && s.data.length === 21 && s.data[0] === 4);
  const id = all.find((s) => s.type === SUBPACKET.issuer && s.data.length === 8);
  return { ...(fpr ? { fingerprint: hex(fpr.data.subarray(1)) } : {}), ...(id ? { keyId: hex(id.data) } : {}) };
}

function subpacketU32(sig: ParsedSignature, type: number): number | undefined {
  const found = sig.hashed.find((s) => s.type === type && s.data.length === 4);
  return found ? new Reader(found.data, 'subpacket').u32('time') : undefined;
}

/** The hashes a signature may use here (SHA-1, MD5 and RIPEMD-160 are refused as too weak). */
const HASHES: Readonly<Record<number, string>> = { 8: 'sha256', 9: 'sha384', 10: 'sha512', 11: 'sha224' };

const hashProblem = (algorithm: number): string | undefined =>
  HASHES[algorithm] ? undefined : `it uses hash algorithm ${HASH_NAMES[algorithm] ?? algorithm}; DeskKMS verifies OpenPGP signatures made with SHA-224, SHA-256, SHA-384 or SHA-512`;

/**
 * The hash of one signature, fed the signed data (streamed), then its trailer. SHA-256 is checked
 * by the engine (core/crypto/public-key.ts, as AsymmetricVerify does); gpg hashes RSA
 * self-signatures (and signatures by keys preferring it) with SHA-512, which node:crypto's
 * verifier checks over the same bytes.
 */
class SignatureHash {
  private readonly hash: Hash;
  private readonly verifier: Verify | undefined;
  private readonly sig: ParsedSignature;
  constructor(sig: ParsedSignature) {
    const name = HASHES[sig.hashAlgorithm];
    if (!name) throw new KmsError('InternalFailure', 'OpenPGP: a hash without its check');
    this.sig = sig;
    this.hash = createHash(name);
    this.verifier = sig.hashAlgorithm === HASH_SHA256 ? undefined : createVerify(name);
  }

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.verifier?.update(chunk);
  }

  /** Undefined when the signature holds over what was fed, else the reason it does not. */
  check(key: PgpPublicKey, publicKey: PublicKey): string | undefined {
    const sig = this.sig;
    this.update(trailer(sig.part));
    const digest = new Uint8Array(this.hash.digest());
    if (sig.pkAlgorithm !== key.algorithm || !sig.mpis) return `its public-key algorithm ${sig.pkAlgorithm} is not the key's (${key.algorithm})`;
    if (sig.left16[0] !== digest[0] || sig.left16[1] !== digest[1]) return 'the hash does not match (the file or the signature was changed)';
    let value: Uint8Array;
    if (key.algorithm === PK_RSA) {
      const raw = sig.mpis[0]!;
      const k = key.modulusBytes!;
      if (raw.length > k) return 'the RSA signature is longer than the modulus';
      value = concat(new Uint8Array(k - raw.length), raw);
    } else {
      value = encodeRsSignature({ r: BigInt(`0x${hex(sig.mpis[0]!)}`), s: BigInt(`0x${hex(sig.mpis[1]!)}`) });
    }
    let good: boolean;
    try {
      good = this.verifier
        ? this.verifier.verify({ key: Buffer.from(key.spki), format: 'der', type: 'spki', dsaEncoding: 'der' }, value)
        : verifyDigest(publicKey, key.algorithm === PK_RSA ? 'RSA_PKCS1_SHA_256' : 'ECDSA_SHA_256', digest, value);
    } catch {
      good = false;
    }
    return good ? undefined : 'the signature does not verify with the key (the file or the signature was changed, or another key signed)';
  }
}

function unknownCritical(sig: ParsedSignature): number | undefined {
  return sig.hashed.find((s) => s.critical && !KNOWN_SUBPACKETS.has(s.type))?.type;
}

/** A key of a certificate that DeskKMS can verify with. */
interface UsableKey {
  readonly pgp: PgpPublicKey;
  readonly publicKey: PublicKey;
}

/** One valid subkey binding signature (0x18): signing only with the sign flag and a valid back-signature. */
interface Binding {
  readonly created: number;
  readonly signing: boolean;
  readonly expires?: number;
}

/** A subkey, with its valid bindings (the one in force at a signature's time decides). */
interface Subkey {
  readonly fingerprint: string;
  readonly key?: UsableKey;
  /** Why it cannot sign here: an algorithm DeskKMS does not read, no valid signing binding, a revocation. */
  readonly unusable?: string;
  readonly bindings: readonly Binding[];
}

interface Certificate extends UsableKey {
  readonly primary: PgpPublicKey;
  /** The User ID a valid self-certification binds (the primary one when marked), if any. */
  readonly userId?: string;
  /** Seconds after the key's creation at which it expires (from that self-signature), 0 or absent: never. */
  readonly expiresAfter?: number;
  readonly revoked?: string;
  /**
   * The primary key's key flags (RFC 4880 5.2.3.21) as gpg 2.2 reads them: from the newest valid
   * direct-key signature when it has them, else from the User ID whose newest valid
   * self-certification is the newest of those that have them; undefined when no self-signature
   * has a key-flags subpacket.
   */
  readonly keyFlags?: number;
  readonly subkeys: readonly Subkey[];
}

const keyFlagsOf = (sig: ParsedSignature): number | undefined => {
  const found = sig.hashed.find((x) => x.type === SUBPACKET.keyFlags);
  return found ? (found.data[0] ?? 0) : undefined; // an empty subpacket: no usage at all (gpg's PUBKEY_USAGE_NONE)
};

function describeKeyFlags(flags: number): string {
  const names = [
    [0x01, 'certify'],
    [0x02, 'sign'],
    [0x0c, 'encrypt'],
    [0x20, 'authenticate'],
  ] as const;
  const allowed = names.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
  return `key flags 0x${flags.toString(16).padStart(2, '0')}: ${allowed.length ? allowed.join(', ') : 'no usage'}`;
}

const isoTime = (t: number): string => new Date(t * 1000).toISOString();

/** Does `sig`, issued by `by` (per its issuer subpackets), hold over `prefix`? */
function signatureHolds(by: UsableKey, sig: ParsedSignature, prefix: Uint8Array): boolean {
  const issuer = issuerOf(sig);
  if (issuer.fingerprint !== undefined && issuer.fingerprint !== by.pgp.fingerprint) return false;
  if (issuer.keyId !== undefined && issuer.keyId !== by.pgp.keyId) return false;
  if (unknownCritical(sig) !== undefined || hashProblem(sig.hashAlgorithm)) return false;
  const hash = new SignatureHash(sig);
  hash.update(prefix);
  return hash.check(by.pgp, by.publicKey) === undefined;
}

const optionalFlags = (flags: number | undefined): { flags?: number } => (flags !== undefined ? { flags } : {});

function usable(key: PgpPublicKey): UsableKey | string {
  try {
    return { pgp: key, publicKey: importPublicKey(key.spki, 'certificate') };
  } catch (error) {
    return (error as Error).message;
  }
}

/** The state of one subkey while its binding signatures are read. */
interface SubkeyState {
  readonly fingerprint: string;
  readonly key?: UsableKey;
  readonly unsupported?: string;
  readonly bindings: Binding[];
  revoked?: boolean;
}

/**
 * A subkey binding (0x18) by the primary over primary and subkey; a signing subkey's binding must
 * embed the subkey's own primary-key binding (0x19) over the same keys (RFC 4880 5.2.1, 11.1).
 */
function readSubkeyBinding(primary: UsableKey, sub: SubkeyState, sig: ParsedSignature, what: string): void {
  if (!sub.key) return;
  const prefix = concat(keyHashPrefix(primary.pgp.body), keyHashPrefix(sub.key.pgp.body));
  if (sig.type === SIG_SUBKEY_REVOCATION) {
    if (signatureHolds(primary, sig, prefix)) sub.revoked = true;
    return;
  }
  if (sig.type !== SIG_SUBKEY_BINDING || !signatureHolds(primary, sig, prefix)) return;
  const flags = sig.hashed.find((x) => x.type === SUBPACKET.keyFlags)?.data[0] ?? 0;
  let signing = (flags & KEY_FLAG_SIGN) !== 0;
  if (signing) {
    const embedded = [...sig.hashed, ...sig.unhashed].filter((x) => x.type === SUBPACKET_EMBEDDED_SIGNATURE);
    signing = embedded.some((x) => {
      const back = readSignature(x.data, `${what} (an embedded back-signature)`);
      return back.type === SIG_PRIMARY_KEY_BINDING && signatureHolds(sub.key!, back, prefix);
    });
  }
  const expires = subpacketU32(sig, SUBPACKET.keyExpirationTime);
  sub.bindings.push({ created: sig.created, signing, ...(expires ? { expires } : {}) });
}

/** The binding in force at `time`: the newest one made no later (sq's rule; none: the subkey was not yet bound). */
function bindingAt(bindings: readonly Binding[], time: number): Binding | undefined {
  let live: Binding | undefined;
  for (const b of bindings) if (b.created <= time && (!live || b.created >= live.created)) live = b;
  return live;
}

/** A Transferable Public Key (RFC 4880 11.1): the primary key, its User IDs, subkeys and their signatures. */
function readCertificate(input: Uint8Array): Certificate {
  const what = 'certificate';
  const packets = readPackets(dearmor(input, 'PGP PUBLIC KEY BLOCK', what), what).filter((p) => p.tag !== TAG.trust && p.tag !== TAG.marker);
  if (packets.length === 0) throw malformed(what, 'holds no packets');
  if (packets[0]!.tag !== TAG.publicKey) throw malformed(what, `starts with packet tag ${packets[0]!.tag}, not a public key (6)`);
  const read = readKeyBody(packets[0]!.body, `${what} (primary key)`);
  if ('unsupported' in read) {
    throw new KmsError('Format.UnsupportedKeySpec', `certificate: its primary key is ${read.unsupported}; DeskKMS verifies OpenPGP signatures by RSA and ECDSA (P-256, secp256k1) v4 keys`);
  }
  const base = usable(read);
  if (typeof base === 'string') throw new KmsError('Format.UnsupportedKeySpec', `certificate: its primary key cannot be used: ${base}`);
  const keyPrefix = keyHashPrefix(read.body);
  let revoked: string | undefined;
  let best: { uid: string; created: number; primaryFlag: boolean; expires?: number } | undefined;
  let direct: { created: number; flags?: number } | undefined;
  /** Per User ID, its newest valid self-certification's time and key flags. */
  const uidSelfSigs: { newest?: { created: number; flags?: number } }[] = [];
  const subkeys: SubkeyState[] = [];
  let current: { kind: 'key' } | { kind: 'uid'; uid: Uint8Array; self: (typeof uidSelfSigs)[number] } | { kind: 'subkey'; sub: SubkeyState } | { kind: 'other' } = { kind: 'key' };
  let userIds = 0;
  for (const p of packets.slice(1)) {
    if (p.tag === TAG.signature) {
      const sig = readSignature(p.body, `${what} (a signature)`);
      if (current.kind === 'key' && sig.type === SIG_KEY_REVOCATION && signatureHolds(base, sig, keyPrefix)) {
        revoked = `revoked by its owner on ${new Date(sig.created * 1000).toISOString()}`;
      } else if (current.kind === 'key' && sig.type === SIG_DIRECT_KEY && signatureHolds(base, sig, keyPrefix)) {
        if (!direct || sig.created >= direct.created) direct = { created: sig.created, ...optionalFlags(keyFlagsOf(sig)) };
      } else if (current.kind === 'uid' && CERTIFICATIONS.has(sig.type)) {
        if (!signatureHolds(base, sig, concat(keyPrefix, userIdHashPrefix(current.uid)))) continue;
        if (!current.self.newest || sig.created >= current.self.newest.created) current.self.newest = { created: sig.created, ...optionalFlags(keyFlagsOf(sig)) };
        const uid = new TextDecoder().decode(current.uid);
        const primaryFlag = sig.hashed.some((x) => x.type === SUBPACKET.primaryUserId && x.data[0] === 1);
        const expires = subpacketU32(sig, SUBPACKET.keyExpirationTime);
        const better = !best || (primaryFlag && !best.primaryFlag) || (primaryFlag === best.primaryFlag && sig.created > best.created);
        if (better) best = { uid, created: sig.created, primaryFlag, ...(expires !== undefined ? { expires } : {}) };
      } else if (current.kind === 'subkey') {
        readSubkeyBinding(base, current.sub, sig, what);
      }
    } else if (p.tag === TAG.userId) {
      userIds++;
      const self = {};
      uidSelfSigs.push(self);
      current = { kind: 'uid', uid: p.body, self };
    } else if (p.tag === TAG.userAttribute) {
      current = { kind: 'other' };
    } else if (p.tag === TAG.publicSubkey) {
      const sub = readKeyBody(p.body, `${what} (a subkey)`);
      let state: SubkeyState;
      if ('unsupported' in sub) state = { fingerprint: sub.fingerprint ?? 'unknown', unsupported: sub.unsupported, bindings: [] };
      else {
        const key = usable(sub);
        state = typeof key === 'string' ? { fingerprint: sub.fingerprint, unsupported: key, bindings: [] } : { fingerprint: sub.fingerprint, key, bindings: [] };
      }
      subkeys.push(state);
      current = { kind: 'subkey', sub: state };
    } else if (p.tag === TAG.publicKey) {
      throw malformed(what, 'holds more than one primary key (a keyring); give the signer\'s certificate alone');
    } else {
      throw malformed(what, `holds packet tag ${p.tag}, which a certificate does not`);
    }
  }
  if (userIds === 0) throw malformed(what, 'has no User ID (a certificate needs one)');
  // gpg 2.2's merge_selfsigs_main: the direct-key signature's flags, else the latest User ID's
  // that has flags; none at all leaves the usage to the algorithm (see the check in beginVerify).
  let keyFlags = direct?.flags;
  if (keyFlags === undefined) {
    let latest: { created: number; flags?: number } | undefined;
    for (const { newest } of uidSelfSigs) if (newest?.flags !== undefined && (!latest || newest.created > latest.created)) latest = newest;
    keyFlags = latest?.flags;
  }
  return {
    ...base,
    primary: read,
    ...(best ? { userId: best.uid } : {}),
    ...(best?.expires ? { expiresAfter: best.expires } : {}),
    ...(revoked ? { revoked } : {}),
    ...(keyFlags !== undefined ? { keyFlags } : {}),
    subkeys: subkeys.map((sub): Subkey => {
      const unusable = sub.unsupported
        ? `it is ${sub.unsupported}`
        : sub.revoked
          ? 'it was revoked'
          : !sub.bindings.some((b) => b.signing)
            ? 'the certificate does not bind it for signing (no valid binding signature with the sign flag and back-signature)'
            : undefined;
      return { fingerprint: sub.fingerprint, ...(sub.key ? { key: sub.key } : {}), ...(unusable ? { unusable } : {}), bindings: sub.bindings };
    }),
  };
}

/** Canonical text for type 0x01 signatures: every line ending becomes CR LF (streamed). */
class TextCanonicalizer {
  private lastCr = false;
  private readonly hash: SignatureHash;
  constructor(hash: SignatureHash) {
    this.hash = hash;
  }
  update(chunk: Uint8Array): void {
    let from = 0;
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] === 0x0a && !(i === 0 ? this.lastCr : chunk[i - 1] === 0x0d)) {
        this.hash.update(chunk.subarray(from, i));
        this.hash.update(new Uint8Array([0x0d]));
        from = i;
      }
    }
    this.hash.update(chunk.subarray(from));
    if (chunk.length > 0) this.lastCr = chunk[chunk.length - 1] === 0x0d;
  }
}

function beginVerify(signature: Uint8Array, material: VerifyMaterial): PendingVerification {
  if (!material.certificate) throw missingParameter('--certificate');
  const what = 'signature';
  const packets = readPackets(dearmor(signature, 'PGP SIGNATURE', what), what).filter((p) => p.tag !== TAG.marker);
  if (packets.length !== 1 || packets[0]!.tag !== TAG.signature) {
    throw malformed(what, `holds ${packets.map((p) => `tag ${p.tag}`).join(', ') || 'no packets'}; a detached signature is one signature packet (tag 2)`);
  }
  const sig = readSignature(packets[0]!.body, what);
  if (sig.type !== SIG_BINARY && sig.type !== SIG_TEXT) {
    throw malformed(what, `is of type 0x${sig.type.toString(16).padStart(2, '0')}, not a signature of a file (0x00 binary or 0x01 text)`);
  }
  const weak = hashProblem(sig.hashAlgorithm);
  if (weak) throw malformed(what, weak);
  const cert = readCertificate(material.certificate);
  const hash = new SignatureHash(sig);
  const text = sig.type === SIG_TEXT ? new TextCanonicalizer(hash) : undefined;
  let done = false;
  return {
    update(chunk) {
      if (done) throw new KmsError('InternalFailure', 'OpenPGP: update after result');
      if (text) text.update(chunk);
      else hash.update(chunk);
    },
    result(): VerifyResult {
      if (done) throw new KmsError('InternalFailure', 'OpenPGP: result twice');
      done = true;
      const issuer = issuerOf(sig);
      const matches = (fpr: string): boolean => (issuer.fingerprint === undefined || issuer.fingerprint === fpr) && (issuer.keyId === undefined || issuer.keyId === fpr.slice(24));
      const subkey = matches(cert.primary.fingerprint) ? undefined : cert.subkeys.find((k) => matches(k.fingerprint));
      const keys = subkey ? `${cert.primary.fingerprint}, subkey ${subkey.fingerprint}` : cert.primary.fingerprint;
      const signer = cert.userId !== undefined ? `${cert.userId} (${keys})` : keys;
      const invalid = (reason: string): VerifyResult => ({ valid: false, signer, reason });
      if (!subkey && !matches(cert.primary.fingerprint)) {
        return { valid: false, signer, reason: `it was made by key ${issuer.fingerprint ?? issuer.keyId ?? '(unnamed)'}, not by the certificate's key ${cert.primary.fingerprint} or its subkeys` };
      }
      if (subkey?.unusable || (subkey && !subkey.key)) return invalid(`it was made by subkey ${subkey.fingerprint}, which cannot sign here: ${subkey.unusable ?? 'unreadable'}`);
      const by = subkey?.key ?? cert;
      const critical = unknownCritical(sig);
      if (critical !== undefined) return invalid(`it has a critical subpacket of type ${critical}, which DeskKMS does not know`);
      const reason = hash.check(by.pgp, by.publicKey);
      if (reason) return invalid(reason);
      // The issuing key must be allowed to sign (gpg: "Wrong key usage", sq: "key is not signing
      // capable"). A subkey: by the binding in force when the signature was made, the newest one
      // no later than it (sq's rule; gpg 2.2 takes the newest binding whatever the signature's
      // date). A signature older than every binding is refused as sq refuses it; DeskKMS's own
      // certificates have no subkeys, and their self-signature is dated at the key version's
      // creation, so nothing DeskKMS signs is older than its certificate's binding.
      let binding: Binding | undefined;
      if (subkey) {
        binding = bindingAt(subkey.bindings, sig.created);
        if (!binding) {
          const first = Math.min(...subkey.bindings.map((b) => b.created));
          return invalid(`it is dated ${isoTime(sig.created)}, before the certificate bound subkey ${subkey.fingerprint} (its binding signature is dated ${isoTime(first)})`);
        }
        if (!binding.signing) return invalid(`it was made by subkey ${subkey.fingerprint}, which the binding in force at ${isoTime(sig.created)} (dated ${isoTime(binding.created)}) does not allow to sign`);
      } else if (cert.keyFlags !== undefined && (cert.keyFlags & KEY_FLAG_SIGN) === 0) {
        // A primary key without any key-flags subpacket is accepted: RFC 4880 does not require the
        // subpacket, and gpg 2.2 then takes the usage from the algorithm (RSA and ECDSA sign), as
        // checked against gpg 2.2.40 (sq 0.27 refuses such a key; gpg is followed here).
        return invalid(`it was made by the certificate's primary key ${cert.primary.fingerprint}, whose self-signature does not allow it to sign (${describeKeyFlags(cert.keyFlags)})`);
      }
      if (cert.revoked) return invalid(`the certificate's key is ${cert.revoked}`);
      if (sig.created < by.pgp.created) return invalid('the signature is dated before its key was created');
      if (cert.expiresAfter !== undefined && sig.created > cert.primary.created + cert.expiresAfter) return invalid('the key had expired when the signature was made');
      if (binding?.expires !== undefined && sig.created > by.pgp.created + binding.expires) return invalid('the subkey had expired when the signature was made');
      const sigExpiry = subpacketU32(sig, SUBPACKET.expirationTime);
      if (sigExpiry && Date.now() / 1000 > sig.created + sigExpiry) return invalid('the signature has expired');
      return { valid: true, signer };
    },
  };
}

export const openpgpFormat: SignatureFormat = {
  name: 'openpgp',
  extension: '.asc',
  description: 'OpenPGP detached signature, ASCII-armored (gpg --verify, sq verify); RSA, EC_P256 and EC_P256K keys',
  unsupported,
  begin: (key, options) => beginFromHalves(openpgpFormat, key, options),
  prepare: prepareDetached,
  complete: completeDetached,
  fileSha256,
  verify: beginVerify,
};
