// X.509 v3 certificates (RFC 5280): a self-signed root CA, and certificates issued from PKCS#10
// requests (core/x509/csr.ts) by such a CA. As in csr.ts every structure is built with the
// @peculiar/asn1-* classes and the signature comes from a callback that receives the Digest
// AsymmetricSign expects (in the product: the key worker), so the CA's private key never reaches
// this module. Runtime: Node.
import { createHash, randomBytes } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  type Extension,
  Extensions,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Time,
  Validity,
  Version,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_clientAuth,
  id_kp_serverAuth,
} from '@peculiar/asn1-x509';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { KmsError, invalidParameter } from '../contract/errors.ts';
import type { SigningAlgorithm } from '../contract/specs.ts';
import { assertAlgorithmFor, digestMessage, importPublicKey, verifyDigest, type PublicKey } from '../crypto/engine.ts';
import { encodePem } from '../crypto/pem.ts';
import { OID_EXTENSION_REQUEST, type CsrKey } from './csr.ts';
import { containsAt, extension } from './encoding.ts';
import { formatName, parseSubject } from './name.ts';
import { signatureAlgorithm, signingAlgorithmOf } from './signature-algorithm.ts';

/** The key that signs: for a root, the root's own key; for an issued certificate, the CA's. */
export type CertificateKey = CsrKey;

/** Receives the Digest of the DER TBSCertificate (as AsymmetricSign takes it) and returns the signature. */
export type DigestSigner = (digest: Uint8Array) => Promise<Uint8Array>;

export interface RootCertificateOptions {
  /** RFC 4514 text, as for buildCsr. */
  subject: string;
  notBefore: Date;
  notAfter: Date;
  /** basicConstraints pathLenConstraint; absent = unlimited. */
  pathLen?: number;
  /** Adds digitalSignature to keyCertSign | cRLSign (e.g. for a CA that also signs OCSP responses). */
  digitalSignature?: boolean;
}

export type IssuancePolicy = 'copy-requested-extensions' | 'leaf-defaults';

export interface IssueOptions {
  notBefore: Date;
  notAfter: Date;
  policy: IssuancePolicy;
  /** Issue an intermediate CA (CA:TRUE) certificate; only then is the result a CA. */
  ca?: { pathLen?: number };
}

export interface IssuingCa extends CertificateKey {
  /** The CA's certificate, DER. */
  certificate: Uint8Array;
}

export interface ParsedCertificate {
  /** RFC 4514 text (most specific RDN first), as parseSubject reads it. */
  subject: string;
  issuer: string;
  /** The serial number's DER INTEGER content, lower-case hex. */
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  /** SubjectPublicKeyInfo, DER. */
  spki: Uint8Array;
}

/** IssueCertificate's wire parameter for the request: errors about the CSR name it. */
const CSR_PARAMETER = 'Csr';

const SERIAL_BYTES = 16;
/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050 (and before 1950). */
const UTC_TIME_FIRST_YEAR = 1950;
const UTC_TIME_LAST_YEAR = 2049;

// ---------------------------------------------------------------------------------------------
// Pieces shared by both kinds of certificate

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's value (no tag, length or unused-bits byte). */
export function subjectKeyIdentifier(spki: Uint8Array): Uint8Array {
  const info = AsnConvert.parse(spki, SubjectPublicKeyInfo);
  return new Uint8Array(createHash('sha1').update(new Uint8Array(info.subjectPublicKey)).digest());
}

/** 16 random bytes, top bit clear (positive) and first byte non-zero (minimal DER, never zero). */
function randomSerial(): ArrayBuffer {
  for (;;) {
    const serial = new Uint8Array(randomBytes(SERIAL_BYTES));
    serial[0]! &= 0x7f;
    if (serial[0] !== 0) return serial.buffer;
  }
}

