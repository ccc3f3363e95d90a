// The desktop app's typed API: one request shape `{ method, params }` that the Electron preload
// (IPC) and the browser host (HTTP) both carry to core/app/app-session.ts, and one result shape
// `{ ok, value } | { ok: false, error: { Code, Message } }` back. KMS operations travel as the
// `Kms.Call` method and reach the same handler table as the CLI and the HTTP API; the other
// methods are the app's own (vault lifecycle, key inventory, audit, streamed digests and
// signatures in a release format, the agent and its confirmations, the air-gap station's
// signing requests).
// Runtime-neutral: the renderer imports the types and the schemas from here.
import { z } from 'zod';
import type { WireError } from './errors.ts';
import { SIGNATURE_FORMATS, type SignatureFormatName } from './signature-formats.ts';
import { KEY_SPECS, SIGNING_ALGORITHMS, type KeySpec, type KeyUsage, type SigningAlgorithm } from './specs.ts';
import { UUID } from './ids.ts';
import { AUDIT_KINDS } from './audit-kinds.ts';
import type { ActionResponse } from './responses.ts';
import type { RequestFormat, RequestReview } from './signing-requests.ts';

/** The one IPC channel (Electron) and the one HTTP path (browser host). */
export const APP_CHANNEL = 'deskkms:call';
/** Electron only: the host's own file dialog (DeskKmsBridge.pickFile); no payload. */
export const APP_PICK_CHANNEL = 'deskkms:pick-file';
export const APP_HTTP_PATH = '/api/call';
/**
 * Browser host only: part of a streamed message (Digest.Update, Sign.Update) as the raw bytes of
 * an application/octet-stream POST, `?method=Digest.Update&session=<SessionId>`, authenticated as
 * /api/call is. The host passes the body to AppSession.call as the same method, piece by piece as
 * it arrives (no base64, no JSON, nothing buffered), up to STREAM_PART_MAX bytes a request; the
 * page sends a file as slices of it, which the browser reads from disk itself.
 */
export const APP_CHUNK_PATH = '/api/chunk';
/** The largest body of one APP_CHUNK_PATH request. */
export const STREAM_PART_MAX = 64 * 1024 * 1024;
/**
 * The part the page sends: large enough that a request's round trip is a few per cent of its
 * time, small enough that progress moves every few tens of milliseconds.
 */
export const STREAM_PART_BYTES = 16 * 1024 * 1024;
export const CHUNK_METHODS = ['Digest.Update', 'Sign.Update'] as const;
export type ChunkMethod = (typeof CHUNK_METHODS)[number];
/**
 * Browser host only: where the page trades its single-use launch token (from the launch URL's
 * #token= fragment) for a per-session secret, the header that secret travels in on every API
 * call, and the sessionStorage key the page keeps it under (origin, i.e. port, scoped; a reload
 * keeps working). See core/hosts/ui/ui-server.ts for the threat model.
 */
export const APP_SESSION_PATH = '/api/session';
export const APP_SESSION_HEADER = 'X-DeskKMS-Session';
export const APP_SESSION_STORAGE_KEY = 'deskkms.session';

/** A digest chunk is at most this many bytes (base64 in JSON: ~5.6 MB per request). */
export const DIGEST_CHUNK_MAX = 4 * 1024 * 1024;
/** The largest request body the browser host reads. */
export const APP_REQUEST_MAX_BYTES = 6 * 1024 * 1024;
export const PASSPHRASE_MIN = 8;
export const PASSPHRASE_MAX = 1024;


const passphrase = z
  .string()
  .min(PASSPHRASE_MIN, `must be at least ${PASSPHRASE_MIN} characters`)
  .max(PASSPHRASE_MAX, `must be at most ${PASSPHRASE_MAX} characters`);
const isoDate = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'is not a date (ISO 8601)');
const sessionId = z.string().regex(UUID, 'must be a session UUID (from Digest.Begin or Sign.Begin)');
/**
 * One chunk of a streamed message (Digest.Update, Sign.Update): base64 text (JSON over IPC or
 * /api/call), or the bytes themselves (the browser host's APP_CHUNK_PATH).
 */
