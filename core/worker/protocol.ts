// Messages between the main thread and the key worker: a discriminated union with sequence
// numbers. The worker validates every request at runtime (a message is input from outside its
// boundary); errors come back as plain data { name, code, message }, never a stack.
import { z } from 'zod';
import { isErrorCode, type ErrorCode } from '../contract/errors.ts';
import { ALGORITHM_TABLE, KEY_SPECS, type Algorithm, type KeySpec } from '../contract/specs.ts';
import { WRAPPING_ALGORITHM_NAMES, WRAPPING_KEY_SPECS } from '../contract/key-import.ts';
import { SIGNATURE_ALGORITHMS } from '../contract/api-signatures.ts';

const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'must be bytes');
const id = z.string().min(1).max(128);

const protection = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('keychain'), account: id }),
  z.strictObject({
    kind: z.literal('passphrase'),
    passphrase: bytes,
    /** The wrapped data key (unlock), absent at init. */
    wrapped: z.unknown().optional(),
    /** scrypt cost at init; tests lower it. */
    kdfN: z.number().int().optional(),
  }),
]);
export type Protection = z.infer<typeof protection>;

export const sealedKey = z.strictObject({
  keyId: id,
  keyVersionId: id,
  spec: z.enum(KEY_SPECS),
  sealed: bytes,
});
export type SealedKey = z.infer<typeof sealedKey>;

const algorithm = z.string().refine((v): v is Algorithm => Object.hasOwn(ALGORITHM_TABLE, v));

/** A backup's recovery secret, moved into the worker: a passphrase (scrypt) or a SLIP-0039 master secret. */
const recoveryInput = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('passphrase'), passphrase: bytes, kdfN: z.number().int().optional() }),
  z.strictObject({ kind: z.literal('secret'), secret: bytes }),
]);
export type RecoveryInput = z.infer<typeof recoveryInput>;

/** How a backup derives its recovery key (public; kept in the backup's header). */
export const recoveryKdf = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('scrypt'), salt: z.string().max(64), N: z.number().int(), r: z.number().int(), p: z.number().int() }),
  z.strictObject({ kind: z.literal('hkdf'), salt: z.string().max(64) }),
]);
export type RecoveryKdf = z.infer<typeof recoveryKdf>;

/** A secret sealed under the data key: a key version's (or import token's) private key, or a labelled secret (access keys). */
export const sealedItem = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('key'), keyId: id, keyVersionId: z.string().min(1).max(160), spec: z.enum(KEY_SPECS), sealed: bytes }),
  z.strictObject({ kind: z.literal('secret'), label: z.string().min(1).max(300), sealed: bytes }),
]);
export type SealedItem = z.infer<typeof sealedItem>;

/** The vault's current passphrase and wrapped data key: protection changes of a passphrase vault prove the passphrase. */
const currentPassphrase = z.strictObject({ passphrase: bytes, wrapped: z.unknown() });