function certificateTime(date: Date, parameter: string): Time {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw invalidParameter(parameter, 'must be a valid Date');
  // DER times carry whole seconds only (RFC 5280 forbids fractional seconds).
  const whole = new Date(Math.floor(date.getTime() / 1000) * 1000);
  const year = whole.getUTCFullYear();
  if (year < 1 || year > 9999) throw invalidParameter(parameter, 'must be between years 0001 and 9999');
  return year >= UTC_TIME_FIRST_YEAR && year <= UTC_TIME_LAST_YEAR ? new Time({ utcTime: whole }) : new Time({ generalTime: whole });
}

function validity(notBefore: Date, notAfter: Date): Validity {
  const validity = new Validity();
  validity.notBefore = certificateTime(notBefore, 'NotBefore');
  validity.notAfter = certificateTime(notAfter, 'NotAfter');
  if (validity.notAfter.getTime().getTime() <= validity.notBefore.getTime().getTime()) {
    throw invalidParameter('NotAfter', 'must be later than NotBefore');
  }
  return validity;
}

function assertPathLen(pathLen: number | undefined): void {
  if (pathLen !== undefined && (!Number.isSafeInteger(pathLen) || pathLen < 0)) {
    throw invalidParameter('PathLen', 'must be a non-negative integer');
  }
}

function basicConstraints(ca: boolean, pathLen?: number): Extension {
  return extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: ca, ...(pathLen !== undefined ? { pathLenConstraint: pathLen } : {}) }));
}

function keyUsage(flags: number): Extension {
  return extension(id_ce_keyUsage, true, new KeyUsage(flags));
}

/** Checks the signer's key and algorithm, signs the TBSCertificate, and checks the result. */
async function sign(tbs: TBSCertificate, signer: PublicKey, algorithm: SigningAlgorithm, signDigest: DigestSigner): Promise<Uint8Array> {
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs));
  const digest = await digestMessage(signer, algorithm, tbsDer);
  const signature = new Uint8Array(await signDigest(digest));
  // A signer holding the wrong key (or a wrong algorithm) would give an unverifiable certificate.
  let valid: boolean;
  try {
    valid = verifyDigest(signer, algorithm, digest, signature);
  } catch {
    valid = false;
  }
  if (!valid) throw new KmsError('InternalFailure', 'the signer returned a signature that does not verify with the CA public key');
  const der = new Uint8Array(
    AsnConvert.serialize(new Certificate({ tbsCertificate: tbs, signatureAlgorithm: tbs.signature, signatureValue: signature.slice().buffer })),
  );
  if (!containsAt(der, tbsDer)) throw new KmsError('InternalFailure', 'certificate encoding did not reproduce the signed TBSCertificate');
  return der;
}

function signerKey(key: CertificateKey, parameter: string): { publicKey: PublicKey; algorithm: SigningAlgorithm } {
  const algorithm = assertAlgorithmFor(key.spec, key.algorithm, 'SIGN/VERIFY') as SigningAlgorithm;
  const publicKey = importPublicKey(key.spki, parameter);
  if (publicKey.spec !== key.spec) throw invalidParameter(parameter, `is a ${publicKey.spec} key, expected ${key.spec}`);
  return { publicKey, algorithm };
}

// ---------------------------------------------------------------------------------------------
// Root CA

/**
 * A self-signed root CA certificate (subject = issuer): basicConstraints CA:TRUE (critical, with
 * pathLen when given), keyUsage keyCertSign | cRLSign (critical, + digitalSignature on request),
 * subjectKeyIdentifier (method 1) and authorityKeyIdentifier = the same key identifier.
 */