const chunk = z.union([
  z
    .string()
    // Strict base64 is checked as it is decoded (decodeBase64), in one pass over the 2.8 MB.
    .max(Math.ceil(DIGEST_CHUNK_MAX / 3) * 4, `is longer than ${DIGEST_CHUNK_MAX} bytes`),
  z.instanceof(Uint8Array).refine((bytes) => bytes.length <= DIGEST_CHUNK_MAX, `is longer than ${DIGEST_CHUNK_MAX} bytes`),
]);
/**
 * Part of a file the user chose in the host's own dialog (Electron: DeskKmsBridge.pickFile), read
 * and hashed by the host: `Length` bytes from `Offset`, which must be where the session is (no hole,
 * no overlap). The renderer names the file only by the handle the pick gave it.
 */
const fileUpdate = z.strictObject({
  SessionId: sessionId,
  Handle: z.string().regex(UUID, 'must be the Handle of a chosen file (from pickFile)'),
  Offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  Length: z.number().int().min(1).max(STREAM_PART_MAX, `must be at most ${STREAM_PART_MAX}`),
});
/** A path in the browser host's shared folder (`deskkms ui --files DIR`), relative to it. */
export const HOST_PATH_MAX = 4096;
const hostPath = z
  .string()
  .max(HOST_PATH_MAX, 'is too long')
  // eslint-disable-next-line no-control-regex
  .refine((v) => !/[\\\u0000-\u001f\u007f]/.test(v), 'must not hold a backslash or control characters')
  .refine((v) => !v.startsWith('/'), 'must be relative to the shared folder')
  .refine((v) => v.split('/').every((part) => part !== '..' && part !== '.'), 'must not hold . or .. (a path inside the shared folder)');
const keyId = z.string().min(1, 'is empty').max(512, 'is too long');
const keyVersionId = z.string().regex(UUID, 'must be a key version UUID');
const signingAlgorithm = z.enum(SIGNING_ALGORITHMS, `must be one of ${SIGNING_ALGORITHMS.join(', ')}`);

/** The signed file's name as the user chose it (a base name: the signature is saved beside it). */
export const SIGNED_FILE_NAME_MAX = 255;
/** An SSHSIG namespace ("file", "git", or a domain-like name such as "release@example.com"). */
export const SSH_NAMESPACE_MAX = 128;
const signedFileName = z
  .string()
  .min(1, 'is empty')
  .max(SIGNED_FILE_NAME_MAX, 'is too long')
  // eslint-disable-next-line no-control-regex
  .refine((v) => !/[/\\\u0000-\u001f\u007f]/.test(v), 'must be a file name without a folder or control characters')
  .refine((v) => v !== '.' && v !== '..', 'must be a file name');

/** A backup file's path on the host that runs the vault (the app's main process or `deskkms ui`). */
export const BACKUP_PATH_MAX = 4096;
/** SLIP-0039 splits into at most 16 shares. */
export const SHARES_MAX = 16;
/** A share as pasted or read from its file (core/custody/share-file.ts reads at most 64 KiB). */
export const SHARE_TEXT_MAX = 64 * 1024;
const backupPath = z.string().min(1, 'is empty').max(BACKUP_PATH_MAX, 'is too long');
const shareTexts = z
  .array(z.string().min(1, 'is empty').max(SHARE_TEXT_MAX, 'is longer than a share file'))
  .min(1, 'holds no share')
  .max(SHARES_MAX, `holds more than ${SHARES_MAX} shares`);
/** The recovery secret of a backup: its passphrase (text) or its shares (mnemonics or share-file texts), exactly one. */
const recoverySecret = {
  Passphrase: z.string().min(1, 'is empty').max(PASSPHRASE_MAX, 'is too long').optional(),
  Shares: shareTexts.optional(),
};
function oneSecret(value: { Passphrase?: string | undefined; Shares?: readonly string[] | undefined }, ctx: z.RefinementCtx): void {
  if (value.Passphrase === undefined && value.Shares === undefined) {
    // An absent field named in the issue's path is MissingParameter ("Passphrase or Shares is required").
    ctx.addIssue({ code: 'custom', path: ['Passphrase or Shares'], message: 'is required' });
  } else if (value.Passphrase !== undefined && value.Shares !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['Shares'], message: 'give the recovery passphrase or the shares, not both' });
  }
}
const shareInfo = z.strictObject({
  index: z.number().int().min(1).max(SHARES_MAX),
  count: z.number().int().min(2).max(SHARES_MAX),
  threshold: z.number().int().min(1).max(SHARES_MAX),
  identifier: z.number().int().min(0).max(0x7fff),
  backupId: z.string().max(128),
  vaultId: z.string().max(128),
  created: z.string().max(64),
  mnemonic: z.string().min(1).max(1024),
});

