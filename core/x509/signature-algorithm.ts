// The signature AlgorithmIdentifier of each signing algorithm, both ways: what a CSR or
// certificate we build names (signatureAlgorithm) and which algorithm a CSR or certificate we
// read names (signingAlgorithmOf, undefined for any we do not verify). Runtime: any.
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { RsaSaPssParams, id_RSASSA_PSS, id_mgf1, id_sha256, id_sha256WithRSAEncryption } from '@peculiar/asn1-rsa';
import type { SigningAlgorithm } from '../contract/specs.ts';

/** GM/T 0006 SM2-with-SM3 signature. */
export const OID_SM2_WITH_SM3 = '1.2.156.10197.1.501';
export const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';

const DER_NULL = new Uint8Array([0x05, 0x00]).buffer;

/** The signature AlgorithmIdentifier of `algorithm` (RSA-PSS: SHA-256, MGF1-SHA-256, salt 32). */
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

function isDerNull(bytes: Uint8Array): boolean {
  return bytes.length === 2 && bytes[0] === 0x05 && bytes[1] === 0x00;
}

/** The contract algorithm a signature AlgorithmIdentifier names, or undefined when it is not one we verify. */
export function signingAlgorithmOf(identifier: AlgorithmIdentifier): SigningAlgorithm | undefined {
  const params = identifier.parameters ? new Uint8Array(identifier.parameters) : undefined;
  switch (identifier.algorithm) {
    case id_sha256WithRSAEncryption:
      // RFC 4055: NULL; absent parameters are tolerated by most verifiers, so by us too.
      return params === undefined || isDerNull(params) ? 'RSA_PKCS1_SHA_256' : undefined;
    case id_RSASSA_PSS: {
      if (params === undefined) return undefined;
      try {
        const pss = AsnConvert.parse(params, RsaSaPssParams);
        const mgfHash = pss.maskGenAlgorithm.parameters ? AsnConvert.parse(pss.maskGenAlgorithm.parameters, AlgorithmIdentifier) : undefined;
        const ok =
          pss.hashAlgorithm.algorithm === id_sha256 &&
          pss.maskGenAlgorithm.algorithm === id_mgf1 &&
          mgfHash?.algorithm === id_sha256 &&
          pss.saltLength === 32 &&
          pss.trailerField === 1;
        return ok ? 'RSA_PSS_SHA_256' : undefined;
      } catch {
        return undefined;
      }
    }
    case OID_ECDSA_WITH_SHA256:
      return params === undefined ? 'ECDSA_SHA_256' : undefined;
    case OID_SM2_WITH_SM3:
      return params === undefined ? 'SM2DSA' : undefined;
    default:
      return undefined;
  }
}
