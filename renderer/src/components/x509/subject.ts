// The CSR wizard's model: subject fields composed into the RFC 4514 text the vault parses
// (core/x509/name.ts with core/contract/dn.ts: CN, O, OU, L, ST, C, emailAddress, serialNumber; backslash escapes), subject
// alternative names as "DNS:x" / "IP:x" / "email:x" / "URI:x", and the keyUsage and
// extendedKeyUsage names it accepts; the validity and path-length checks of the CSR and CA
// dialogs. Pure functions, shared with the unit test. Escaping is the vault's own (core/contract/dn.ts).
import { escapeDnValue } from '../../../../core/contract/dn.ts';

export { escapeDnValue };

export const SUBJECT_FIELDS = [
  { name: 'CN', label: 'Common name (CN)', placeholder: 'release.example.com' },
  { name: 'O', label: 'Organization (O)', placeholder: 'Example, Inc.' },
  { name: 'OU', label: 'Organizational unit (OU)', placeholder: 'Release engineering' },
  { name: 'L', label: 'Locality (L)', placeholder: 'Hangzhou' },
  { name: 'ST', label: 'State or province (ST)', placeholder: 'Zhejiang' },
  { name: 'C', label: 'Country (C, two letters)', placeholder: 'CN' },
  { name: 'emailAddress', label: 'Email address', placeholder: 'pki@example.com' },
  { name: 'serialNumber', label: 'Serial number (subject attribute)', placeholder: '' },
] as const;

export type SubjectName = (typeof SUBJECT_FIELDS)[number]['name'];
export type SubjectFields = Partial<Record<SubjectName, string>>;

/** Written most specific first, as in "CN=...,O=...,C=CN" (the vault encodes them in reverse). */
const ORDER: readonly SubjectName[] = ['CN', 'serialNumber', 'emailAddress', 'OU', 'O', 'L', 'ST', 'C'];

/** The Subject parameter from the filled-in fields (values trimmed; empty fields left out). */
export function composeSubject(fields: SubjectFields): string {
  return ORDER.flatMap((name) => {
    const value = fields[name]?.trim() ?? '';
    return value === '' ? [] : [`${name}=${escapeDnValue(value)}`];
  }).join(',');
}

/** What the form can tell before the vault does (the vault checks everything again). */
export function subjectProblem(fields: SubjectFields): string {
  if (composeSubject(fields) === '') return 'Fill in at least one subject field (usually the common name).';
  const c = fields.C?.trim() ?? '';
  if (c !== '' && !/^[A-Za-z]{2}$/.test(c)) return 'Country must be a two-letter code such as CN or DE.';
  const email = fields.emailAddress?.trim() ?? '';
  if (email !== '' && !/^[\x21-\x7e]+@[\x21-\x7e]+$/.test(email)) return 'Email address must be an ASCII address such as pki@example.com.';
  return '';
}

export const SAN_TYPES = [
  { type: 'DNS', label: 'DNS name', placeholder: 'www.example.com' },
  { type: 'IP', label: 'IP address', placeholder: '192.0.2.7 or 2001:db8::1' },
  { type: 'email', label: 'Email', placeholder: 'pki@example.com' },
  { type: 'URI', label: 'URI', placeholder: 'https://example.com/' },
] as const;

export type SanType = (typeof SAN_TYPES)[number]['type'];

export interface SanRow {
  readonly id: number;
  readonly type: SanType;
  readonly value: string;
}

/** Filled-in rows as the vault's "TYPE:value" strings. */
export function sanStrings(rows: readonly SanRow[]): string[] {
  return rows.filter((r) => r.value.trim() !== '').map((r) => `${r.type}:${r.value.trim()}`);
}

export const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
] as const;

export const EXTENDED_KEY_USAGES = ['serverAuth', 'clientAuth', 'codeSigning', 'emailProtection', 'timeStamping', 'OCSPSigning'] as const;

/** `text` as a whole number from `min` to `max`, or undefined. */
export function wholeNumber(text: string, min: number, max: number): number | undefined {
  if (!/^\d{1,6}$/.test(text.trim())) return undefined;
  const n = Number(text.trim());
  return n >= min && n <= max ? n : undefined;
}

/** "" when `days` is a certificate validity the vault takes (1 to 36500 days), else the problem. */
export function validityProblem(days: string): string {
  return wholeNumber(days, 1, 36500) === undefined ? 'Validity must be 1 to 36500 days.' : '';
}

/** "" when `pathLen` is empty (no limit) or 0 to 100, as the vault takes it, else the problem. */
export function pathLenProblem(pathLen: string): string {
  return pathLen.trim() !== '' && wholeNumber(pathLen, 0, 100) === undefined ? 'Path length must be 0 to 100, or empty for no limit.' : '';
}

/** The PathLen parameter: present only when one was typed. */
export function pathLenParam(pathLen: string): { PathLen?: number } {
  return pathLen.trim() !== '' ? { PathLen: Number(pathLen.trim()) } : {};
}