export const workerRequest = z.discriminatedUnion('op', [
  z.strictObject({ seq: z.number().int(), op: z.literal('init'), vaultId: id, protection }),
  z.strictObject({ seq: z.number().int(), op: z.literal('unlock'), vaultId: id, protection, verifier: z.string() }),
  z.strictObject({ seq: z.number().int(), op: z.literal('lock') }),
  z.strictObject({ seq: z.number().int(), op: z.literal('generate'), keyId: id, keyVersionId: id, spec: z.enum(KEY_SPECS) }),
  z.strictObject({ seq: z.number().int(), op: z.literal('sign'), key: sealedKey, algorithm, digest: bytes }),
  z.strictObject({ seq: z.number().int(), op: z.literal('decrypt'), key: sealedKey, algorithm, ciphertext: bytes }),
  /** A symmetric version's GCM encryption (Encrypt, GenerateDataKey): the IV is made here, at random. */
  z.strictObject({ seq: z.number().int(), op: z.literal('symEncrypt'), key: sealedKey, plaintext: bytes, aad: bytes }),
  /** InvalidCiphertext when the tag does not verify: no plaintext is answered unauthenticated. */
  z.strictObject({ seq: z.number().int(), op: z.literal('symDecrypt'), key: sealedKey, iv: bytes, ciphertext: bytes, tag: bytes, aad: bytes }),
  z.strictObject({ seq: z.number().int(), op: z.literal('forget'), keyVersionIds: z.array(id) }),
  z.strictObject({ seq: z.number().int(), op: z.literal('newAccessKey'), accessKeyId: id }),
  z.strictObject({ seq: z.number().int(), op: z.literal('exportEncrypted'), key: sealedKey, passphrase: bytes, kdf: z.enum(['scrypt', 'pbkdf2']) }),
  z.strictObject({ seq: z.number().int(), op: z.literal('importEncrypted'), keyId: id, keyVersionId: id, spec: z.enum(KEY_SPECS), encrypted: bytes, passphrase: bytes }),
  /**
   * The MAC of an API request signature under an access key's secret, which stays in the worker:
   * HMAC-SHA1 keyed with secret + "&" (RPC V1), HMAC-SHA256 or HMAC-SM3 keyed with the secret (ACS3 V3).
   */
  z.strictObject({ seq: z.number().int(), op: z.literal('accessKeyMac'), accessKeyId: id, sealed: bytes, algorithm: z.enum(SIGNATURE_ALGORITHMS), data: bytes }),
  /** A wrapping key pair for GetParametersForImport; the private half comes back sealed only. */
  z.strictObject({ seq: z.number().int(), op: z.literal('newWrappingKey'), keyId: id, tokenId: id, spec: z.enum(WRAPPING_KEY_SPECS) }),
  /** ImportKeyMaterial: unwrap under the token's wrapping key, check, and seal as the version's key (symmetric specs: the raw key, publicKey empty). */
  z.strictObject({
    seq: z.number().int(),
    op: z.literal('importMaterial'),
    keyId: id,
    keyVersionId: id,
    spec: z.enum(KEY_SPECS),
    wrapping: z.strictObject({ tokenId: id, spec: z.enum(WRAPPING_KEY_SPECS), algorithm: z.enum(WRAPPING_ALGORITHM_NAMES), sealed: bytes }),
    material: bytes,
  }),
  // Custody (core/worker/custody.ts).
  z.strictObject({ seq: z.number().int(), op: z.literal('backupSeal'), vaultId: id, backupId: id, recovery: recoveryInput }),
  /** Opens a backup's data key into the worker's pending slot (restore, verify); the vault's own key is untouched. */
  z.strictObject({ seq: z.number().int(), op: z.literal('backupOpen'), vaultId: id, backupId: id, recovery: recoveryInput, kdf: recoveryKdf, wrapped: bytes, verifier: z.string().max(512) }),
  /** Opens each item under the pending data key (a backup being verified): proof the keys are whole. */
  z.strictObject({ seq: z.number().int(), op: z.literal('checkSealed'), items: z.array(sealedItem) }),
  /** The pending data key (a restored backup's) becomes the worker's, protected as given. */
  z.strictObject({ seq: z.number().int(), op: z.literal('adoptPending'), vaultId: id, protection }),
  /** The data key protected anew (another passphrase, the keychain); `current` proves a passphrase vault's passphrase. */
  z.strictObject({ seq: z.number().int(), op: z.literal('reprotect'), protection, current: currentPassphrase.optional() }),
  /** A new random data key in the pending slot, already protected as given; the old one stays in use until rotateFinish. */
  z.strictObject({ seq: z.number().int(), op: z.literal('rotateBegin'), vaultId: id, protection, current: currentPassphrase.optional() }),
  z.strictObject({ seq: z.number().int(), op: z.literal('reseal'), items: z.array(sealedItem) }),
  z.strictObject({ seq: z.number().int(), op: z.literal('rotateFinish'), commit: z.boolean() }),
  z.strictObject({ seq: z.number().int(), op: z.literal('deleteKeychainEntry'), account: id }),
]);
export type WorkerRequest = z.infer<typeof workerRequest>;

const KEY_SPEC_SET: ReadonlySet<unknown> = new Set(KEY_SPECS);
const isId = (v: unknown): boolean => typeof v === 'string' && v.length >= 1 && v.length <= 128;
/** Whether v's enumerable properties, its own and inherited (zod's strict check sees both), are exactly `keys`, all own. */
const hasExactly = (v: object, keys: readonly string[]): boolean => {
  let count = 0;
  for (const k in v) {
    if (!keys.includes(k) || !Object.hasOwn(v, k)) return false;
    count++;
  }
  return count === keys.length;
};
const SIGN_KEYS = ['seq', 'op', 'key', 'algorithm', 'digest'] as const;
const SEALED_KEY_KEYS = ['keyId', 'keyVersionId', 'spec', 'sealed'] as const;

type SignRequest = Extract<WorkerRequest, { op: 'sign' }>;

/**
 * The schema's `sign` request, checked by hand: every signature passes here, and zod's walk of the
 * union cost ~1.2 µs of the key worker's ~37 µs a signature under `deskkms batch`. It accepts
 * nothing the schema refuses (protocol.test.ts holds the two to the same answers). Like zod, it
 * returns a copy made of the values it checked, each read once (a getter cannot answer twice).
 */
