// The bytes of a signing request and of its response (core/contract/signing-requests.ts is the
// contract): JSON with a fixed member order and a final "\n", so that the same request always
// gives the same bytes (its SHA-256 is what the station shows and what the response binds), and
// a strict reading: a size limit before anything is parsed, then the schema, then the rules the
// schema cannot say (one name per file, the options each format reads, the CSR of a csr request).
// Every refusal is Request.Malformed naming the field ("Files[2].Sha256: ...").
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { decodeBase64, encodeBase64 } from '../contract/base64.ts';
import { KmsError } from '../contract/errors.ts';
import { escapeText } from '../contract/escape-text.ts';
import {
  MAX_REQUEST_BYTES,
  MAX_RESPONSE_BYTES,
  signingRequestSchema,
  signingResponseSchema,
  type RequestFormat,
  type RequestOptions,
  type SigningRequest,
  type SigningResponse,
} from '../contract/signing-requests.ts';

/** SHA-256 of `bytes`, lower-case hex. */
export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const CSR_LABEL = 'CERTIFICATE REQUEST';

/** The one form a CSR travels in: a single PEM "CERTIFICATE REQUEST" block, base64 in 64-column lines, LF, nothing around (what IssueCertificate reads). */
export function canonicalCsrPem(der: Uint8Array): string {
  const lines = encodeBase64(der).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${CSR_LABEL}-----\n${lines.join('\n')}\n-----END ${CSR_LABEL}-----\n`;
}

/** The DER of a request's Csr when it is in its one canonical form (canonicalCsrPem), else undefined. */
export function canonicalCsrDer(pem: string): Uint8Array | undefined {
  const m = /^-----BEGIN CERTIFICATE REQUEST-----\n([A-Za-z0-9+/=\n]+)\n-----END CERTIFICATE REQUEST-----\n$/.exec(pem);
  if (!m) return undefined;
  let der: Uint8Array;
  try {
    der = decodeBase64(m[1]!.replace(/\n/g, ''), 'Csr');
  } catch {
    return undefined;
  }
  return der.length > 0 && canonicalCsrPem(der) === pem ? der : undefined;
}

function malformed(what: string, message: string): KmsError {
  return new KmsError('Request.Malformed', `${what}: ${message}`);
}

/** Which request options each format reads: any other is refused, never ignored. */
export const OPTIONS_OF_FORMAT: Readonly<Record<RequestFormat, readonly (keyof RequestOptions)[]>> = {
  ssh: ['Namespace'],
  openpgp: ['UserId'],
  sigstore: [],
  jws: ['Detached', 'Algorithm'],
  raw: ['Algorithm'],
  csr: ['ValidityDays', 'IsCa', 'PathLen', 'Policy'],
};

const OPTION_ORDER: readonly (keyof RequestOptions)[] = ['Namespace', 'Detached', 'Algorithm', 'UserId', 'ValidityDays', 'IsCa', 'PathLen', 'Policy'];

/** `value` with its members in `order` (absent ones left out), then any others sorted. */
function ordered<T extends object>(value: T, order: readonly string[]): T {
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of order) if (source[key] !== undefined) out[key] = source[key];
  for (const key of Object.keys(source).sort()) if (!(key in out) && source[key] !== undefined) out[key] = source[key];
  return out as T;
}

function requestObject(r: SigningRequest): SigningRequest {
  return ordered(
    {
      ...r,
      Options: ordered(r.Options, OPTION_ORDER),
      Files: r.Files.map((f) => ordered({ ...f, ...(f.Prepared ? { Prepared: ordered(f.Prepared, []) } : {}) }, ['Name', 'Size', 'Sha256', 'Prepared'])),
    },
    ['Type', 'Version', 'RequestId', 'Created', 'Key', 'KeyVersionId', 'PublicKey', 'Format', 'Options', 'Note', 'Files', 'Csr'],
  );
}

function responseObject(r: SigningResponse): SigningResponse {
  return ordered(
    {
      ...r,
      PublicMaterial: ordered(r.PublicMaterial, ['SshPublicKey', 'OpenPgpCertificate', 'Jwk', 'PublicKeyPem', 'CertificateChain']),
      Files: r.Files.map((f) => ordered(f, ['Name', 'Sha256', 'Signature'])),
    },
    ['Type', 'Version', 'RequestId', 'RequestSha256', 'Approved', 'Format', 'KeyId', 'KeyVersionId', 'KeySpec', 'PublicKey', 'PublicMaterial', 'Files'],
  );
}

const encoder = new TextEncoder();

/** The request's bytes: checked against the schema and the rules below first (a bug otherwise). */
export function encodeRequest(r: SigningRequest): Uint8Array {
  const bytes = encoder.encode(`${JSON.stringify(requestObject(r))}\n`);
  // What is written is what parseRequest reads: a request this module would refuse never leaves.
  parseRequest(bytes);
  return bytes;
}

export function encodeResponse(r: SigningResponse): Uint8Array {
  const bytes = encoder.encode(`${JSON.stringify(responseObject(r))}\n`);
  parseResponse(bytes);
  return bytes;
}

/** "Files[2].Sha256" from a zod issue path. */
function fieldPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) text += typeof part === 'number' ? `[${part}]` : `${text ? '.' : ''}${escapeText(String(part), 64)}`;
  return text || '(the document)';
}

function parseJson<T>(bytes: Uint8Array, limit: number, what: string, schema: z.ZodType<T>): T {
  if (!(bytes instanceof Uint8Array)) throw malformed(what, 'is not bytes');
  if (bytes.length > limit) throw malformed(what, `is ${bytes.length} bytes; at most ${limit} are read`);
  if (bytes.length === 0) throw malformed(what, 'is empty');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw malformed(what, 'is not UTF-8 text');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed(what, 'is not JSON (cut short, or not a DeskKMS file?)');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(what, 'is not a JSON object');
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw malformed(what, `${fieldPath(issue.path)}: ${escapeText(issue.message, 200)}`);
  }
  return parsed.data;
}

function assertUniqueNames(files: readonly { Name: string }[], what: string): void {
  const seen = new Set<string>();
  files.forEach((file, i) => {
    if (seen.has(file.Name)) throw malformed(what, `Files[${i}].Name: ${escapeText(file.Name, 255)} is named twice; each file of a request has its own name`);
    seen.add(file.Name);
  });
}

/** The rules of a request that its schema does not say. */
function checkRequest(r: SigningRequest, what: string): SigningRequest {
  assertUniqueNames(r.Files, what);
  const allowed = OPTIONS_OF_FORMAT[r.Format];
  for (const option of Object.keys(r.Options) as (keyof RequestOptions)[]) {
    if (!allowed.includes(option)) throw malformed(what, `Options.${option}: is not an option of the ${r.Format} format`);
  }
  if (r.Options.PathLen !== undefined && r.Options.IsCa !== true) throw malformed(what, 'Options.PathLen: applies only with Options.IsCa true');
  if (r.Format === 'csr') {
    if (r.Csr === undefined) throw malformed(what, 'Csr: a csr request carries the CSR (PEM)');
    if (canonicalCsrDer(r.Csr) === undefined) throw malformed(what, 'Csr: is not one PEM "CERTIFICATE REQUEST" block (64-column base64, LF line ends, nothing before or after): create writes it so');
    if (r.Files.length !== 1) throw malformed(what, `Files: a csr request names one file (its CSR), not ${r.Files.length}`);
    if (r.Files[0]!.Prepared !== undefined) throw malformed(what, 'Files[0].Prepared: a csr request carries its CSR in Csr, nothing prepared');
    if (sha256Hex(r.Csr) !== r.Files[0]!.Sha256) throw malformed(what, 'Files[0].Sha256: is not the SHA-256 of Csr');
  } else {
    if (r.Csr !== undefined) throw malformed(what, `Csr: only a csr request carries one, not a ${r.Format} request`);
    r.Files.forEach((file, i) => {
      if (file.Prepared === undefined) throw malformed(what, `Files[${i}].Prepared: is missing (the format's hashes of the file)`);
    });
  }
  return r;
}

/** A signing request read strictly: Request.Malformed naming the field for anything else. */
export function parseRequest(bytes: Uint8Array): SigningRequest {
  return checkRequest(parseJson(bytes, MAX_REQUEST_BYTES, 'the signing request', signingRequestSchema), 'the signing request');
}

/** A signing response read strictly: Request.Malformed naming the field for anything else. */
export function parseResponse(bytes: Uint8Array): SigningResponse {
  const what = 'the signing response';
  const r = parseJson(bytes, MAX_RESPONSE_BYTES, what, signingResponseSchema);
  assertUniqueNames(r.Files, what);
  return r;
}
