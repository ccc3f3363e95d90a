// Escaping untrusted text for audit fields and for display: each unsafe class is escaped, the
// escape is injective (a seeded random round trip), a cut text says so and never splits an
// escape or a surrogate pair, and JSON keeps its value while losing its raw bidi characters.
import { describe, expect, it } from 'vitest';
import { CUT_MARK, displayText, escapeField, escapeJsonText, escapeText, hasUnsafeText, unescapeText } from '../../core/contract/escape-text.ts';
import { prng } from '../support/random.ts';

const SEED = Number(process.env.ESCAPE_SEED ?? 0x5eed);

describe('escapeText', () => {
  it('escapes controls, lone surrogates, bidi and invisible characters; doubles backslashes', () => {
    const cases: [string, string][] = [
      ['ListKeys', 'ListKeys'],
      ['\u0001', '\\x01'],
      ['a\u0000b', 'a\\x00b'],
      ['\u001b[2J', '\\x1B[2J'],
      ['\u007f\u0085\u009f', '\\x7F\\x85\\x9F'],
      ['back\\slash', 'back\\\\slash'],
      ['\\x01', '\\\\x01'],
      ['\uD800', '\\uD800'],
      ['x\uDFFFy', 'x\\uDFFFy'],
      ['abc\u202Efdp.exe', 'abc\\u202Efdp.exe'],
      ['\u202A\u202B\u202C\u202D\u2066\u2067\u2068\u2069\u061C\u200E\u200F', '\\u202A\\u202B\\u202C\\u202D\\u2066\\u2067\\u2068\\u2069\\u061C\\u200E\\u200F'],
      ['zero\u200Bwidth\u200C\u200D\u2060\uFEFF', 'zero\\u200Bwidth\\u200C\\u200D\\u2060\\uFEFF'],
      ['line\u2028para\u2029', 'line\\u2028para\\u2029'],
      ['no\u00A0break\u3000', 'no\\xA0break\\u3000'],
      ['soft\u00ADhyphen', 'soft\\xADhyphen'],
      ['tag\u{E0041}', 'tag\\u{E0041}'],
      ['private\uE000', 'private\\uE000'],
      ['nonchar\uFFFF', 'nonchar\\uFFFF'],
      ['(none)', '\\(none)'],
      ['a(b)', 'a(b)'],
      // Visible text stays as it is, whatever its script.
      ['alias/中文 é 😀 Ω', 'alias/中文 é 😀 Ω'],
    ];
    for (const [input, expected] of cases) {
      expect(escapeText(input), JSON.stringify(input)).toBe(expected);
      expect(unescapeText(expected)).toBe(input);
      expect(hasUnsafeText(escapeText(input))).toBe(false);
    }
  });

  it('is injective: random hostile strings round-trip, and escaped output is always safe', () => {
    const random = prng(SEED);
    const pool = ['\u0000', '\u0001', '\u001f', '\u007f', '\u0085', '\\', '\\x01', '(', 'x', 'A', ' ', '\uD800', '\uDBFF', '\uDC00', '\uD83D\uDE00', '\u202E', '\u2066', '\uFEFF', '\u{E0041}', '中', '\u2028', 'u{', '}'];
    const seen = new Map<string, string>();
    for (let n = 0; n < 20_000; n++) {
      let s = '';
      const length = Math.floor(random() * 12);
      for (let i = 0; i < length; i++) s += pool[Math.floor(random() * pool.length)];
      const escaped = escapeText(s);
      expect(hasUnsafeText(escaped), `seed ${SEED}: ${JSON.stringify(s)}`).toBe(false);
      expect(unescapeText(escaped), `seed ${SEED}: ${JSON.stringify(s)}`).toBe(s);
      const earlier = seen.get(escaped);
      if (earlier !== undefined) expect(earlier).toBe(s);
      seen.set(escaped, s);
    }
  });

  it('cuts at max UTF-16 units with a mark no escape produces, never inside an escape or a pair', () => {
    expect(escapeText('abcdef', 6)).toBe('abcdef');
    expect(escapeText('abcdefg', 6)).toBe(`abcd${CUT_MARK}`);
    expect(escapeText('ab\u0001cdef', 6)).toBe(`ab${CUT_MARK}`); // "\x01" does not fit whole
    expect(escapeText(`${'a'.repeat(62)}😀`, 64)).toBe(`${'a'.repeat(62)}😀`);
    expect(escapeText(`${'a'.repeat(61)}😀bc`, 64)).toBe(`${'a'.repeat(61)}${CUT_MARK}`); // the pair is not split
    expect(escapeText('😀'.repeat(40), 64)).toBe(`${'😀'.repeat(31)}${CUT_MARK}`);
    const long = escapeText('\u202E'.repeat(1_000_000), 128);
    expect(long.length).toBeLessThanOrEqual(128);
    expect(long.endsWith(CUT_MARK)).toBe(true);
    expect(() => unescapeText(long)).toThrow(/not an escape/);
    expect(() => escapeText('x', 2)).toThrow(RangeError);
  });

  it('escapeField: placeholders for absent values and other types, which outside text cannot forge', () => {
    expect(escapeField(undefined, 64)).toBe('(none)');
    expect(escapeField('', 64)).toBe('(none)');
    expect(escapeField('(none)', 64)).toBe('\\(none)');
    expect(escapeField(5, 64)).toBe('(number)');
    expect(escapeField(['a'], 64)).toBe('(array)');
    expect(escapeField(null, 64)).toBe('(null)');
    expect(escapeField({ a: 1 }, 64)).toBe('(object)');
    expect(escapeField(true, 64)).toBe('(boolean)');
    expect(escapeField('\u0001', 64)).toBe('\\x01');
  });
});

