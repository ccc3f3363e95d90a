// sigstore bundles (protobuf-specs sigstore_bundle.proto, JSON form, media type
// application/vnd.dev.sigstore.bundle.v0.3+json) holding a messageSignature made with a vault key
// and a public-key hint: no certificate, no transparency-log entry, no timestamp. That is what
// `cosign sign-blob --key ... --bundle` writes offline and what @sigstore/verify accepts with the
// public key, a key finder for the hint and zero tlog/ctlog/timestamp thresholds.
//
// The signature is over the artifact itself, as sigstore signs messages: ECDSA P-256 with SHA-256
// (DER, what Go's ecdsa.SignASN1 and Node's crypto.verify produce and read) and RSASSA-PKCS1-v1_5
// with SHA-256 for RSA keys (Node's crypto.verify default for RSA keys, which @sigstore/verify
// uses; sigstore's registry calls it rsa-sign-pkcs1-<bits>-sha256). The digest AsymmetricSign
// signs is SHA-256 of the artifact, the same bytes the bundle's messageDigest carries. Prepared
// (a signing request): {Sha256} of the artifact.
//
// The hint is sigstore-go's default for a key pair: base64 (standard, padded) of SHA-256 over the
// SubjectPublicKeyInfo DER, i.e. GetPublicKeyBundle's Fingerprints.SpkiSha256Base64. It names the
// key without naming the vault, stays the same for every signature of a key version, and lets a
// verifier with several keys pick the right one.
import { decodeBase64, encodeBase64 } from '../contract/base64.ts';
import { KmsError, missingParameter } from '../contract/errors.ts';
import type { KeySpec, SigningAlgorithm } from '../contract/specs.ts';
import { createDigester, importPublicKey, verifyDigest, type PublicKey } from '../crypto/public-key.ts';
import {
  beginFromHalves,
  hashingPreparation,
  preparedBytes,
  readPrepared,
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

export const SIGSTORE_BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/** Media types whose messageSignature/publicKey layout is the one read here (0.1 to 0.3, both spellings of 0.3). */
const READABLE_MEDIA_TYPES: readonly string[] = [
  SIGSTORE_BUNDLE_MEDIA_TYPE,
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
];

/** The largest bundle read: a messageSignature bundle is under 2 KiB; anything near this is not one. */
const MAX_BUNDLE_BYTES = 1 << 20;

const ALGORITHM_OF: Readonly<Partial<Record<KeySpec, SigningAlgorithm>>> = {
  EC_P256: 'ECDSA_SHA_256',
  RSA_2048: 'RSA_PKCS1_SHA_256',
  RSA_3072: 'RSA_PKCS1_SHA_256',
  RSA_4096: 'RSA_PKCS1_SHA_256',
};

function unsupported(spec: KeySpec): string | undefined {
  if (spec === 'EC_P256K') {
    return 'sigstore has no secp256k1 key type (its algorithm registry and Go verifiers know P-256/384/521, RSA and Ed25519 only)';
  }
  if (spec === 'EC_SM2') return 'sigstore has no SM2 key type (its algorithm registry knows P-256/384/521, RSA and Ed25519 only)';
  return ALGORITHM_OF[spec] ? undefined : `sigstore bundles cannot carry ${spec} keys`;
}

function algorithmFor(spec: KeySpec): SigningAlgorithm {
  const reason = unsupported(spec);
  const algorithm = ALGORITHM_OF[spec];
  if (reason !== undefined || !algorithm) throw new KmsError('Format.UnsupportedKeySpec', `sigstore: ${reason ?? spec}`);
  return algorithm;
}

/** The bundle's publicKey.hint for a key: base64 of SHA-256 over its SubjectPublicKeyInfo DER. */
export function sigstoreKeyHint(spki: Uint8Array): string {
  const hash = createDigester('SHA-256');
  hash.update(spki);
  return encodeBase64(hash.digest());
}

function algorithmWith(spec: KeySpec, options: FormatOptions): SigningAlgorithm {
  const algorithm = algorithmFor(spec);
  if (options.algorithm !== undefined && options.algorithm !== algorithm) {
    throw new KmsError(
      'InvalidParameter',
      `Algorithm: sigstore bundles of ${spec} keys are signed with ${algorithm} (what @sigstore/verify and cosign verify), not ${options.algorithm}`,
    );
  }
  return algorithm;
}

/** Hashing for a bundle: the artifact's SHA-256 (what the bundle's messageDigest carries and the key signs). */
function prepare(key: KnownKey, options: FormatOptions): PendingPreparation {
  if (key.spec !== undefined) algorithmWith(key.spec, options);
  if (key.spki !== undefined) algorithmWith(importPublicKey(key.spki, '--public-key').spec, options);
  const hash = createDigester('SHA-256');
  return hashingPreparation('sigstore', (chunk) => hash.update(chunk), () => ({ Sha256: preparedBytes(hash.digest()) }));
}

const PREPARED = { Sha256: { kind: 'bytes', length: 32 } } as const;

/** The bundle of a prepared artifact by this key. */
function complete(key: SigningKeyInfo, options: FormatOptions, prepared: PreparedMessage): PreparedSignature {
  const algorithm = algorithmWith(key.spec, options);
  const hint = sigstoreKeyHint(key.spki);
  const digest = readPrepared('sigstore', prepared, PREPARED).Sha256;
  return {
    toSign: () => ({ algorithm, digest }),
    finish(value) {
      if (value.length === 0) throw new KmsError('InternalFailure', 'sigstore: AsymmetricSign returned an empty signature');
      // Field order and names as protobuf-specs' Bundle.toJSON writes them.
      const bundle = {
        mediaType: SIGSTORE_BUNDLE_MEDIA_TYPE,
        verificationMaterial: { publicKey: { hint }, tlogEntries: [] },
        messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: encodeBase64(digest) }, signature: encodeBase64(value) },
      };
      return new TextEncoder().encode(`${JSON.stringify(bundle)}\n`);
    },
  };
}

