// SLIP-0039: Shamir's Secret-Sharing for Mnemonic Codes, written from the standard
// (satoshilabs/slips slip-0039.md, the revision with the extendable-backup flag `ext`) and checked
// against the published test vectors (test/vectors/slip39/vectors.json, run by slip39.test.ts).
//
// What a DeskKMS share-based backup rests on: the backup's master secret is encrypted with a
// passphrase-keyed Feistel permutation (EMS), split into group shares (GT-of-G), each group share
// split into member shares (T-of-N), and every member share written as words of the 1024-word list
// with an RS1024 checksum. Recovery reverses it and checks the digest share, so shares that do
// not belong together are refused instead of yielding a wrong secret.
//
// Errors are KmsErrors: Backup.ShareInvalid (one mnemonic is not a valid share), Backup.SharesInsufficient
// (fewer groups or members than the thresholds), Backup.ShareMismatch (shares of different sets, or
// a digest that does not check); InvalidParameter for a caller's wrong split arguments. Messages name
// a share by its `where` (escaped), positions and counts only: never a word or a secret byte,
// since a share's words are the secret.
//
// Leniency beyond the standard's "exactly T": more members than a group's threshold, or more complete
// groups than the group threshold, are accepted when every extra share lies on the same polynomial
// (checked, ShareMismatch otherwise), and a share given twice (same words) counts once. That lets a
// user hand over every share file they have.

import { createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { KmsError, invalidParameter } from '../contract/errors.ts';
import { escapeText } from '../contract/escape-text.ts';
import { SLIP39_WORDS } from './slip39-words.ts';

export interface DecodedShare {
  identifier: number;
  extendable: boolean;
  iterationExponent: number;
  groupIndex: number;
  groupThreshold: number;
  groupCount: number;
  memberIndex: number;
  memberThreshold: number;
  value: Uint8Array;
}

const RADIX_BITS = 10;
const ID_BITS = 15;
const ITERATION_EXP_BITS = 4;
const MAX_SHARE_COUNT = 16;
const CHECKSUM_WORDS = 3;
/** id+ext+e (2 words) and GI/Gt/g/I/t (2 words) before the value, checksum after it. */
const METADATA_WORDS = 4 + CHECKSUM_WORDS;
const MIN_SECRET_BYTES = 16;
/** 7 metadata words + ceil(128 / 10) value words. */
const MIN_MNEMONIC_WORDS = METADATA_WORDS + Math.ceil((MIN_SECRET_BYTES * 8) / RADIX_BITS);
const DIGEST_BYTES = 4;
const DIGEST_INDEX = 254;
const SECRET_INDEX = 255;
const BASE_ITERATION_COUNT = 10000;
const ROUND_COUNT = 4;
const CS_ORIGINAL = 'shamir';
const CS_EXTENDABLE = 'shamir_extendable';
/** The salt prefix of a non-extendable backup ("shamir" || id); the same bytes as the checksum's string. */
const SALT_PREFIX = Buffer.from(CS_ORIGINAL, 'ascii');
const DEFAULT_ITERATION_EXPONENT = 1;

const WORD_INDEX: ReadonlyMap<string, number> = new Map(SLIP39_WORDS.map((w, i) => [w, i]));
if (SLIP39_WORDS.length !== 1 << RADIX_BITS || WORD_INDEX.size !== 1 << RADIX_BITS) {
  throw new Error('slip39-words.ts must hold 1024 distinct words');
}

// ---------------------------------------------------------------------------------------------
// GF(256): polynomial basis modulo the Rijndael polynomial x^8 + x^4 + x^3 + x + 1 (0x11b).
// Log/antilog tables over the generator 3. EXP is doubled so a sum of two logs needs no reduction.

const EXP = new Uint8Array(510);
const LOG = new Uint8Array(256);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    // x * 3 = x * 2 xor x, with x * 2 reduced by the field polynomial.
    let twice = x << 1;
    if (twice & 0x100) twice ^= 0x11b;
    x = twice ^ x;
  }
  for (let i = 255; i < 510; i++) EXP[i] = EXP[i - 255]!;
}

