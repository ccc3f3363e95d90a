// PKCS#10 certification requests (RFC 2986) for SIGN/VERIFY keys, for handing to an offline CA.
// Every structure is built with the @peculiar/asn1-* classes; the signature comes from a callback
// that receives the Digest AsymmetricSign expects (in the product: the key worker), so the private
// key never reaches this module. Runtime: Node.
import { isIP } from 'node:net';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  Attribute,
  AttributeTypeAndValue,
  AttributeValue,
  BasicConstraints,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectPublicKeyInfo,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_kp_OCSPSigning,
  id_kp_clientAuth,
  id_kp_codeSigning,
  id_kp_emailProtection,
  id_kp_serverAuth,
  id_kp_timeStamping,
} from '@peculiar/asn1-x509';
import { Attributes, CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { RsaSaPssParams, id_RSASSA_PSS, id_mgf1, id_sha256, id_sha256WithRSAEncryption } from '@peculiar/asn1-rsa';
import { KmsError, invalidParameter } from '../contract/errors.ts';
import { DN_ATTRIBUTES, splitDn, unescapeDnValue, type DnAttribute } from '../contract/dn.ts';
import type { KeySpec, SigningAlgorithm } from '../contract/specs.ts';
import { assertAlgorithmFor, digestMessage, importPublicKey } from '../crypto/engine.ts';
import { encodePem } from '../crypto/pem.ts';

export interface CsrRequest {
  /**
   * RFC 4514 text, e.g. "CN=example.com,O=Example\\, Inc.,C=CN". As in RFC 4514 the first RDN
   * written is the last one encoded (the most specific), so that example is encoded C, O, CN.
   */
  subject: string;
  /** "DNS:name" | "IP:1.2.3.4" | "IP:2001:db8::1" | "email:a@b" | "URI:https://..." */
  sans?: string[];
  /** digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment, keyAgreement, keyCertSign, cRLSign */
  keyUsage?: string[];
  /** serverAuth, clientAuth, codeSigning, emailProtection, timeStamping, OCSPSigning, or a dotted OID */
  extKeyUsage?: string[];
  basicConstraints?: { ca: boolean; pathLen?: number };
}

export interface CsrKey {
  spec: KeySpec;
  /** SubjectPublicKeyInfo, DER. */
  spki: Uint8Array;
  algorithm: SigningAlgorithm;
}

/** PKCS#9 extensionRequest. */
export const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
/** GM/T 0006 SM2-with-SM3 signature. */
export const OID_SM2_WITH_SM3 = '1.2.156.10197.1.501';
export const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';

// ---------------------------------------------------------------------------------------------
// Subject

// The attributes and RFC 4514 escaping live in core/contract/dn.ts, shared with the renderer.
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

// ---------------------------------------------------------------------------------------------
// Extensions

const KEY_USAGES: Readonly<Record<string, KeyUsageFlags>> = {
  digitalSignature: KeyUsageFlags.digitalSignature,
  nonRepudiation: KeyUsageFlags.nonRepudiation,
  keyEncipherment: KeyUsageFlags.keyEncipherment,
  dataEncipherment: KeyUsageFlags.dataEncipherment,
  keyAgreement: KeyUsageFlags.keyAgreement,
  keyCertSign: KeyUsageFlags.keyCertSign,
  cRLSign: KeyUsageFlags.cRLSign,
};

const EXT_KEY_USAGES: Readonly<Record<string, string>> = {
  serverAuth: id_kp_serverAuth,
  clientAuth: id_kp_clientAuth,
  codeSigning: id_kp_codeSigning,
  emailProtection: id_kp_emailProtection,
  timeStamping: id_kp_timeStamping,
  OCSPSigning: id_kp_OCSPSigning,
};

const DOTTED_OID = /^[0-2](\.(0|[1-9][0-9]*))+$/;
const DNS_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
const EMAIL = /^[\x21-\x3f\x41-\x7e]+@[\x21-\x3f\x41-\x7e]+$/;

export function extension(extnID: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

function isDnsName(name: string): boolean {
  if (name.length > 253) return false;
  const labels = name.split('.');
  if (labels[0] === '*' && labels.length > 2) labels.shift();
  return labels.length > 0 && labels.every((label) => DNS_LABEL.test(label));
}

function generalName(text: string): GeneralName {
  if (typeof text !== 'string') throw invalidParameter('SubjectAlternativeNames', `${typeof text} is not a SAN`);
  const colon = text.indexOf(':');
  const kind = colon < 0 ? '' : text.slice(0, colon).toUpperCase();
  const value = colon < 0 ? '' : text.slice(colon + 1);
  const bad = (why: string): KmsError => invalidParameter('SubjectAlternativeNames', `"${text}" ${why}`);
  switch (kind) {
    case 'DNS':
      if (!isDnsName(value)) throw bad('is not a valid DNS name');
      return new GeneralName({ dNSName: value });
    case 'IP': {
      const version = isIP(value);
      if (version === 4) return new GeneralName({ iPAddress: value });
      if (version === 6 && !value.includes('%')) {
        // The WHATWG URL parser rewrites an embedded IPv4 tail (::ffff:1.2.3.4) into hex groups.
        return new GeneralName({ iPAddress: new URL(`http://[${value}]/`).hostname.slice(1, -1) });
      }
      throw bad('is not a valid IPv4 or IPv6 address');
    }
    case 'EMAIL':
      if (!EMAIL.test(value)) throw bad('is not a valid email address');
      return new GeneralName({ rfc822Name: value });
    case 'URI': {
      if (!/^[\x21-\x7e]+$/.test(value) || !URL.canParse(value)) throw bad('is not a valid absolute URI');
      return new GeneralName({ uniformResourceIdentifier: value });
    }
    default:
      throw bad('must start with DNS:, IP:, email: or URI:');
  }
}

function extensionsOf(request: CsrRequest): Extension[] {
  const extensions: Extension[] = [];
  const { basicConstraints: bc, keyUsage, extKeyUsage, sans } = request;
  if (bc !== undefined) {
    if (typeof bc.ca !== 'boolean') throw invalidParameter('BasicConstraints', 'ca must be true or false');
    if (bc.pathLen !== undefined) {
      if (!bc.ca) throw invalidParameter('BasicConstraints', 'pathLen is allowed only when ca is true');
      if (!Number.isSafeInteger(bc.pathLen) || bc.pathLen < 0) throw invalidParameter('BasicConstraints', 'pathLen must be a non-negative integer');
    }
    const value = new BasicConstraints({ cA: bc.ca, ...(bc.pathLen !== undefined ? { pathLenConstraint: bc.pathLen } : {}) });
    extensions.push(extension(id_ce_basicConstraints, true, value));
  }
  if (keyUsage !== undefined && keyUsage.length > 0) {
    let flags = 0;
    for (const usage of keyUsage) {
      const flag = Object.hasOwn(KEY_USAGES, usage) ? KEY_USAGES[usage] : undefined;
      if (flag === undefined) throw invalidParameter('KeyUsage', `unknown key usage "${usage}"; supported: ${Object.keys(KEY_USAGES).join(', ')}`);
      flags |= flag;
    }
    extensions.push(extension(id_ce_keyUsage, true, new KeyUsage(flags)));
  }
  if (extKeyUsage !== undefined && extKeyUsage.length > 0) {
    const oids: string[] = [];
    for (const usage of extKeyUsage) {
      const oid = Object.hasOwn(EXT_KEY_USAGES, usage) ? EXT_KEY_USAGES[usage] : DOTTED_OID.test(usage) ? usage : undefined;
      if (oid === undefined) {
        throw invalidParameter('ExtendedKeyUsage', `unknown extended key usage "${usage}"; supported: ${Object.keys(EXT_KEY_USAGES).join(', ')} or a dotted OID`);
      }
      if (!oids.includes(oid)) oids.push(oid);
    }
    extensions.push(extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage(oids)));
  }
  if (sans !== undefined && sans.length > 0) {
    extensions.push(extension(id_ce_subjectAltName, false, new SubjectAlternativeName(sans.map(generalName))));
  }
  return extensions;
}

// ---------------------------------------------------------------------------------------------
// Signature algorithm and the request itself

const DER_NULL = new Uint8Array([0x05, 0x00]).buffer;

export function signatureAlgorithm(algorithm: SigningAlgorithm): AlgorithmIdentifier {
  switch (algorithm) {
    case 'RSA_PKCS1_SHA_256':
      return new AlgorithmIdentifier({ algorithm: id_sha256WithRSAEncryption, parameters: DER_NULL });
    case 'RSA_PSS_SHA_256': {
      const sha256 = new AlgorithmIdentifier({ algorithm: id_sha256, parameters: DER_NULL });
      const params = new RsaSaPssParams({
        hashAlgorithm: sha256,
        maskGenAlgorithm: new AlgorithmIdentifier({ algorithm: id_mgf1, parameters: AsnConvert.serialize(sha256) }),
        saltLength: 32,
      });
      return new AlgorithmIdentifier({ algorithm: id_RSASSA_PSS, parameters: AsnConvert.serialize(params) });
    }
    case 'ECDSA_SHA_256':
      return new AlgorithmIdentifier({ algorithm: OID_ECDSA_WITH_SHA256 });
    case 'SM2DSA':
      return new AlgorithmIdentifier({ algorithm: OID_SM2_WITH_SM3 });
  }
}

/**
 * A DER CertificationRequest for `key`, signed by `signDigest`, which receives the Digest of the
 * DER CertificationRequestInfo exactly as AsymmetricSign takes it (SHA-256, or SM3(Z_A || M) with
 * the ID 1234567812345678 for SM2DSA) and returns the signature as AsymmetricSign does (RSA raw,
 * ECDSA/SM2 DER SEQUENCE { r, s }).
 */
export async function buildCsr(
  request: CsrRequest,
  key: CsrKey,
  signDigest: (digest: Uint8Array) => Promise<Uint8Array>,
): Promise<Uint8Array> {
  const algorithm = assertAlgorithmFor(key.spec, key.algorithm, 'SIGN/VERIFY') as SigningAlgorithm;
  const publicKey = importPublicKey(key.spki);
  if (publicKey.spec !== key.spec) throw invalidParameter('PublicKey', `is a ${publicKey.spec} key, expected ${key.spec}`);
  if (typeof request !== 'object' || request === null) throw invalidParameter('Request', 'must be an object');

  const subject = parseSubject(request.subject);
  const extensions = extensionsOf(request);
  const attributes = new Attributes(
    extensions.length > 0
      ? [new Attribute({ type: OID_EXTENSION_REQUEST, values: [AsnConvert.serialize(new Extensions(extensions))] })]
      : [],
  );
  const info = new CertificationRequestInfo({
    version: 0,
    subject,
    subjectPKInfo: AsnConvert.parse(publicKey.spki, SubjectPublicKeyInfo),
    attributes,
  });
  const tbs = new Uint8Array(AsnConvert.serialize(info));
  const digest = await digestMessage(publicKey, algorithm, tbs);
  const signature = await signDigest(digest);
  const csr = new CertificationRequest({
    certificationRequestInfo: info,
    signatureAlgorithm: signatureAlgorithm(algorithm),
    signature: new Uint8Array(signature).buffer,
  });
  const der = new Uint8Array(AsnConvert.serialize(csr));
  // The encoder must have reproduced the signed bytes; a mismatch would give an unverifiable CSR.
  if (!containsAt(der, tbs)) throw new KmsError('InternalFailure', 'CSR encoding did not reproduce the signed request info');
  return der;
}

export function containsAt(outer: Uint8Array, inner: Uint8Array): boolean {
  // CertificationRequest is SEQUENCE { info, ... }: the info starts right after the outer header.
  const headerLength = outer[1]! < 0x80 ? 2 : 2 + (outer[1]! & 0x7f);
  if (outer.length < headerLength + inner.length) return false;
  for (let i = 0; i < inner.length; i += 1) if (outer[headerLength + i] !== inner[i]) return false;
  return true;
}

export function csrPem(der: Uint8Array): string {
  return encodePem(der, 'CERTIFICATE REQUEST');
}
