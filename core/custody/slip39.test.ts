import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KmsError, type ErrorCode } from '../contract/errors.ts';
import {
  combineMnemonics,
  decodeMnemonic,
  encodeMnemonic,
  generateMnemonics,
  splitMasterSecret,
  type DecodedShare,
} from './slip39.ts';
import { SLIP39_WORDS } from './slip39-words.ts';

// The standard's vectors (test/vectors/slip39/README.md): [description, mnemonics, masterSecretHex, xprv].
type Vector = [string, string[], string, string];
const VECTORS = JSON.parse(
  readFileSync(new URL('../../test/vectors/slip39/vectors.json', import.meta.url), 'utf8'),
) as Vector[];
const TREZOR = new TextEncoder().encode('TREZOR');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The code an invalid vector must be refused with, from its description; exactly one rule must match. */
const INVALID_VECTOR_CODES: [RegExp, ErrorCode][] = [
  [/invalid checksum|invalid padding|insufficient length|invalid master secret length|greater group threshold than group count/, 'Backup.ShareInvalid'],
  [/^\d+\. Basic sharing|Insufficient number of groups|insufficient number of members/, 'Backup.SharesInsufficient'],
  [/different identifiers|different iteration exponents|mismatching group thresholds|mismatching group counts|duplicate member indices|mismatching member thresholds|invalid digest/, 'Backup.ShareMismatch'],
];

/**
 * The fields of a mnemonic read straight from its bits as a string of 0s and 1s, independently of
 * slip39.ts's bit arithmetic: id 15 | ext 1 | e 4 | GI 4 | Gt 4 | g 4 | I 4 | t 4 | padding + value | checksum 30.
 */
function fieldsFromBits(mnemonic: string): DecodedShare {
  const bits = mnemonic
    .trim()
    .split(/\s+/)
    .map((w) => SLIP39_WORDS.indexOf(w.toLowerCase()).toString(2).padStart(10, '0'))
    .join('');
  const int = (from: number, to: number): number => parseInt(bits.slice(from, to), 2);
  const valueBits = bits.slice(40, bits.length - 30);
  const padding = valueBits.length % 16;
  const body = valueBits.slice(padding);
  const value = new Uint8Array(body.length / 8).map((_, i) => parseInt(body.slice(i * 8, i * 8 + 8), 2));
  return {
    identifier: int(0, 15),
    extendable: bits[15] === '1',
    iterationExponent: int(16, 20),
    groupIndex: int(20, 24),
    groupThreshold: int(24, 28) + 1,
    groupCount: int(28, 32) + 1,
    memberIndex: int(32, 36),
    memberThreshold: int(36, 40) + 1,
    value,
  };
}

/**
 * Runs fn, which must throw a KmsError with one of the codes; the message must not carry two
 * consecutive words of any mnemonic given (the reference implementation quotes a share's first
 * words; a share's words are the secret here) nor a secret's hex.
 */
function refused(fn: () => unknown, codes: ErrorCode | ErrorCode[], mnemonics: readonly string[], secrets: readonly Uint8Array[] = []): KmsError {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(KmsError);
  const e = error as KmsError;
  expect([codes].flat()).toContain(e.code);
  const message = ` ${e.message.toLowerCase().replace(/[^a-z0-9]+/g, ' ')} `;
  for (const m of mnemonics) {
    const words = m.toLowerCase().trim().split(/\s+/);
    for (let i = 0; i + 1 < words.length; i++) expect(message).not.toContain(` ${words[i]} ${words[i + 1]} `);
  }
  for (const s of secrets) expect(e.message).not.toContain(hex(s));
  return e;
}

function* subsets<T>(items: readonly T[], size: number, start = 0): Generator<T[]> {
  if (size === 0) {
    yield [];
    return;
  }
  for (let i = start; i <= items.length - size; i++) {
    for (const rest of subsets(items, size - 1, i + 1)) yield [items[i]!, ...rest];
  }
}

