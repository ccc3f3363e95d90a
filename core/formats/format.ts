// Release-signing formats: one non-exportable key version, many signature formats. A format is a
// pure module over AsymmetricSign: it hashes the message as its ecosystem does, names the Digest
// and algorithm AsymmetricSign must sign, and wraps AsymmetricSign's Value into the file its
// verifier reads (ssh-keygen, gpg/sq, @sigstore/verify, a JWS library). It never sees a private
// key: the signing itself is one dispatch of AsymmetricSign (core/actions/format-signing.ts),
// audited with the format. Formats also verify their own files offline (deskkms verify).
// Below the handler table: formats import core/contract and public-key code only.
import { decodeBase64, encodeBase64 } from '../contract/base64.ts';
import { KmsError } from '../contract/errors.ts';
import { escapeText } from '../contract/escape-text.ts';
import type { SignatureFormatName } from '../contract/signature-formats.ts';
import type { KeySpec, SigningAlgorithm } from '../contract/specs.ts';

// The names live in the contract, where the app's schemas and the renderer read them too.
export { SIGNATURE_FORMATS, isSignatureFormat, type SignatureFormatName } from '../contract/signature-formats.ts';

/** The public facts of the key version that signs: all a format needs besides AsymmetricSign. */
export interface SigningKeyInfo {
  readonly keyId: string;
  readonly keyVersionId: string;
  readonly spec: KeySpec;
  /** The version's SubjectPublicKeyInfo, DER. */
  readonly spki: Uint8Array;
  /**
   * The key version's CreationDate: fixed and stored per version (OpenPGP uses it as the key
   * packet's creation time, so the fingerprint never changes between exports).
   */
  readonly created: Date;
}

/** What a caller may choose; each format reads the options it knows and ignores the others. */
export interface FormatOptions {
  /** SSHSIG namespace (default "file"; git uses "git"). */
  readonly namespace?: string;
  /** JWS: leave the payload out of the compact serialization (RFC 7515 appendix F). */
  readonly detached?: boolean;
  /** raw and JWS over RSA keys: RSA_PKCS1_SHA_256 (default; JWS RS256) or RSA_PSS_SHA_256 (PS256). */
  readonly algorithm?: SigningAlgorithm;
  /** The signature's creation time (OpenPGP, the sigstore/JWS metadata); default now. */
  readonly time?: Date;
}

/** One signature in progress: the message is fed in chunks (any size), then signed once. */
export interface PendingSignature {
  update(chunk: Uint8Array): void;
  /** After the last chunk, once: the Digest and algorithm AsymmetricSign must sign. */
  toSign(): { readonly algorithm: SigningAlgorithm; readonly digest: Uint8Array };
  /** The signature file's bytes, made from AsymmetricSign's Value (decoded from base64). */
  finish(value: Uint8Array): Uint8Array;
}

/**
 * A message's hashes as a format needs them before the key signs it: what a signing request
 * carries across the air gap (core/airgap) instead of the file. JSON-safe: base64 strings, numbers,
 * booleans; each format documents its members (ssh: the SHA-256 of the file in a request, the
 * SHA-512 when signing at once; sigstore and raw: the SHA-256; openpgp: the signature time and, in
 * a request, the SHA-256 state after the file; jws: the SHA-256 of the signing input). Never the
 * file itself.
 */
export type PreparedMessage = Readonly<Record<string, string | number | boolean>>;

/**
 * What is known of the signing key when the message is hashed: everything when the vault signs at
 * once (SigningKeyInfo), or what a signing request was given on a machine without the vault (the
 * key version and its public key when the user passed them, else nothing).
 */
export type KnownKey = Partial<SigningKeyInfo>;

/** The hashing half of a signature: fed the message in chunks, then prepared() once. */
export interface PendingPreparation {
  update(chunk: Uint8Array): void;
  prepared(): PreparedMessage;
}

/** The signing half: the Digest AsymmetricSign must sign, and the file made of its Value. */
export type PreparedSignature = Omit<PendingSignature, 'update'>;

