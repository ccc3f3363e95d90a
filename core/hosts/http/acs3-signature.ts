// Alibaba Cloud's request signature V3 (ACS3-HMAC-SHA256 and ACS3-HMAC-SM3), what
// @alicloud/openapi-client and every SDK built on it send by default. Pure functions and the
// protocol checks of a V3 request (the server calls acs3SignedRequest before authentication);
// the MAC itself is computed in the key worker (op accessKeyMac), which alone holds the secret.
//
// Written from Alibaba Cloud SDK, "V3 request structure and signature"
// (https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature):
//   CanonicalRequest = HTTPRequestMethod \n CanonicalURI \n CanonicalQueryString \n
//                      CanonicalHeaders \n SignedHeaders \n HashedRequestPayload
//     CanonicalURI          "/" for RPC-style APIs
//     CanonicalQueryString  the query parameters sorted by name, name=value each RFC 3986-encoded, joined by "&"
//     CanonicalHeaders      each signed header "lower-case name:trimmed value\n", sorted by name
//     SignedHeaders         the signed headers' lower-case names, sorted, joined by ";"
//     HashedRequestPayload  hex(hash(body)) (SHA-256 or SM3), also sent as x-acs-content-sha256 (that
//                           name for SM3 too)
//   StringToSign = Algorithm \n hex(hash(CanonicalRequest))
//   Signature    = hex(HMAC(AccessKeySecret, StringToSign))  (HMAC-SHA256 or HMAC-SM3; the key is the secret)
//   Authorization: Algorithm Credential=AccessKeyId,SignedHeaders=...,Signature=...
// "Every common request header except Authorization must be signed when it is present": host,
// x-acs-action, x-acs-version, x-acs-date, x-acs-signature-nonce, x-acs-content-sha256, and the
// content-type of a body; @alicloud/openapi-util's getAuthorization signs host, content-type and
// every x-acs-* header, and so must a request we accept.
//
// Error codes: the gateway answers V3 requests with the codes it documents for every signed
// request (e.g. https://help.aliyun.com/document_detail/48054.html): Missing<Parameter> ("... is
// mandatory for this action"; here MissingParameter naming the header), InvalidTimeStamp.Format and
// .Expired (x-acs-date, 15 minutes), SignatureNonceUsed, SignatureDoesNotMatch, and
// IncompleteSignature / InvalidSignatureMethod for a malformed Authorization or another
// algorithm. Alibaba publishes no code for a header left out of SignedHeaders (IncompleteSignature
// here), for an x-acs-content-sha256 that is not the body's hash (SignatureDoesNotMatch: the body
// is not what was signed), or for STS/bearer credentials sent to a service that takes none
// (InvalidParameter naming the header).
import { createHash } from 'node:crypto';
import { KmsError } from '../../contract/errors.ts';
import { escapeText } from '../../contract/escape-text.ts';
import { canonicalQuery } from './rpc-signature.ts';

export const ACS3_ALGORITHMS = ['ACS3-HMAC-SHA256', 'ACS3-HMAC-SM3'] as const;
export type Acs3Algorithm = (typeof ACS3_ALGORITHMS)[number];

export function isAcs3Algorithm(value: string): value is Acs3Algorithm {
  return (ACS3_ALGORITHMS as readonly string[]).includes(value);
}

/** The header named x-acs-content-sha256 whatever the algorithm (Alibaba's name, SM3 included). */
export const CONTENT_HASH_HEADER = 'x-acs-content-sha256';

/** Headers a V3 request must carry and sign (content-type too when there is a body). */
export const REQUIRED_SIGNED_HEADERS = ['host', 'x-acs-action', 'x-acs-version', 'x-acs-date', 'x-acs-signature-nonce', CONTENT_HASH_HEADER] as const;

/**
 * x-acs-* headers that carry another kind of credential (an STS token, a bearer token): this vault
 * issues none of them, so a request carrying one is refused rather than half-understood.
 */
const OTHER_CREDENTIAL_HEADERS: Readonly<Record<string, string>> = {
  'x-acs-security-token': 'an STS security token',
  'x-acs-accesskey-id': 'an STS access key (sent with a security token)',
  'x-acs-bearer-token': 'a bearer token',
  'x-acs-signature-type': 'another signature type',
  'x-acs-zero-trust-idtoken': 'an ID token',
};

/** RPC (V1) authentication parameters: a V3 request that also carries them is ambiguous. */
export const V1_AUTH_PARAMS = ['AccessKeyId', 'Signature', 'SignatureMethod', 'SignatureVersion', 'SignatureNonce', 'SignatureType', 'Timestamp', 'SecurityToken', 'BearerToken'] as const;

/** hex(hash(data)): SHA-256 or SM3 (node:crypto "sm3", Node 24's OpenSSL). */
export function acs3Hash(algorithm: Acs3Algorithm, data: Uint8Array | string): string {
  return createHash(algorithm === 'ACS3-HMAC-SM3' ? 'sm3' : 'sha256')
    .update(data)
    .digest('hex');
}