interface Point {
  readonly x: number;
  readonly y: Uint8Array;
}

/**
 * The value-vector at `x` of the polynomials of lowest degree through the points (Lagrange;
 * SLIP-0039 "Interpolate"). The x values are distinct (checked by every caller; asserted here)
 * and the y vectors equally long.
 */
function interpolate(points: readonly Point[], x: number): Uint8Array {
  const first = points[0];
  if (first === undefined) throw new Error('slip39: interpolate without points');
  const xs = new Set(points.map((p) => p.x));
  if (xs.size !== points.length) throw new Error('slip39: interpolate with repeated x');
  const n = first.y.length;
  if (points.some((p) => p.y.length !== n)) throw new Error('slip39: interpolate with values of different lengths');
  const known = points.find((p) => p.x === x);
  if (known) return Uint8Array.from(known.y);
  // log of prod_j (x - x_j); in GF(2^8) subtraction is xor.
  let logProduct = 0;
  for (const p of points) logProduct = (logProduct + LOG[x ^ p.x]!) % 255;
  const out = new Uint8Array(n);
  for (const pi of points) {
    // basis_i(x) = prod_{j != i} (x - x_j) / (x_i - x_j)
    let logDenominator = LOG[x ^ pi.x]!;
    for (const pj of points) if (pj !== pi) logDenominator = (logDenominator + LOG[pi.x ^ pj.x]!) % 255;
    const logBasis = (logProduct - logDenominator + 255) % 255;
    for (let k = 0; k < n; k++) {
      const y = pi.y[k]!;
      if (y !== 0) out[k] = out[k]! ^ EXP[LOG[y]! + logBasis]!;
    }
  }
  return out;
}

function digestOf(randomPart: Uint8Array, secret: Uint8Array): Buffer {
  const mac = createHmac('sha256', randomPart).update(secret).digest();
  const digest = Buffer.from(mac.subarray(0, DIGEST_BYTES));
  mac.fill(0);
  return digest;
}

/** SLIP-0039 SplitSecret: the share values for indexes 0 .. count-1. */
function splitSecret(threshold: number, count: number, secret: Uint8Array, random: (n: number) => Uint8Array): Uint8Array[] {
  if (threshold === 1) return Array.from({ length: count }, () => Uint8Array.from(secret));
  const n = secret.length;
  const randomPart = randomOf(random, n - DIGEST_BYTES);
  const digest = digestOf(randomPart, secret);
  const digestShare = new Uint8Array(n);
  digestShare.set(digest, 0);
  digestShare.set(randomPart, DIGEST_BYTES);
  digest.fill(0);
  randomPart.fill(0);
  const shares: Uint8Array[] = [];
  for (let i = 0; i < threshold - 2; i++) shares.push(randomOf(random, n));
  const base: Point[] = [
    ...shares.map((y, i) => ({ x: i, y })),
    { x: DIGEST_INDEX, y: digestShare },
    { x: SECRET_INDEX, y: secret },
  ];
  for (let i = threshold - 2; i < count; i++) shares.push(interpolate(base, i));
  digestShare.fill(0);
  return shares;
}

/**
 * SLIP-0039 RecoverSecret: the shared secret of `threshold` points, or null when the digest
 * share does not match it (the points do not belong together).
 */
function recoverSecret(threshold: number, points: readonly Point[]): Uint8Array | null {
  if (threshold === 1) return Uint8Array.from(points[0]!.y);
  const secret = interpolate(points, SECRET_INDEX);
  const digestShare = interpolate(points, DIGEST_INDEX);
  const digest = digestOf(digestShare.subarray(DIGEST_BYTES), secret);
  const ok = timingSafeEqual(digest, digestShare.subarray(0, DIGEST_BYTES));
  digest.fill(0);
  digestShare.fill(0);
  if (ok) return secret;
  secret.fill(0);
  return null;
}

