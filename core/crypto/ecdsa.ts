// ECDSA over P-256 and secp256k1 with @noble/curves v2, on a precomputed 32-byte Digest.
// noble's defaults do not fit the KMS contract and are overridden on every call:
// prehash (would hash the digest again) is off; lowS is off for verification (OpenSSL and the
// KMS accept both halves of s); signatures are hedged (RFC 6979 plus fresh randomness).
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { ECDSA } from '@noble/curves/abstract/weierstrass.js';
import { numberToBytesBE } from '@noble/curves/utils.js';
import { KmsError } from '../contract/errors.ts';
import type { EncryptionAlgorithm, KeySpec, SigningAlgorithm } from '../contract/specs.ts';
import type { CurveName, CurvePoint } from './curves.ts';
import { curveOrder, publicPoint } from './curves.ts';
import { decodeRsSignature, encodeRsBytes, type RsPair } from './der.ts';
import { encodeEcPkcs8, encodeEcSpki, type EcPrivateMaterial } from './ec-encoding.ts';
import { createDigester, type Digester } from './hash.ts';
import { fastP256Available, scrubNonceState, signP256Digest, type DigestSignRequest } from './p256-sign.ts';
import type { PrivateKey, PublicKey } from './keys.ts';

type EcdsaCurve = 'P-256' | 'secp256k1';
const ECDSA_CURVES: Readonly<Record<EcdsaCurve, ECDSA>> = { 'P-256': p256, secp256k1 };
const SPEC_OF: Readonly<Record<EcdsaCurve, KeySpec>> = { 'P-256': 'EC_P256', secp256k1: 'EC_P256K' };

export function isEcdsaCurve(curve: CurveName): curve is EcdsaCurve {
  return curve === 'P-256' || curve === 'secp256k1';
}

function inScalarRange(curve: CurveName, { r, s }: RsPair): boolean {
  const n = curveOrder(curve);
  return r >= 1n && r < n && s >= 1n && s < n;
}

export class EcdsaPublicKey implements PublicKey {
  readonly spec: KeySpec;
  readonly spki: Uint8Array;
  readonly curve: EcdsaCurve;
  readonly point: CurvePoint;
  private readonly pointBytes: Uint8Array;

  constructor(curve: EcdsaCurve, point: CurvePoint) {
    this.curve = curve;
    this.point = point;
    this.spec = SPEC_OF[curve];
    this.pointBytes = point.toBytes(false);
    this.spki = encodeEcSpki(curve, point);
  }

  /** Verifies r, s already decoded; out-of-range values are simply invalid. */
  verifyRs(digest: Uint8Array, rs: RsPair): boolean {
    if (!inScalarRange(this.curve, rs)) return false;
    const compact = new Uint8Array(64);
    compact.set(numberToBytesBE(rs.r, 32));
    compact.set(numberToBytesBE(rs.s, 32), 32);
    try {
      return ECDSA_CURVES[this.curve].verify(compact, digest, this.pointBytes, { prehash: false, lowS: false, format: 'compact' });
    } catch {
      return false;
    }
  }

  verifyDigest(algorithm: SigningAlgorithm, digest: Uint8Array, signature: Uint8Array): boolean {
    if (algorithm !== 'ECDSA_SHA_256') throw new KmsError('InternalFailure', `${algorithm} reached the ECDSA engine`);
    return this.verifyRs(digest, decodeRsSignature(signature));
  }

  encrypt(algorithm: EncryptionAlgorithm): Uint8Array {
    throw new KmsError('InternalFailure', `${algorithm} reached the ECDSA engine`);
  }

  messageDigester(): Digester {
    return createDigester('SHA-256');
  }
}

export class EcdsaPrivateKey implements PrivateKey {
  readonly spec: KeySpec;
  readonly publicKey: EcdsaPublicKey;
  private readonly scalar: Uint8Array;
  /** Whether this key signs by the P-256 fast path (p256-sign.ts), from its scalar's bytes; secp256k1 signs by noble. */
  private readonly fast: boolean;
  private wiped = false;

  constructor(material: EcPrivateMaterial & { curve: EcdsaCurve }) {
    this.scalar = material.scalar;
    this.fast = material.curve === 'P-256' && fastP256Available();
    this.publicKey = new EcdsaPublicKey(material.curve, material.point);
    this.spec = this.publicKey.spec;
  }

  static generate(curve: EcdsaCurve): EcdsaPrivateKey {
    const impl = ECDSA_CURVES[curve];
    const scalar = impl.utils.randomSecretKey();
    return new EcdsaPrivateKey({ curve, scalar, point: publicPoint(curve, scalar) });
  }

  private get live(): Uint8Array {
    if (this.wiped) throw new KmsError('Vault.Locked', 'this private key has been wiped');
    return this.scalar;
  }

  signDigest(algorithm: SigningAlgorithm, digest: Uint8Array): Uint8Array {
    if (algorithm !== 'ECDSA_SHA_256') throw new KmsError('InternalFailure', `${algorithm} reached the ECDSA engine`);
    const fast = this.fastRequest(digest);
    if (fast) {
      const { r, s } = signP256Digest(fast);
      return encodeRsBytes(r, s);
    }
    const compact = ECDSA_CURVES[this.publicKey.curve].sign(digest, this.live, {
      prehash: false,
      lowS: true,
      extraEntropy: true,
      format: 'compact',
    });
    // compact: r then s, each the order's length
    return encodeRsBytes(compact.subarray(0, compact.length / 2), compact.subarray(compact.length / 2));
  }

  /** The fast path's request for this digest (engine.signDigests batches them), or undefined for noble. */
  fastRequest(digest: Uint8Array): DigestSignRequest | undefined {
    return this.fast ? { secret: this.live, digest } : undefined;
  }

  decrypt(algorithm: EncryptionAlgorithm): Uint8Array {
    throw new KmsError('InternalFailure', `${algorithm} reached the ECDSA engine`);
  }

  exportPkcs8(): Uint8Array {
    // The point derived from this scalar when the key was made or imported (as SM2's export does).
    return encodeEcPkcs8(this.publicKey.curve, this.live, this.publicKey.point);
  }

  wipe(): void {
    this.scalar.fill(0);
    this.wiped = true;
    if (this.fast) scrubNonceState();
  }
}
