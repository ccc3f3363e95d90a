// The raw format: AsymmetricSign's Value as a file (DER r,s for ECDSA and SM2DSA, the RSA
// signature bytes), over the Digest AsymmetricSign takes (SHA-256 of the file; SM3(Z_A || file)
// for SM2DSA). What `openssl dgst -verify` and the KMS SDKs' AsymmetricVerify read; every spec.
import { KmsError, missingParameter } from '../contract/errors.ts';
import { KEY_SPEC_TABLE, type KeySpec, type SigningAlgorithm } from '../contract/specs.ts';
import { assertAlgorithmFor, importPublicKey } from '../crypto/public-key.ts';
import type { FormatOptions, PendingSignature, PendingVerification, SignatureFormat, SigningKeyInfo, VerifyMaterial } from './format.ts';

/** The algorithm a raw signature uses by default: PKCS#1 v1.5 for RSA, the curve's ECDSA, SM2DSA. */
export function defaultSigningAlgorithm(spec: KeySpec): SigningAlgorithm {
  return KEY_SPEC_TABLE[spec].algorithms['SIGN/VERIFY'].includes('RSA_PKCS1_SHA_256') ? 'RSA_PKCS1_SHA_256' : (KEY_SPEC_TABLE[spec].algorithms['SIGN/VERIFY'][0] as SigningAlgorithm);
}

function algorithmFor(spec: KeySpec, chosen: SigningAlgorithm | undefined, parameter: string): SigningAlgorithm {
  return chosen === undefined ? defaultSigningAlgorithm(spec) : (assertAlgorithmFor(spec, chosen, 'SIGN/VERIFY', parameter) as SigningAlgorithm);
}

export const rawFormat: SignatureFormat = {
  name: 'raw',
  extension: '.sig',
  description: "AsymmetricSign's Value as bytes (DER for ECDSA/SM2DSA): openssl dgst -verify, the KMS SDKs",
  unsupported: () => undefined,
  begin(key: SigningKeyInfo, options: FormatOptions): PendingSignature {
    const publicKey = importPublicKey(key.spki, 'PublicKey');
    const algorithm = algorithmFor(key.spec, options.algorithm, '--algorithm');
    const digester = publicKey.messageDigester(algorithm);
    let digest: Uint8Array | undefined;
    return {
      update: (chunk) => digester.update(chunk),
      toSign: () => {
        digest ??= digester.digest();
        return { algorithm, digest };
      },
      finish: (value) => value,
    };
  },
  verify(signature: Uint8Array, material: VerifyMaterial): PendingVerification {
    if (!material.publicKey) throw missingParameter('--public-key');
    const publicKey = importPublicKey(material.publicKey, '--public-key');
    const algorithm = algorithmFor(publicKey.spec, material.algorithm, '--algorithm');
    if (signature.length === 0) throw new KmsError('Format.Malformed', 'the signature file is empty');
    const digester = publicKey.messageDigester(algorithm);
    return {
      update: (chunk) => digester.update(chunk),
      result: () => {
        let valid: boolean;
        try {
          valid = publicKey.verifyDigest(algorithm, digester.digest(), signature);
        } catch (error) {
          if (error instanceof KmsError && error.code === 'InvalidParameter') throw new KmsError('Format.Malformed', `the signature is not a ${algorithm} signature: ${error.message}`);
          throw error;
        }
        return valid ? { valid, signer: `${publicKey.spec} key` } : { valid, reason: `the ${algorithm} signature does not match this file and public key` };
      },
    };
  },
};