export async function selfSignCertificate(options: RootCertificateOptions, key: CertificateKey, signDigest: DigestSigner): Promise<Uint8Array> {
  if (typeof options !== 'object' || options === null) throw invalidParameter('Options', 'must be an object');
  const { publicKey, algorithm } = signerKey(key, 'PublicKey');
  assertPathLen(options.pathLen);
  const name = parseSubject(options.subject);
  const ski = subjectKeyIdentifier(publicKey.spki);
  let usage = KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign;
  if (options.digitalSignature === true) usage |= KeyUsageFlags.digitalSignature;
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: randomSerial(),
    signature: signatureAlgorithm(algorithm),
    issuer: name,
    validity: validity(options.notBefore, options.notAfter),
    subject: name,
    subjectPublicKeyInfo: AsnConvert.parse(publicKey.spki, SubjectPublicKeyInfo),
    extensions: new Extensions([
      basicConstraints(true, options.pathLen),
      keyUsage(usage),
      extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(ski)),
      extension(id_ce_authorityKeyIdentifier, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(ski) })),
    ]),
  });
  return sign(tbs, publicKey, algorithm, signDigest);
}

// ---------------------------------------------------------------------------------------------
// Issuing from a CSR

function parseStrict<T>(der: Uint8Array, type: new () => T, parameter: string, what: string): T {
  let parsed: T;
  try {
    parsed = AsnConvert.parse(der, type);
  } catch {
    throw invalidParameter(parameter, `is not a DER-encoded ${what}`);
  }
  // Re-encoding must give back the input: refuses BER, trailing bytes and anything the schema dropped.
  if (!equalBytes(new Uint8Array(AsnConvert.serialize(parsed)), der)) throw invalidParameter(parameter, `is not a DER-encoded ${what}`);
  return parsed;
}

/** The extensions of the CSR's PKCS#9 extensionRequest attribute (empty when there is none). */
function requestedExtensions(csr: CertificationRequest): Map<string, Extension> {
  const found = new Map<string, Extension>();
  const attributes = csr.certificationRequestInfo.attributes.filter((a) => a.type === OID_EXTENSION_REQUEST);
  if (attributes.length > 1 || (attributes.length === 1 && attributes[0]!.values.length !== 1)) {
    throw invalidParameter(CSR_PARAMETER, 'has more than one extensionRequest');
  }
  if (attributes.length === 0) return found;
  let extensions: Extensions;
  try {
    extensions = AsnConvert.parse(attributes[0]!.values[0]!, Extensions);
  } catch {
    throw invalidParameter(CSR_PARAMETER, 'has a malformed extensionRequest');
  }
  for (const ext of extensions) {
    if (found.has(ext.extnID)) throw invalidParameter(CSR_PARAMETER, `requests extension ${ext.extnID} twice`);
    found.set(ext.extnID, ext);
  }
  return found;
}

function parseExtensionValue<T>(ext: Extension, type: new () => T, what: string, parameter = CSR_PARAMETER): T {
  try {
    return AsnConvert.parse(ext.extnValue.buffer, type);
  } catch {
    throw invalidParameter(parameter, `has a malformed ${what} extension`);
  }
}

/**
 * The extensions of an issued certificate. Always set by the CA, whatever the request says:
 * subjectKeyIdentifier (of the request's key), authorityKeyIdentifier (the CA's SKI) and
 * basicConstraints (critical; CA:TRUE with options.ca.pathLen only when options.ca is given,
 * otherwise CA:FALSE — a requested CA:TRUE is never copied).
 *
 * 'copy-requested-extensions': subjectAltName is copied unchanged (criticality included);
 *   extKeyUsage is copied (non-critical); keyUsage is copied (critical) except that, for a
 *   non-CA certificate, keyCertSign and cRLSign are removed (RFC 5280 4.2.1.3 ties them to
 *   CA:TRUE) and digitalSignature is used if nothing is left; for a CA certificate keyUsage
 *   becomes keyCertSign | cRLSign plus the requested bits. Every other requested extension
 *   (basicConstraints, SKI, AKI, unknown OIDs) is dropped.
 * 'leaf-defaults': only subjectAltName is copied; a leaf gets keyUsage digitalSignature and
 *   extKeyUsage serverAuth, clientAuth; a CA (options.ca) gets keyUsage
 *   keyCertSign | cRLSign | digitalSignature and no extKeyUsage.
 */