/** Whether every point beyond the first `threshold` lies on the polynomial the first ones define. */
function extrasAgree(threshold: number, points: readonly Point[]): boolean {
  const basis = points.slice(0, threshold);
  for (const extra of points.slice(threshold)) {
    const expected = interpolate(basis, extra.x);
    const same = timingSafeEqual(expected, extra.y);
    expected.fill(0);
    if (!same) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// The encryption of the master secret: a 4-round Feistel network with PBKDF2-HMAC-SHA256 as the
// round function, 2500 << e iterations a round. Salt prefix "shamir" || id (2 bytes, big-endian)
// when ext = 0; empty when ext = 1, so an extendable EMS does not depend on the identifier.

function feistel(
  input: Uint8Array,
  passphrase: Uint8Array,
  iterationExponent: number,
  identifier: number,
  extendable: boolean,
  rounds: readonly number[],
): Uint8Array {
  const half = input.length / 2;
  let left = Uint8Array.from(input.subarray(0, half));
  let right = Uint8Array.from(input.subarray(half));
  const saltPrefix = extendable
    ? Buffer.alloc(0)
    : Buffer.concat([SALT_PREFIX, Buffer.from([identifier >> 8, identifier & 0xff])]);
  const iterations = (BASE_ITERATION_COUNT << iterationExponent) / ROUND_COUNT;
  for (const i of rounds) {
    const password = Buffer.concat([Buffer.from([i]), passphrase]);
    const salt = Buffer.concat([saltPrefix, right]);
    const f = pbkdf2Sync(password, salt, iterations, half, 'sha256');
    password.fill(0);
    salt.fill(0);
    const next = new Uint8Array(half);
    for (let k = 0; k < half; k++) next[k] = left[k]! ^ f[k]!;
    f.fill(0);
    left.fill(0);
    left = right;
    right = next;
  }
  const out = new Uint8Array(input.length);
  out.set(right, 0);
  out.set(left, half);
  left.fill(0);
  right.fill(0);
  return out;
}

function encrypt(ms: Uint8Array, passphrase: Uint8Array, e: number, id: number, ext: boolean): Uint8Array {
  return feistel(ms, passphrase, e, id, ext, [0, 1, 2, 3]);
}

function decrypt(ems: Uint8Array, passphrase: Uint8Array, e: number, id: number, ext: boolean): Uint8Array {
  return feistel(ems, passphrase, e, id, ext, [3, 2, 1, 0]);
}

// ---------------------------------------------------------------------------------------------
// RS1024: a Reed-Solomon code over GF(1024) (BCH view, generator constants from the standard);
// the customization string's ASCII codes are fed before the data words.

const RS1024_GEN = [
  0xe0e040, 0x1c1c080, 0x3838100, 0x7070200, 0xe0e0009, 0x1c0c2412, 0x38086c24, 0x3090fc48, 0x21b1f890, 0x3f3f120,
] as const;

function rs1024Polymod(customization: string, data: ArrayLike<number>, trailingZeros: number): number {
  let chk = 1;
  const feed = (v: number): void => {
    const b = chk >>> 20;
    chk = ((chk & 0xfffff) << 10) ^ v;
    for (let i = 0; i < 10; i++) if ((b >>> i) & 1) chk ^= RS1024_GEN[i]!;
  };
  for (let i = 0; i < customization.length; i++) feed(customization.charCodeAt(i));
  for (let i = 0; i < data.length; i++) feed(data[i]!);
  for (let i = 0; i < trailingZeros; i++) feed(0);
  return chk;
}

function rs1024Checksum(customization: string, data: ArrayLike<number>): [number, number, number] {
  const pm = rs1024Polymod(customization, data, CHECKSUM_WORDS) ^ 1;
  return [(pm >>> 20) & 1023, (pm >>> 10) & 1023, pm & 1023];
}

function rs1024Verify(customization: string, words: ArrayLike<number>): boolean {
  return rs1024Polymod(customization, words, 0) === 1;
}

// ---------------------------------------------------------------------------------------------
// Share encoding: id (15) | ext (1) | e (4) | GI (4) | Gt (4) | g (4) | I (4) | t (4) |
// value left-padded with zero bits to a multiple of 10 | checksum (30), big-endian, 10 bits a word.

/**
 * The mnemonic of a share's fields (the inverse of decodeMnemonic, with the checksum added).
 * generate() and the tests build the fields; out of range they are a bug, refused so no field
 * spills into its neighbour.
 */
export function encodeMnemonic(s: DecodedShare): string {
  const n = s.value.length;
  const fieldsFit =
    isIntIn(s.identifier, 0, (1 << ID_BITS) - 1) &&
    isIntIn(s.iterationExponent, 0, 15) &&
    isIntIn(s.groupIndex, 0, 15) &&
    isIntIn(s.groupThreshold, 1, 16) &&
    isIntIn(s.groupCount, 1, 16) &&
    isIntIn(s.memberIndex, 0, 15) &&
    isIntIn(s.memberThreshold, 1, 16) &&
    n >= MIN_SECRET_BYTES &&
    n % 2 === 0;
  if (!fieldsFit) throw new Error('slip39: encodeMnemonic with a field out of range');
  const valueWords = Math.ceil((n * 8) / RADIX_BITS);
  const words = new Uint16Array(4 + valueWords + CHECKSUM_WORDS);
  const idExp = (s.identifier << 5) | ((s.extendable ? 1 : 0) << ITERATION_EXP_BITS) | s.iterationExponent;
  words[0] = idExp >>> 10;
  words[1] = idExp & 1023;
  const params =
    (s.groupIndex << 16) |
    ((s.groupThreshold - 1) << 12) |
    ((s.groupCount - 1) << 8) |
    (s.memberIndex << 4) |
    (s.memberThreshold - 1);
  words[2] = params >>> 10;
  words[3] = params & 1023;
  // The padding bits count as already taken (zeros) before the first value byte.
  let acc = 0;
  let bits = valueWords * RADIX_BITS - n * 8;
  let w = 4;
  for (const byte of s.value) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= RADIX_BITS) {
      bits -= RADIX_BITS;
      words[w++] = (acc >>> bits) & 1023;
      acc &= (1 << bits) - 1;
    }
  }
  const data = words.subarray(0, w);
  words.set(rs1024Checksum(s.extendable ? CS_EXTENDABLE : CS_ORIGINAL, data), w);
  const text = Array.from(words, (i) => SLIP39_WORDS[i]!).join(' ');
  words.fill(0);
  return text;
}