/**
 * What a verifier is given besides the message and the signature file. Each format says which
 * members it needs and refuses with MissingParameter (naming the CLI flag) when one is absent.
 */
export interface VerifyMaterial {
  /** A public key file: SPKI PEM/DER, an OpenSSH public key line, or a JWK (JSON). */
  readonly publicKey?: Uint8Array;
  /** An OpenPGP certificate (armored or binary). */
  readonly certificate?: Uint8Array;
  /** An allowed_signers file's text (ssh-keygen -Y verify's -f) and the principal to check (-I). */
  readonly allowedSigners?: string;
  readonly principal?: string;
  /** SSHSIG namespace expected (default "file"). */
  readonly namespace?: string;
  /** raw: the signing algorithm (default: the key's usual one). */
  readonly algorithm?: SigningAlgorithm;
  /**
   * The caller has no message to feed: the signature carries its own payload (an attached JWS).
   * Formats that sign a separate file refuse it (hosts require --in for them).
   */
  readonly withoutMessage?: boolean;
}

export interface VerifyResult {
  readonly valid: boolean;
  /** Who signed, as the format names it (principal, OpenPGP fingerprint, SSH fingerprint, kid). */
  readonly signer?: string;
  /** Why it is invalid, in words (a changed message, another key, a namespace mismatch...). */
  readonly reason?: string;
}

/** One verification in progress; a malformed signature or material throws Format.Malformed at once. */
export interface PendingVerification {
  update(chunk: Uint8Array): void;
  result(): VerifyResult;
}

export interface SignatureFormat {
  readonly name: SignatureFormatName;
  /** The default output name's suffix, after the signed file's name (ecosystem convention). */
  readonly extension: '.sig' | '.asc' | '.sigstore.json' | '.jws';
  /** One line for help texts and the app. */
  readonly description: string;
  /** Why the format cannot carry a key of this spec, or undefined when it can. */
  unsupported(spec: KeySpec): string | undefined;
  /**
   * Throws Format.UnsupportedKeySpec (with the reason) for a spec the format cannot carry. The same
   * route as prepare() then complete(): one code path whether the file is here or across the gap.
   */
  begin(key: SigningKeyInfo, options: FormatOptions): PendingSignature;
  /**
   * Hashing with what is known of the key (a signing request on a machine without the vault).
   * Throws Request.NeedsPublicKey when the format hashes a fact that is not known (jws: the
   * key version and its public key; raw: the public key, if it is an SM2 key... only known when
   * given), Format.UnsupportedKeySpec when a known spec cannot be carried.
   */
  prepare(key: KnownKey, options: FormatOptions): PendingPreparation;
  /**
   * The signature of a prepared message by the key (the station): refuses with Request.Malformed a
   * preparation this format did not make, Request.NeedsPublicKey one made without a fact this
   * key needs (an SM2 key for a raw request made without --public-key), Request.Mismatch one made
   * for another key than this one (its public key or version differ).
   */
  complete(key: SigningKeyInfo, options: FormatOptions, prepared: PreparedMessage): PreparedSignature;
  /**
   * The SHA-256 of the file a preparation commits to, when it can be derived from the preparation
   * itself (raw and sigstore: their Sha256; ssh: a request's sha256 SSHSIG hash; openpgp: a
   * request's SHA-256 midstate finished), so a station can refuse a preparation that is not of
   * the file whose SHA-256 it shows. Undefined when the signed hash does not start with the file
   * (jws: the header comes first; raw over SM2: Z_A does) or the layout carries no SHA-256 (ssh's
   * direct sha512). Request.Malformed for a preparation this format did not make.
   */
  fileSha256(prepared: PreparedMessage): Uint8Array | undefined;
  verify(signature: Uint8Array, material: VerifyMaterial): PendingVerification;
}

/**
 * A format's begin(): its prepare() with everything known of the key, then its complete() over
 * that preparation once the last chunk is in. Signing here and signing across the air gap are
 * then the same code: only where the two halves run differs.
 */
