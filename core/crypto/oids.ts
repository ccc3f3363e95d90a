// Object identifiers of the algorithms and curves in the contract.
import type { CurveName } from './curves.ts';

export const OID = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  secp256k1: '1.3.132.0.10',
  sm2: '1.2.156.10197.1.301',
} as const;

export const CURVE_OIDS: Readonly<Record<CurveName, string>> = {
  'P-256': OID.prime256v1,
  secp256k1: OID.secp256k1,
  SM2: OID.sm2,
};

export function curveForOid(oid: string): CurveName | undefined {
  return (Object.keys(CURVE_OIDS) as CurveName[]).find((c) => CURVE_OIDS[c] === oid);
}