const malformed = (why: string) => new KmsError('Format.Malformed', `sigstore bundle: ${why}`);

type Json = Record<string, unknown>;

/** proto3 JSON: a member that is null is absent. */
function present(value: unknown): boolean {
  return value !== null && value !== undefined;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value` as an object with only `allowed` members (proto3 JSON: a null member counts as absent). */
function objectOf(value: unknown, where: string, allowed: readonly string[]): Json {
  if (!isObject(value)) throw malformed(`${where} is not a JSON object`);
  for (const name of Object.keys(value)) {
    if (!allowed.includes(name)) throw malformed(`${where}.${name} is not a member this bundle layout has (known: ${allowed.join(', ')})`);
  }
  return value;
}

function bytesOf(value: unknown, where: string): Uint8Array {
  if (typeof value !== 'string' || value.length === 0) throw malformed(`${where} is missing or not a base64 string`);
  try {
    return decodeBase64(value, where);
  } catch {
    throw malformed(`${where} is not canonical standard base64`);
  }
}

interface ParsedBundle {
  readonly hint: string;
  readonly digest: Uint8Array;
  readonly signature: Uint8Array;
}

/** Strict reading of a messageSignature/publicKey bundle; anything else is Format.Malformed or InvalidParameter. */
export function parseSigstoreBundle(bytes: Uint8Array): ParsedBundle {
  if (bytes.length > MAX_BUNDLE_BYTES) throw malformed(`is ${bytes.length} bytes; a messageSignature bundle is a few KiB`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw malformed('is not JSON (UTF-8)');
  }
  const bundle = objectOf(parsed, 'bundle', ['mediaType', 'verificationMaterial', 'messageSignature', 'dsseEnvelope']);
  if (typeof bundle.mediaType !== 'string' || !READABLE_MEDIA_TYPES.includes(bundle.mediaType)) {
    throw malformed(`mediaType ${JSON.stringify(bundle.mediaType ?? null)} is not a sigstore bundle media type (expected ${SIGSTORE_BUNDLE_MEDIA_TYPE})`);
  }
  if (present(bundle.dsseEnvelope)) {
    throw new KmsError('InvalidParameter', 'sigstore bundle: holds a DSSE envelope (an attestation); deskkms verifies messageSignature bundles only');
  }
  const material = objectOf(bundle.verificationMaterial, 'verificationMaterial', [
    'publicKey',
    'x509CertificateChain',
    'certificate',
    'tlogEntries',
    'timestampVerificationData',
  ]);
  if (present(material.x509CertificateChain) || present(material.certificate)) {
    throw new KmsError('InvalidParameter', 'sigstore bundle: carries a certificate (keyless signing); deskkms verifies public-key bundles; use cosign verify-blob');
  }
  if (present(material.tlogEntries) && !Array.isArray(material.tlogEntries)) throw malformed('verificationMaterial.tlogEntries is not an array');
  const entries = (material.tlogEntries as unknown[] | undefined)?.length ?? 0;
  const timestamps = !present(material.timestampVerificationData) ? undefined : objectOf(material.timestampVerificationData, 'timestampVerificationData', ['rfc3161Timestamps']);
  if (present(timestamps?.rfc3161Timestamps) && !Array.isArray(timestamps?.rfc3161Timestamps)) {
    throw malformed('verificationMaterial.timestampVerificationData.rfc3161Timestamps is not an array');
  }
  const stamps = (timestamps?.rfc3161Timestamps as unknown[] | undefined)?.length ?? 0;
  if (entries > 0 || stamps > 0) {
    throw new KmsError(
      'InvalidParameter',
      `sigstore bundle: carries ${entries} transparency-log entries and ${stamps} timestamps, which need sigstore's trusted root; deskkms verifies offline public-key bundles only (use cosign verify-blob)`,
    );
  }
  if (!present(material.publicKey)) throw malformed('verificationMaterial.publicKey is missing (a public-key bundle names its key by a hint)');
  const publicKey = objectOf(material.publicKey, 'verificationMaterial.publicKey', ['hint']);
  if (present(publicKey.hint) && typeof publicKey.hint !== 'string') throw malformed('verificationMaterial.publicKey.hint is not a string');
  const message = objectOf(bundle.messageSignature, 'messageSignature', ['messageDigest', 'signature']);
  const messageDigest = objectOf(message.messageDigest, 'messageSignature.messageDigest', ['algorithm', 'digest']);
  if (messageDigest.algorithm !== 'SHA2_256' && messageDigest.algorithm !== 1) {
    throw malformed(`messageSignature.messageDigest.algorithm ${JSON.stringify(messageDigest.algorithm ?? null)} is not SHA2_256`);
  }
  const digest = bytesOf(messageDigest.digest, 'messageSignature.messageDigest.digest');
  if (digest.length !== 32) throw malformed(`messageSignature.messageDigest.digest is ${digest.length} bytes; SHA2_256 is 32`);
  return { hint: (publicKey.hint as string | undefined) ?? '', digest, signature: bytesOf(message.signature, 'messageSignature.signature') };
}

