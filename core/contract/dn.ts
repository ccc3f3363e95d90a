// Distinguished names as RFC 4514 text, once for the vault (core/x509: parsing a Subject, writing a
// certificate's subject and issuer) and the renderer (the CSR wizard composing a Subject): the
// attributes DeskKMS writes, the escaping of a value, and the splitting and unescaping of text.
// Runtime-neutral.
import { invalidParameter } from './errors.ts';

export type DnStringKind = 'utf8' | 'printable' | 'ia5';

export interface DnAttribute {
  readonly name: string;
  readonly oid: string;
  readonly kind: DnStringKind;
  /** Upper bound in characters (RFC 5280 appendix A.1). */
  readonly max: number;
}

export const DN_ATTRIBUTES: readonly DnAttribute[] = [
  { name: 'CN', oid: '2.5.4.3', kind: 'utf8', max: 64 },
  { name: 'O', oid: '2.5.4.10', kind: 'utf8', max: 64 },
  { name: 'OU', oid: '2.5.4.11', kind: 'utf8', max: 64 },
  { name: 'L', oid: '2.5.4.7', kind: 'utf8', max: 128 },
  { name: 'ST', oid: '2.5.4.8', kind: 'utf8', max: 128 },
  { name: 'C', oid: '2.5.4.6', kind: 'printable', max: 2 },
  { name: 'emailAddress', oid: '1.2.840.113549.1.9.1', kind: 'ia5', max: 255 },
  // X.520 defines serialNumber as a PrintableString.
  { name: 'serialNumber', oid: '2.5.4.5', kind: 'printable', max: 64 },
];

export type DnAttributeName = (typeof DN_ATTRIBUTES)[number]['name'];

/** Characters that follow a backslash as themselves (RFC 4514 section 3, `escaped`). */
const ESCAPABLE = new Set([',', '+', '"', '\\', '<', '>', ';', '=', '#', ' ']);

/**
 * RFC 4514 section 2.4 escaping of one attribute value: `, + " \ < > ; =` anywhere (`=` is not
 * required, but harmless and clearer), a leading `#` or space, a trailing space, and NUL as `\00`.
 * Every character is escaped at most once: a value that is one space is `\ `.
 */
export function escapeDnValue(value: string): string {
  const chars = [...value];
  return chars
    .map((ch, i) => {
      if (ch === '\0') return '\\00';
      if (ch === ' ') return i === 0 || i === chars.length - 1 ? '\\ ' : ' ';
      if (ch === '#') return i === 0 ? '\\#' : '#';
      return ESCAPABLE.has(ch) ? `\\${ch}` : ch;
    })
    .join('');
}

/** One `type=value` piece of a DN's text, its value still escaped. */
export interface DnPair {
  readonly type: string;
  readonly value: string;
  /** Whether a '+' (multi-valued RDN) follows this pair. */
  readonly plus: boolean;
}

/** Splits RFC 4514 text on unescaped ',' and '+' (and the first '=' of each pair). */
export function splitDn(text: string, parameter = 'Subject'): DnPair[] {
  const pairs: DnPair[] = [];
  let type: string | undefined;
  let current = '';
  const finish = (plus: boolean): void => {
    if (type === undefined) throw invalidParameter(parameter, `"${current.trim()}" is not of the form type=value`);
    pairs.push({ type, value: current, plus });
    type = undefined;
    current = '';
  };
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i]!;
    if (ch === '\\') {
      if (i + 1 >= text.length) throw invalidParameter(parameter, 'ends with a lone backslash');
      current += ch + text[i + 1]!;
      i += 1;
    } else if (ch === '=' && type === undefined) {
      type = current.trim();
      current = '';
    } else if (ch === ',' || ch === '+') {
      finish(ch === '+');
    } else {
      current += ch;
    }
  }
  finish(false);
  return pairs;
}

function isEscapedAt(text: string, index: number): boolean {
  let slashes = 0;
  for (let i = index - 1; i >= 0 && text[i] === '\\'; i -= 1) slashes += 1;
  return slashes % 2 === 1;
}

/**
 * RFC 4514 section 2.4 unescaping of one value as splitDn gives it: `\` + a special, or `\` + two
 * hex digits (UTF-8 bytes). Unescaped leading and trailing spaces are not part of the value.
 */
export function unescapeDnValue(raw: string, attribute: string, parameter = 'Subject'): string {
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  let start = 0;
  let end = raw.length;
  while (start < end && raw[start] === ' ') start += 1;
  while (end > start && raw[end - 1] === ' ' && !isEscapedAt(raw, end - 1)) end -= 1;
  const text = raw.slice(start, end);
  if (text.startsWith('#')) throw invalidParameter(parameter, `${attribute}: hex-encoded (#...) values are not supported`);
  for (let i = 0; i < text.length; i += 1) {
    const ch = String.fromCodePoint(text.codePointAt(i)!);
    if (ch !== '\\') {
      if (ch === '"' || ch === '<' || ch === '>' || ch === ';' || ch === '\0') {
        throw invalidParameter(parameter, `${attribute}: the character ${ch === '\0' ? 'NUL' : ch} must be escaped with a backslash`);
      }
      bytes.push(...encoder.encode(ch));
      i += ch.length - 1;
      continue;
    }
    const next = text[i + 1]!;
    if (ESCAPABLE.has(next)) {
      bytes.push(next.charCodeAt(0));
      i += 1;
    } else if (/^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      throw invalidParameter(parameter, `${attribute}: invalid escape \\${next}`);
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
  } catch {
    throw invalidParameter(parameter, `${attribute}: hex escapes do not form valid UTF-8`);
  }
}