export interface Acs3Authorization {
  readonly algorithm: Acs3Algorithm;
  readonly accessKeyId: string;
  /** Lower-case, sorted, distinct. */
  readonly signedHeaders: readonly string[];
  /** Lower-case hex. */
  readonly signature: string;
}

const HEADER_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const HEX_SIGNATURE = /^[0-9a-fA-F]{64}$/;
const CREDENTIAL = /^[\x21-\x7e]{1,128}$/;

function incomplete(detail: string): KmsError {
  return new KmsError('IncompleteSignature', `The request signature does not conform to Aliyun standards: ${detail}`);
}

/**
 * Parses `Authorization: ACS3-HMAC-SHA256 Credential=...,SignedHeaders=...,Signature=...`.
 * An algorithm other than the two HMAC ones (ACS3-RSA-SHA256 included: this vault's access keys
 * are secrets, not RSA keys) is InvalidSignatureMethod; a malformed header IncompleteSignature.
 */
export function parseAcs3Authorization(header: string): Acs3Authorization {
  const space = header.indexOf(' ');
  const algorithm = space < 0 ? header : header.slice(0, space);
  if (!isAcs3Algorithm(algorithm)) {
    throw new KmsError('InvalidSignatureMethod', `Specified signature method is not valid: Authorization: only ${ACS3_ALGORITHMS.join(' and ')} (or the RPC HMAC-SHA1 signature), not "${escapeText(algorithm, 32)}"`);
  }
  const fields = new Map<string, string>();
  for (const part of (space < 0 ? '' : header.slice(space + 1)).split(',')) {
    const item = part.trim();
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq);
    if (name !== 'Credential' && name !== 'SignedHeaders' && name !== 'Signature') {
      throw incomplete(`Authorization: "${escapeText(name, 32)}" is not Credential, SignedHeaders or Signature`);
    }
    if (fields.has(name)) throw incomplete(`Authorization: ${name} is given more than once`);
    fields.set(name, eq < 0 ? '' : item.slice(eq + 1));
  }
  const accessKeyId = fields.get('Credential') ?? '';
  const signedHeaderList = fields.get('SignedHeaders') ?? '';
  const signature = fields.get('Signature') ?? '';
  if (!accessKeyId) throw incomplete('Authorization: Credential (the AccessKeyId) is missing');
  if (!CREDENTIAL.test(accessKeyId)) throw incomplete('Authorization: Credential must be an AccessKeyId of 1-128 printable ASCII characters');
  if (!signedHeaderList) throw incomplete('Authorization: SignedHeaders is missing');
  if (!signature) throw incomplete('Authorization: Signature is missing');
  if (!HEX_SIGNATURE.test(signature)) throw incomplete('Authorization: Signature must be 64 hex digits');
  const signedHeaders = signedHeaderList.split(';');
  signedHeaders.forEach((name, i) => {
    if (!HEADER_NAME.test(name)) throw incomplete(`Authorization: SignedHeaders: "${escapeText(name, 64)}" is not a lower-case header name`);
    const previous = signedHeaders[i - 1];
    if (previous !== undefined && previous >= name) throw incomplete('Authorization: SignedHeaders must be sorted and name each header once');
  });
  return { algorithm, accessKeyId, signedHeaders, signature: signature.toLowerCase() };
}

export interface CanonicalRequestParts {
  readonly method: string;
  readonly query: Readonly<Record<string, string>>;
  /** The signed headers' values by lower-case name. */
  readonly headers: ReadonlyMap<string, string>;
  /** Lower-case, sorted. */
  readonly signedHeaders: readonly string[];
  readonly hashedPayload: string;
}

/**
 * The canonical request of an RPC-style API (CanonicalURI "/"). Its CanonicalQueryString is the
 * V1 one (names sorted by UTF-16 code unit, names and values RFC 3986-encoded): V1 leaves out a
 * `Signature` parameter, which a V3 request never carries (acs3SignedRequest refuses it).
 */
export function acs3CanonicalRequest(parts: CanonicalRequestParts): string {
  const canonicalHeaders = parts.signedHeaders.map((name) => `${name}:${(parts.headers.get(name) ?? '').trim()}\n`).join('');
  return [parts.method, '/', canonicalQuery(parts.query), canonicalHeaders, parts.signedHeaders.join(';'), parts.hashedPayload].join('\n');
}

export function acs3StringToSign(algorithm: Acs3Algorithm, canonicalRequest: string): string {
  return `${algorithm}\n${acs3Hash(algorithm, canonicalRequest)}`;
}

