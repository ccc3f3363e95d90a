// Public-key bundles (issue 5): one key version's public key as SPKI PEM and DER, JWK
// (RFC 7517/7518; secp256k1 per RFC 8812), an OpenSSH public-key line (RFC 4253 ssh-rsa,
// RFC 5656 ecdsa-sha2-nistp256), SHA-256 fingerprints and a JSON manifest naming all of them.
// publicKeyFormats and bundleFiles are pure (no file system); writing a bundle to disk as one
// directory that appears whole or not at all is core/x509/bundle-writer.ts. Runtime: Node.
//
// DER is parsed with @peculiar/asn1-*, never by hand; the only hand-made encoding is the SSH
// wire format (length-prefixed strings and mpints, RFC 4251 section 5), which is not DER.
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { AsnParser } from '@peculiar/asn1-schema';
import { RSAPublicKey } from '@peculiar/asn1-rsa';
import { KmsError, invalidParameter } from '../contract/errors.ts';
import { escapeText } from '../contract/escape-text.ts';
import { KEY_SPEC_TABLE, type KeySpec } from '../contract/specs.ts';
import { stripLeadingZeros } from '../crypto/der.ts';
import { parseSpki } from '../crypto/ec-encoding.ts';
import { importPublicKey, publicKeyPem } from '../crypto/engine.ts';
import { sshKeyBlob, type SshKeyType } from '../formats/ssh-wire.ts';

export interface PublicKeyMeta {
  readonly keyId: string;
  readonly keyVersionId: string;
  readonly spec: KeySpec;
  /** The certificate chain attached to the version (PEM, leaf first), published with it. */
  readonly certificateChain?: string;
}

export interface RsaJwk {
  readonly kty: 'RSA';
  readonly kid: string;
  readonly n: string;
  readonly e: string;
}

export interface EcJwk {
  readonly kty: 'EC';
  readonly kid: string;
  readonly crv: 'P-256' | 'secp256k1';
  readonly x: string;
  readonly y: string;
}

export type PublicJwk = RsaJwk | EcJwk;

export interface PublicKeyFingerprints {
  /** SHA-256 of the SPKI DER, lowercase hex. */
  readonly spkiSha256Hex: string;
  /** SHA-256 of the SPKI DER, standard padded base64. */
  readonly spkiSha256Base64: string;
  /** "SHA256:" + unpadded base64 of SHA-256 of the SSH wire blob: what `ssh-keygen -l` prints. */
  readonly openssh?: `SHA256:${string}`;
}

export type BundleFormat = 'spki-pem' | 'spki-der' | 'jwk' | 'openssh';

/** A format present in the bundle: its file name and the SHA-256 (hex) of the file's bytes. */
export interface ManifestFile {
  readonly file: string;
  readonly sha256: string;
  readonly mediaType: string;
  /** OpenSSH only: the key type on the line. */
  readonly sshKeyType?: SshKeyType;
}

/** A format this key cannot have, and why. */
export interface ManifestOmission {
  readonly omitted: true;
  readonly reason: string;
}

export interface BundleManifest {
  readonly schema: 'deskkms.public-key-bundle/1';
  readonly KeyId: string;
  readonly KeyVersionId: string;
  readonly KeySpec: KeySpec;
  readonly formats: Readonly<Record<BundleFormat, ManifestFile | ManifestOmission>>;
  readonly fingerprints: PublicKeyFingerprints;
  /** Present when a certificate chain is attached to the version. */
  readonly certificateChain?: ManifestFile & { readonly certificates: number };
}

export interface PublicKeyBundle {
  /** SPKI as PEM ("PUBLIC KEY"), LF line endings, trailing newline. */
  readonly pem: string;
  /** SPKI, DER. */
  readonly der: Uint8Array;
  readonly jwk?: PublicJwk;
  /** One OpenSSH public-key line with a trailing newline: "<type> <base64> deskkms:<KeyId>:<KeyVersionId>\n". */
  readonly openssh?: string;
  readonly fingerprints: PublicKeyFingerprints;
  /** The attached certificate chain, PEM, leaf first (if any). */
  readonly certificateChain?: string;
  readonly manifest: BundleManifest;
}


export const MANIFEST_FILE = 'manifest.json';

// KeyId and KeyVersionId become file names and the ':'-separated OpenSSH comment: no separators,
// no whitespace, no leading dot.
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** A KeyId or KeyVersionId that is safe as a file name and in the OpenSSH comment. */
export function assertId(value: unknown, parameter: string): string {
  if (typeof value !== 'string' || !ID.test(value)) {
    throw invalidParameter(parameter, 'must be 1-128 characters of A-Z a-z 0-9 . _ - starting with a letter or digit');
  }
  return value;
}

/** The file of an attached certificate chain. */
export function chainFileName(keyVersionId: string): string {
  return `${keyVersionId}.chain.pem`;
}

/** The names of a bundle's files, by format (the manifest is always MANIFEST_FILE). */
export function bundleFileNames(keyVersionId: string): Readonly<Record<BundleFormat, string>> {
  return {
    'spki-pem': `${keyVersionId}.pub.pem`,
    'spki-der': `${keyVersionId}.pub.der`,
    jwk: `${keyVersionId}.jwk.json`,
    openssh: `${keyVersionId}.pub`,
  };
}