/** The agent's confirmation timeout the app offers (Agent.Start), in seconds. */
export const AGENT_CONFIRM_SECONDS_MIN = 5;
export const AGENT_CONFIRM_SECONDS_MAX = 600;
export const AGENT_CONFIRM_SECONDS_DEFAULT = 30;
/** A Unix socket's path fits sun_path (108 bytes on Linux, its NUL included). */
export const AGENT_SOCKET_MAX_BYTES = 107;
const agentSocket = z
  .string()
  .min(1, 'is empty')
  .refine((v) => v.startsWith('/'), 'must be an absolute path')
  // eslint-disable-next-line no-control-regex
  .refine((v) => !/[\u0000-\u001f\u007f]/.test(v), 'must not hold control characters')
  .refine((v) => new TextEncoder().encode(v).length <= AGENT_SOCKET_MAX_BYTES, `is longer than a Unix socket path can be (${AGENT_SOCKET_MAX_BYTES} bytes)`);

/**
 * A signing request as the station takes it (issue 15): its JSON text, or its BC-UR parts one per
 * line. At most three characters per byte of core/airgap's MAX_REQUEST_BYTES (256 KiB): UR's
 * bytewords take two per byte, with the parts' headers and line ends on top.
 */
export const REQUEST_TEXT_MAX = 3 * 256 * 1024;
/** One QR code's text: a version 40 code holds 4296 alphanumeric characters. */
export const REQUEST_PART_MAX = 4296;
/**
 * Distinct parts a camera may have read: core/airgap/qr.ts maxParts(MAX_REQUEST_BYTES), twice the
 * fragments of the largest request at FRAGMENT_BYTES, and 16 more (app-session-airgap.test checks).
 */
export const REQUEST_PARTS_MAX = 2114;
export const REQUEST_PARTS_TEXT_MAX = 2 * REQUEST_TEXT_MAX;
/** Request.Approve draws QR codes (FramePngs) for a response of at most this many frames (~70 ms each); a larger one travels as a file. */
export const RESPONSE_QR_FRAMES_MAX = 240;
/** The station's window (core/airgap DEFAULT_MAX_AGE_MS: 24 h by default), in hours: a minute to a year. */
export const REQUEST_MAX_AGE_HOURS_MAX = 24 * 365;
const requestText = z
  .string()
  .min(1, 'is empty')
  .max(REQUEST_TEXT_MAX, `is longer than a signing request can be (${REQUEST_TEXT_MAX} characters)`)
  .refine((v) => v.trim() !== '', 'holds only spaces');
const requestMaxAgeHours = z
  .number()
  .min(1 / 60, 'must be at least a minute (1/60 h)')
  .max(REQUEST_MAX_AGE_HOURS_MAX, `must be at most ${REQUEST_MAX_AGE_HOURS_MAX} hours`);