/** A V3 request whose authenticating headers are present and consistent: what an Authenticator verifies. */
export interface Acs3SignedRequest {
  readonly scheme: 'ACS3';
  readonly algorithm: Acs3Algorithm;
  readonly accessKeyId: string;
  /** x-acs-date. */
  readonly timestamp: string;
  /** x-acs-signature-nonce. */
  readonly nonce: string;
  /** Lower-case hex. */
  readonly signature: string;
  readonly canonicalRequest: string;
  /** x-acs-action and x-acs-version. */
  readonly action: string;
  readonly version: string;
}

export interface Acs3RequestInput {
  readonly method: string;
  /** The query string's parameters (decoded), without the body's. */
  readonly query: Readonly<Record<string, string>>;
  /** Every parameter, the query's and the form body's: checked for RPC (V1) authentication parameters. */
  readonly params: Readonly<Record<string, string>>;
  /** node's IncomingMessage.headersDistinct: lower-case names, every value as sent. */
  readonly headers: Readonly<Record<string, readonly string[] | undefined>>;
  /** The body as received (empty for none). */
  readonly body: Uint8Array;
}

function single(headers: Acs3RequestInput['headers'], name: string): string | undefined {
  const values = headers[name];
  if (values === undefined || values.length === 0) return undefined;
  if (values.length > 1) throw new KmsError('InvalidParameter', `header ${name}: given more than once`);
  return values[0];
}

const NONCE = /^[\x21-\x7e]{1,128}$/;

/**
 * The protocol checks of a V3 request, made before authentication (no secret is needed): its
 * Authorization header, the headers it must carry and sign, x-acs-content-sha256 against the body
 * as received, and no other kind of credential alongside. Returns what the Authenticator verifies
 * (access key, date, signature, nonce).
 */
export function acs3SignedRequest(input: Acs3RequestInput): Acs3SignedRequest {
  const authorization = single(input.headers, 'authorization') ?? '';
  const parsed = parseAcs3Authorization(authorization);
  const { algorithm, signedHeaders } = parsed;

  for (const [header, what] of Object.entries(OTHER_CREDENTIAL_HEADERS)) {
    if (input.headers[header] !== undefined) {
      // Alibaba's gateway has no code for "this service takes no STS or bearer credentials"; the
      // request is well-formed, so InvalidParameter, naming the header.
      throw new KmsError('InvalidParameter', `header ${header}: ${what} is not accepted here; sign with one of this vault's access keys (deskkms access-key create)`);
    }
  }
  for (const name of V1_AUTH_PARAMS) {
    if (input.params[name] !== undefined) {
      throw new KmsError('InvalidParameter', `${name}: an RPC (V1) authentication parameter in a request signed with ${algorithm} (Authorization header): use one signature scheme per request`);
    }
  }

  const required = input.body.length > 0 ? [...REQUIRED_SIGNED_HEADERS, 'content-type'] : REQUIRED_SIGNED_HEADERS;
  for (const name of required) {
    const value = single(input.headers, name);
    if (value === undefined || value.trim() === '') throw new KmsError('MissingParameter', `header ${name} is mandatory for this action`);
    if (!signedHeaders.includes(name)) throw incomplete(`Authorization: SignedHeaders must include ${name}`);
  }
  for (const name of Object.keys(input.headers)) {
    if (name.startsWith('x-acs-') && !signedHeaders.includes(name)) {
      throw incomplete(`Authorization: SignedHeaders must include ${escapeText(name, 64)} (every x-acs-* header is signed)`);
    }
  }
  const values = new Map<string, string>();
  for (const name of signedHeaders) {
    const value = single(input.headers, name);
    if (value === undefined) throw incomplete(`Authorization: SignedHeaders names ${name}, which the request does not carry`);
    values.set(name, value);
  }

  const hashedPayload = acs3Hash(algorithm, input.body);
  const declared = values.get(CONTENT_HASH_HEADER) ?? '';
  if (declared.trim().toLowerCase() !== hashedPayload) {
    // Alibaba documents no code of its own for this; the body is not what was signed, so the
    // signature does not match it.
    throw new KmsError(
      'SignatureDoesNotMatch',
      `Specified signature does not match our calculation: header ${CONTENT_HASH_HEADER} "${escapeText(declared, 80)}" is not the ${algorithm === 'ACS3-HMAC-SM3' ? 'SM3' : 'SHA-256'} hash of the request body as received (${hashedPayload})`,
    );
  }

  const nonce = (values.get('x-acs-signature-nonce') ?? '').trim();
  if (!NONCE.test(nonce)) throw new KmsError('InvalidParameter', 'header x-acs-signature-nonce: 1-128 printable ASCII characters');
  return {
    scheme: 'ACS3',
    algorithm,
    accessKeyId: parsed.accessKeyId,
    timestamp: (values.get('x-acs-date') ?? '').trim(),
    nonce,
    signature: parsed.signature,
    action: (values.get('x-acs-action') ?? '').trim(),
    version: (values.get('x-acs-version') ?? '').trim(),
    canonicalRequest: acs3CanonicalRequest({ method: input.method, query: input.query, headers: values, signedHeaders, hashedPayload }),
  };
}