describe('the printable-ASCII fast paths', () => {
  // hasUnsafeText, escapeText and escapeJsonText answer printable ASCII without the Unicode class:
  // each must still agree with that class on every code point, alone and after printable text.
  const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/u;
  const codePoints = [...Array.from({ length: 0x10000 }, (_, i) => i), 0x1f600, 0xe0001, 0xe007f, 0xf0000, 0x10ffff];

  it('hasUnsafeText agrees with the Unicode class on every BMP code point (and some above)', () => {
    for (const cp of codePoints) {
      const char = String.fromCodePoint(cp);
      const unsafe = UNSAFE.test(char);
      expect(hasUnsafeText(char), cp.toString(16)).toBe(unsafe);
      expect(hasUnsafeText(`key-${char}-1`), cp.toString(16)).toBe(unsafe);
    }
  });

  it('escapeJsonText changes JSON only where an unsafe code point is, and printable ASCII not at all', () => {
    const ascii = JSON.stringify({ KeyId: 'key-1', Value: 'MEUCIQ+/=', Spaces: ' ~!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}', RequestId: 'r' }, null, 2);
    expect(escapeJsonText(ascii)).toBe(ascii);
    for (const cp of codePoints) {
      const json = JSON.stringify({ Text: `a${String.fromCodePoint(cp)}b` });
      const safe = escapeJsonText(json);
      expect(JSON.parse(safe), cp.toString(16)).toEqual(JSON.parse(json));
      expect(hasUnsafeText(safe), cp.toString(16)).toBe(false);
      if (!UNSAFE.test(String.fromCodePoint(cp))) expect(safe, cp.toString(16)).toBe(json);
    }
  });
});

describe('displayText and escapeJsonText', () => {
  it('displayText escapes unsafe code points of stored text and leaves backslashes alone', () => {
    expect(displayText('Evil\u001b[2J')).toBe('Evil\\x1B[2J');
    expect(displayText('api-unauthenticated:\u202Eabc')).toBe('api-unauthenticated:\\u202Eabc');
    expect(displayText('already \\x01 escaped')).toBe('already \\x01 escaped');
  });

  it('escapeJsonText keeps the value and the layout, writes the rest as \\u escapes', () => {
    const value = { Action: 'a\u202Eb\u2028c\u0085\u007f', Key: 'tag\u{E0041}', Plain: 'é 😀', Nested: [{ X: '\u0001\uD800' }] };
    for (const json of [JSON.stringify(value), JSON.stringify(value, null, 2)]) {
      const safe = escapeJsonText(json);
      expect(JSON.parse(safe)).toEqual(value);
      expect(hasUnsafeText(safe.replace(/[\n\t\r]/g, ''))).toBe(false);
      expect(safe).toContain('a\\u202eb\\u2028c\\u0085\\u007f');
      expect(safe).toContain('tag\\udb40\\udc41');
      expect(safe.split('\n').length).toBe(json.split('\n').length);
    }
  });
});
