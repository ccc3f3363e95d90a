// SubjectPublicKeyInfo and PKCS#8 for the three curves (RFC 5480, RFC 5915, RFC 5208), built and
// parsed with @peculiar/asn1-* — the layout OpenSSL 3 reads and writes, SM2 included
// (id-ecPublicKey with the SM2 curve OID).
import { AsnConvert, AsnParser, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { ECParameters, ECPrivateKey } from '@peculiar/asn1-ecc';
import { PrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';
import { invalidParameter } from '../contract/errors.ts';
import { CURVE_POINTS, curveOrder, publicPoint, type CurveName, type CurvePoint } from './curves.ts';
import { parseStrictDer, serializeDer } from './der.ts';
import { CURVE_OIDS, OID, curveForOid } from './oids.ts';

function ecAlgorithm(curve: CurveName): AlgorithmIdentifier {
  return new AlgorithmIdentifier({
    algorithm: OID.ecPublicKey,
    parameters: AsnConvert.serialize(new ECParameters({ namedCurve: CURVE_OIDS[curve] })),
  });
}

/** The named curve of an id-ecPublicKey AlgorithmIdentifier; explicit parameters are refused. */
export function curveOfAlgorithm(alg: AlgorithmIdentifier, parameter: string): CurveName {
  if (alg.algorithm !== OID.ecPublicKey) throw invalidParameter(parameter, `algorithm ${alg.algorithm} is not id-ecPublicKey`);
  if (!alg.parameters) throw invalidParameter(parameter, 'EC key without curve parameters');
  let params: ECParameters;
  try {
    params = AsnParser.parse(alg.parameters, ECParameters);
  } catch {
    throw invalidParameter(parameter, 'EC curve parameters are malformed');
  }
  if (!params.namedCurve) throw invalidParameter(parameter, 'explicit EC curve parameters are not supported; use a named curve');
  const curve = curveForOid(params.namedCurve);
  if (!curve) throw invalidParameter(parameter, `curve ${params.namedCurve} is not P-256, secp256k1 or SM2`);
  return curve;
}

/** Parses and validates (on the curve, not infinity) an encoded point. */
export function parsePoint(curve: CurveName, bytes: Uint8Array, parameter: string): CurvePoint {
  try {
    const point = CURVE_POINTS[curve].fromBytes(bytes);
    point.assertValidity();
    return point;
  } catch {
    throw invalidParameter(parameter, `is not a valid point on ${curve} (off the curve, infinity or malformed)`);
  }
}

export function encodeEcSpki(curve: CurveName, point: CurvePoint): Uint8Array {
  return serializeDer(
    new SubjectPublicKeyInfo({ algorithm: ecAlgorithm(curve), subjectPublicKey: point.toBytes(false).slice().buffer }),
  );
}

export function encodeEcPkcs8(curve: CurveName, scalar: Uint8Array, point: CurvePoint): Uint8Array {
  const inner = new ECPrivateKey({
    version: 1,
    privateKey: new OctetString(scalar),
    publicKey: point.toBytes(false).slice().buffer,
  });
  return serializeDer(
    new PrivateKeyInfo({ version: 0, privateKeyAlgorithm: ecAlgorithm(curve), privateKey: new OctetString(serializeDer(inner)) }),
  );
}

/** The algorithm OID of a DER SubjectPublicKeyInfo, after strict parsing. */
export function parseSpki(der: Uint8Array, parameter: string): SubjectPublicKeyInfo {
  return parseStrictDer(der, SubjectPublicKeyInfo, 'SubjectPublicKeyInfo', parameter);
}

export interface EcPrivateMaterial {
  readonly curve: CurveName;
  /** 32-byte big-endian scalar. */
  readonly scalar: Uint8Array;
  readonly point: CurvePoint;
}

/** Highest valid private scalar: n-1, or n-2 for SM2 (whose signing inverts 1 + d). */
export function maxScalar(curve: CurveName): bigint {
  return curveOrder(curve) - (curve === 'SM2' ? 2n : 1n);
}

/** Parses an EC PKCS#8 PrivateKeyInfo and checks the scalar range and the embedded public key. */
export function parseEcPkcs8(der: Uint8Array, parameter: string): EcPrivateMaterial {
  const info = parseStrictDer(der, PrivateKeyInfo, 'PKCS#8 PrivateKeyInfo', parameter);
  const curve = curveOfAlgorithm(info.privateKeyAlgorithm, parameter);
  let inner: ECPrivateKey;
  try {
    inner = AsnParser.parse(info.privateKey.buffer, ECPrivateKey);
  } catch {
    throw invalidParameter(parameter, 'ECPrivateKey inside PKCS#8 is malformed');
  }
  if (inner.version !== 1) throw invalidParameter(parameter, `ECPrivateKey version ${inner.version} is not 1`);
  if (inner.parameters?.namedCurve !== undefined && inner.parameters.namedCurve !== CURVE_OIDS[curve]) {
    throw invalidParameter(parameter, 'ECPrivateKey curve differs from the PKCS#8 algorithm curve');
  }
  const raw = new Uint8Array(inner.privateKey.buffer);
  if (raw.length === 0 || raw.length > 32) throw invalidParameter(parameter, `private scalar of ${raw.length} bytes`);
  const d = bytesToNumberBE(raw);
  if (d < 1n || d > maxScalar(curve)) throw invalidParameter(parameter, `private scalar out of range for ${curve}`);
  const scalar = numberToBytesBE(d, 32);
  const point = publicPoint(curve, scalar);
  if (inner.publicKey) {
    const embedded = parsePoint(curve, new Uint8Array(inner.publicKey), parameter);
    if (!embedded.equals(point)) throw invalidParameter(parameter, 'embedded public key does not match the private scalar');
  }
  raw.fill(0);
  return { curve, scalar, point };
}
