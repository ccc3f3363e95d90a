// SSH signatures (OpenSSH PROTOCOL.sshsig), as `ssh-keygen -Y sign` writes them and `ssh-keygen -Y
// verify` / `-Y check-novalidate` (and git's gpg.format=ssh) read them:
//
//   blob   = "SSHSIG" uint32(1) string(publickey) string(namespace) string(reserved = "")
//            string(hash_algorithm) string(signature)
//   signed = "SSHSIG" string(namespace) string(reserved = "") string(hash_algorithm) string(H(message))
//
// H is sha512 (ssh-keygen's default) when signing at once. A signing request (the key is not
// all known: no CreationDate) hashes with sha256, which PROTOCOL.sshsig allows as well and
// ssh-keygen -Y verify accepts: its Prepared {Sha256} is then the file's SHA-256 itself, the one
// the station shows and checks (fileSha256). Prepared: {Sha512} at once, {Sha256} in a request. The SSH signature over `signed` is ecdsa-sha2-nistp256
// (ECDSA over SHA-256(signed), signature string(mpint r, mpint s)) for EC_P256 and rsa-sha2-256
// (RSASSA-PKCS1-v1_5 over SHA-256(signed)) for RSA keys, so the Digest AsymmetricSign signs is
// SHA-256(signed) with ECDSA_SHA_256 or RSA_PKCS1_SHA_256. The armor is ssh-keygen's: the
// header line, base64 wrapped at 70 columns, the footer, a final newline. OpenSSH has no key type
// for secp256k1 or SM2: those specs are refused.
//
// Verification reads the armored signature strictly (Format.Malformed otherwise), checks the
// namespace, the signer against a public key (OpenSSH line or SPKI PEM/DER) or an allowed_signers
// file and principal (ssh-keygen's ALLOWED SIGNERS format: principal patterns, cert-authority,
// namespaces=, valid-after=, valid-before=), and the signature with public-key code. It reads
// ssh-keygen's own signatures too (sha256 or sha512; rsa-sha2-256 or rsa-sha2-512).
import { createHash, createPublicKey, verify as verifyWithNode, constants } from 'node:crypto';
import { KmsError, invalidParameter, missingParameter } from '../contract/errors.ts';
import { escapeText } from '../contract/escape-text.ts';
import { KEY_SPEC_TABLE, type KeySpec, type SigningAlgorithm } from '../contract/specs.ts';
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
  type PendingVerification,
  type PreparedMessage,
  type PreparedSignature,
  type SignatureFormat,
  type SigningKeyInfo,
  type VerifyMaterial,
  type VerifyResult,
} from './format.ts';
import {
  SshReader,
  SshWriter,
  blobFingerprint,
  bytesToBigint,
  decodeBase64Strict,
  isSshKeyTypeName,
  malformed,
  parseSshKeyBlob,
  sshKeyBlob,
  sshKeyFamily,
  sshUnsupported,
  type SshKeyType,
} from './ssh-wire.ts';

export const SSHSIG_DEFAULT_NAMESPACE = 'file';
const MAGIC = 'SSHSIG';
const VERSION = 1;
const HASH_ALGORITHM = 'sha512';
const REQUEST_HASH_ALGORITHM = 'sha256';
const BEGIN = '-----BEGIN SSH SIGNATURE-----';
const END = '-----END SSH SIGNATURE-----';
/** An armored SSHSIG of a 16384-bit RSA key is under 5 KiB: anything this large is not one. */
const MAX_SIGNATURE_FILE = 64 << 10;
const MAX_ALLOWED_SIGNERS = 4 << 20;

// --- namespaces and principals ---

// A namespace is matched by allowed_signers' namespaces="a,b" pattern lists, so it carries none of
// the list's or patterns' special characters (, * ? ! ") and no space; git uses "git", files "file".
const NAMESPACE = /^[A-Za-z0-9][A-Za-z0-9._@+=:/-]{0,127}$/;

/** A namespace to sign with or expect: 1-128 of A-Z a-z 0-9 . _ @ + = : / - starting with a letter or digit. */
export function assertNamespace(value: unknown, parameter = '--namespace'): string {
  if (typeof value !== 'string' || !NAMESPACE.test(value)) {
    throw invalidParameter(parameter, 'must be 1-128 characters of A-Z a-z 0-9 . _ @ + = : / - starting with a letter or digit (e.g. "file", "git")');
  }
  return value;
}

