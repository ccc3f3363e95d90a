// Text from outside, made safe to store and to show. Every string a host or the handler table
// takes from a request and writes into an audit field (an Action name, a KeyId as given, an
// AccessKeyId) goes through escapeText first, and every stored field a terminal or the app shows
// goes through displayText. Runtime-neutral: the renderer uses it too.
//
// Unsafe code points are those that move, hide or break text instead of showing as themselves:
// the Unicode general categories Cc (C0 and C1 controls, DEL), Cf (format: the bidi marks,
// embeddings, overrides and isolates U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069; the
// zero-width U+200B-U+200D, U+2060-U+2064, U+FEFF; the tag characters U+E0001-U+E007F; ...),
// Cs (lone surrogates), Co (private use), Cn (unassigned, which a later Unicode may make format
// characters), Zl and Zp (U+2028, U+2029), and Zs other than U+0020 (spaces that pass for one).
//
// escapeText is injective, so an escaped field is unambiguous and (unless cut short) reversible
// with unescapeText. Per code point:
//   "\"                                   -> "\\"
//   an unsafe one below U+0100 (C0, DEL, C1) -> "\xHH"
//   another unsafe one in the BMP          -> "\uHHHH"   (upper-case hex; a lone surrogate too)
//   an unsafe one above the BMP            -> "\u{HHHHH}"
//   a "(" that starts the text             -> "\("  (hosts write "(none)"-style placeholders
//                                             for absent values; outside text cannot forge one)
//   anything else                          -> itself
// Cut short (at most `max` UTF-16 units): the text ends in "\…", a sequence no escape produces,
// and the cut never splits an escape or a surrogate pair.
//
// What it does not do: letters that look alike (Latin "a" and Cyrillic "а") stay as they are.
// They show as what they are, and two different inputs still never give the same field.

const UNSAFE_CODE_POINT = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/u;
const UNSAFE_GLOBAL = new RegExp(UNSAFE_CODE_POINT.source, 'gu');
/**
 * Printable ASCII only: none of it is unsafe. Most text (ids, Action names, JSON answers) is, and
 * this test costs a half (an id) to a third (a line of JSON) of the Unicode class's above.
 */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
/** JSON text that is printable ASCII but for the whitespace between its tokens: nothing to escape. */
const PLAIN_JSON = /^[\x20-\x7e\t\n\r]*$/;

/** Ends a text escapeText cut short; no escape produces it. */
export const CUT_MARK = '\\…';

function hex(n: number, width: number): string {
  return n.toString(16).toUpperCase().padStart(width, '0');
}

function escapeCodePoint(char: string): string {
  const cp = char.codePointAt(0)!;
  if (cp < 0x100) return `\\x${hex(cp, 2)}`;
  if (cp <= 0xffff) return `\\u${hex(cp, 4)}`;
  return `\\u{${hex(cp, 5)}}`;
}

/** Whether the text holds a code point escapeText would escape (a backslash aside). */
export function hasUnsafeText(text: string): boolean {
  return !PRINTABLE_ASCII.test(text) && UNSAFE_CODE_POINT.test(text);
}

/**
 * The text with backslashes doubled and unsafe code points escaped (see the header), cut to at
 * most `max` UTF-16 units (default: no limit) ending in CUT_MARK when it had to be cut.
 */
export function escapeText(text: string, max = Number.POSITIVE_INFINITY): string {
  if (!(max >= CUT_MARK.length + 1)) throw new RangeError('escapeText: max is too small');
  // Most text (ids, Action names) needs nothing: returned as it is, without the walk below.
  if (text.length <= max && !text.includes('\\') && text[0] !== '(' && !hasUnsafeText(text)) return text;
  const pieces: string[] = [];
  let length = 0;
  let first = true;
  // Iterating a string yields code points: a pair stays whole, a lone surrogate comes alone.
  for (const char of text) {
    const piece = char === '\\' ? '\\\\' : first && char === '(' ? '\\(' : UNSAFE_CODE_POINT.test(char) ? escapeCodePoint(char) : char;
    first = false;
    pieces.push(piece);
    length += piece.length;
  }
  if (length <= max) return pieces.join('');
  let kept = '';
  for (const piece of pieces) {
    if (kept.length + piece.length > max - CUT_MARK.length) break;
    kept += piece;
  }
  return kept + CUT_MARK;
}

/**
 * The untrusted value as an audit field: a string escaped and cut to `max`; for an absent or
 * empty one "(none)", for another type its kind in parentheses, e.g. "(number)", "(array)".
 */
export function escapeField(value: unknown, max: number): string {
  if (value === undefined || value === '') return '(none)';
  if (typeof value === 'string') return escapeText(value, max);
  return `(${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value})`;
}

/** The inverse of escapeText for a text it did not cut; throws for anything it cannot have produced. */
export function unescapeText(escaped: string): string {
  let out = '';
  for (let i = 0; i < escaped.length; i++) {
    const c = escaped[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = escaped[i + 1];
    let m: RegExpExecArray | null;
    if (next === '\\' || (next === '(' && i === 0)) {
      out += next;
      i += 1;
    } else if ((m = /^x([0-9A-F]{2})/.exec(escaped.slice(i + 1)))) {
      out += String.fromCharCode(parseInt(m[1]!, 16));
      i += 3;
    } else if ((m = /^u([0-9A-F]{4})/.exec(escaped.slice(i + 1)))) {
      out += String.fromCharCode(parseInt(m[1]!, 16));
      i += 5;
    } else if ((m = /^u\{([0-9A-F]{5,6})\}/.exec(escaped.slice(i + 1)))) {
      out += String.fromCodePoint(parseInt(m[1]!, 16));
      i += m[0].length;
    } else {
      throw new RangeError(`unescapeText: "\\${next ?? ''}" at ${i} is not an escape (a cut text ends in ${CUT_MARK})`);
    }
  }
  return out;
}

/**
 * A stored field as shown in a terminal or the app: unsafe code points escaped as escapeText
 * writes them, backslashes left alone. Fields written through escapeText (and the audit log's
 * validation) hold no unsafe code point, so this changes only a row someone edited in the file.
 */
export function displayText(text: string): string {
  return text.replace(UNSAFE_GLOBAL, escapeCodePoint);
}

/**
 * JSON text (as JSON.stringify writes it, pretty or not) with every unsafe code point inside its
 * strings written as a \u escape (a surrogate pair above the BMP): the same value once parsed, but
 * nothing in it moves a terminal's cursor or reorders the line. JSON.stringify escapes C0 controls
 * and lone surrogates, not DEL, C1, bidi or other format characters, nor U+2028/U+2029.
 */
export function escapeJsonText(json: string): string {
  if (PLAIN_JSON.test(json)) return json;
  return json.replace(UNSAFE_GLOBAL, (char) => {
    // Tab, LF and CR appear in JSON only as whitespace between tokens (inside a string they are escaped).
    if (char === '\t' || char === '\n' || char === '\r') return char;
    let out = '';
    for (let i = 0; i < char.length; i++) out += `\\u${hex(char.charCodeAt(i), 4).toLowerCase()}`;
    return out;
  });
}