export const APP_METHOD_SCHEMAS = {
  'Vault.Status': z.strictObject({}),
  'Vault.Create': z.discriminatedUnion(
    'Protection',
    [
      z.strictObject({ Protection: z.literal('keychain') }),
      z.strictObject({ Protection: z.literal('passphrase'), Passphrase: passphrase }),
    ],
    { error: 'Protection must be keychain or passphrase' },
  ),
  'Vault.Unlock': z.strictObject({ Passphrase: z.string().max(PASSPHRASE_MAX, 'is too long').optional() }),
  'Vault.Lock': z.strictObject({}),
  'Keys.Inventory': z.strictObject({}),
  /** Everything the key detail pane shows, in one call audited as one read (DescribeKeyDetail). */
  'Keys.Detail': z.strictObject({ KeyId: keyId }),
  'Audit.List': z.strictObject({
    KeyId: z.string().min(1).max(512).optional(),
    Action: z.string().min(1).max(64).optional(),
    Since: isoDate.optional(),
    Until: isoDate.optional(),
    /** Entries per page, newest first. */
    Limit: z.number().int().min(1).max(10_000).optional(),
    /** Page cursor: only entries older than this seq (the oldest seq of the page shown). */
    BeforeSeq: z.number().int().min(1).optional(),
    /** As ListAuditEntries takes them: the entry's kind, its caller (exact), a search over its ids and names. */
    Kind: z.enum(AUDIT_KINDS, `must be one of ${AUDIT_KINDS.join(', ')}`).optional(),
    Caller: z.string().min(1).max(128).optional(),
    Search: z.string().min(1).max(128).optional(),
  }),
  'Audit.Verify': z.strictObject({}),
  'Digest.Begin': z.strictObject({ KeyId: keyId, KeyVersionId: keyVersionId, Algorithm: signingAlgorithm }),
  'Digest.Update': z.strictObject({ SessionId: sessionId, Chunk: chunk }),
  'Digest.UpdateFile': fileUpdate,
  'Digest.Finish': z.strictObject({ SessionId: sessionId }),
  // The browser host's shared folder (`deskkms ui --files DIR`): files the host reads itself, as
  // Electron's main reads a file chosen in its dialog. UnsupportedOperation where no folder is shared.
  'Files.List': z.strictObject({ Path: hostPath.optional() }),
  'Files.Choose': z.strictObject({ Path: hostPath.min(1, 'is empty') }),
  'Digest.Abort': z.strictObject({ SessionId: sessionId }),
  // Signatures in a release format (core/formats), streamed like the digests: the host hashes the
  // message as the format's ecosystem does, and Finish makes the one audited AsymmetricSign.
  /** The formats, and for a key spec why a format cannot carry it (from the format module). */
  'Sign.Formats': z.strictObject({ KeySpec: z.enum(KEY_SPECS, `must be one of ${KEY_SPECS.join(', ')}`) }),
  'Sign.Begin': z
    .strictObject({
      KeyId: keyId,
      KeyVersionId: keyVersionId,
      Format: z.enum(SIGNATURE_FORMATS, `must be one of ${SIGNATURE_FORMATS.join(', ')}`),
      /** The signed file's name: the signature file is named after it (FILE.sig, FILE.asc...). */
      FileName: signedFileName,
      /** ssh: the SSHSIG namespace (default "file"). */
      Namespace: z
        .string()
        .min(1, 'is empty')
        .max(SSH_NAMESPACE_MAX, 'is too long')
        .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
        .optional(),
      /** jws: leave the payload out of the compact serialization. */
      Detached: z.boolean().optional(),
      /** raw and jws over RSA keys: RSA_PKCS1_SHA_256 (default) or RSA_PSS_SHA_256. */
      Algorithm: signingAlgorithm.optional(),
    })
    .superRefine((value, ctx) => {
      if (value.Namespace !== undefined && value.Format !== 'ssh') ctx.addIssue({ code: 'custom', path: ['Namespace'], message: 'is only for Format ssh' });
      if (value.Detached !== undefined && value.Format !== 'jws') ctx.addIssue({ code: 'custom', path: ['Detached'], message: 'is only for Format jws' });
    }),
  'Sign.Update': z.strictObject({ SessionId: sessionId, Chunk: chunk }),
  'Sign.UpdateFile': fileUpdate,
  'Sign.Finish': z.strictObject({ SessionId: sessionId }),
  'Sign.Abort': z.strictObject({ SessionId: sessionId }),
  // Custody methods that need no open vault (a backup is read on its own; a restore makes the vault).
  // Creating a backup and changing the protection are Actions (Kms.Call): they need the unlocked vault.
  'Backup.Inspect': z.strictObject({ Path: backupPath }),
  'Backup.Verify': z.strictObject({ Path: backupPath, ...recoverySecret }).superRefine(oneSecret),
  'Vault.Restore': z
    .strictObject({
      Path: backupPath,
      ...recoverySecret,
      Protection: z.enum(['keychain', 'passphrase'], 'must be keychain or passphrase'),
      /** The restored vault's own passphrase (Protection passphrase). */
      NewPassphrase: passphrase.optional(),
    })
    .superRefine((value, ctx) => {
      oneSecret(value, ctx);
      if (value.Protection === 'passphrase' && value.NewPassphrase === undefined) {
        ctx.addIssue({ code: 'custom', path: ['NewPassphrase'], message: 'is required to restore under a passphrase' });
      } else if (value.Protection === 'keychain' && value.NewPassphrase !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['NewPassphrase'], message: 'is only for Protection passphrase' });
      }
    }),
  /** The printable page (and share file text) of each share CreateBackup answered; nothing is stored. */
  'Backup.SharePages': z.strictObject({ Shares: z.array(shareInfo).min(1).max(SHARES_MAX) }),
  'Kms.Call': z.strictObject({
    Action: z.string().min(1, 'is empty').max(64, 'is too long'),
    Params: z.record(z.string(), z.unknown()).optional().default({}),
  }),
  // The agent (issue 14): the ssh-agent protocol and DeskKMS's signing endpoint on a Unix socket,
  // serving the key versions added with the AddAgentIdentity Action; confirm on use in the window.
  'Agent.Status': z.strictObject({}),
  'Agent.Start': z.strictObject({
    /** Default: $DESKKMS_AGENT_SOCK, else $XDG_RUNTIME_DIR/deskkms/agent.sock, else a per-user folder in the temp dir. */
    Socket: agentSocket.optional(),
    ConfirmTimeoutSeconds: z
      .number()
      .int('must be a whole number of seconds')
      .min(AGENT_CONFIRM_SECONDS_MIN, `must be at least ${AGENT_CONFIRM_SECONDS_MIN} seconds`)
      .max(AGENT_CONFIRM_SECONDS_MAX, `must be at most ${AGENT_CONFIRM_SECONDS_MAX} seconds`)
      .optional(),
  }),
  'Agent.Stop': z.strictObject({}),
  /** The confirmations waiting for the user, oldest first. */
  'Agent.Pending': z.strictObject({}),
  'Agent.Answer': z.strictObject({ Id: z.string().regex(UUID, 'must be a confirmation id (from Agent.Pending)'), Approve: z.boolean() }),
  // Across the air gap (issue 15): this vault as the station that reviews, approves or rejects a
  // signing request made online (core/airgap/station.ts). The request travels as its JSON text or
  // as the text of its QR codes (BC-UR parts, one per line, as a USB scanner types them).
  'Request.Review': z.strictObject({ Text: requestText, MaxAgeHours: requestMaxAgeHours.optional() }),
  /** Signs only what Request.Review showed: the request's SHA-256 and the key version from that review must match. */
  'Request.Approve': z.strictObject({
    Text: requestText,
    RequestSha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be the RequestSha256 of the review (64 lower-case hex digits)'),
    /** The review's Key.KeyVersionId, required when it showed one: a version that would now sign instead (a key version created since) is Request.Mismatch. */
    KeyVersionId: z.string().regex(/^[0-9A-Za-z-]{1,128}$/, 'must be the Key.KeyVersionId of the review').optional(),
    MaxAgeHours: requestMaxAgeHours.optional(),
  }),
  'Request.Reject': z.strictObject({ Text: requestText, MaxAgeHours: requestMaxAgeHours.optional() }),
  /** A camera's QR codes so far (the renderer decodes the images): reassembled, nothing kept between calls. */
  'Request.Frames': z.strictObject({
    Parts: z
      .array(z.string().min(1, 'is empty').max(REQUEST_PART_MAX, `is longer than a QR code holds (${REQUEST_PART_MAX} characters)`))
      .min(1, 'holds no part')
      .max(REQUEST_PARTS_MAX, `holds more than ${REQUEST_PARTS_MAX} parts`)
      .refine((parts) => parts.reduce((n, p) => n + p.length, 0) <= REQUEST_PARTS_TEXT_MAX, `hold more than ${REQUEST_PARTS_TEXT_MAX} characters in all`),
  }),
} as const;

