// X.509 Names and their RFC 4514 text, both ways: the subject of a CSR or certificate from text
// (with the attribute's string type and length limit), and a certificate's Name as text. The
// attribute table and RFC 4514 escaping live in core/contract/dn.ts, shared with the renderer.
// Runtime: any.
import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from '@peculiar/asn1-x509';
import { invalidParameter } from '../contract/errors.ts';
import { DN_ATTRIBUTES, escapeDnValue, splitDn, unescapeDnValue, type DnAttribute } from '../contract/dn.ts';

export type SubjectAttribute = DnAttribute;
export const SUBJECT_ATTRIBUTES = DN_ATTRIBUTES;

const SUBJECT_NAMES = SUBJECT_ATTRIBUTES.map((a) => a.name).join(', ');
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]+$/;
const ASCII = /^[\x20-\x7e]+$/;

function attributeValue(attribute: SubjectAttribute, value: string): AttributeValue {
  const length = [...value].length;
  if (length === 0) throw invalidParameter('Subject', `${attribute.name} is empty`);
  if (attribute.name === 'C' && !/^[A-Za-z]{2}$/.test(value)) {
    throw invalidParameter('Subject', `C must be a two-letter country code, got "${value}"`);
  }
  if (length > attribute.max) throw invalidParameter('Subject', `${attribute.name} is longer than ${attribute.max} characters`);
  switch (attribute.kind) {
    case 'printable':
      if (!PRINTABLE.test(value)) throw invalidParameter('Subject', `${attribute.name} has characters a PrintableString cannot hold`);
      return new AttributeValue({ printableString: attribute.name === 'C' ? value.toUpperCase() : value });
    case 'ia5':
      if (!ASCII.test(value)) throw invalidParameter('Subject', `${attribute.name} must be printable ASCII`);
      return new AttributeValue({ ia5String: value });
    case 'utf8':
      return new AttributeValue({ utf8String: value });
  }
}

/**
 * A Name from RFC 4514 text: CN, O, OU, L, ST, C, emailAddress and serialNumber (names matched
 * case-insensitively), '+' for multi-valued RDNs, backslash escapes (`\,` or `\2C`).
 */
export function parseSubject(text: string): Name {
  if (typeof text !== 'string' || text.trim() === '') throw invalidParameter('Subject', 'is empty');
  const rdns: RelativeDistinguishedName[] = [];
  let rdn: AttributeTypeAndValue[] = [];
  for (const pair of splitDn(text)) {
    if (pair.type === '') throw invalidParameter('Subject', 'has an attribute with no name');
    const attribute = SUBJECT_ATTRIBUTES.find((a) => a.name.toLowerCase() === pair.type.toLowerCase());
    if (!attribute) throw invalidParameter('Subject', `unknown attribute "${pair.type}"; supported: ${SUBJECT_NAMES}`);
    rdn.push(new AttributeTypeAndValue({ type: attribute.oid, value: attributeValue(attribute, unescapeDnValue(pair.value, attribute.name)) }));
    if (!pair.plus) {
      rdns.push(new RelativeDistinguishedName(rdn));
      rdn = [];
    }
  }
  // RFC 4514 writes the RDNSequence last-first.
  return new Name(rdns.reverse());
}

const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = Object.fromEntries(SUBJECT_ATTRIBUTES.map((a) => [a.oid, a.name]));

/** RFC 4514 text of a Name, most specific RDN first (unknown attribute types as dotted OIDs). */
export function formatName(name: Name): string {
  return [...name]
    .reverse()
    .map((rdn) => rdn.map((atv) => `${ATTRIBUTE_NAMES[atv.type] ?? atv.type}=${escapeDnValue(atv.value.toString())}`).join('+'))
    .join(',');
}