export function signRequest(message: unknown): SignRequest | undefined {
  if (typeof message !== 'object' || message === null || Object.getPrototypeOf(message) !== Object.prototype) return undefined;
  const m = message as Record<string, unknown>;
  if (!hasExactly(m, SIGN_KEYS)) return undefined;
  const { seq, op, key, algorithm, digest } = m;
  if (op !== 'sign' || !Number.isSafeInteger(seq) || typeof algorithm !== 'string' || !Object.hasOwn(ALGORITHM_TABLE, algorithm) || !(digest instanceof Uint8Array)) return undefined;
  if (typeof key !== 'object' || key === null || Object.getPrototypeOf(key) !== Object.prototype || !hasExactly(key, SEALED_KEY_KEYS)) return undefined;
  const { keyId, keyVersionId, spec, sealed } = key as Record<string, unknown>;
  if (!isId(keyId) || !isId(keyVersionId) || !KEY_SPEC_SET.has(spec) || !(sealed instanceof Uint8Array)) return undefined;
  return { seq, op, key: { keyId, keyVersionId, spec, sealed }, algorithm, digest } as SignRequest;
}

/** A worker request validated against the schema (a `sign` request by the hand-written check above). */
export function parseWorkerRequest(message: unknown): { success: true; data: WorkerRequest } | { success: false; message: string } {
  const sign = signRequest(message);
  if (sign) return { success: true, data: sign };
  const parsed = workerRequest.safeParse(message);
  return parsed.success ? { success: true, data: parsed.data } : { success: false, message: parsed.error.issues[0]?.message ?? 'invalid' };
}
export type WorkerOp = WorkerRequest['op'];
/** A request as the client builds it: the client numbers it. */
export type OutgoingRequest = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'seq'> : never) : never;

export interface WorkerResults {
  /** integrityKey: authenticates metadata (core/vault/integrity.ts); derived from the data key, it cannot give it back. */
  init: { verifier: string; wrapped?: unknown; backend: string; integrityKey: Uint8Array };
  /** upgradedVerifier: set when the vault's verifier predates authenticated metadata (then its rows get their MACs). */
  unlock: { backend: string; integrityKey: Uint8Array; upgradedVerifier?: string };
  lock: Record<string, never>;
  generate: { publicKey: Uint8Array; sealed: Uint8Array };
  /**
   * The signature in base64, as every caller sends it on (the API's Value): a string crosses to the
   * main thread without a buffer of its own to allocate and collect on each side.
   */
  sign: { signature: string };
  decrypt: { plaintext: Uint8Array };
  symEncrypt: { iv: Uint8Array; ciphertext: Uint8Array; tag: Uint8Array };
  symDecrypt: { plaintext: Uint8Array };
  forget: Record<string, never>;
  /** The secret leaves the worker once, to be shown to the person creating the access key. */
  newAccessKey: { secret: string; sealed: Uint8Array };
  accessKeyMac: { mac: Uint8Array };
  /** EncryptedPrivateKeyInfo DER: private key bytes leave the worker only encrypted. */
  exportEncrypted: { encrypted: Uint8Array };
  importEncrypted: { publicKey: Uint8Array; sealed: Uint8Array };
  newWrappingKey: { publicKey: Uint8Array; sealed: Uint8Array };
  importMaterial: { publicKey: Uint8Array; sealed: Uint8Array };
  /** payloadKey authenticates and encrypts the backup's snapshot (never the data key). */
  backupSeal: { kdf: RecoveryKdf; wrapped: Uint8Array; payloadKey: Uint8Array };
  backupOpen: { payloadKey: Uint8Array; integrityKey: Uint8Array };
  checkSealed: { checked: number };
  adoptPending: { wrapped?: unknown; backend: string; integrityKey: Uint8Array };
  reprotect: { wrapped?: unknown; backend: string };
  rotateBegin: { verifier: string; integrityKey: Uint8Array; wrapped?: unknown; backend: string };
  reseal: { sealed: Uint8Array[] };
  rotateFinish: Record<string, never>;
  deleteKeychainEntry: { deleted: boolean };
}

/** The seal context of an import token's wrapping key: bound to its key and token. */
export function wrappingSealContext(keyId: string, tokenId: string, spec: KeySpec): { keyId: string; keyVersionId: string; spec: KeySpec } {
  return { keyId, keyVersionId: `import-token:${tokenId}`, spec };
}

export interface WireFailure {
  readonly name: 'KmsError';
  readonly code: ErrorCode;
  readonly message: string;
}

export type WorkerResponse = { seq: number; ok: true; value: unknown } | { seq: number; ok: false; error: WireFailure };

export function isWorkerResponse(value: unknown): value is WorkerResponse {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  if (typeof v.seq !== 'number' || typeof v.ok !== 'boolean') return false;
  if (v.ok) return 'value' in v;
  const e = v.error as Record<string, unknown> | undefined;
  return typeof e === 'object' && e !== null && isErrorCode(e.code) && typeof e.message === 'string';
}

export type { KeySpec };