function nameOf(where: string | undefined, fallback: string): string {
  return where === undefined ? fallback : escapeText(where, 200);
}

function invalid(name: string, what: string): KmsError {
  return new KmsError('Backup.ShareInvalid', `${name} is not a valid SLIP-0039 share: ${what}`);
}

/** Parses and checks one mnemonic (words, length, checksum, padding). `where` names it in messages (e.g. a file name). */
export function decodeMnemonic(mnemonic: string, where?: string): DecodedShare {
  const name = nameOf(where, 'the share');
  // Case-insensitive, any whitespace (including newlines and Unicode spaces) between words.
  const texts = mnemonic.toLowerCase().split(/\s+/u).filter((t) => t !== '');
  const words = new Uint16Array(texts.length);
  try {
    for (let i = 0; i < texts.length; i++) {
      const index = WORD_INDEX.get(texts[i]!);
      // Name the position only: the text may be a misspelt secret word.
      if (index === undefined) throw invalid(name, `word ${i + 1} is not in the SLIP-0039 word list`);
      words[i] = index;
    }
    texts.fill('');
    if (words.length < MIN_MNEMONIC_WORDS) {
      throw invalid(name, `it has ${words.length} words; a share has at least ${MIN_MNEMONIC_WORDS} (20 for a 128-bit secret, 33 for 256 bits)`);
    }
    // The value is a whole number of 16-bit units; what the words hold beyond it is padding, at most 8 bits.
    const valueBits = (words.length - METADATA_WORDS) * RADIX_BITS;
    const paddingBits = valueBits % 16;
    if (paddingBits > 8) throw invalid(name, `no secret length gives a share of ${words.length} words`);
    const idExp = (words[0]! << 10) | words[1]!;
    const extendable = ((idExp >>> ITERATION_EXP_BITS) & 1) === 1;
    if (!rs1024Verify(extendable ? CS_EXTENDABLE : CS_ORIGINAL, words)) {
      throw invalid(name, 'the checksum does not match (a word is wrong, missing or out of order)');
    }
    const params = (words[2]! << 10) | words[3]!;
    const groupThreshold = ((params >>> 12) & 15) + 1;
    const groupCount = ((params >>> 8) & 15) + 1;
    if (groupThreshold > groupCount) {
      throw invalid(name, `its group threshold (${groupThreshold}) is greater than its group count (${groupCount})`);
    }
    const value = new Uint8Array((valueBits - paddingBits) / 8);
    let acc = 0;
    let bits = 0;
    let out = 0;
    let padding = paddingBits;
    for (let w = 4; w < words.length - CHECKSUM_WORDS; w++) {
      acc = (acc << RADIX_BITS) | words[w]!;
      bits += RADIX_BITS;
      if (padding > 0) {
        bits -= padding;
        padding = 0;
        if (acc >>> bits !== 0) {
          value.fill(0);
          throw invalid(name, 'its padding bits are not zero');
        }
      }
      while (bits >= 8) {
        bits -= 8;
        value[out++] = (acc >>> bits) & 0xff;
        acc &= (1 << bits) - 1;
      }
    }
    return {
      identifier: idExp >>> 5,
      extendable,
      iterationExponent: idExp & 15,
      groupIndex: params >>> 16,
      groupThreshold,
      groupCount,
      memberIndex: (params >>> 4) & 15,
      memberThreshold: (params & 15) + 1,
      value,
    };
  } finally {
    words.fill(0);
    texts.fill('');
  }
}

