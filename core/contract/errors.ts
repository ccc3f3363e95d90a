// Typed errors with Alibaba-style codes (DESIGN.md section 3). They cross every boundary
// (worker, IPC, HTTP, CLI) as plain data { Code, Message } and never carry a stack or key material.

export const ERROR_CODES = {
  InvalidParameter: 400,
  MissingParameter: 400,
  'Forbidden.KeyNotFound': 404,
  'Forbidden.AliasNotFound': 404,
  'Forbidden.NoPermission': 403,
  'Rejected.Disabled': 409,
  'Rejected.PendingDeletion': 409,
  AliasAlreadyExists: 400,
  'Vault.Locked': 503,
  'Vault.KeychainUnavailable': 503,
  'Vault.Corrupt': 500,
  /** The audit log no longer matches its MACed anchor (cut, emptied, rewritten): the vault refuses writes. */
  'Vault.AuditBroken': 500,
  // The vault's files on this host (not the caller) stop the call; the message names the path and
  // what to do. 503, not 403: a caller's own permission is Forbidden.NoPermission.
  /** vault.db, its -wal/-shm or its directory cannot be written (file mode, read-only mount, immutable flag). */
  'Vault.ReadOnly': 503,
  /** This user may not read the vault (another user's directory, a parent without access) or create it there. */
  'Vault.PermissionDenied': 503,
  /** The filesystem holding the vault is full (or the user's quota is spent); nothing was written. */
  'Vault.DiskFull': 507,
  /** Another process held the vault's write lock past the busy timeout (10 s). */
  'Vault.Busy': 503,
  /** The disk reported an I/O error on the vault's files that none of the above explains. */
  'Vault.IOError': 503,
  /** A bug in DeskKMS; never a condition of the vault, the host or the request. */
  InternalFailure: 500,
  // Request authentication of the KMS-compatible API (Alibaba Cloud OpenAPI codes).
  /** The API has no Action of that name (Alibaba's gateway answers this, 404, for an unknown Action). */
  'InvalidAction.NotFound': 404,
  InvalidVersion: 400,
  IncompleteSignature: 400,
  SignatureDoesNotMatch: 400,
  'InvalidTimeStamp.Format': 400,
  'InvalidTimeStamp.Expired': 400,
  SignatureNonceUsed: 400,
  'InvalidAccessKeyId.NotFound': 404,
  'InvalidAccessKeyId.Inactive': 400,
  InvalidSignatureMethod: 400,
  /** Body, URL or headers over the server's limits (no Alibaba gateway code exists for 413). */
  RequestTooLarge: 413,
  // The browser host (`deskkms ui`, core/hosts/ui/ui-server.ts).
  /** The launch token is not this launch's, was already traded by a browser, or is past its time limit. */
  'Unauthorized.LaunchToken': 401,
  /** An app API call without this browser session's secret header and binding cookie (both are needed). */
  'Unauthorized.Session': 401,
  // A remote KMS connection that could not be reached.
  'Remote.Unavailable': 503,
  /**
   * A remote KMS answered with something that is not its Action's response (not JSON, or not the
   * shape of core/contract/responses.ts): refused, naming the connection. 502: the gateway's peer is at fault.
   */
  'Remote.BadResponse': 502,
  /** A remote KMS refused the call with a Code this vault does not have; the message names the connection and the remote's Code. */
  'Remote.Error': 502,
  /** The key's provider (a remote KMS connection) cannot perform this Action; the message names both. */
  UnsupportedOperation: 400,
  /**
   * A call with DryRun=true that passed every check (parameters, key, state, permission) and so
   * was not performed. Alibaba documents the code (e.g. AsymmetricSign's DryRun:
   * https://www.alibabacloud.com/help/en/kms/key-management-service/developer-reference/api-kms-2016-01-20-asymmetricsign)
   * but not its HTTP status; 412 is AWS KMS's for its DryRunOperationException, which Alibaba's mirrors.
   */
  DryRunOperationError: 412,
  /**
   * A CiphertextBlob that is not a ciphertext of this vault's symmetric keys, or that does not
   * authenticate (a flipped byte, another EncryptionContext): Alibaba's code, HTTP 400.
   */
  InvalidCiphertext: 400,
  // Bring-your-own-key and public-key-only versions.
  /** The ImportToken is unknown to this vault or was issued for another key. */
  InvalidImportToken: 400,
  /** The ImportToken (and its wrapping key) are past TokenExpireTime. */
  'InvalidImportToken.Expired': 400,
  /** EncryptedKeyMaterial cannot be unwrapped, is not a key of the key's spec, or differs from what was imported before. */
  IncorrectKeyMaterial: 400,
  /** The key (Origin EXTERNAL) has no key material yet, or it was deleted: import it first. */
  'Rejected.PendingImport': 409,
  /** The version holds only a public key: it verifies and encrypts but cannot sign, decrypt or be exported. */
  'Rejected.PublicKeyOnly': 409,
  // Custody: backups and recovery shares (core/custody/).
  /** The file is not a DeskKMS backup or is damaged (a flipped byte, cut short); the message names the file. */
  'Backup.Damaged': 400,
  /** The recovery passphrase or the shares given do not open this backup. */
  'Backup.WrongSecret': 403,
  /** A recovery share is not a valid SLIP-0039 mnemonic (unknown word, checksum, length); the message names the share. */
  'Backup.ShareInvalid': 400,
  /** Fewer shares than the backup's threshold were given. */
  'Backup.SharesInsufficient': 400,
  /** The shares belong to different share sets: another backup's share, or shares mixed from two splits. */
  'Backup.ShareMismatch': 400,
  // Release-signing formats (core/formats/).
  /** The key's spec cannot be carried by the signature format (SM2 in SSH or OpenPGP, secp256k1 in SSH); the message names the reason. */
  'Format.UnsupportedKeySpec': 400,
  /** A signature, certificate, allowed_signers file or bundle given to verify (or to a git/cosign program) does not parse; the message names it. */
  'Format.Malformed': 400,
  // The agent (issue 14: the ssh-agent protocol and the local signing endpoint).
  /** The key version is not one the user added to the agent (deskkms agent add): the agent will not use it. */
  'Agent.KeyNotAdded': 403,
  /** The key needs confirmation on use and the user refused it. */
  'Agent.Denied': 403,
  /** The key needs confirmation on use and nobody answered in time (refused). */
  'Agent.ConfirmTimeout': 408,
  /** The key needs confirmation on use and this agent has no way to ask (no app, no SSH_ASKPASS). */
  'Agent.NoConfirmation': 403,
  /** No DeskKMS agent answers on the socket (not running, or another program's agent). */
  'Agent.Unavailable': 503,
  /** The socket path is held by a running agent, or its directory is not this user's alone. */
  'Agent.SocketUnsafe': 409,
  /** This platform cannot tell the agent who connects (peer credentials): it does not start. */
  'Agent.Unsupported': 501,
  // Across the air gap (issue 15: signing requests and responses, core/airgap/).
  /** Not a DeskKMS signing request or response, or damaged (a bad field, cut short, QR frames incomplete); the message names what. */
  'Request.Malformed': 400,
  /** The request is older than the station's window (request approve --max-age), or dated in the future. */
  'Request.Expired': 400,
  /** A response that does not answer this request: another request's id or digest, a changed file, a signature that does not verify, another key than the one pinned. */
  'Request.Mismatch': 400,
  /** The operator rejected the request: nothing was signed. */
  'Request.Rejected': 403,
  /** The request lacks a public fact of the key that its format hashes (JWS: the key version and public key; raw over SM2: the public key): create it with --public-key and --version. */
  'Request.NeedsPublicKey': 400,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface WireError {
  readonly Code: ErrorCode;
  readonly Message: string;
}

export class KmsError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'KmsError';
    this.code = code;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code];
  }

  toWire(): WireError {
    return { Code: this.code, Message: this.message };
  }
}

export function invalidParameter(parameter: string, reason: string): KmsError {
  return new KmsError('InvalidParameter', `${parameter}: ${reason}`);
}

export function missingParameter(parameter: string): KmsError {
  return new KmsError('MissingParameter', `${parameter} is required`);
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/**
 * Turns anything thrown into a KmsError. A KmsError passes through; anything else is a bug,
 * reported as InternalFailure without its message (which may hold detail not meant for callers).
 * `detailAt` says where the host put that detail (e.g. "on stderr"); without it the message
 * points to no log.
 */
export function toKmsError(error: unknown, detailAt?: string): KmsError {
  if (error instanceof KmsError) return error;
  return new KmsError('InternalFailure', `internal failure (a bug in DeskKMS${detailAt ? `; detail ${detailAt}` : ''}); please report it`);
}
