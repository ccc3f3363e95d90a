// The online half of a signing request (no vault on this machine): each file is streamed once
// through the format's prepare() (core/formats), which hashes it as its ecosystem does with what
// is known of the key, and through SHA-256 (what the operator compares at the station and what
// finish checks again). The request carries those hashes, never the files.
import { createHash, randomUUID } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { decodeBase64, encodeBase64 } from '../contract/base64.ts';
import { KmsError, invalidParameter } from '../contract/errors.ts';
import { escapeText } from '../contract/escape-text.ts';
import { UUID } from '../contract/ids.ts';
import { SIGNING_ALGORITHMS, isSigningAlgorithm } from '../contract/specs.ts';
import { importPublicKey, type PublicKey } from '../crypto/public-key.ts';
import type { FormatOptions, KnownKey } from '../formats/format.ts';
import { MAX_ATTACHED_PAYLOAD, jwkToSpki } from '../formats/jws.ts';
import { signatureFormat } from '../formats/registry.ts';
import { isSshKeyTypeName } from '../formats/ssh-wire.ts';
import { readSshPublicKey } from '../formats/sshsig.ts';
import { OPTIONS_OF_FORMAT, canonicalCsrPem, encodeRequest, sha256Hex } from './request-file.ts';
import {
  MAX_FILES,
  MAX_NOTE,
  MAX_REQUEST_BYTES,
  REQUEST_FORMATS,
  REQUEST_TYPE,
  REQUEST_VERSION,
  fileName,
  requestOptionsSchema,
  type RequestFile,
  type RequestFormat,
  type RequestOptions,
  type SigningRequest,
} from '../contract/signing-requests.ts';

/** A CSR travels whole in the request (PEM); larger than this is not a CSR. */
export const MAX_CSR_BYTES = 65536;

export interface RequestInputFile {
  /** The file's base name, as finish will look it up beside the request. */
  readonly name: string;
  readonly size: number;
  readonly chunks: AsyncIterable<Uint8Array>;
}

export interface CreateRequestInput {
  /** KeyId, alias/NAME or an ARN, as the station's vault knows the key. */
  readonly key: string;
  readonly keyVersionId?: string;
  /** A public key file (SPKI PEM or DER, an OpenSSH line, a JWK): pins the key. */
  readonly publicKey?: Uint8Array;
  readonly format: RequestFormat;
  readonly options: RequestOptions;
  readonly note?: string;
  readonly files: readonly RequestInputFile[];
  /** The request's Created time (default now). */
  readonly now?: Date;
}

/**
 * A public key file as SPKI DER: SubjectPublicKeyInfo PEM or DER, an OpenSSH public key line, or
 * a JWK (its kid too). InvalidParameter naming `parameter` otherwise.
 */
export function publicKeyFile(bytes: Uint8Array, parameter = '--public-key'): { readonly key: PublicKey; readonly kid?: string } {
  const head = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart();
  try {
    if (head.startsWith('{')) {
      const { spki, kid } = jwkToSpki(new TextDecoder().decode(bytes));
      return { key: importPublicKey(spki, parameter), ...(kid !== undefined ? { kid } : {}) };
    }
    const firstToken = /^[^ \t\r\n]*/.exec(head)![0];
    if (isSshKeyTypeName(firstToken)) return { key: readSshPublicKey(bytes, `the ${parameter} file`).key };
    return { key: importPublicKey(bytes, parameter) };
  } catch (error) {
    if (error instanceof KmsError && error.message.startsWith(parameter)) throw error;
    if (error instanceof KmsError) throw invalidParameter(parameter, error.message);
    throw error;
  }
}

/**
 * The FormatOptions a request's options mean at either end: the signature time is the request's
 * Created, and a JWS is always prepared and signed detached (the payload never crosses; finish
 * attaches it again unless Options.Detached).
 */
export function formatOptionsOf(request: Pick<SigningRequest, 'Options' | 'Created' | 'Format'>): FormatOptions {
  const o = request.Options;
  if (o.Algorithm !== undefined && !isSigningAlgorithm(o.Algorithm)) {
    throw new KmsError('Request.Malformed', `Options.Algorithm: ${escapeText(o.Algorithm, 64)} is not a signing algorithm; valid: ${SIGNING_ALGORITHMS.join(', ')}`);
  }
  return {
    ...(o.Namespace !== undefined ? { namespace: o.Namespace } : {}),
    ...(request.Format === 'jws' ? { detached: true } : {}),
    ...(o.Algorithm !== undefined && isSigningAlgorithm(o.Algorithm) ? { algorithm: o.Algorithm } : {}),
    time: new Date(request.Created),
  };
}