export type AppMethod = keyof typeof APP_METHOD_SCHEMAS;
export const APP_METHODS = Object.keys(APP_METHOD_SCHEMAS) as AppMethod[];
export type AppParams<M extends AppMethod> = z.input<(typeof APP_METHOD_SCHEMAS)[M]>;
export type AppParsed<M extends AppMethod> = z.output<(typeof APP_METHOD_SCHEMAS)[M]>;

export function isAppMethod(value: unknown): value is AppMethod {
  return typeof value === 'string' && Object.hasOwn(APP_METHOD_SCHEMAS, value);
}

/** The envelope on the wire: checked in the host before anything else. */
export const appRequestSchema = z.strictObject({
  method: z.string().max(64),
  params: z.unknown().optional(),
});
export type AppRequest = z.infer<typeof appRequestSchema>;

/** A refusal: its Code and Message, and for KMS Actions the RequestId their audit entry carries. */
export type AppFailure = WireError & { readonly RequestId?: string };
export type AppResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: AppFailure };

export interface VaultStatusView {
  readonly Initialized: boolean;
  readonly VaultPath: string;
  readonly Locked: boolean;
  /** "keychain" | "passphrase" once initialised. */
  readonly ProtectionKind?: 'keychain' | 'passphrase';
  /** Human-readable protection in force, e.g. "OS keychain: Secret Service (libsecret)". */
  readonly Protection?: string;
  readonly KeyCount?: number;
  readonly VaultId?: string;
  /** The platform keychain this build uses, and whether it answered just now. */
  readonly KeychainBackend: string;
  readonly KeychainAvailable: boolean;
  readonly KeychainError?: string;
  /** The last backup this vault made and verified (CreateBackup re-reads every backup it writes). */
  readonly LastBackup?: LastBackupView;
  /** Key versions created since LastBackup (all of them when there is none). */
  readonly KeyVersionsSinceBackup?: number;
  /** Present when there is no backup or key versions were created since: what to do. */
  readonly BackupAdvice?: string;
}