function verifierKey(material: VerifyMaterial): { key: PublicKey; algorithm: SigningAlgorithm } {
  if (!material.publicKey) throw missingParameter('--public-key (the signing key version\'s public key, PEM or DER)');
  const key = importPublicKey(material.publicKey, '--public-key');
  return { key, algorithm: algorithmFor(key.spec) };
}

function verify(signature: Uint8Array, material: VerifyMaterial): PendingVerification {
  if (material.withoutMessage === true) throw missingParameter('--in (the artifact: a sigstore bundle holds only its digest)');
  const bundle = parseSigstoreBundle(signature);
  const { key, algorithm } = verifierKey(material);
  const keyHint = sigstoreKeyHint(key.spki);
  const hash = createDigester('SHA-256');
  return {
    update(chunk) {
      hash.update(chunk);
    },
    result() {
      // The hint is not signed: anyone can rewrite it. The signer is the key that verified, named
      // by its own hint; the bundle's claim is only quoted (escaped, cut) when it differs.
      const claimed = bundle.hint === '' || bundle.hint === keyHint ? undefined : JSON.stringify(bundle.hint.slice(0, 100));
      const digest = hash.digest();
      if (!equal(digest, bundle.digest)) return { valid: false, reason: 'the message is not the one signed: its SHA-256 differs from the bundle\'s messageDigest' };
      let valid: boolean;
      try {
        valid = verifyDigest(key, algorithm, digest, bundle.signature);
      } catch (error) {
        // As openssl and @sigstore/verify answer it: a value that is no signature does not verify.
        if (error instanceof KmsError && error.code === 'InvalidParameter') return { valid: false, reason: `messageSignature.signature is not a ${algorithm} signature (${error.message})` };
        throw error;
      }
      if (valid) return { valid: true, signer: claimed ? `${keyHint} (the bundle's unsigned hint says ${claimed})` : keyHint };
      return {
        valid: false,
        reason: claimed
          ? `the signature does not verify with this public key (hint ${keyHint}); the bundle's hint names another key: ${claimed}`
          : 'the signature does not verify with this public key',
      };
    },
  };
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export const sigstoreFormat: SignatureFormat = {
  name: 'sigstore',
  extension: '.sigstore.json',
  description: 'sigstore bundle (messageSignature, public-key hint, no transparency log): cosign verify-blob, @sigstore/verify',
  unsupported,
  begin: (key, options) => beginFromHalves(sigstoreFormat, key, options),
  prepare,
  complete,
  /** The artifact's SHA-256 is what the bundle signs: the Sha256 itself. */
  fileSha256: (prepared) => readPrepared('sigstore', prepared, PREPARED).Sha256,
  verify,
};