/** An ISO-8601 UTC time to the second, as the request carries it. */
export function isoSeconds(date: Date): string {
  if (Number.isNaN(date.getTime())) throw invalidParameter('now', 'is not a time');
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function checkInput(input: CreateRequestInput): void {
  if (!(REQUEST_FORMATS as readonly string[]).includes(input.format)) throw invalidParameter('--format', `${escapeText(String(input.format), 32)} is not a request format; valid: ${REQUEST_FORMATS.join(', ')}`);
  if (typeof input.key !== 'string' || input.key === '' || input.key.length > 256) throw invalidParameter('--key', 'must be a KeyId, alias/NAME or ARN of 1-256 characters');
  if (input.keyVersionId !== undefined && !UUID.test(input.keyVersionId)) throw invalidParameter('--version', `${escapeText(input.keyVersionId, 64)} is not a KeyVersionId (a lower-case UUID)`);
  const options = requestOptionsSchema.safeParse(input.options);
  if (!options.success) {
    const issue = options.error.issues[0]!;
    throw invalidParameter(`Options.${issue.path.map(String).join('.')}`, escapeText(issue.message, 200));
  }
  for (const option of Object.keys(input.options) as (keyof RequestOptions)[]) {
    if (input.options[option] !== undefined && !OPTIONS_OF_FORMAT[input.format].includes(option)) {
      throw invalidParameter(`Options.${option}`, `is not an option of the ${input.format} format`);
    }
  }
  if (input.options.PathLen !== undefined && input.options.IsCa !== true) throw invalidParameter('Options.PathLen', 'applies only to a CA certificate (IsCa)');
  if (input.note !== undefined && input.note.length > MAX_NOTE) throw invalidParameter('--note', `is ${input.note.length} characters; at most ${MAX_NOTE}`);
  if (input.files.length === 0) throw invalidParameter('--in', 'give at least one file');
  if (input.files.length > MAX_FILES) throw invalidParameter('--in', `${input.files.length} files; a request carries at most ${MAX_FILES}`);
  if (input.format === 'csr' && input.files.length !== 1) throw invalidParameter('--in', 'a csr request carries one CSR file');
  const names = new Set<string>();
  for (const file of input.files) {
    const name = fileName.safeParse(file.name);
    if (!name.success) throw invalidParameter('--in', `${escapeText(file.name, 255)}: the name ${name.error.issues[0]!.message}`);
    if (names.has(file.name)) throw invalidParameter('--in', `two files are named ${escapeText(file.name, 255)}; finish finds each file by its name, so each must be different`);
    names.add(file.name);
    if (!Number.isSafeInteger(file.size) || file.size < 0) throw invalidParameter('--in', `${escapeText(file.name, 255)}: size ${String(file.size)} is not a byte count`);
    // finish puts a JWS payload back into the token, which holds at most MAX_ATTACHED_PAYLOAD bytes: say so now, not after the station signed.
    if (input.format === 'jws' && input.options.Detached !== true && file.size > MAX_ATTACHED_PAYLOAD) {
      throw invalidParameter('--in', `${escapeText(file.name, 255)}: ${file.size} bytes is over the ${MAX_ATTACHED_PAYLOAD} a JWS carries attached; give --detached`);
    }
  }
}

/** The length a DER SEQUENCE says it has (header included), or undefined when it is not one. */
function derSequenceLength(der: Uint8Array): number | undefined {
  if (der.length < 2 || der[0] !== 0x30) return undefined;
  const first = der[1]!;
  if (first < 0x80) return 2 + first;
  const n = first & 0x7f;
  if (n < 1 || n > 4 || der.length < 2 + n) return undefined;
  let length = 0;
  for (let i = 0; i < n; i += 1) length = length * 256 + der[2 + i]!;
  return 2 + n + length;
}

/**
 * A CSR file as the one form it travels in (canonicalCsrPem): PEM labelled "CERTIFICATE REQUEST"
 * or "NEW CERTIFICATE REQUEST" (one block, nothing but white space around it), or DER. Its DER must
 * be one PKCS#10 CertificationRequest and nothing after it. InvalidParameter naming `parameter`.
 */
export function normaliseCsr(bytes: Uint8Array, name: string, parameter = '--in'): { pem: string; der: Uint8Array } {
  const refuse = (why: string) => invalidParameter(parameter, `${escapeText(name, 255)}: ${why}`);
  let der: Uint8Array;
  if (bytes[0] === 0x30) der = bytes;
  else {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw refuse('is not a CSR (neither PEM text nor DER)');
    }
    const m = /^-----BEGIN (NEW )?CERTIFICATE REQUEST-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n?-----END (NEW )?CERTIFICATE REQUEST-----$/.exec(text.trim());
    if (!m || m[1] !== m[3]) throw refuse('is not one PEM "CERTIFICATE REQUEST" block (nothing but white space may come before or after it)');
    try {
      der = decodeBase64(m[2]!.replace(/\r?\n/g, ''), parameter);
    } catch {
      throw refuse('its PEM body is not base64');
    }
  }
  if (derSequenceLength(der) !== der.length) throw refuse('is not one DER CertificationRequest (its length is not what its header says)');
  try {
    AsnConvert.parse(der, CertificationRequest);
  } catch {
    throw refuse('is not a PKCS#10 CertificationRequest');
  }
  return { pem: canonicalCsrPem(der), der: new Uint8Array(der) };
}

