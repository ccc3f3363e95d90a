// Across the air gap (issue 15): THE CONTRACT between the parts of core/airgap, the CLI's
// `deskkms request` commands and the app's approval screen. Change it only with the lead.
//
// The round trip:
//   1. online, no vault: createRequest (online.ts) streams each file once through the format's
//      prepare() (core/formats) and writes a SigningRequest: what the station needs to sign each
//      file without the file itself, and what the operator must see (names, sizes, SHA-256s, note).
//   2. station: reviewRequest (station.ts) reads it against the vault and lists its Problems;
//      approveRequest signs each file with the format's complete() through the one signing route
//      (core/actions/format-signing.ts: AsymmetricSign dispatched and audited as
//      "<host>:request:<RequestId>:<format>"), then records ApproveSigningRequest; rejectRequest
//      records RejectSigningRequest. Nothing is signed for a request with a Problem.
//   3. online: finishRequest (finish.ts) checks the response answers this request (id, the request's
//      SHA-256, each file re-hashed from disk, each signature verified by the format's own verifier
//      with the response's public key, and that key against one pinned by the request or by
//      --public-key), then writes the ecosystem files atomically.
// Both files travel as bytes (a USB stick) or as QR frames (qr.ts: BC-UR "bytes" parts, animated
// when one code is not enough); readCarried() accepts any of the three forms.
import { z } from 'zod';
import { SIGNATURE_FORMATS } from './signature-formats.ts';
import { UUID } from './ids.ts';

export const REQUEST_TYPE = 'deskkms-signing-request';
export const RESPONSE_TYPE = 'deskkms-signing-response';
export const REQUEST_VERSION = 1;

/** The formats a request may name: the release formats, and a CSR for an offline CA to issue. */
export const REQUEST_FORMATS = [...SIGNATURE_FORMATS, 'csr'] as const;
export type RequestFormat = (typeof REQUEST_FORMATS)[number];

/** Limits (a request or a response is small: it crosses by QR). */
export const MAX_REQUEST_BYTES = 256 * 1024;
export const MAX_RESPONSE_BYTES = 1024 * 1024;
export const MAX_FILES = 1000;
export const MAX_NOTE = 1024;
/** The station's default window: a request older than this is refused (Request.Expired). */
export const DEFAULT_MAX_AGE_MS = 24 * 3600 * 1000;
/** A request dated further than this in the future is refused too (Request.Expired). */
export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64').max(MAX_REQUEST_BYTES);
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits (SHA-256)');
const isoTime = z.iso.datetime({ offset: false, message: 'must be an ISO-8601 UTC time (…Z)' });

/**
 * A file's name as carried: a base name only (no directory, no control character, not . or ..),
 * that Windows can also write (finish may run there): no ':' (an NTFS stream), no reserved device
 * name (CON, PRN, AUX, NUL, COM1-9, LPT1-9, with any extension), no trailing dot or space.
 */
export const fileName = z
  .string()
  .min(1, 'is empty')
  .max(255, 'is longer than 255 characters')
  // eslint-disable-next-line no-control-regex
  .refine((name) => !/[/\\\u0000-\u001f\u007f]/.test(name) && name !== '.' && name !== '..', 'must be a file name without a directory or control characters')
  .refine((name) => !name.includes(':'), "must not contain ':' (on Windows it names a stream inside another file)")
  .refine((name) => !/^(CON|PRN|AUX|NUL|COM[1-9]|LPT[1-9])(\..*)?$/i.test(name), 'is a name Windows reserves for a device (CON, PRN, AUX, NUL, COM1-9, LPT1-9)')
  .refine((name) => !/[. ]$/.test(name), 'must not end with a dot or a space (Windows drops them)');