/** A reproducible byte source (SHA-256 in counter mode) so two generations can be compared. */
function seededRandom(seed: string): (n: number) => Uint8Array {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let off = 0; off < n; off += 32) {
      const block = createHash('sha256').update(`${seed}:${counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, n - off)), off);
    }
    return out;
  };
}

const FAST = { iterationExponent: 0 };

describe('SLIP-0039 word list', () => {
  it('is the standard list: 1024 sorted words of 4-8 letters with unique 4-letter prefixes, byte for byte', () => {
    expect(SLIP39_WORDS).toHaveLength(1024);
    expect([...SLIP39_WORDS].sort()).toEqual(SLIP39_WORDS);
    expect(SLIP39_WORDS.every((w) => /^[a-z]{4,8}$/.test(w))).toBe(true);
    expect(new Set(SLIP39_WORDS.map((w) => w.slice(0, 4))).size).toBe(1024);
    // SHA-256 of satoshilabs/slips slip-0039/wordlist.txt (one word a line).
    const digest = createHash('sha256').update(SLIP39_WORDS.join('\n') + '\n').digest('hex');
    expect(digest).toBe('bcc4555340332d169718aed8bf31dd9d5248cb7da6e5d355140ef4f1e601eec3');
  });
});

describe('SLIP-0039 published test vectors', () => {
  it('holds the 45 vectors of the standard, extendable ones included', () => {
    expect(VECTORS).toHaveLength(45);
    expect(VECTORS.filter(([d]) => /extendable/i.test(d)).length).toBeGreaterThanOrEqual(4);
  });

  it('every valid set recovers its master secret with "TREZOR"; every mnemonic decodes to its own fields and encodes back', () => {
    let checked = 0;
    for (const [description, mnemonics, secretHex] of VECTORS) {
      if (secretHex === '') continue;
      const secret = combineMnemonics(mnemonics, { passphrase: TREZOR });
      expect(hex(secret), description).toBe(secretHex);
      for (const m of mnemonics) {
        const decoded = decodeMnemonic(m);
        expect(decoded, description).toEqual(fieldsFromBits(m));
        expect(encodeMnemonic(decoded), description).toBe(m);
      }
      // Another passphrase gives another secret, not an error (the standard's plausible deniability).
      expect(hex(combineMnemonics(mnemonics, { passphrase: new TextEncoder().encode('TREZOS') }))).not.toBe(secretHex);
      checked++;
    }
    expect(checked).toBe(15);
  });

  it('the extendable vectors decode with ext = 1 and the others with ext = 0', () => {
    for (const [description, mnemonics, secretHex] of VECTORS) {
      if (secretHex === '') continue;
      const ext = /extendable/i.test(description);
      for (const m of mnemonics) expect(decodeMnemonic(m).extendable, description).toBe(ext);
    }
  });

  it('every invalid set is refused with the code its description names, quoting no words', () => {
    let checked = 0;
    for (const [description, mnemonics, secretHex] of VECTORS) {
      if (secretHex !== '') continue;
      const rules = INVALID_VECTOR_CODES.filter(([re]) => re.test(description));
      expect(rules, description).toHaveLength(1);
      const e = refused(() => combineMnemonics(mnemonics, { passphrase: TREZOR }), rules[0]![1], mnemonics);
      expect(e.code, description).toBe(rules[0]![1]);
      checked++;
    }
    expect(checked).toBe(30);
  });

  it('a vector with one mnemonic refused by decodeMnemonic names the share by its where', () => {
    const [, [bad]] = VECTORS.find(([d]) => d.startsWith('2. Mnemonic with invalid checksum'))!;
    const e = refused(() => decodeMnemonic(bad!, 'share-1-of-3.txt'), 'Backup.ShareInvalid', [bad!]);
    expect(e.message).toMatch(/^share-1-of-3\.txt .*checksum/);
    const insufficient = VECTORS.find(([d]) => d.startsWith('5. Basic sharing 2-of-3'))!;
    const e2 = refused(() => combineMnemonics(insufficient[1]), 'Backup.SharesInsufficient', insufficient[1]);
    expect(e2.message).toMatch(/1 distinct share .* 2 are needed/);
  });

  it('mnemonics are read case-insensitively with any whitespace between the words', () => {
    const [, mnemonics, secretHex] = VECTORS.find(([d]) => d.startsWith('4. Basic sharing 2-of-3'))!;
    const messy = mnemonics.map((m, i) =>
      `\n  ${m.split(' ').map((w, j) => ((i + j) % 2 ? w.toUpperCase() : w)).join(j2sep(i))}\t\r\n`,
    );
    expect(hex(combineMnemonics(messy, { passphrase: TREZOR }))).toBe(secretHex);
    expect(decodeMnemonic(messy[0]!)).toEqual(decodeMnemonic(mnemonics[0]!));
  });
});

function j2sep(i: number): string {
  return ['  ', '\n', '\t \u00a0'][i % 3]!;
}

describe('SLIP-0039 single mnemonic checks', () => {
  const { mnemonics } = splitMasterSecret(randomBytes(16), { threshold: 2, shares: 3, ...FAST });
  const share = mnemonics[0]!;
  const words = share.split(' ');

  it('an unknown word is refused naming its position, not the word', () => {
    const bad = [...words];
    bad[6] = 'bitcoinz';
    const e = refused(() => decodeMnemonic(bad.join(' '), 'alice.txt'), 'Backup.ShareInvalid', [share]);
    expect(e.message).toMatch(/^alice\.txt .*word 7 is not in the SLIP-0039 word list/);
    expect(e.message).not.toContain('bitcoinz');
    // A word prefix is not a word (no guessing from four letters).
    const prefix = [...words];
    prefix[2] = prefix[2]!.slice(0, 4) === prefix[2] ? prefix[2] + 'x' : prefix[2]!.slice(0, 4);
    refused(() => decodeMnemonic(prefix.join(' ')), 'Backup.ShareInvalid', [share]);
  });

  it('any single word replaced by another word is refused by the checksum, at every position (20 and 33 words)', () => {
    const long = splitMasterSecret(randomBytes(32), { threshold: 2, shares: 2, ...FAST }).mnemonics[0]!;
    for (const m of [share, long]) {
      const ws = m.split(' ');
      expect(ws).toHaveLength(m === share ? 20 : 33);
      for (let i = 0; i < ws.length; i++) {
        const flipped = [...ws];
        flipped[i] = SLIP39_WORDS[(SLIP39_WORDS.indexOf(ws[i]!) + 1 + i * 37) % 1024]!;
        const e = refused(() => decodeMnemonic(flipped.join(' ')), 'Backup.ShareInvalid', [m]);
        expect(e.message).toMatch(/checksum/);
      }
    }
  });

  it('refuses word counts no secret gives, and swapped words', () => {
    for (const n of [0, 1, 19, 21, 22, 24]) {
      const ws = Array.from({ length: n }, (_, i) => words[i % words.length]!);
      refused(() => decodeMnemonic(ws.join(' ')), 'Backup.ShareInvalid', [share]);
    }
    const e = refused(() => decodeMnemonic(words.slice(0, 19).join(' ')), 'Backup.ShareInvalid', [share]);
    expect(e.message).toMatch(/19 words/);
    const swapped = [...words];
    [swapped[5], swapped[6]] = [swapped[6]!, swapped[5]!];
    if (swapped[5] !== swapped[6]) refused(() => decodeMnemonic(swapped.join(' ')), 'Backup.ShareInvalid', [share]);
  });

  it('refuses non-zero padding even with a valid checksum', () => {
    const fields = decodeMnemonic(share);
    const good = encodeMnemonic(fields);
    expect(good).toBe(share);
    // Set the highest padding bit (a 16-byte value has 2 padding bits in word 5) and re-checksum by hand.
    const idx = good.split(' ').map((w) => SLIP39_WORDS.indexOf(w));
    idx[4] = idx[4]! | 0x200;
    const data = idx.slice(0, -3);
    const cs = fields.extendable ? 'shamir_extendable' : 'shamir';
    const values = [...cs].map((c) => c.charCodeAt(0)).concat(data, [0, 0, 0]);
    const GEN = [0xe0e040, 0x1c1c080, 0x3838100, 0x7070200, 0xe0e0009, 0x1c0c2412, 0x38086c24, 0x3090fc48, 0x21b1f890, 0x3f3f120];
    let chk = 1;
    for (const v of values) {
      const b = chk >>> 20;
      chk = ((chk & 0xfffff) << 10) ^ v;
      for (let i = 0; i < 10; i++) if ((b >>> i) & 1) chk ^= GEN[i]!;
    }
    chk ^= 1;
    const padded = [...data, (chk >>> 20) & 1023, (chk >>> 10) & 1023, chk & 1023].map((i) => SLIP39_WORDS[i]!).join(' ');
    const e = refused(() => decodeMnemonic(padded), 'Backup.ShareInvalid', [padded]);
    expect(e.message).toMatch(/padding/);
  });
});

describe('SLIP-0039 split and combine round trips (iteration exponent 0)', () => {
  const cases: [number, number, number][] = [
    [2, 3, 16],
    [2, 3, 32],
    [3, 5, 16],
    [3, 5, 32],
    [16, 16, 16],
    [16, 16, 32],
  ];
  for (const [m, n, bytes] of cases) {
    it(`${m}-of-${n}, ${bytes * 8}-bit secret: every ${m}-subset recovers, every ${m - 1}-subset is refused`, () => {
      const secret = randomBytes(bytes);
      const split = splitMasterSecret(secret, { threshold: m, shares: n, ...FAST });
      expect(split).toMatchObject({ threshold: m, extendable: true, iterationExponent: 0 });
      expect(split.mnemonics).toHaveLength(n);
      expect(new Set(split.mnemonics).size).toBe(n);
      for (const [i, mnemonic] of split.mnemonics.entries()) {
        expect(mnemonic.split(' ')).toHaveLength(bytes === 16 ? 20 : 33);
        expect(decodeMnemonic(mnemonic)).toMatchObject({
          identifier: split.identifier,
          extendable: true,
          iterationExponent: 0,
          groupIndex: 0,
          groupThreshold: 1,
          groupCount: 1,
          memberIndex: i,
          memberThreshold: m,
        });
      }
      let recovered = 0;
      for (const subset of subsets(split.mnemonics, m)) {
        // Order does not matter.
        expect(hex(combineMnemonics(subset.reverse()))).toBe(hex(secret));
        recovered++;
      }
      expect(recovered).toBeGreaterThan(0);
      let insufficientChecked = 0;
      for (const subset of subsets(split.mnemonics, m - 1)) {
        if (insufficientChecked++ >= 40) break;
        const e = refused(() => combineMnemonics(subset), 'Backup.SharesInsufficient', subset, [secret]);
        expect(e.message).toContain(`${m - 1} distinct share`);
        expect(e.message).toContain(`${m} are needed`);
      }
    });
  }

  it('all shares (more than the threshold) recover; an extra share from another split is refused', () => {
    const secret = randomBytes(16);
    const a = splitMasterSecret(secret, { threshold: 2, shares: 4, ...FAST }).mnemonics;
    expect(hex(combineMnemonics(a))).toBe(hex(secret));
    // The same share twice counts once.
    refused(() => combineMnemonics([a[0]!, a[0]!.toUpperCase()]), 'Backup.SharesInsufficient', a);
    // An extra share of the same identifier whose value is off the polynomial is caught even beyond the threshold.
    const forged = decodeMnemonic(a[3]!);
    forged.value[0] = forged.value[0]! ^ 1;
    const forgedMnemonic = encodeMnemonic(forged);
    refused(() => combineMnemonics([a[0]!, a[1]!, forgedMnemonic]), 'Backup.ShareMismatch', [...a, forgedMnemonic], [secret]);
  });

  it('shares of two different splits are refused: other identifier, or same identifier failing the digest', () => {
    const s1 = randomBytes(16);
    const s2 = randomBytes(16);
    const a = splitMasterSecret(s1, { threshold: 2, shares: 3, ...FAST });
    let b = splitMasterSecret(s2, { threshold: 2, shares: 3, ...FAST });
    while (b.identifier === a.identifier) b = splitMasterSecret(s2, { threshold: 2, shares: 3, ...FAST });
    const e = refused(
      () => combineMnemonics([a.mnemonics[0]!, b.mnemonics[1]!], { wheres: ['a.txt', 'b.txt'] }),
      'Backup.ShareMismatch',
      [...a.mnemonics, ...b.mnemonics],
      [s1, s2],
    );
    expect(e.message).toMatch(/identifier of b\.txt differs from that of a\.txt: the shares do not belong together/);
    // Forced to the same identifier, only the digest tells them apart.
    const [c] = generateMnemonics(1, [[2, 3]], s1, { ...FAST, identifier: 1234 });
    const [d] = generateMnemonics(1, [[2, 3]], s2, { ...FAST, identifier: 1234 });
    const e2 = refused(() => combineMnemonics([c![0]!, d![1]!]), 'Backup.ShareMismatch', [...c!, ...d!], [s1, s2]);
    expect(e2.message).toMatch(/digest/);
    // Other iteration exponent or extendable flag: mismatch too.
    const [f] = generateMnemonics(1, [[2, 3]], s1, { iterationExponent: 1, identifier: 1234 });
    refused(() => combineMnemonics([c![0]!, f![1]!]), 'Backup.ShareMismatch', [...c!, ...f!]);
    const [g] = generateMnemonics(1, [[2, 3]], s1, { ...FAST, identifier: 1234, extendable: false });
    refused(() => combineMnemonics([c![0]!, g![1]!]), 'Backup.ShareMismatch', [...c!, ...g!]);
  });

  it('extendable on and off both round-trip; with ext = 1 the identifier does not enter the encryption, with ext = 0 it does', () => {
    const secret = randomBytes(32);
    const passphrase = new TextEncoder().encode('correct horse');
    for (const extendable of [true, false]) {
      const split = splitMasterSecret(secret, { threshold: 2, shares: 3, extendable, passphrase, ...FAST });
      expect(split.extendable).toBe(extendable);
      expect(decodeMnemonic(split.mnemonics[2]!).extendable).toBe(extendable);
      expect(hex(combineMnemonics(split.mnemonics.slice(1), { passphrase }))).toBe(hex(secret));
      expect(hex(combineMnemonics(split.mnemonics.slice(1)))).not.toBe(hex(secret));
      // Same randomness, two identifiers: the share values are equal exactly when the EMS is.
      const values = [1, 2].map((identifier) =>
        generateMnemonics(1, [[2, 3]], secret, { ...FAST, extendable, passphrase, identifier, random: seededRandom('x') })[0]!.map(
          (m) => hex(decodeMnemonic(m).value),
        ),
      );
      if (extendable) expect(values[0]).toEqual(values[1]);
      else expect(values[0]).not.toEqual(values[1]);
    }
  });

  it('generation is deterministic given the randomness, and two-level groups recover from any threshold of groups', () => {
    const secret = randomBytes(16);
    const opts = { ...FAST, passphrase: TREZOR, random: seededRandom('groups') };
    const groups = generateMnemonics(2, [[1, 1], [2, 3], [3, 5]], secret, opts);
    expect(generateMnemonics(2, [[1, 1], [2, 3], [3, 5]], secret, { ...opts, random: seededRandom('groups') })).toEqual(groups);
    expect(groups.map((g) => g.length)).toEqual([1, 3, 5]);
    const pick = { 0: groups[0]!.slice(0, 1), 1: groups[1]!.slice(1, 3), 2: groups[2]!.slice(2, 5) };
    for (const [x, y] of [[0, 1], [0, 2], [1, 2]] as const) {
      expect(hex(combineMnemonics([...pick[x], ...pick[y]], { passphrase: TREZOR }))).toBe(hex(secret));
    }
    // All three groups: the extra one must agree, and does.
    expect(hex(combineMnemonics([...pick[0], ...pick[1], ...pick[2]], { passphrase: TREZOR }))).toBe(hex(secret));
    const e = refused(
      () => combineMnemonics([...pick[1], groups[2]![0]!, groups[2]![1]!], { passphrase: TREZOR }),
      'Backup.SharesInsufficient',
      groups.flat(),
      [secret],
    );
    expect(e.message).toMatch(/completing 1 group; 2 of the 3 groups are needed \(group 3 has 2 of 3\)/);
  });

  it('refuses split arguments the standard forbids', () => {
    const secret = randomBytes(16);
    const bad: [string, () => unknown][] = [
      ['threshold 1', () => splitMasterSecret(secret, { threshold: 1, shares: 3 })],
      ['threshold above shares', () => splitMasterSecret(secret, { threshold: 4, shares: 3 })],
      ['17 shares', () => splitMasterSecret(secret, { threshold: 2, shares: 17 })],
      ['15-byte secret', () => splitMasterSecret(randomBytes(15), { threshold: 2, shares: 3 })],
      ['17-byte secret', () => splitMasterSecret(randomBytes(17), { threshold: 2, shares: 3 })],
      ['non-ASCII passphrase', () => splitMasterSecret(secret, { threshold: 2, shares: 3, passphrase: new Uint8Array([0xc3, 0xa9]) })],
      ['iteration exponent 16', () => splitMasterSecret(secret, { threshold: 2, shares: 3, iterationExponent: 16 })],
      ['1-of-3 group', () => generateMnemonics(1, [[1, 3]], secret)],
      ['group threshold above group count', () => generateMnemonics(2, [[2, 3]], secret)],
      ['identifier of 16 bits', () => generateMnemonics(1, [[2, 3]], secret, { identifier: 0x8000 })],
    ];
    for (const [what, fn] of bad) {
      expect(fn, what).toThrow(KmsError);
      try {
        fn();
      } catch (e) {
        expect((e as KmsError).code, what).toBe('InvalidParameter');
      }
    }
    // A 1-of-1 group is fine (the standard's own vectors have them).
    expect(generateMnemonics(1, [[1, 1]], secret, FAST)).toHaveLength(1);
  });
});