export function beginFromHalves(format: SignatureFormat, key: SigningKeyInfo, options: FormatOptions): PendingSignature {
  const pending = format.prepare(key, options);
  let signature: PreparedSignature | undefined;
  return {
    update(chunk) {
      if (signature) throw new KmsError('InternalFailure', `${format.name}: message fed after toSign()`);
      pending.update(chunk);
    },
    toSign() {
      signature ??= format.complete(key, options, pending.prepared());
      return signature.toSign();
    },
    finish(value) {
      if (!signature) throw new KmsError('InternalFailure', `${format.name}: finish() before toSign()`);
      return signature.finish(value);
    },
  };
}

/** A hash fed chunks until prepared() is called once; more chunks after that are a bug. */
export function hashingPreparation(name: string, update: (chunk: Uint8Array) => void, prepared: () => PreparedMessage): PendingPreparation {
  let done: PreparedMessage | undefined;
  return {
    update(chunk) {
      if (done) throw new KmsError('InternalFailure', `${name}: message fed after prepared()`);
      update(chunk);
    },
    prepared: () => (done ??= prepared()),
  };
}

/** What a member of a PreparedMessage must be: base64 of bytes (of a fixed length, when given), text, a whole number. */
export type PreparedMember =
  | { readonly kind: 'bytes'; readonly length?: number; readonly optional?: boolean }
  | { readonly kind: 'text'; readonly pattern: RegExp; readonly optional?: boolean }
  | { readonly kind: 'integer'; readonly min: number; readonly max: number; readonly optional?: boolean };

type ReadMember<M extends PreparedMember> = M extends { kind: 'bytes' } ? Uint8Array : M extends { kind: 'text' } ? string : number;
export type ReadPrepared<S extends Readonly<Record<string, PreparedMember>>> = {
  readonly [K in keyof S]: S[K] extends { optional: true } ? ReadMember<S[K]> | undefined : ReadMember<S[K]>;
};

/**
 * The members of a PreparedMessage as `schema` says (complete()'s first step): Request.Malformed
 * naming the member for a missing one (unless optional), a value of the wrong kind or length, or a
 * member this format does not write.
 */
export function readPrepared<S extends Readonly<Record<string, PreparedMember>>>(format: SignatureFormatName, prepared: PreparedMessage, schema: S): ReadPrepared<S> {
  const malformed = (why: string) => new KmsError('Request.Malformed', `Prepared (${format}): ${why}`);
  if (typeof prepared !== 'object' || prepared === null || Array.isArray(prepared)) throw malformed('is not an object');
  for (const name of Object.keys(prepared)) {
    if (!Object.hasOwn(schema, name)) throw malformed(`${escapeText(name, 64)} is not a member a ${format} preparation has (known: ${Object.keys(schema).join(', ')})`);
  }
  const out: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(schema)) {
    const value: unknown = Object.hasOwn(prepared, name) ? prepared[name] : undefined;
    if (value === undefined) {
      if (member.optional === true) continue;
      throw malformed(`${name} is missing (this preparation was not made by the ${format} format)`);
    }
    if (member.kind === 'bytes') {
      let bytes: Uint8Array;
      try {
        bytes = decodeBase64(value, name);
      } catch {
        throw malformed(`${name} is not base64`);
      }
      if (member.length !== undefined && bytes.length !== member.length) throw malformed(`${name} is ${bytes.length} bytes, not ${member.length}`);
      out[name] = bytes;
    } else if (member.kind === 'text') {
      if (typeof value !== 'string' || !member.pattern.test(value)) throw malformed(`${name} is not what the ${format} format writes there`);
      out[name] = value;
    } else {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < member.min || value > member.max) throw malformed(`${name} is not a whole number from ${member.min} to ${member.max}`);
      out[name] = value;
    }
  }
  return out as ReadPrepared<S>;
}

/** Base64 of bytes, as PreparedMessage members carry them. */
export const preparedBytes = (bytes: Uint8Array): string => encodeBase64(bytes);

/** Constant-time equality of two byte strings (digests of public facts). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