/** The format options a request carries (each format reads its own; the others are refused at creation). */
export const requestOptionsSchema = z.strictObject({
  /** ssh: the SSHSIG namespace (default "file"). */
  Namespace: z.string().min(1).max(64).optional(),
  /** jws: write the token without its payload (finish attaches the payload otherwise). */
  Detached: z.boolean().optional(),
  /** raw and jws over RSA keys: RSA_PKCS1_SHA_256 (default) or RSA_PSS_SHA_256. */
  Algorithm: z.string().max(64).optional(),
  /** openpgp: a user id; the response then carries the key's certificate with it. */
  UserId: z.string().min(1).max(256).optional(),
  /** csr: the certificate's validity in days, and the IssueCertificate options. */
  ValidityDays: z.number().int().min(1).max(36500).optional(),
  IsCa: z.boolean().optional(),
  PathLen: z.number().int().min(0).max(100).optional(),
  Policy: z.enum(['copy-requested-extensions', 'leaf-defaults']).optional(),
});
export type RequestOptions = z.infer<typeof requestOptionsSchema>;

export const requestFileSchema = z.strictObject({
  Name: fileName,
  Size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** SHA-256 of the file, hex: what the operator compares and finish re-checks. */
  Sha256: hex64,
  /** The format's prepare() result (core/formats PreparedMessage); absent for csr. */
  Prepared: z.record(z.string(), z.union([z.string().max(MAX_REQUEST_BYTES), z.number(), z.boolean()])).optional(),
});
export type RequestFile = z.infer<typeof requestFileSchema>;

export const signingRequestSchema = z.strictObject({
  Type: z.literal(REQUEST_TYPE),
  Version: z.literal(REQUEST_VERSION),
  RequestId: z.string().regex(UUID, 'must be a UUID'),
  /** When the online machine made it (its clock): the station's window counts from it. */
  Created: isoTime,
  /** KeyId, alias/NAME or an ARN, as the user named it online. */
  Key: z.string().min(1).max(256),
  KeyVersionId: z.string().regex(UUID, 'must be a KeyVersionId (UUID)').optional(),
  /** The key version's SPKI DER, base64, when the user gave --public-key: it pins the key (station and finish check it). */
  PublicKey: base64.optional(),
  Format: z.enum(REQUEST_FORMATS),
  Options: requestOptionsSchema,
  Note: z.string().max(MAX_NOTE).optional(),
  /** The files to sign (one at least); for csr the CSR file, its bytes in Csr. */
  Files: z.array(requestFileSchema).min(1).max(MAX_FILES),
  /** csr: the PKCS#10 request, PEM. */
  Csr: z.string().min(1).max(65536).optional(),
});
export type SigningRequest = z.infer<typeof signingRequestSchema>;

export const responseFileSchema = z.strictObject({
  Name: fileName,
  Sha256: hex64,
  /** The signature file's bytes (FILE.sig, .asc, .sigstore.json, .jws; a detached JWS), base64. */
  Signature: base64.max(MAX_RESPONSE_BYTES),
});
export type ResponseFile = z.infer<typeof responseFileSchema>;

export const signingResponseSchema = z.strictObject({
  Type: z.literal(RESPONSE_TYPE),
  Version: z.literal(REQUEST_VERSION),
  RequestId: z.string().regex(UUID, 'must be a UUID'),
  /** SHA-256 (hex) of the request's bytes as the station read them. */
  RequestSha256: hex64,
  Approved: isoTime,
  Format: z.enum(REQUEST_FORMATS),
  KeyId: z.string().regex(UUID, 'must be a KeyId (UUID)'),
  KeyVersionId: z.string().regex(UUID, 'must be a KeyVersionId (UUID)'),
  KeySpec: z.string().max(32),
  /** The signing (or issuing CA) key version's SPKI DER, base64. */
  PublicKey: base64,
  /** The public material the format's users need besides the signature. */
  PublicMaterial: z.strictObject({
    /** ssh: the "TYPE BASE64 COMMENT" line. */
    SshPublicKey: z.string().max(16384).optional(),
    /** openpgp with Options.UserId: the armored certificate. */
    OpenPgpCertificate: z.string().max(65536).optional(),
    /** jws: the key version's JWK (JSON text). */
    Jwk: z.string().max(16384).optional(),
    /** raw, sigstore: the public key, PEM. */
    PublicKeyPem: z.string().max(16384).optional(),
    /** csr: the issued certificate then the CA's chain when the CA key has one, PEM. */
    CertificateChain: z.string().max(MAX_RESPONSE_BYTES).optional(),
  }),
  /** One per request file, in the request's order (for csr: the CSR file, Signature = the certificate DER). */
  Files: z.array(responseFileSchema).min(1).max(MAX_FILES),
});
export type SigningResponse = z.infer<typeof signingResponseSchema>;

