// The request signature schemes of Alibaba Cloud's OpenAPI that DeskKMS speaks, as a server
// (`deskkms serve`, core/hosts/http) and as a client (a remote KMS connection, core/providers/remote.ts):
//   - ACS3-HMAC-SHA256 and ACS3-HMAC-SM3: signature method V3 (headers x-acs-*, an Authorization
//     header over a canonical request), what the current SDKs (@alicloud/openapi-client and the
//     SDKs of every language built on it) send by default;
//   - HMAC-SHA1: the RPC signature V1 (SignatureMethod, SignatureVersion 1.0, Signature as a
//     parameter), what @alicloud/kms20160120 1.x and @alicloud/pop-core send.
// Runtime-neutral: shared with the renderer.

export const SIGNATURE_ALGORITHMS = ['ACS3-HMAC-SHA256', 'ACS3-HMAC-SM3', 'HMAC-SHA1'] as const;
export type SignatureAlgorithm = (typeof SIGNATURE_ALGORITHMS)[number];

/** What a new remote connection signs with: V3, as Alibaba Cloud asks of new clients. */
export const DEFAULT_SIGNATURE_ALGORITHM: SignatureAlgorithm = 'ACS3-HMAC-SHA256';

export function isSignatureAlgorithm(value: unknown): value is SignatureAlgorithm {
  return typeof value === 'string' && (SIGNATURE_ALGORITHMS as readonly string[]).includes(value);
}