const MEDIA_TYPES: Readonly<Record<BundleFormat, string>> = {
  'spki-pem': 'application/x-pem-file',
  'spki-der': 'application/pkix-spki',
  jwk: 'application/jwk+json',
  openssh: 'text/plain',
};

function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

// --- key material out of the SPKI ---

interface RsaNumbers {
  readonly n: Uint8Array;
  readonly e: Uint8Array;
}

function rsaNumbers(spki: Uint8Array): RsaNumbers {
  const info = parseSpki(spki, 'PublicKey');
  let key: RSAPublicKey;
  try {
    key = AsnParser.parse(info.subjectPublicKey, RSAPublicKey);
  } catch {
    throw invalidParameter('PublicKey', 'RSA subjectPublicKey is not an RSAPublicKey');
  }
  return {
    n: stripLeadingZeros(new Uint8Array(key.modulus)),
    e: stripLeadingZeros(new Uint8Array(key.publicExponent)),
  };
}

/** The uncompressed point 0x04 || X || Y (32 bytes each) of a 256-bit EC SPKI. */
function ecPoint(spki: Uint8Array): { readonly uncompressed: Uint8Array; readonly x: Uint8Array; readonly y: Uint8Array } {
  const point = new Uint8Array(parseSpki(spki, 'PublicKey').subjectPublicKey);
  // importPublicKey re-encodes EC keys uncompressed, so anything else is our bug.
  if (point.length !== 65 || point[0] !== 0x04) throw new KmsError('InternalFailure', 'EC public key is not an uncompressed 256-bit point');
  return { uncompressed: point, x: point.slice(1, 33), y: point.slice(33, 65) };
}

const NO_JWK_SM2 = 'SM2 has no registered JWK curve (no entry in the IANA "JSON Web Key Elliptic Curve" registry)';
const NO_SSH_SECP256K1 = 'OpenSSH has no key type for secp256k1 (its ECDSA key types, RFC 5656, are nistp256/384/521 only)';
const NO_SSH_SM2 = 'OpenSSH has no key type for SM2 (its ECDSA key types, RFC 5656, are nistp256/384/521 only)';

/**
 * Every public format of one key version, computed from its SubjectPublicKeyInfo (DER or PEM is
 * accepted; the key is validated by importPublicKey and must be of `meta.spec`). Pure.
 */
export function publicKeyFormats(spki: Uint8Array, meta: PublicKeyMeta): PublicKeyBundle {
  const keyId = assertId(meta.keyId, 'KeyId');
  const keyVersionId = assertId(meta.keyVersionId, 'KeyVersionId');
  const key = importPublicKey(spki, 'PublicKey');
  if (key.spec !== meta.spec) throw invalidParameter('PublicKey', `is a ${key.spec} key, expected ${String(meta.spec)}`);
  const der = key.spki;
  const pem = publicKeyPem(key);
  const comment = `deskkms:${keyId}:${keyVersionId}`;
  const chain = meta.certificateChain === undefined || meta.certificateChain === '' ? undefined : meta.certificateChain.endsWith('\n') ? meta.certificateChain : `${meta.certificateChain}\n`;

  let jwk: PublicJwk | undefined;
  let ssh: { type: SshKeyType; blob: Uint8Array } | undefined;
  const omitted: Partial<Record<BundleFormat, string>> = {};
  const info = KEY_SPEC_TABLE[key.spec];
  if (info.family === 'RSA') {
    const { n, e } = rsaNumbers(der);
    jwk = { kty: 'RSA', kid: keyVersionId, n: b64url(n), e: b64url(e) };
    ssh = sshKeyBlob(der);
  } else if (info.curve === 'P-256' || info.curve === 'secp256k1') {
    const point = ecPoint(der);
    jwk = { kty: 'EC', kid: keyVersionId, crv: info.curve, x: b64url(point.x), y: b64url(point.y) };
    if (info.curve === 'P-256') {
      ssh = sshKeyBlob(der);
    } else {
      omitted.openssh = NO_SSH_SECP256K1;
    }
  } else if (info.curve === 'SM2') {
    omitted.jwk = NO_JWK_SM2;
    omitted.openssh = NO_SSH_SM2;
  } else {
    throw new KmsError('InternalFailure', `no public formats for ${key.spec}`);
  }

  const spkiHash = sha256(der);
  const openssh = ssh ? `${ssh.type} ${Buffer.from(ssh.blob).toString('base64')} ${comment}\n` : undefined;
  const fingerprints: PublicKeyFingerprints = {
    spkiSha256Hex: spkiHash.toString('hex'),
    spkiSha256Base64: spkiHash.toString('base64'),
    ...(ssh ? { openssh: `SHA256:${sha256(ssh.blob).toString('base64').replace(/=+$/, '')}` as const } : {}),
  };
  return assembleBundle({
    keyId,
    keyVersionId,
    spec: key.spec,
    pem,
    der,
    ...(jwk ? { jwk } : {}),
    ...(openssh !== undefined ? { openssh } : {}),
    fingerprints,
    omitted,
    ...(chain === undefined ? {} : { certificateChain: chain }),
  });
}