/** What the approval screen (CLI `request show`, the app) shows before anything is signed. */
export interface RequestReview {
  readonly RequestId: string;
  /** SHA-256 (hex) of the request's bytes. */
  readonly RequestSha256: string;
  readonly Created: string;
  /** Seconds since Created by the station's clock (negative: dated in the future). */
  readonly AgeSeconds: number;
  readonly MaxAgeSeconds: number;
  readonly Format: RequestFormat;
  readonly Options: RequestOptions;
  readonly Note?: string;
  /** The key as the request names it and as the vault resolves it (absent when it does not). */
  readonly Key: {
    readonly Reference: string;
    readonly KeyId?: string;
    readonly KeyVersionId?: string;
    /** True when the request named no version and the newest was taken. */
    readonly Newest?: boolean;
    readonly Aliases?: readonly string[];
    readonly KeySpec?: string;
    readonly KeyState?: string;
    readonly Description?: string;
    /** SHA-256 of the SPKI, as GetPublicKeyBundle's SpkiSha256Hex (colon-free hex). */
    readonly SpkiSha256?: string;
    /** The format's own fingerprint where it has one: "SHA256:…" for ssh, the v4 fingerprint for openpgp, the sigstore hint. */
    readonly FormatFingerprint?: string;
    /** True when the request pinned a public key and it is this version's. */
    readonly Pinned?: boolean;
  };
  /**
   * Bound: true when the station checked that what it signs is over the SHA-256 shown (the
   * format's fileSha256 of the preparation equals Sha256: raw, sigstore, ssh and openpgp requests;
   * csr: the CSR itself travels and is shown). False for jws and raw over SM2, whose signed hash
   * starts with the header / Z_A: the station cannot check them and trusts the online machine.
   */
  readonly Files: readonly { readonly Name: string; readonly Size: number; readonly Sha256: string; readonly Bound: boolean }[];
  readonly TotalSize: number;
  /** csr: what the certificate will say. */
  readonly Csr?: {
    readonly Subject: string;
    readonly SubjectAltNames: readonly string[];
    readonly KeyUsages: readonly string[];
    readonly ExtendedKeyUsages: readonly string[];
    readonly PublicKeySpec: string;
    readonly ValidityDays: number;
    readonly IsCa: boolean;
  };
  /**
   * Earlier decisions on this RequestId in this vault's audit log, oldest first: approvals
   * (ApproveSigningRequest OK; the request may be approved again: its response may have been lost)
   * and rejections (RejectSigningRequest: then a Problem Request.Rejected, it cannot be approved).
   */
  readonly Decisions: readonly { readonly Event: string; readonly Time: string; readonly Caller: string }[];
  /** Why it cannot be approved (empty: it can). Each with its Code: Request.Expired, Forbidden.KeyNotFound, Rejected.Disabled... */
  readonly Problems: readonly { readonly Code: string; readonly Message: string }[];
}

/** The audit events (not Actions: recordEvent) of a station's decision, caller requestCaller(host, id). */
export const APPROVE_EVENT = 'ApproveSigningRequest';
export const REJECT_EVENT = 'RejectSigningRequest';

/** The audit caller of everything done for a request: "<host>:request:<RequestId>" (+ ":<format>" for each AsymmetricSign). */
export function requestCaller(host: string, requestId: string): string {
  return `${host}:request:${requestId}`;
}

/** The signature file finish writes for a request file (FILE.sig, .asc, .sigstore.json, .jws; csr: NAME.crt). */
export type FinishedFile = { readonly Name: string; readonly Path: string; readonly Signer: string };