export interface LastBackupView {
  readonly BackupId: string;
  readonly Created: string;
  readonly Path: string;
  readonly Recovery: string;
}

/** A backup file's header (core/custody/backup.ts inspectBackup): readable without its secret. */
export interface BackupHeaderView {
  readonly BackupId: string;
  readonly VaultId: string;
  readonly Created: string;
  readonly Size: number;
  readonly Recovery: 'passphrase' | 'shares';
  readonly Threshold?: number;
  readonly ShareCount?: number;
  readonly ShareIdentifier?: number;
}

/** What a backup holds, once opened with its secret (core/custody/backup.ts verifyBackup). */
export interface BackupContentsView extends BackupHeaderView {
  readonly Keys: readonly {
    readonly KeyId: string;
    readonly KeySpec: string;
    readonly KeyUsage: string;
    readonly KeyState: string;
    readonly Aliases: readonly string[];
    readonly Versions: readonly { readonly KeyVersionId: string; readonly CreationDate: string }[];
  }[];
  readonly KeyCount: number;
  readonly KeyVersionCount: number;
  readonly AccessKeyCount: number;
  /** Remote KMS connections: their secrets stay in the old machine's keychain, not in the backup. */
  readonly RemoteConnectionCount: number;
  readonly AuditHead: { readonly Seq: number; readonly Hash: string };
  readonly PrivateKeysChecked: number;
}

/** One share's printable page (self-contained HTML), its QR code (SVG) and its share file's text. */
export interface SharePageView {
  readonly Index: number;
  readonly Html: string;
  readonly QrSvg: string;
  readonly Text: string;
  /** share-K-of-N: the name the CLI gives its files. */
  readonly FileStem: string;
}

/** A share of CreateBackup's answer, as Backup.SharePages takes it (core/custody/share-file.ts ShareInfo). */
export type ShareInfoParam = z.input<typeof shareInfo>;

/** The app's agent: running or not, where, and the last failure to start it. */
export interface AgentStatusView {
  readonly Running: boolean;
  readonly Socket?: string;
  readonly ConfirmTimeoutSeconds: number;
  /** Why the last Agent.Start failed (cleared by the next start). */
  readonly Error?: WireError;
}

/** One confirmation the agent waits for (core/app/agent-confirm.ts); texts from outside are escaped. */
export interface AgentConfirmView {
  /** What Agent.Answer names. */
  readonly Id: string;
  readonly KeyId: string;
  readonly KeyVersionId: string;
  readonly KeySpec: string;
  readonly Aliases: readonly string[];
  /** SHA256:... of the SSH key, for RSA and EC_P256 keys. */
  readonly SshFingerprint?: string;
  /** The requesting program (/proc/PID/comm) and its process id, from the OS. */
  readonly Program: string;
  readonly Pid: number;
  readonly Kind: 'ssh-login' | 'sshsig' | 'deskkms' | 'unknown';
  /** What is signed, in plain words ("a git signature (namespace git)"). */
  readonly What: string;
  readonly ExpiresAt: string;
  /** Seconds until it is refused unanswered, when the list was read. */
  readonly SecondsLeft: number;
}

/** The formats a signing request may name: the release formats, and csr (an offline CA issues a certificate). */
export type RequestFormatName = RequestFormat;

/** What the station's approval screen shows before anything is signed (core/contract/signing-requests.ts). */
export type RequestReviewView = RequestReview;