function mismatch(what: string): KmsError {
  return new KmsError('Backup.ShareMismatch', `${what}: the shares do not belong together`);
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

interface Member {
  readonly share: DecodedShare;
  readonly name: string;
}

/** Recovers the master secret from enough shares; checks identifiers/parameters agree and the digest. wheres[i] names mnemonics[i] in messages. */
export function combineMnemonics(
  mnemonics: readonly string[],
  options: { passphrase?: Uint8Array; wheres?: readonly string[] } = {},
): Uint8Array {
  if (mnemonics.length === 0) throw new KmsError('Backup.SharesInsufficient', 'no shares were given');
  const names = mnemonics.map((_, i) => nameOf(options.wheres?.[i], `share ${i + 1}`));
  const shares: DecodedShare[] = [];
  const groups = new Map<number, { threshold: number; members: Map<number, Member> }>();
  const groupShares: Point[] = [];
  try {
    for (let i = 0; i < mnemonics.length; i++) shares.push(decodeMnemonic(mnemonics[i]!, names[i]));
    const first = shares[0]!;
    for (let i = 1; i < shares.length; i++) {
      const s = shares[i]!;
      const differs =
        s.identifier !== first.identifier ? 'identifier'
        : s.extendable !== first.extendable ? 'extendable-backup flag'
        : s.iterationExponent !== first.iterationExponent ? 'iteration exponent'
        : s.groupThreshold !== first.groupThreshold ? 'group threshold'
        : s.groupCount !== first.groupCount ? 'group count'
        : s.value.length !== first.value.length ? 'length'
        : null;
      if (differs !== null) throw mismatch(`the ${differs} of ${names[i]!} differs from that of ${names[0]!}`);
    }

    for (let i = 0; i < shares.length; i++) {
      const s = shares[i]!;
      let group = groups.get(s.groupIndex);
      if (group === undefined) {
        group = { threshold: s.memberThreshold, members: new Map() };
        groups.set(s.groupIndex, group);
      } else if (group.threshold !== s.memberThreshold) {
        const other = [...group.members.values()][0]!;
        throw mismatch(`${names[i]!} and ${other.name} are in the same group but their member thresholds differ`);
      }
      const same = group.members.get(s.memberIndex);
      if (same === undefined) {
        group.members.set(s.memberIndex, { share: s, name: names[i]! });
      } else if (!timingSafeEqual(same.share.value, s.value)) {
        throw mismatch(`${names[i]!} and ${same.name} have the same group and member index but different values`);
      }
      // The same share given twice counts once.
    }

    const { groupThreshold, groupCount } = first;
    const complete = [...groups.entries()]
      .filter(([, g]) => g.members.size >= g.threshold)
      .sort(([a], [b]) => a - b);
    if (complete.length < groupThreshold) {
      const given = shares.length === 1 ? '1 share was given' : `${shares.length} shares were given`;
      if (groupCount === 1) {
        // One group in the scheme; a malformed share could still carry another group index, so take the fullest.
        const g = [...groups.values()].reduce((a, b) => (b.members.size > a.members.size ? b : a));
        throw new KmsError(
          'Backup.SharesInsufficient',
          `${plural(g.members.size, 'distinct share')} of this set ${g.members.size === 1 ? 'was' : 'were'} given; ${g.threshold} are needed`,
        );
      }
      const partial = [...groups.entries()]
        .filter(([, g]) => g.members.size < g.threshold)
        .sort(([a], [b]) => a - b)
        .map(([gi, g]) => `group ${gi + 1} has ${g.members.size} of ${g.threshold}`);
      throw new KmsError(
        'Backup.SharesInsufficient',
        `${given}, completing ${plural(complete.length, 'group')}; ${groupThreshold} of the ${groupCount} groups are needed` +
          (partial.length > 0 ? ` (${partial.join(', ')})` : ''),
      );
    }

    for (const [gi, g] of complete) {
      const points = [...g.members.values()].map((m) => ({ x: m.share.memberIndex, y: m.share.value }));
      if (!extrasAgree(g.threshold, points)) throw mismatch(`the shares of group ${gi + 1} do not lie on one polynomial`);
      const secret = recoverSecret(g.threshold, points.slice(0, g.threshold));
      if (secret === null) throw mismatch(`the digest of group ${gi + 1} does not match`);
      groupShares.push({ x: gi, y: secret });
    }
    if (!extrasAgree(groupThreshold, groupShares)) throw mismatch('the recovered groups do not lie on one polynomial');
    const ems = recoverSecret(groupThreshold, groupShares.slice(0, groupThreshold));
    if (ems === null) throw mismatch('the digest of the recovered secret does not match');
    try {
      return decrypt(ems, options.passphrase ?? new Uint8Array(0), first.iterationExponent, first.identifier, first.extendable);
    } finally {
      ems.fill(0);
    }
  } finally {
    for (const s of shares) s.value.fill(0);
    for (const p of groupShares) p.y.fill(0);
  }
}

// ---------------------------------------------------------------------------------------------
// Generating shares.

function randomOf(random: (n: number) => Uint8Array, n: number): Uint8Array {
  const bytes = random(n);
  if (bytes.length !== n) throw new Error(`slip39: the random source gave ${bytes.length} bytes, not ${n}`);
  return Uint8Array.from(bytes);
}

function isIntIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

interface GenerateOptions {
  passphrase?: Uint8Array;
  extendable?: boolean;
  iterationExponent?: number;
  identifier?: number;
  random?: (n: number) => Uint8Array;
}

function generate(
  groupThreshold: number,
  groups: readonly (readonly [number, number])[],
  masterSecret: Uint8Array,
  options: GenerateOptions,
): { identifier: number; extendable: boolean; iterationExponent: number; mnemonics: string[][] } {
  if (masterSecret.length < MIN_SECRET_BYTES || masterSecret.length % 2 !== 0) {
    throw invalidParameter('masterSecret', `must be at least ${MIN_SECRET_BYTES} bytes and an even number of bytes (${masterSecret.length} given)`);
  }
  if (!isIntIn(groups.length, 1, MAX_SHARE_COUNT)) throw invalidParameter('groups', `must be 1 to ${MAX_SHARE_COUNT} groups`);
  if (!isIntIn(groupThreshold, 1, groups.length)) throw invalidParameter('groupThreshold', `must be 1 to the number of groups (${groups.length})`);
  groups.forEach(([threshold, count], i) => {
    if (!isIntIn(count, 1, MAX_SHARE_COUNT) || !isIntIn(threshold, 1, count)) {
      throw invalidParameter('groups', `group ${i + 1} must have 1 to ${MAX_SHARE_COUNT} members and a threshold of 1 to its member count`);
    }
    // SLIP-0039 GenerateShares step 1: a 1-of-N group (N > 1) is N copies of one share, most likely a mistake.
    if (threshold === 1 && count > 1) throw invalidParameter('groups', `group ${i + 1} has threshold 1 with ${count} members; use 1 member`);
  });
  const passphrase = options.passphrase ?? new Uint8Array(0);
  // The standard allows printable ASCII only, so any implementation can type it in.
  if (passphrase.some((b) => b < 32 || b > 126)) throw invalidParameter('passphrase', 'must hold printable ASCII characters only (32-126)');
  const iterationExponent = options.iterationExponent ?? DEFAULT_ITERATION_EXPONENT;
  if (!isIntIn(iterationExponent, 0, (1 << ITERATION_EXP_BITS) - 1)) throw invalidParameter('iterationExponent', 'must be 0 to 15');
  const random = options.random ?? ((n: number) => randomBytes(n));
  let identifier: number;
  if (options.identifier === undefined) {
    const r = randomOf(random, 2);
    identifier = ((r[0]! << 8) | r[1]!) & ((1 << ID_BITS) - 1);
  } else if (isIntIn(options.identifier, 0, (1 << ID_BITS) - 1)) {
    identifier = options.identifier;
  } else {
    throw invalidParameter('identifier', 'must be 0 to 32767');
  }
  // New shares should be extendable (the standard's SHOULD); ext = 0 stays for compatibility.
  const extendable = options.extendable ?? true;

  const ems = encrypt(masterSecret, passphrase, iterationExponent, identifier, extendable);
  const groupValues = splitSecret(groupThreshold, groups.length, ems, random);
  ems.fill(0);
  try {
    const mnemonics = groups.map(([memberThreshold, memberCount], groupIndex) => {
      const memberValues = splitSecret(memberThreshold, memberCount, groupValues[groupIndex]!, random);
      try {
        return memberValues.map((value, memberIndex) =>
          encodeMnemonic({
            identifier,
            extendable,
            iterationExponent,
            groupIndex,
            groupThreshold,
            groupCount: groups.length,
            memberIndex,
            memberThreshold,
            value,
          }),
        );
      } finally {
        for (const v of memberValues) v.fill(0);
      }
    });
    return { identifier, extendable, iterationExponent, mnemonics };
  } finally {
    for (const v of groupValues) v.fill(0);
  }
}

/** Full scheme (used by vectors and by splitMasterSecret). groups: [memberThreshold, memberCount][] */
export function generateMnemonics(
  groupThreshold: number,
  groups: readonly (readonly [number, number])[],
  masterSecret: Uint8Array,
  options: GenerateOptions = {},
): string[][] {
  return generate(groupThreshold, groups, masterSecret, options).mnemonics;
}

/** One group, M-of-N members (2 <= M <= N <= 16): what DeskKMS backups use. */
export function splitMasterSecret(
  masterSecret: Uint8Array,
  options: { threshold: number; shares: number; passphrase?: Uint8Array; extendable?: boolean; iterationExponent?: number },
): { identifier: number; extendable: boolean; iterationExponent: number; threshold: number; mnemonics: string[] } {
  const { threshold, shares } = options;
  if (!isIntIn(shares, 2, MAX_SHARE_COUNT)) throw invalidParameter('shares', `must be 2 to ${MAX_SHARE_COUNT}`);
  if (!isIntIn(threshold, 2, shares)) throw invalidParameter('threshold', `must be 2 to the number of shares (${shares})`);
  const result = generate(1, [[threshold, shares]], masterSecret, {
    passphrase: options.passphrase,
    extendable: options.extendable,
    iterationExponent: options.iterationExponent,
  });
  return {
    identifier: result.identifier,
    extendable: result.extendable,
    iterationExponent: result.iterationExponent,
    threshold,
    mnemonics: result.mnemonics[0]!,
  };
}