// A principal written into an allowed_signers line is matched as a pattern by ssh-keygen: no
// wildcards, negation, list commas, quotes, spaces or control characters, so it means itself.
const PRINCIPAL = /^[\x21-\x7e]{1,256}$/;
const PRINCIPAL_SPECIALS = /[,*?!"#\\]/;

export function assertPrincipal(value: unknown, parameter = '--principal'): string {
  if (typeof value !== 'string' || !PRINCIPAL.test(value) || PRINCIPAL_SPECIALS.test(value)) {
    throw invalidParameter(parameter, 'must be 1-256 printable ASCII characters without spaces or any of , * ? ! " # \\ (e.g. an email address)');
  }
  return value;
}

// --- public keys ---

/**
 * The OpenSSH public-key line of a vault key (SPKI DER or PEM), "<type> <base64>[ <comment>]",
 * without a trailing newline. Format.UnsupportedKeySpec for secp256k1 and SM2.
 */
export function openSshPublicKey(spki: Uint8Array | string, comment?: string): string {
  const { type, blob } = sshKeyBlob(spki);
  if (comment !== undefined && !/^[\x21-\x7e][\x20-\x7e]{0,255}$/.test(comment)) throw invalidParameter('comment', 'must be 1-256 printable ASCII characters');
  return `${type} ${Buffer.from(blob).toString('base64')}${comment === undefined ? '' : ` ${comment}`}`;
}

/** "SHA256:..." of a vault key (SPKI DER or PEM), as `ssh-keygen -l` prints it. */
export function sshFingerprint(spki: Uint8Array | string): string {
  return blobFingerprint(sshKeyBlob(spki).blob);
}

export interface AllowedSignerOptions {
  /** Restrict the key to these namespaces (namespaces="a,b"). */
  readonly namespaces?: readonly string[];
  /** valid-after / valid-before (written in UTC, "YYYYMMDDHHMMSSZ"). */
  readonly validAfter?: Date;
  readonly validBefore?: Date;
}

function absoluteTime(date: Date, parameter: string): string {
  if (Number.isNaN(date.getTime()) || date.getTime() <= 0) throw invalidParameter(parameter, 'is not a valid time');
  const iso = date.toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

/** One allowed_signers line (no trailing newline) for `ssh-keygen -Y verify -f` and git's gpg.ssh.allowedSignersFile. */
export function allowedSignersLine(spki: Uint8Array | string, principal: string, options: AllowedSignerOptions = {}): string {
  const who = assertPrincipal(principal);
  const opts: string[] = [];
  if (options.namespaces !== undefined) {
    if (options.namespaces.length === 0) throw invalidParameter('--namespaces', 'is empty');
    opts.push(`namespaces="${options.namespaces.map((n) => assertNamespace(n, '--namespaces')).join(',')}"`);
  }
  if (options.validAfter) opts.push(`valid-after="${absoluteTime(options.validAfter, '--valid-after')}"`);
  if (options.validBefore) opts.push(`valid-before="${absoluteTime(options.validBefore, '--valid-before')}"`);
  if (options.validAfter && options.validBefore && options.validBefore <= options.validAfter) throw invalidParameter('--valid-before', 'is not after --valid-after');
  return `${who}${opts.length > 0 ? ` ${opts.join(',')}` : ''} ${openSshPublicKey(spki)}`;
}

/** A parsed OpenSSH public-key line ("<type> <base64> [comment]"). */
export interface SshPublicKeyLine {
  readonly type: SshKeyType;
  readonly key: PublicKey;
  readonly blob: Uint8Array;
  readonly comment: string;
}

/** Reads the one OpenSSH public-key line of a .pub file or a git `key::` literal (strict). */
export function readSshPublicKey(text: string | Uint8Array, what = 'the OpenSSH public key'): SshPublicKeyLine {
  const source = typeof text === 'string' ? text : new TextDecoder().decode(text);
  if (source.length > 64 << 10) throw malformed(`${what} is larger than 64 KiB`);
  const lines = source.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  if (lines.length !== 1) throw malformed(`${what} must be one line "<type> <base64> [comment]", found ${lines.length} lines`);
  const match = /^[ \t]*([^ \t]+)[ \t]+([^ \t]+)(?:[ \t]+(.*))?$/.exec(lines[0]!);
  if (!match) throw malformed(`${what} is not "<type> <base64> [comment]"`);
  const [, type, base64, comment = ''] = match;
  if (!isSshKeyTypeName(type!)) throw malformed(`${what} has the unknown key type ${escapeText(type!, 64)}`);
  const blob = decodeBase64Strict(base64!, `${what}'s key`);
  const parsed = parseSshKeyBlob(blob, what);
  if (parsed.type !== type) throw malformed(`${what} says ${type} but its key is ${parsed.type}`);
  return { type: parsed.type, key: parsed.key, blob, comment: comment.trim() };
}

/** The SubjectPublicKeyInfo (DER) of an OpenSSH public-key line (.pub file or git `key::` literal). */
export function parseSshPublicKey(text: string | Uint8Array): Uint8Array {
  return readSshPublicKey(text).key.spki;
}

// --- armor and blob ---

function armor(blob: Uint8Array): Uint8Array {
  const b64 = Buffer.from(blob).toString('base64');
  let body = '';
  for (let i = 0; i < b64.length; i += 70) body += `${b64.slice(i, i + 70)}\n`;
  return new TextEncoder().encode(`${BEGIN}\n${body}${END}\n`);
}

/** The blob inside an armored signature: header line, base64 lines, footer line, optional final newline. */
function dearmor(file: Uint8Array): Uint8Array {
  if (file.length === 0) throw malformed('the SSH signature file is empty');
  if (file.length > MAX_SIGNATURE_FILE) throw malformed(`the SSH signature file is ${file.length} bytes; an SSH signature is a few KiB`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(file);
  } catch {
    throw malformed('the SSH signature file is not text');
  }
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines[0] !== BEGIN) throw malformed(`the SSH signature does not start with "${BEGIN}"`);
  if (lines.length < 3 || lines[lines.length - 1] !== END) throw malformed(`the SSH signature does not end with "${END}"`);
  const body = lines.slice(1, -1);
  if (body.some((l) => l.length === 0 || l.length > 76)) throw malformed('the SSH signature has an empty or over-long base64 line');
  return decodeBase64Strict(body.join(''), 'the SSH signature');
}

interface ParsedSignature {
  readonly keyBlob: Uint8Array;
  readonly keyType: SshKeyType;
  readonly key: PublicKey;
  readonly namespace: string;
  readonly hashAlgorithm: 'sha256' | 'sha512';
  readonly signatureType: string;
  readonly signature: Uint8Array;
}

function parseSignatureBlob(blob: Uint8Array): ParsedSignature {
  const reader = new SshReader(blob, 'the SSH signature');
  if (new TextDecoder().decode(reader.raw(6, 'magic')) !== MAGIC) throw malformed('the SSH signature does not start with "SSHSIG"');
  const version = reader.uint32('version');
  if (version !== VERSION) throw malformed(`the SSH signature is version ${version}; version ${VERSION} is known`);
  const keyBlob = reader.string('public key');
  const namespace = reader.text('namespace');
  reader.string('reserved field'); // ignored, as PROTOCOL.sshsig says (and ssh-keygen does)
  const hashAlgorithm = reader.text('hash algorithm');
  const sigBlob = reader.string('signature');
  reader.end();
  if (namespace === '') throw malformed('the SSH signature has an empty namespace');
  if (hashAlgorithm !== 'sha256' && hashAlgorithm !== 'sha512') throw malformed(`the SSH signature's hash algorithm ${escapeText(hashAlgorithm, 64)} is not sha256 or sha512`);
  const { type: keyType, key } = parseSshKeyBlob(keyBlob, "the SSH signature's public key");
  const inner = new SshReader(sigBlob, "the SSH signature's signature");
  const signatureType = inner.text('signature type');
  const signature = inner.string('signature bytes');
  inner.end();
  const allowed = keyType === 'ssh-rsa' ? ['rsa-sha2-256', 'rsa-sha2-512'] : ['ecdsa-sha2-nistp256'];
  if (!allowed.includes(signatureType)) {
    throw malformed(`an ${keyType} key's SSH signature is of type ${escapeText(signatureType, 64)}; SSHSIG takes ${allowed.join(' or ')}`);
  }
  return { keyBlob, keyType, key, namespace, hashAlgorithm, signatureType, signature };
}

function signedData(namespace: string, hashAlgorithm: string, messageHash: Uint8Array): Uint8Array {
  return new SshWriter().raw(MAGIC).string(namespace).string('').string(hashAlgorithm).string(messageHash).bytes();
}

const sha256 = (data: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(data).digest());

/** True when the SSH signature (its type and bytes) is `key`'s over `data`. */
function checkSignature(parsed: ParsedSignature, data: Uint8Array): boolean {
  const { key, signatureType, signature } = parsed;
  try {
    if (signatureType === 'ecdsa-sha2-nistp256') {
      const rs = new SshReader(signature, 'the ECDSA signature');
      const r = rs.mpint('r', 32);
      const s = rs.mpint('s', 32);
      rs.end();
      if (r.length === 0 || s.length === 0) return false;
      return verifyDigest(key, 'ECDSA_SHA_256', sha256(data), encodeRsSignature({ r: bytesToBigint(r), s: bytesToBigint(s) }));
    }
    // RSA: OpenSSH left-pads a short signature to the modulus length; a longer one is invalid.
    const k = KEY_SPEC_TABLE[key.spec].bits / 8;
    if (signature.length > k || signature.length === 0) return false;
    const padded = new Uint8Array(k);
    padded.set(signature, k - signature.length);
    if (signatureType === 'rsa-sha2-256') return verifyDigest(key, 'RSA_PKCS1_SHA_256', sha256(data), padded);
    // rsa-sha2-512 (ssh-keygen's RSA default): PKCS#1 v1.5 over SHA-512, which AsymmetricVerify does not offer.
    const publicKey = createPublicKey({ key: Buffer.from(key.spki), format: 'der', type: 'spki' });
    return verifyWithNode('sha512', data, { key: publicKey, padding: constants.RSA_PKCS1_PADDING }, padded);
  } catch (error) {
    if (error instanceof KmsError && error.code === 'InvalidParameter') throw malformed(`the SSH signature's ${signatureType} signature: ${error.message}`);
    throw error;
  }
}

// --- allowed_signers (ssh-keygen(1) "ALLOWED SIGNERS") ---

export interface AllowedSigner {
  readonly line: number;
  /** The principals pattern list, as written. */
  readonly principals: string;
  readonly certAuthority: boolean;
  readonly namespaces?: string;
  /** Seconds since the epoch. */
  readonly validAfter?: number;
  readonly validBefore?: number;
  readonly keyType: string;
  /** Undefined for a key type the vault cannot hold (ed25519, ...): such a line never matches. */
  readonly key?: PublicKey;
}

/**
 * ssh's match_pattern: `*` any run, `?` any one character (a UTF-16 code unit here), everything
 * else itself, case-sensitive. Iterative, with one backtrack point (the last `*` seen): when a
 * later piece fails, that star takes one more character and the rest is tried again. A star
 * consumes everything a previous star could, so earlier stars never need revisiting; the cost is
 * O(text × pattern) at worst, never exponential (a RegExp of `.*` runs backtracks exponentially on
 * a hostile allowed_signers line such as `*a*a*a*a*a*a*a*a*a*a*b`).
 */
function matchPattern(text: string, pattern: string): boolean {
  let t = 0;
  let p = 0;
  let star = -1; // the pattern index just after the last `*`, or -1
  let starText = 0; // where in the text that star's run ends now
  while (t < text.length) {
    if (p < pattern.length && pattern[p] === '*') {
      star = ++p;
      starText = t;
    } else if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      p++;
      t++;
    } else if (star >= 0) {
      p = star;
      t = ++starText;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/** ssh's match_pattern_list: 1 a positive match, -1 a negated (!) match, 0 none. */
export function matchPatternList(text: string, list: string): 1 | 0 | -1 {
  let positive = false;
  for (const entry of list.split(',')) {
    const negated = entry.startsWith('!');
    if (matchPattern(text, negated ? entry.slice(1) : entry)) {
      if (negated) return -1;
      positive = true;
    }
  }
  return positive ? 1 : 0;
}

/** ssh's parse_absolute_time: YYYYMMDD[HHMM[SS]], UTC with a Z or UTC suffix, else local time. */
function parseAbsoluteTime(value: string, where: string): number {
  let s = value;
  let utc = false;
  if (s.length > 1 && /z$/i.test(s)) {
    utc = true;
    s = s.slice(0, -1);
  } else if (s.length > 3 && /utc$/i.test(s)) {
    utc = true;
    s = s.slice(0, -3);
  }
  if (!/^\d{8}(\d{4}(\d{2})?)?$/.test(s)) throw malformed(`${where}: time "${escapeText(value, 64)}" is not YYYYMMDD[HHMM[SS]][Z]`);
  const parts = [s.slice(0, 4), s.slice(4, 6), s.slice(6, 8), s.slice(8, 10) || '0', s.slice(10, 12) || '0', s.slice(12, 14) || '0'].map(Number) as [number, number, number, number, number, number];
  const [y, mo, d, h, mi, se] = parts;
  const date = utc ? new Date(Date.UTC(y, mo - 1, d, h, mi, se)) : new Date(y, mo - 1, d, h, mi, se);
  const back = utc
    ? [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()]
    : [date.getFullYear(), date.getMonth() + 1, date.getDate(), date.getHours(), date.getMinutes(), date.getSeconds()];
  if (back.some((v, i) => v !== parts[i]) || date.getTime() <= 0) throw malformed(`${where}: time "${escapeText(value, 64)}" is not a valid date`);
  return Math.floor(date.getTime() / 1000);
}

function dequote(text: string, where: string): { value: string; rest: string } {
  if (!text.startsWith('"')) throw malformed(`${where}: option value is not quoted`);
  let value = '';
  let i = 1;
  for (; i < text.length && text[i] !== '"'; i++) {
    if (text[i] === '\\' && text[i + 1] === '"') i++;
    value += text[i];
  }
  if (i >= text.length) throw malformed(`${where}: option value has no closing quote`);
  return { value, rest: text.slice(i + 1) };
}

function parseOptions(options: string, where: string): Pick<AllowedSigner, 'certAuthority' | 'namespaces' | 'validAfter' | 'validBefore'> {
  let certAuthority = false;
  let namespaces: string | undefined;
  let validAfter: number | undefined;
  let validBefore: number | undefined;
  let rest = options;
  const takes = (name: string): boolean => rest.slice(0, name.length).toLowerCase() === name;
  while (rest !== '') {
    if (takes('cert-authority')) {
      certAuthority = true;
      rest = rest.slice('cert-authority'.length);
    } else if (takes('namespaces=')) {
      if (namespaces !== undefined) throw malformed(`${where}: more than one namespaces= option`);
      ({ value: namespaces, rest } = dequote(rest.slice('namespaces='.length), where));
    } else if (takes('valid-after=') || takes('valid-before=')) {
      const after = takes('valid-after=');
      if ((after ? validAfter : validBefore) !== undefined) throw malformed(`${where}: more than one ${after ? 'valid-after' : 'valid-before'} option`);
      const quoted = dequote(rest.slice(after ? 'valid-after='.length : 'valid-before='.length), where);
      rest = quoted.rest;
      if (after) validAfter = parseAbsoluteTime(quoted.value, where);
      else validBefore = parseAbsoluteTime(quoted.value, where);
    } else {
      throw malformed(`${where}: unknown option "${escapeText(rest.split(',')[0]!, 64)}" (known: cert-authority, namespaces=, valid-after=, valid-before=)`);
    }
    if (rest === '') break;
    if (!rest.startsWith(',')) throw malformed(`${where}: unknown option text "${escapeText(rest, 64)}"`);
    rest = rest.slice(1);
    if (rest === '') throw malformed(`${where}: options end with a comma`);
  }
  if (validAfter !== undefined && validBefore !== undefined && validBefore <= validAfter) throw malformed(`${where}: valid-before is not after valid-after`);
  return { certAuthority, ...(namespaces !== undefined ? { namespaces } : {}), ...(validAfter !== undefined ? { validAfter } : {}), ...(validBefore !== undefined ? { validBefore } : {}) };
}

/** The options field: up to the first space or tab outside double quotes. */
function splitOptions(text: string, where: string): { options: string; rest: string } {
  let quoted = false;
  let i = 0;
  for (; i < text.length; i++) {
    const c = text[i];
    if (!quoted && (c === ' ' || c === '\t')) break;
    if (c === '\\' && text[i + 1] === '"') i++;
    else if (c === '"') quoted = !quoted;
  }
  if (quoted) throw malformed(`${where}: options have no closing quote`);
  return { options: text.slice(0, i), rest: text.slice(i).replace(/^[ \t]+/, '') };
}

/** A C0 control other than tab, or DEL. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}

/**
 * Every entry of an allowed_signers file, strictly: a malformed line (even one for another
 * principal, which ssh-keygen would skip) refuses the whole file with Format.Malformed naming it.
 */
export function parseAllowedSigners(text: string): AllowedSigner[] {
  if (text.length > MAX_ALLOWED_SIGNERS) throw malformed(`the allowed_signers file is larger than ${MAX_ALLOWED_SIGNERS >> 20} MiB`);
  const out: AllowedSigner[] = [];
  text.split('\n').forEach((raw, index) => {
    const where = `allowed_signers line ${index + 1}`;
    let rest = raw.replace(/\r$/, '').replace(/^[ \t]+/, '');
    if (rest === '' || rest.startsWith('#')) return;
    if (hasControl(rest)) throw malformed(`${where} contains a control character`);
    let principals: string;
    if (rest.startsWith('"')) {
      const end = rest.indexOf('"', 1);
      if (end < 0) throw malformed(`${where}: principals have no closing quote`);
      principals = rest.slice(1, end);
      rest = rest.slice(end + 1);
      if (rest !== '' && !/^[ \t]/.test(rest)) throw malformed(`${where}: text after the quoted principals`);
    } else {
      principals = /^[^ \t]*/.exec(rest)![0];
      rest = rest.slice(principals.length);
      if (principals.includes('"')) throw malformed(`${where}: a quote inside the principals`);
    }
    if (principals === '') throw malformed(`${where}: no principals`);
    rest = rest.replace(/^[ \t]+/, '');
    let options = '';
    let keyType = /^[^ \t]*/.exec(rest)![0];
    if (!isSshKeyTypeName(keyType)) {
      ({ options, rest } = splitOptions(rest, where));
      keyType = /^[^ \t]*/.exec(rest)![0];
      if (keyType === '') throw malformed(`${where}: no public key`);
      if (!isSshKeyTypeName(keyType)) throw malformed(`${where}: "${escapeText(keyType, 64)}" is not an OpenSSH key type`);
    }
    rest = rest.slice(keyType.length).replace(/^[ \t]+/, '');
    const base64 = /^[^ \t]*/.exec(rest)![0];
    if (base64 === '') throw malformed(`${where}: no public key after the key type`);
    const blob = decodeBase64Strict(base64, `${where}'s key`);
    let key: PublicKey | undefined;
    if (keyType === 'ssh-rsa' || keyType === 'ecdsa-sha2-nistp256') {
      const parsed = parseSshKeyBlob(blob, `${where}'s key`);
      if (parsed.type !== keyType) throw malformed(`${where} says ${keyType} but its key is ${parsed.type}`);
      key = parsed.key;
    } else {
      const named = new SshReader(blob, `${where}'s key`).text('key type');
      if (named !== keyType) throw malformed(`${where} says ${escapeText(keyType, 64)} but its key is ${escapeText(named, 64)}`);
    }
    out.push({ line: index + 1, principals, keyType, ...parseOptions(options, where), ...(key ? { key } : {}) });
  });
  return out;
}

function sameKey(a: PublicKey, b: PublicKey): boolean {
  return a.spki.length === b.spki.length && a.spki.every((v, i) => v === b.spki[i]);
}

/** The allowed_signers entry that authorises `key` for `principal` (any principal when absent) and `namespace` now, or why none does. */
function authorise(entries: readonly AllowedSigner[], key: PublicKey, principal: string | undefined, namespace: string, now: number): { principal: string } | { reason: string } {
  const notes: string[] = [];
  for (const entry of entries) {
    if (principal !== undefined && matchPatternList(principal, entry.principals) !== 1) continue;
    if (entry.certAuthority) {
      notes.push(`line ${entry.line} is a cert-authority line (SSH certificates are not supported; a DeskKMS signature carries a plain key)`);
      continue;
    }
    if (!entry.key || !sameKey(entry.key, key)) continue;
    if (entry.namespaces !== undefined && matchPatternList(namespace, entry.namespaces) !== 1) {
      notes.push(`line ${entry.line} allows this key only for namespaces "${escapeText(entry.namespaces, 128)}"`);
      continue;
    }
    if (entry.validAfter !== undefined && now < entry.validAfter) {
      notes.push(`line ${entry.line}'s key is not valid before ${new Date(entry.validAfter * 1000).toISOString()}`);
      continue;
    }
    if (entry.validBefore !== undefined && now > entry.validBefore) {
      notes.push(`line ${entry.line}'s key expired at ${new Date(entry.validBefore * 1000).toISOString()}`);
      continue;
    }
    return { principal: principal ?? entry.principals };
  }
  const who = principal === undefined ? 'any principal' : `principal "${escapeText(principal, 256)}"`;
  return { reason: `no allowed_signers line allows the signing key for ${who}${notes.length > 0 ? `: ${notes.join('; ')}` : ''}` };
}

/** A public key file given to verify: an OpenSSH line, or SPKI PEM or DER. */
function publicKeyOf(bytes: Uint8Array): PublicKey {
  const head = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart();
  const firstToken = /^[^ \t\r\n]*/.exec(head)![0];
  if (isSshKeyTypeName(firstToken)) return readSshPublicKey(bytes, 'the --public-key file').key;
  return importPublicKey(bytes, '--public-key');
}

function signingAlgorithmFor(spec: KeySpec, chosen: SigningAlgorithm | undefined): SigningAlgorithm {
  const algorithm: SigningAlgorithm = KEY_SPEC_TABLE[spec].family === 'RSA' ? 'RSA_PKCS1_SHA_256' : 'ECDSA_SHA_256';
  if (chosen !== undefined && chosen !== algorithm) {
    throw invalidParameter('--algorithm', `SSH signatures with a ${spec} key use ${algorithm} (${algorithm === 'ECDSA_SHA_256' ? 'ecdsa-sha2-nistp256' : 'rsa-sha2-256'}); ${chosen} has no SSH signature type`);
  }
  return algorithm;
}

function assertSshSpec(spec: KeySpec): void {
  const reason = sshUnsupported(spec);
  if (reason !== undefined) throw new KmsError('Format.UnsupportedKeySpec', `SSH signatures cannot be made with a ${spec} key: ${reason}`);
}

/**
 * Hashing for an SSH signature (the namespace comes in at complete): the SHA-512 of the file when
 * the key is all known (signing at once), the SHA-256 in a signing request (fileSha256 binds it).
 */
function prepare(key: KnownKey, options: FormatOptions): PendingPreparation {
  if (key.spec !== undefined) assertSshSpec(key.spec);
  assertNamespace(options.namespace ?? SSHSIG_DEFAULT_NAMESPACE);
  if (key.spec !== undefined) signingAlgorithmFor(key.spec, options.algorithm);
  if (key.spki !== undefined) {
    const spec = sshKeyBlob(key.spki).key.spec;
    if (key.spec !== undefined && spec !== key.spec) throw new KmsError('InvalidParameter', `--public-key: is a ${spec} key, not ${key.spec}`);
    signingAlgorithmFor(spec, options.algorithm);
  }
  const direct = key.spki !== undefined && key.created !== undefined;
  const hash = createHash(direct ? HASH_ALGORITHM : REQUEST_HASH_ALGORITHM);
  const member = direct ? 'Sha512' : 'Sha256';
  return hashingPreparation('ssh', (chunk) => hash.update(chunk), () => ({ [member]: preparedBytes(new Uint8Array(hash.digest())) }));
}

const PREPARED = { Sha512: { kind: 'bytes', length: 64, optional: true }, Sha256: { kind: 'bytes', length: 32, optional: true } } as const;

/** The SSHSIG hash algorithm and H(message) of a preparation: exactly one of Sha512, Sha256. */
function readSshPrepared(prepared: PreparedMessage): { hashAlgorithm: 'sha256' | 'sha512'; messageHash: Uint8Array } {
  const { Sha512, Sha256 } = readPrepared('ssh', prepared, PREPARED);
  if (Sha512 !== undefined && Sha256 !== undefined) throw new KmsError('Request.Malformed', 'Prepared (ssh): has both Sha512 and Sha256');
  if (Sha512 !== undefined) return { hashAlgorithm: 'sha512', messageHash: Sha512 };
  if (Sha256 !== undefined) return { hashAlgorithm: 'sha256', messageHash: Sha256 };
  throw new KmsError('Request.Malformed', 'Prepared (ssh): Sha512 or Sha256 is missing (this preparation was not made by the ssh format)');
}

/** The SSHSIG of a prepared file by this key: the signed data in options.namespace (default "file"). */
function complete(key: SigningKeyInfo, options: FormatOptions, prepared: PreparedMessage): PreparedSignature {
  assertSshSpec(key.spec);
  const namespace = assertNamespace(options.namespace ?? SSHSIG_DEFAULT_NAMESPACE);
  const algorithm = signingAlgorithmFor(key.spec, options.algorithm);
  const { type, blob: keyBlob, key: publicKey } = sshKeyBlob(key.spki);
  if (publicKey.spec !== key.spec) throw new KmsError('InternalFailure', `the key version's public key is ${publicKey.spec}, not ${key.spec}`);
  const { hashAlgorithm, messageHash } = readSshPrepared(prepared);
  const digest = sha256(signedData(namespace, hashAlgorithm, messageHash));
  let done = false;
  return {
    toSign: () => ({ algorithm, digest }),
    finish: (value) => {
      if (done) throw new KmsError('InternalFailure', 'the SSH signature was already finished');
      // The Value is checked before it is published: a faulty signature never leaves.
      if (!verifyDigest(publicKey, algorithm, digest, value)) throw new KmsError('InternalFailure', 'AsymmetricSign returned a signature that does not verify');
      done = true;
      let signature: Uint8Array;
      if (type === 'ecdsa-sha2-nistp256') {
        const { r, s } = decodeRsSignature(value, 'Value');
        signature = new SshWriter().string(type).string(new SshWriter().mpint(r).mpint(s).bytes()).bytes();
      } else {
        signature = new SshWriter().string('rsa-sha2-256').string(value).bytes();
      }
      const blob = new SshWriter().raw(MAGIC).uint32(VERSION).string(keyBlob).string(namespace).string('').string(hashAlgorithm).string(signature).bytes();
      return armor(blob);
    },
  };
}

export const sshFormat: SignatureFormat = {
  name: 'ssh',
  extension: '.sig',
  description: 'SSH signature (OpenSSH SSHSIG, ssh-keygen -Y sign/verify, git gpg.format=ssh): EC_P256 and RSA keys',
  unsupported: sshUnsupported,
  begin: (key, options) => beginFromHalves(sshFormat, key, options),
  prepare,
  complete,
  fileSha256: (prepared) => {
    const { hashAlgorithm, messageHash } = readSshPrepared(prepared);
    return hashAlgorithm === 'sha256' ? messageHash : undefined;
  },
  verify(signatureFile: Uint8Array, material: VerifyMaterial): PendingVerification {
    const parsed = parseSignatureBlob(dearmor(signatureFile));
    const expected = assertNamespace(material.namespace ?? SSHSIG_DEFAULT_NAMESPACE);
    let authorised: () => { principal: string | undefined } | { reason: string };
    if (material.publicKey !== undefined) {
      const given = publicKeyOf(material.publicKey);
      authorised = () => (sameKey(given, parsed.key) ? { principal: undefined } : { reason: `the signature was made by key ${blobFingerprint(parsed.keyBlob)}, not by the given public key` });
    } else if (material.allowedSigners !== undefined) {
      const entries = parseAllowedSigners(material.allowedSigners);
      const principal = material.principal === undefined ? undefined : material.principal;
      if (principal !== undefined && (principal === '' || principal.length > 1024)) throw invalidParameter('--principal', 'must be 1-1024 characters');
      authorised = () => authorise(entries, parsed.key, principal, expected, Math.floor(Date.now() / 1000));
    } else {
      throw missingParameter('--public-key or --allowed-signers');
    }
    const hash = createHash(parsed.hashAlgorithm);
    const keyName = `${sshKeyFamily(parsed.keyType)} key ${blobFingerprint(parsed.keyBlob)}`;
    let answer: VerifyResult | undefined;
    const decide = (): VerifyResult => {
        const messageHash = new Uint8Array(hash.digest());
        if (parsed.namespace !== expected) {
          return { valid: false, reason: `the signature is for namespace "${escapeText(parsed.namespace, 128)}", not "${expected}"` };
        }
        if (!checkSignature(parsed, signedData(parsed.namespace, parsed.hashAlgorithm, messageHash))) {
          return { valid: false, reason: `the ${parsed.signatureType} signature by ${keyName} does not match this file (the file or the signature was changed)` };
        }
        const allowed = authorised();
        if ('reason' in allowed) return { valid: false, reason: `${allowed.reason} (the signature is by ${keyName})` };
        return { valid: true, signer: allowed.principal === undefined ? keyName : `${allowed.principal} with ${keyName}` };
    };
    return {
      update: (chunk) => {
        if (answer) throw new KmsError('InternalFailure', 'the SSH signature was already checked');
        hash.update(chunk);
      },
      result: () => (answer ??= decide()),
    };
  },
};
