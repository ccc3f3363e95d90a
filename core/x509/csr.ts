// PKCS#10 certification requests (RFC 2986) for SIGN/VERIFY keys, for handing to an offline CA:
// the request's extensions from their text (SANs, key usages, basic constraints) and the signed
// request. The subject Name is core/x509/name.ts and the signature AlgorithmIdentifier
// core/x509/signature-algorithm.ts (both shared with certificate.ts). Every structure is built
// with the @peculiar/asn1-* classes; the signature comes from a callback that receives the Digest
// AsymmetricSign expects (in the product: the key worker), so the private key never reaches this
// module. Runtime: Node.
import { isIP } from 'node:net';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  Attribute,
  BasicConstraints,
  ExtendedKeyUsage,
  type Extension,
  Extensions,
  GeneralName,
  KeyUsage,
  KeyUsageFlags,
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
import { KmsError, invalidParameter } from '../contract/errors.ts';
import type { KeySpec, SigningAlgorithm } from '../contract/specs.ts';
import { assertAlgorithmFor, digestMessage, importPublicKey } from '../crypto/engine.ts';
import { encodePem } from '../crypto/pem.ts';
import { containsAt, extension } from './encoding.ts';
import { parseSubject } from './name.ts';
import { signatureAlgorithm } from './signature-algorithm.ts';

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
// The request itself

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

export function csrPem(der: Uint8Array): string {
  return encodePem(der, 'CERTIFICATE REQUEST');
}