function issuedExtensions(
  requested: Map<string, Extension>,
  options: IssueOptions,
  subjectSpki: Uint8Array,
  caSki: Uint8Array,
  subjectIsEmpty: boolean,
): Extension[] {
  const isCa = options.ca !== undefined;
  const extensions: Extension[] = [basicConstraints(isCa, options.ca?.pathLen)];
  const requestedUsage = requested.get(id_ce_keyUsage);
  const requestedFlags = requestedUsage ? parseExtensionValue(requestedUsage, KeyUsage, 'keyUsage').toNumber() : 0;
  const caFlags = KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign;
  if (options.policy === 'copy-requested-extensions') {
    if (isCa) {
      extensions.push(keyUsage(caFlags | requestedFlags));
    } else if (requestedUsage) {
      const flags = requestedFlags & ~caFlags;
      extensions.push(keyUsage(flags === 0 ? KeyUsageFlags.digitalSignature : flags));
    }
    const eku = requested.get(id_ce_extKeyUsage);
    if (eku) extensions.push(extension(id_ce_extKeyUsage, false, parseExtensionValue(eku, ExtendedKeyUsage, 'extKeyUsage')));
  } else {
    extensions.push(keyUsage(isCa ? caFlags | KeyUsageFlags.digitalSignature : KeyUsageFlags.digitalSignature));
    if (!isCa) extensions.push(extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage([id_kp_serverAuth, id_kp_clientAuth])));
  }
  const san = requested.get(id_ce_subjectAltName);
  if (san) {
    const names = parseExtensionValue(san, SubjectAlternativeName, 'subjectAltName');
    if (names.length === 0) throw invalidParameter(CSR_PARAMETER, 'has an empty subjectAltName');
    // RFC 5280 4.2.1.6: with an empty subject the SAN extension must be critical.
    extensions.push(extension(id_ce_subjectAltName, san.critical || subjectIsEmpty, names));
  } else if (subjectIsEmpty) {
    throw invalidParameter(CSR_PARAMETER, 'has neither a subject nor a subjectAltName');
  }
  extensions.push(extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(subjectKeyIdentifier(subjectSpki))));
  extensions.push(extension(id_ce_authorityKeyIdentifier, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(caSki) })));
  return extensions;
}

/** The CSR, parsed strictly, after its own signature has been checked. */
async function verifiedCsr(csrDer: Uint8Array): Promise<CertificationRequest> {
  if (!(csrDer instanceof Uint8Array)) throw invalidParameter(CSR_PARAMETER, 'must be DER bytes');
  const csr = parseStrict(csrDer, CertificationRequest, CSR_PARAMETER, 'PKCS#10 CertificationRequest');
  const info = csr.certificationRequestInfo;
  if (info.version !== 0) throw invalidParameter(CSR_PARAMETER, `has version ${info.version}; only v1 (0) is defined`);
  const algorithm = signingAlgorithmOf(csr.signatureAlgorithm);
  if (algorithm === undefined) throw invalidParameter(CSR_PARAMETER, `signature algorithm ${csr.signatureAlgorithm.algorithm} is not supported`);
  const publicKey = importPublicKey(new Uint8Array(AsnConvert.serialize(info.subjectPKInfo)), CSR_PARAMETER);
  assertAlgorithmFor(publicKey.spec, algorithm, 'SIGN/VERIFY', CSR_PARAMETER);
  const digest = await digestMessage(publicKey, algorithm, new Uint8Array(AsnConvert.serialize(info)));
  let valid: boolean;
  try {
    valid = verifyDigest(publicKey, algorithm, digest, new Uint8Array(csr.signature));
  } catch {
    valid = false;
  }
  if (!valid) throw invalidParameter(CSR_PARAMETER, 'signature does not verify with the requested public key');
  return csr;
}

function extensionOf(certificate: Certificate, oid: string): Extension | undefined {
  return certificate.tbsCertificate.extensions?.find((e) => e.extnID === oid);
}

/**
 * A certificate for the key of `csrDer` (whose signature must verify), issued and signed by `ca`.
 * The issued extensions follow `options.policy`; see issuedExtensions.
 */
