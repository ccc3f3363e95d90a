// Response shapes of the Actions the renderer calls (Alibaba KMS field names). The contract's
// KeyMetadata / KeyVersionInfo are the source; the rest mirror the handlers' responses.
import type { KeyMetadata, KeyVersionInfo } from '../../../core/contract/actions.ts';

export type { KeyMetadata, KeyVersionInfo };

export interface DescribeKeyResponse {
  readonly KeyMetadata: KeyMetadata;
}

export interface CreateKeyResponse {
  readonly KeyMetadata: KeyMetadata;
}

export interface ListKeyVersionsResponse {
  readonly KeyVersions: { readonly KeyVersion: readonly KeyVersionInfo[] };
  readonly TotalCount: number;
  readonly PageNumber: number;
  readonly PageSize: number;
}

export interface SignResponse {
  readonly KeyId: string;
  readonly KeyVersionId: string;
  readonly Value: string;
}

export interface VerifyResponse {
  readonly KeyId: string;
  readonly KeyVersionId: string;
  readonly Value: boolean;
}

export interface EncryptResponse {
  readonly KeyId: string;
  readonly KeyVersionId: string;
  readonly CiphertextBlob: string;
}

export interface DecryptResponse {
  readonly KeyId: string;
  readonly KeyVersionId: string;
  readonly Plaintext: string;
}

/** GetPublicKeyBundle (DeskKMS extension). */
export interface PublicKeyBundleResponse {
  readonly KeyId: string;
  readonly KeyVersionId: string;
  readonly KeySpec: string;
  readonly PublicKeyPem: string;
  readonly PublicKeyDer: string;
  readonly Jwk?: Record<string, string>;
  readonly OpenSsh?: string;
  readonly Fingerprints: { readonly SpkiSha256Hex: string; readonly SpkiSha256Base64: string; readonly OpenSsh?: string };
  /** Why a format is absent for this key (e.g. no JWK curve for SM2). */
  readonly Omitted: { readonly Jwk?: string; readonly OpenSsh?: string };
}
