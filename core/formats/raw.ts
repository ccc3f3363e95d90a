// The raw format: AsymmetricSign's Value as a file (DER r,s for ECDSA and SM2DSA, the RSA
// signature bytes), over the Digest AsymmetricSign takes (SHA-256 of the file; SM3(Z_A || file)
// for SM2DSA). What `openssl dgst -verify` and the KMS SDKs' AsymmetricVerify read; every spec.
//
// Prepared (a signing request): {Sha256} of the file, for every key but SM2; over an SM2 key the
// Digest is SM3(Z_A || file), and Z_A comes from the public key, so a request for an SM2 key is
// prepared only with its public key: {Sm3Za: SM3(Z_A || file), SpkiSha256: SHA-256 of the SPKI it
// was made with}. complete() refuses an SM2 key for a {Sha256} preparation (Request.NeedsPublicKey)
// and an {Sm3Za} preparation made with another public key (Request.Mismatch).
import { KmsError, missingParameter } from '../contract/errors.ts';
import { KEY_SPEC_TABLE, type KeySpec, type SigningAlgorithm } from '../contract/specs.ts';
import { assertAlgorithmFor, createDigester, importPublicKey } from '../crypto/public-key.ts';
import {
  beginFromHalves,
  hashingPreparation,
  preparedBytes,
  readPrepared,
  sameBytes,
  type FormatOptions,
  type KnownKey,
  type PendingPreparation,
  type PendingVerification,
  type PreparedMessage,
  type PreparedSignature,
  type SignatureFormat,
  type SigningKeyInfo,
  type VerifyMaterial,
} from './format.ts';

/** The algorithm a raw signature uses by default: PKCS#1 v1.5 for RSA, the curve's ECDSA, SM2DSA. */
export function defaultSigningAlgorithm(spec: KeySpec): SigningAlgorithm {
  return KEY_SPEC_TABLE[spec].algorithms['SIGN/VERIFY'].includes('RSA_PKCS1_SHA_256') ? 'RSA_PKCS1_SHA_256' : (KEY_SPEC_TABLE[spec].algorithms['SIGN/VERIFY'][0] as SigningAlgorithm);
}

function algorithmFor(spec: KeySpec, chosen: SigningAlgorithm | undefined, parameter: string): SigningAlgorithm {
  return chosen === undefined ? defaultSigningAlgorithm(spec) : (assertAlgorithmFor(spec, chosen, 'SIGN/VERIFY', parameter) as SigningAlgorithm);
}

const spkiSha256 = (spki: Uint8Array): Uint8Array => {
  const hash = createDigester('SHA-256');
  hash.update(spki);
  return hash.digest();
};

const needsPublicKey = () =>
  new KmsError('Request.NeedsPublicKey', 'raw: an SM2 key signs SM3(Z_A || file), and Z_A is made from its public key: create the request with --public-key (and --version)');

/** Hashing for a raw signature: SM3(Z_A || file) when the key is known to be SM2, else SHA-256. */
function prepare(key: KnownKey, options: FormatOptions): PendingPreparation {
  const publicKey = key.spki ? importPublicKey(key.spki, '--public-key') : undefined;
  if (publicKey && key.spec !== undefined && publicKey.spec !== key.spec) throw new KmsError('InvalidParameter', `--public-key: is a ${publicKey.spec} key, not ${key.spec}`);
  const spec = publicKey?.spec ?? key.spec;
  if (spec !== undefined) algorithmFor(spec, options.algorithm, '--algorithm');
  if (spec === 'EC_SM2') {
    if (!publicKey) throw needsPublicKey();
    const digester = publicKey.messageDigester('SM2DSA');
    return hashingPreparation('raw', (chunk) => digester.update(chunk), () => ({ Sm3Za: preparedBytes(digester.digest()), SpkiSha256: preparedBytes(spkiSha256(publicKey.spki)) }));
  }
  const digester = createDigester('SHA-256');
  return hashingPreparation('raw', (chunk) => digester.update(chunk), () => ({ Sha256: preparedBytes(digester.digest()) }));
}

const PREPARED = {
  Sha256: { kind: 'bytes', length: 32, optional: true },
  Sm3Za: { kind: 'bytes', length: 32, optional: true },
  SpkiSha256: { kind: 'bytes', length: 32, optional: true },
} as const;

/** The Digest of a prepared raw signature for this key: AsymmetricSign's Value is the file. */
function complete(key: SigningKeyInfo, options: FormatOptions, prepared: PreparedMessage): PreparedSignature {
  const algorithm = algorithmFor(key.spec, options.algorithm, 'Algorithm');
  const read = readPrepared('raw', prepared, PREPARED);
  let digest: Uint8Array;
  if (read.Sm3Za !== undefined) {
    if (read.Sha256 !== undefined) throw new KmsError('Request.Malformed', 'Prepared (raw): has both Sha256 and Sm3Za');
    if (read.SpkiSha256 === undefined) throw new KmsError('Request.Malformed', 'Prepared (raw): SpkiSha256 is missing beside Sm3Za');
    if (key.spec !== 'EC_SM2') throw new KmsError('Request.Mismatch', `raw: the file was hashed for an SM2 key (SM3 with Z_A), not for this ${key.spec} key`);
    if (!sameBytes(read.SpkiSha256, spkiSha256(key.spki))) throw new KmsError('Request.Mismatch', "raw: the file was hashed with another SM2 public key's Z_A than this key version's");
    digest = read.Sm3Za;
  } else {
    if (read.Sha256 === undefined) throw new KmsError('Request.Malformed', 'Prepared (raw): Sha256 is missing (this preparation was not made by the raw format)');
    if (read.SpkiSha256 !== undefined) throw new KmsError('Request.Malformed', 'Prepared (raw): SpkiSha256 goes with Sm3Za only');
    if (key.spec === 'EC_SM2') throw needsPublicKey();
    digest = read.Sha256;
  }
  return { toSign: () => ({ algorithm, digest }), finish: (value) => value };
}

export const rawFormat: SignatureFormat = {
  name: 'raw',
  extension: '.sig',
  description: "AsymmetricSign's Value as bytes (DER for ECDSA/SM2DSA): openssl dgst -verify, the KMS SDKs",
  unsupported: () => undefined,
  begin: (key, options) => beginFromHalves(rawFormat, key, options),
  prepare,
  complete,
  /** {Sha256}: the file's SHA-256 itself; {Sm3Za}: undefined (SM3 over Z_A then the file carries no SHA-256). */
  fileSha256: (prepared) => readPrepared('raw', prepared, PREPARED).Sha256,
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