/** The CSR file, read whole (it travels in the request), in its one canonical PEM form. */
async function readCsr(file: RequestInputFile): Promise<{ text: string; sha256: string; size: number }> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of file.chunks) {
    size += chunk.length;
    if (size > MAX_CSR_BYTES) throw invalidParameter('--in', `${escapeText(file.name, 255)}: larger than ${MAX_CSR_BYTES} bytes; a CSR is a small PEM file`);
    parts.push(chunk);
  }
  const { pem } = normaliseCsr(Buffer.concat(parts), file.name);
  return { text: pem, sha256: sha256Hex(pem), size: Buffer.byteLength(pem) };
}

/**
 * A signing request: each file streamed once (SHA-256 and the format's prepare()), in order.
 * `onProgress` is told the bytes read so far and the total of the files' sizes.
 */
export async function createRequest(input: CreateRequestInput, onProgress?: (done: number, total: number) => void): Promise<{ request: SigningRequest; bytes: Uint8Array }> {
  checkInput(input);
  const created = isoSeconds(input.now ?? new Date());
  let keyVersionId = input.keyVersionId;
  let pinned: PublicKey | undefined;
  if (input.publicKey !== undefined) {
    const given = publicKeyFile(input.publicKey);
    pinned = given.key;
    if (given.kid !== undefined && UUID.test(given.kid)) {
      if (keyVersionId !== undefined && keyVersionId !== given.kid) {
        throw invalidParameter('--version', `${keyVersionId} is not the --public-key JWK's kid ${escapeText(given.kid, 64)}; give the JWK of that version, or no --version`);
      }
      keyVersionId ??= given.kid;
    }
  }
  const base = { Created: created, Options: input.options, Format: input.format };
  const options = formatOptionsOf(base);
  const files: RequestFile[] = [];
  let csr: string | undefined;
  const total = input.files.reduce((sum, f) => sum + f.size, 0);
  let done = 0;
  if (input.format === 'csr') {
    const file = input.files[0]!;
    const read = await readCsr(file);
    csr = read.text;
    files.push({ Name: file.name, Size: read.size, Sha256: read.sha256 });
    onProgress?.(read.size, read.size);
  } else {
    const format = signatureFormat(input.format);
    const known: KnownKey = {
      ...(UUID.test(input.key) ? { keyId: input.key } : {}),
      ...(keyVersionId !== undefined ? { keyVersionId } : {}),
      ...(pinned ? { spec: pinned.spec, spki: pinned.spki } : {}),
    };
    if (pinned) {
      const reason = format.unsupported(pinned.spec);
      if (reason !== undefined) throw new KmsError('Format.UnsupportedKeySpec', `${input.format} signatures cannot be made with the --public-key's ${pinned.spec} key: ${reason}`);
    }
    for (const file of input.files) {
      const preparation = format.prepare(known, options);
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of file.chunks) {
        hash.update(chunk);
        preparation.update(chunk);
        size += chunk.length;
        done += chunk.length;
        onProgress?.(done, total);
      }
      if (size !== file.size) throw invalidParameter('--in', `${escapeText(file.name, 255)}: ${size} bytes were read, not ${file.size}: the file changed while it was read`);
      files.push({ Name: file.name, Size: size, Sha256: hash.digest('hex'), Prepared: preparation.prepared() });
    }
  }
  const request: SigningRequest = {
    Type: REQUEST_TYPE,
    Version: REQUEST_VERSION,
    RequestId: randomUUID(),
    Created: created,
    Key: input.key,
    ...(keyVersionId !== undefined ? { KeyVersionId: keyVersionId } : {}),
    ...(pinned ? { PublicKey: encodeBase64(pinned.spki) } : {}),
    Format: input.format,
    Options: input.options,
    ...(input.note !== undefined && input.note !== '' ? { Note: input.note } : {}),
    Files: files,
    ...(csr !== undefined ? { Csr: csr } : {}),
  };
  const estimate = JSON.stringify(request).length;
  if (estimate > MAX_REQUEST_BYTES) {
    throw invalidParameter('--in', `the request would be ${estimate} bytes; at most ${MAX_REQUEST_BYTES} (fewer files per request)`);
  }
  return { request, bytes: encodeRequest(request) };
}