/** The formats of one key version, as publicKeyFormats computes them and GetPublicKeyBundle answers them. */
export interface BundleParts {
  readonly keyId: string;
  readonly keyVersionId: string;
  readonly spec: KeySpec;
  readonly pem: string;
  readonly der: Uint8Array;
  readonly jwk?: PublicJwk;
  /** The OpenSSH line, with or without its trailing newline. */
  readonly openssh?: string;
  readonly fingerprints: PublicKeyFingerprints;
  /** Why the JWK or OpenSSH format is absent. */
  readonly omitted: Partial<Record<'jwk' | 'openssh', string>>;
  readonly certificateChain?: string;
}

/**
 * The bundle (its files' contents and the manifest naming them) of formats already computed: no key
 * is parsed here, so a host can write the bundle of a GetPublicKeyBundle answer as it stands.
 */
export function assembleBundle(parts: BundleParts): PublicKeyBundle {
  const keyId = assertId(parts.keyId, 'KeyId');
  const keyVersionId = assertId(parts.keyVersionId, 'KeyVersionId');
  const { pem, der, jwk, fingerprints } = parts;
  const openssh = parts.openssh === undefined ? undefined : parts.openssh.endsWith('\n') ? parts.openssh : `${parts.openssh}\n`;
  const sshKeyType = openssh?.split(' ', 1)[0];
  if (sshKeyType !== undefined && sshKeyType !== 'ssh-rsa' && sshKeyType !== 'ecdsa-sha2-nistp256') {
    throw new KmsError('InternalFailure', `an OpenSSH line of key type ${escapeText(sshKeyType, 64)}`);
  }
  const chain = parts.certificateChain === undefined || parts.certificateChain === '' ? undefined : parts.certificateChain.endsWith('\n') ? parts.certificateChain : `${parts.certificateChain}\n`;
  const omitted: Partial<Record<BundleFormat, string>> = parts.omitted;

  const partial = { pem, der, ...(jwk ? { jwk } : {}), ...(openssh !== undefined ? { openssh } : {}) };
  const contents = formatContents(partial);
  const names = bundleFileNames(keyVersionId);
  const entry = (format: BundleFormat): ManifestFile | ManifestOmission => {
    const data = contents[format];
    if (data === undefined) {
      return { omitted: true, reason: omitted[format] ?? 'not available' };
    }
    return {
      file: names[format],
      sha256: sha256(data).toString('hex'),
      mediaType: MEDIA_TYPES[format],
      ...(format === 'openssh' && sshKeyType !== undefined ? { sshKeyType } : {}),
    };
  };
  const manifest: BundleManifest = {
    schema: 'deskkms.public-key-bundle/1',
    KeyId: keyId,
    KeyVersionId: keyVersionId,
    KeySpec: parts.spec,
    formats: { 'spki-pem': entry('spki-pem'), 'spki-der': entry('spki-der'), jwk: entry('jwk'), openssh: entry('openssh') },
    fingerprints,
    ...(chain === undefined
      ? {}
      : {
          certificateChain: {
            file: chainFileName(keyVersionId),
            sha256: sha256(new TextEncoder().encode(chain)).toString('hex'),
            mediaType: 'application/pem-certificate-chain',
            certificates: chain.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0,
          },
        }),
  };
  return { ...partial, fingerprints, ...(chain === undefined ? {} : { certificateChain: chain }), manifest };
}

/** The exact bytes of each present format's file. */
function formatContents(bundle: Pick<PublicKeyBundle, 'pem' | 'der' | 'jwk' | 'openssh'>): Partial<Record<BundleFormat, Uint8Array>> {
  const text = (s: string): Uint8Array => new TextEncoder().encode(s);
  return {
    'spki-pem': text(bundle.pem),
    'spki-der': bundle.der,
    ...(bundle.jwk ? { jwk: text(`${JSON.stringify(bundle.jwk, null, 2)}\n`) } : {}),
    ...(bundle.openssh !== undefined ? { openssh: text(bundle.openssh) } : {}),
  };
}

/** The files of a bundle, name -> bytes, manifest last. */
export function bundleFiles(bundle: PublicKeyBundle): ReadonlyArray<readonly [string, Uint8Array]> {
  const names = bundleFileNames(assertId(bundle.manifest.KeyVersionId, 'KeyVersionId'));
  const contents = formatContents(bundle);
  const out: Array<readonly [string, Uint8Array]> = [];
  for (const format of ['spki-pem', 'spki-der', 'jwk', 'openssh'] as const) {
    const data = contents[format];
    if (data !== undefined) out.push([names[format], data]);
  }
  if (bundle.certificateChain !== undefined) out.push([chainFileName(bundle.manifest.KeyVersionId), new TextEncoder().encode(bundle.certificateChain)]);
  out.push([MANIFEST_FILE, new TextEncoder().encode(`${JSON.stringify(bundle.manifest, null, 2)}\n`)]);
  return out;
}