export async function issueCertificate(csrDer: Uint8Array, ca: IssuingCa, options: IssueOptions, signDigest: DigestSigner): Promise<Uint8Array> {
  if (typeof options !== 'object' || options === null) throw invalidParameter('Options', 'must be an object');
  if (options.policy !== 'copy-requested-extensions' && options.policy !== 'leaf-defaults') {
    throw invalidParameter('Policy', `${String(options.policy)} is not valid; valid: copy-requested-extensions, leaf-defaults`);
  }
  if (options.ca !== undefined) assertPathLen(options.ca.pathLen);
  const { publicKey, algorithm } = signerKey(ca, 'CaPublicKey');
  const caCert = parseStrict(ca.certificate, Certificate, 'CaCertificate', 'X.509 certificate');
  const caSpki = new Uint8Array(AsnConvert.serialize(caCert.tbsCertificate.subjectPublicKeyInfo));
  if (!equalBytes(caSpki, publicKey.spki)) throw invalidParameter('CaCertificate', 'does not certify the CA public key');
  const bcExt = extensionOf(caCert, id_ce_basicConstraints);
  if (!bcExt || !parseExtensionValue(bcExt, BasicConstraints, 'basicConstraints', 'CaCertificate').cA) throw invalidParameter('CaCertificate', 'is not a CA certificate (basicConstraints CA:TRUE)');
  const kuExt = extensionOf(caCert, id_ce_keyUsage);
  if (kuExt && (parseExtensionValue(kuExt, KeyUsage, 'keyUsage', 'CaCertificate').toNumber() & KeyUsageFlags.keyCertSign) === 0) {
    throw invalidParameter('CaCertificate', 'keyUsage does not allow keyCertSign');
  }
  const skiExt = extensionOf(caCert, id_ce_subjectKeyIdentifier);
  const caSki = skiExt
    ? new Uint8Array(parseExtensionValue(skiExt, SubjectKeyIdentifier, 'subjectKeyIdentifier', 'CaCertificate').buffer)
    : subjectKeyIdentifier(caSpki);

  const csr = await verifiedCsr(csrDer);
  const info = csr.certificationRequestInfo;
  const subjectSpki = new Uint8Array(AsnConvert.serialize(info.subjectPKInfo));
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: randomSerial(),
    signature: signatureAlgorithm(algorithm),
    issuer: caCert.tbsCertificate.subject,
    validity: validity(options.notBefore, options.notAfter),
    subject: info.subject,
    subjectPublicKeyInfo: info.subjectPKInfo,
    extensions: new Extensions(issuedExtensions(requestedExtensions(csr), options, subjectSpki, caSki, info.subject.length === 0)),
  });
  return sign(tbs, publicKey, algorithm, signDigest);
}

// ---------------------------------------------------------------------------------------------
// Reading

export function certificatePem(der: Uint8Array): string {
  return encodePem(der, 'CERTIFICATE');
}

/** The fields of a DER X.509 v3 certificate; anything that is not strict DER is refused. */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  if (!(der instanceof Uint8Array)) throw invalidParameter('Certificate', 'must be DER bytes');
  const certificate = parseStrict(der, Certificate, 'Certificate', 'X.509 certificate');
  const tbs = certificate.tbsCertificate;
  if (tbs.version !== Version.v3) throw invalidParameter('Certificate', 'is not an X.509 v3 certificate');
  if (!equalBytes(new Uint8Array(AsnConvert.serialize(tbs.signature)), new Uint8Array(AsnConvert.serialize(certificate.signatureAlgorithm)))) {
    throw invalidParameter('Certificate', 'signature algorithms of the certificate and its TBSCertificate differ');
  }
  const serial = new Uint8Array(tbs.serialNumber);
  return {
    subject: formatName(tbs.subject),
    issuer: formatName(tbs.issuer),
    serialHex: Buffer.from(serial).toString('hex'),
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
    spki: new Uint8Array(AsnConvert.serialize(tbs.subjectPublicKeyInfo)),
  };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