/** An approved request: the response to carry back, as a file and as QR codes. */
export interface RequestApprovedView {
  readonly RequestId: string;
  /** The response file's text (JSON). */
  readonly Response: string;
  /** The name to save it under (REQUESTID.response.json). */
  readonly FileName: string;
  /** The response's BC-UR parts, in order (one QR code each). */
  readonly Frames: readonly string[];
  /** Each part's QR code, a PNG, base64; none when there are more than RESPONSE_QR_FRAMES_MAX parts (save the file instead). */
  readonly FramePngs: readonly string[];
  /** The review the approval checked (its RequestSha256 is the one named). */
  readonly Review: RequestReviewView;
}

/** A camera's parts reassembled so far. */
export interface RequestFramesView {
  readonly Complete: boolean;
  /** 0 to 1. */
  readonly Progress: number;
  /** Distinct parts received. */
  readonly Frames: number;
  /** Parts the message was cut into (known once a part was read). */
  readonly Expected?: number;
  /** The request's JSON text, once complete: what Request.Review takes. */
  readonly Text?: string;
}

/** A signature format as the Sign view offers it, for one key spec. */
export interface SignatureFormatView {
  readonly Format: SignatureFormatName;
  /** The suffix after the signed file's name (.sig, .asc, .sigstore.json, .jws). */
  readonly Extension: string;
  readonly Description: string;
  /** Why the format cannot carry a key of the spec asked about; absent when it can. */
  readonly Unsupported?: string;
}

/** A finished signature in a format: the file's bytes (base64) and the name its ecosystem gives it. */
export interface SignatureFileView {
  readonly Signature: string;
  /** FILE.sig, FILE.asc, FILE.sigstore.json or FILE.jws for the FileName Sign.Begin was given. */
  readonly FileName: string;
  readonly Format: SignatureFormatName;
  readonly MediaType: string;
  readonly KeyId: string;
  readonly KeyVersionId: string;
  readonly BytesSigned: number;
}

export interface KeySummary {
  readonly KeyId: string;
  readonly KeySpec: KeySpec;
  readonly KeyUsage: KeyUsage;
  readonly KeyState: string;
  readonly Description: string;
  readonly CreationDate: string;
  readonly DeleteDate: string;
  readonly Origin: string;
  readonly Exportable: boolean;
  readonly Aliases: readonly string[];
  readonly Tags: readonly { readonly TagKey: string; readonly TagValue: string }[];
  readonly VersionCount: number;
}

/** One version of a key as the detail pane shows it: its public key and its certificates, or why not. */
export interface KeyVersionDetailView {
  readonly KeyVersionId: string;
  readonly CreationDate: string;
  /** GetPublicKeyBundle's answer for the version, or PublicKeyError. */
  readonly PublicKeyBundle?: ActionResponse<'GetPublicKeyBundle'>;
  readonly PublicKeyError?: WireError;
  /** GetCertificates' chain for the version (the version's own first), or CertificatesError. */
  readonly Certificates?: ActionResponse<'GetCertificates'>['Certificates'];
  readonly CertificatesError?: WireError;
}

/** Keys.Detail: a key as DescribeKey, ListAliasesByKeyId, ListResourceTags and ListKeyVersions answer it, each version detailed. */
export interface KeyDetailView {
  readonly KeyMetadata: ActionResponse<'DescribeKey'>['KeyMetadata'];
  readonly Aliases: readonly string[];
  readonly Tags: readonly { readonly TagKey: string; readonly TagValue: string }[];
  /** Oldest first, as ListKeyVersions lists them. */
  readonly Versions: readonly KeyVersionDetailView[];
}

/** One audit log entry as Audit.List shows it: ListAuditEntries' entry (./responses.ts). */
export type AuditEntryView = ActionResponse<'ListAuditEntries'>['Entries'][number];

/**
 * The audit chain's verdict (core/audit/audit-log.ts verifyAuditChain), as VerifyAuditChain
 * answers it in its Verdict (./responses.ts). `anchored`: entries covered by the MACed anchor (null: the vault is
 * locked, the anchor unchecked). `acknowledged`: breaks accepted earlier, present when there are
 * any; they stay reported.
 */
export type AuditVerdictView = ActionResponse<'VerifyAuditChain'>['Verdict'];

/** A break in the audit log that the owner accepted ("deskkms audit acknowledge-break"). */
export type AcknowledgedBreakView = NonNullable<AuditVerdictView['acknowledged']>[number];

export interface AppResults {
  'Vault.Status': VaultStatusView;
  'Vault.Create': VaultStatusView;
  'Vault.Unlock': VaultStatusView;
  'Vault.Lock': VaultStatusView;
  'Keys.Inventory': { readonly Keys: readonly KeySummary[] };
  /** RequestId: the DescribeKeyDetail audit entry. */
  'Keys.Detail': KeyDetailView & { readonly RequestId: string };
  'Audit.List': { readonly Entries: readonly AuditEntryView[]; readonly Truncated: boolean };
  'Audit.Verify': AuditVerdictView;
  'Digest.Begin': { readonly SessionId: string; readonly Hash: 'SHA-256' | 'SM3' };
  'Digest.Update': { readonly BytesHashed: number };
  'Digest.UpdateFile': { readonly BytesHashed: number };
  'Digest.Finish': { readonly Digest: string; readonly BytesHashed: number; readonly Algorithm: SigningAlgorithm };
  'Digest.Abort': { readonly Aborted: boolean };
  'Files.List': HostFolderView;
  'Files.Choose': PickedFileView;
  'Sign.Formats': { readonly Formats: readonly SignatureFormatView[] };
  'Sign.Begin': { readonly SessionId: string; readonly Format: SignatureFormatName; readonly KeyId: string; readonly KeyVersionId: string; readonly FileName: string };
  'Sign.Update': { readonly BytesHashed: number };
  'Sign.UpdateFile': { readonly BytesHashed: number };
  'Sign.Finish': SignatureFileView;
  'Sign.Abort': { readonly Aborted: boolean };
  'Backup.Inspect': BackupHeaderView;
  'Backup.Verify': BackupContentsView;
  /** The restored vault's status, and what the backup held. */
  'Vault.Restore': VaultStatusView & { readonly Restored: BackupContentsView };
  'Backup.SharePages': { readonly Pages: readonly SharePageView[] };
  'Kms.Call': Record<string, unknown> & { readonly RequestId: string };
  'Agent.Status': AgentStatusView;
  'Agent.Start': AgentStatusView;
  'Agent.Stop': AgentStatusView;
  'Agent.Pending': { readonly Requests: readonly AgentConfirmView[] };
  'Agent.Answer': { readonly Answered: boolean };
  'Request.Review': RequestReviewView;
  'Request.Approve': RequestApprovedView;
  'Request.Reject': { readonly Rejected: true; readonly Review: RequestReviewView };
  'Request.Frames': RequestFramesView;
}

/** A file the user chose in the host's own dialog: the host reads it; the renderer holds its handle. */
export interface PickedFileView {
  readonly Handle: string;
  readonly Name: string;
  readonly Size: number;
}

/** One entry of a folder in the browser host's shared folder. */
export interface HostFolderEntryView {
  readonly Name: string;
  readonly Kind: 'file' | 'folder';
  /** Bytes, for a file. */
  readonly Size?: number;
}

/** A folder in the browser host's shared folder: its entries, folders first, then by name. */
export interface HostFolderView {
  /** The shared folder's name (its last path segment; the full path stays with the host). */
  readonly Root: string;
  /** This folder, relative to the shared one ('' for the shared folder itself). */
  readonly Path: string;
  readonly Entries: readonly HostFolderEntryView[];
  /** More entries than HOST_FOLDER_ENTRIES_MAX: the rest are not listed. */
  readonly Truncated: boolean;
}

/** Entries listed per folder. */
export const HOST_FOLDER_ENTRIES_MAX = 2000;

/** A browser Blob (File) as the contract sees it; the contract is compiled without the DOM's types. */
export interface BlobPart {
  readonly size: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}
/** A browser AbortSignal, likewise. */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason: unknown;
}

/** The one typed object the preload exposes (and the browser host's fetch bridge implements). */
export interface DeskKmsBridge {
  call<M extends AppMethod>(method: M, params: AppParams<M>): Promise<AppResult<AppResults[M]>>;
  /**
   * Part of a streamed message as bytes, where the host takes them so (the browser host: up to
   * STREAM_PART_MAX, a Blob slice read from disk by the browser itself); otherwise call() with
   * base64 chunks of at most DIGEST_CHUNK_MAX.
   */
  sendChunk?(method: ChunkMethod, SessionId: string, part: Uint8Array | BlobPart, signal?: AbortSignalLike): Promise<AppResult<AppResults[ChunkMethod]>>;
  /**
   * The host's own file dialog (Electron's main process): the file the user chose, which the host
   * then reads itself for Digest.UpdateFile / Sign.UpdateFile; null when the dialog was cancelled.
   */
  pickFile?(): Promise<AppResult<PickedFileView | null>>;
}
