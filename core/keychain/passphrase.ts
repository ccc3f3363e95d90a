// Stations without a keychain (DESIGN.md section 4): the vault data key wrapped under a key derived
// from a passphrase with scrypt (memory-hard), the wrapping being AES-256-GCM. WORKER-ONLY: its
// inputs and outputs are the data key, so only core/worker imports it (the layering lint refuses
// any other importer). Reading a passphrase file and secret buffers are core/vault/secrets.ts.
//
// Cost of the default (N = 2^17, r = 8, p = 1: 128 MiB) measured on the 2-core build machine with
// Node 24: 0.33-0.37 s per wrap or unwrap (6 runs), nearly all of it scrypt; N = 2^14 takes ~40 ms.
import { createCipheriv, createDecipheriv, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { decodeBase64, encodeBase64 } from '../contract/base64.ts';
import { KmsError, invalidParameter } from '../contract/errors.ts';

export interface WrappedDataKey {
  readonly kdf: 'scrypt';
  readonly N: number;
  readonly r: number;
  readonly p: number;
  /** base64 of 16 random bytes */
  readonly salt: string;
  /** base64 of the 12-byte AES-GCM nonce */
  readonly nonce: string;
  /** base64 of AES-256-GCM ciphertext || 16-byte tag (48 bytes) */
  readonly ciphertext: string;
}

const DEFAULT_N = 2 ** 17;
const DEFAULT_R = 8;
const DEFAULT_P = 1;
const MIN_LOG2_N = 14;
const MAX_LOG2_N = 22;
const MAX_R = 32;
const MAX_P = 16;
/** scrypt needs about 128 * N * r bytes; a file on disk may not ask for more than this. */
const MAX_SCRYPT_MEMORY = 1024 * 1024 * 1024;
const DATA_KEY_BYTES = 32;
const KEK_BYTES = 32;
const SALT_BYTES = 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const AAD = new TextEncoder().encode('deskkms-datakey-v1');
const WHAT = 'passphrase-wrapped data key';

function corrupt(field: string, reason: string): KmsError {
  return new KmsError('Vault.Corrupt', `${WHAT}: ${field} ${reason}`);
}

function isPowerOfTwoInRange(n: number): boolean {
  if (!Number.isSafeInteger(n)) return false;
  const log2 = Math.log2(n);
  return Number.isInteger(log2) && log2 >= MIN_LOG2_N && log2 <= MAX_LOG2_N;
}

function scryptMemory(N: number, r: number, p: number): number {
  // OpenSSL's accounting: the V array (128 * r * (N + 2)) plus the B blocks (128 * r * p).
  return 128 * r * (N + 2 + p);
}

function deriveKek(passphrase: Uint8Array, salt: Uint8Array, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const maxmem = scryptMemory(N, r, p) + 1024 * 1024;
    scrypt(passphrase, salt, KEK_BYTES, { N, r, p, maxmem }, (error, key) => {
      if (error) reject(error);
      else resolve(key);
    });
  });
}

/** Wraps the 32-byte data key under a key derived from passphrase (scrypt, then AES-256-GCM). */
export async function wrapDataKey(
  dataKey: Uint8Array,
  passphrase: Uint8Array,
  options?: { N?: number },
): Promise<WrappedDataKey> {
  if (!(dataKey instanceof Uint8Array) || dataKey.length !== DATA_KEY_BYTES) {
    throw invalidParameter('DataKey', `must be ${DATA_KEY_BYTES} bytes`);
  }
  if (!(passphrase instanceof Uint8Array) || passphrase.length === 0) throw invalidParameter('Passphrase', 'is empty');
  const N = options?.N ?? DEFAULT_N;
  if (!isPowerOfTwoInRange(N)) {
    throw invalidParameter('N', `must be a power of two from 2^${MIN_LOG2_N} to 2^${MAX_LOG2_N}`);
  }
  const r = DEFAULT_R;
  const p = DEFAULT_P;
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const kek = await deriveKek(passphrase, salt, N, r, p);
  try {
    const cipher = createCipheriv('aes-256-gcm', kek, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(AAD);
    const ciphertext = Buffer.concat([cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
    return {
      kdf: 'scrypt',
      N,
      r,
      p,
      salt: encodeBase64(salt),
      nonce: encodeBase64(nonce),
      ciphertext: encodeBase64(ciphertext),
    };
  } finally {
    kek.fill(0);
  }
}

function field(record: Record<string, unknown>, name: string): unknown {
  if (!Object.hasOwn(record, name)) throw corrupt(name, 'is missing');
  return record[name];
}

function integerField(record: Record<string, unknown>, name: string, min: number, max: number): number {
  const value = field(record, name);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw corrupt(name, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

function bytesField(record: Record<string, unknown>, name: string, length: number): Uint8Array {
  const value = field(record, name);
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64(value, name);
  } catch {
    throw corrupt(name, 'is not canonical base64');
  }
  if (bytes.length !== length) throw corrupt(name, `must be ${length} bytes, not ${bytes.length}`);
  return bytes;
}

interface ParsedWrappedKey {
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Uint8Array;
  readonly nonce: Uint8Array;
  readonly ciphertext: Uint8Array;
}

function parseWrapped(wrapped: unknown): ParsedWrappedKey {
  if (typeof wrapped !== 'object' || wrapped === null || Array.isArray(wrapped)) {
    throw new KmsError('Vault.Corrupt', `${WHAT}: must be a JSON object`);
  }
  const record = wrapped as Record<string, unknown>;
  const kdf = field(record, 'kdf');
  if (kdf !== 'scrypt') throw corrupt('kdf', 'must be "scrypt"');
  const N = field(record, 'N');
  if (typeof N !== 'number' || !isPowerOfTwoInRange(N)) {
    throw corrupt('N', `must be a power of two from 2^${MIN_LOG2_N} to 2^${MAX_LOG2_N}`);
  }
  const r = integerField(record, 'r', 1, MAX_R);
  const p = integerField(record, 'p', 1, MAX_P);
  if (128 * N * r > MAX_SCRYPT_MEMORY) {
    throw corrupt('N', `and r ask scrypt for ${(128 * N * r) / 2 ** 20} MiB; at most ${MAX_SCRYPT_MEMORY / 2 ** 20} MiB is allowed`);
  }
  return {
    N,
    r,
    p,
    salt: bytesField(record, 'salt', SALT_BYTES),
    nonce: bytesField(record, 'nonce', NONCE_BYTES),
    ciphertext: bytesField(record, 'ciphertext', DATA_KEY_BYTES + TAG_BYTES),
  };
}

/**
 * A key-encryption key derived ahead of the unlock that will ask for it (a CLI command on a
 * passphrase vault starts its key worker with the header's wrapped key and the passphrase file's
 * bytes, core/hosts/cli/early-unlock.ts, so scrypt's ~0.35 s runs while both threads load their
 * modules). It is only ever used by an unwrap with the very same passphrase, salt and parameters,
 * which would derive the same bytes; any other unwrap wipes it. At most one at a time.
 */
let early: { passphrase: Uint8Array; salt: Uint8Array; N: number; r: number; p: number; kek: Promise<Buffer> } | undefined;

/**
 * Starts deriving the key that `wrapped` (the header's JSON text) is wrapped under, for the next
 * unwrapDataKey to take. Takes `passphrase` over (kept until that unwrap, then wiped). Anything
 * malformed starts nothing: the unwrap itself reports it. Replaces (and wipes) an earlier one.
 */
export function prederiveKek(wrappedText: string, passphrase: Uint8Array): void {
  discardEarlyKek();
  let parsed: ParsedWrappedKey;
  try {
    parsed = parseWrapped(JSON.parse(wrappedText) as unknown);
    if (!(passphrase instanceof Uint8Array) || passphrase.length === 0) throw invalidParameter('Passphrase', 'is empty');
  } catch {
    if (passphrase instanceof Uint8Array) passphrase.fill(0);
    return;
  }
  const { N, r, p, salt } = parsed;
  const kek = deriveKek(passphrase, salt, N, r, p);
  kek.catch(() => undefined); // the unwrap that takes it sees the failure; one nobody takes is dropped
  early = { passphrase, salt, N, r, p, kek };
}

/** The early derivation if it is for exactly these inputs; it is taken (or wiped) either way. */
function takeEarlyKek(passphrase: Uint8Array, salt: Uint8Array, N: number, r: number, p: number): Promise<Buffer> | undefined {
  const candidate = early;
  if (!candidate) return undefined;
  const same =
    candidate.N === N &&
    candidate.r === r &&
    candidate.p === p &&
    timingSafeEqual(candidate.salt, salt) &&
    candidate.passphrase.length === passphrase.length &&
    timingSafeEqual(candidate.passphrase, passphrase);
  if (!same) {
    discardEarlyKek();
    return undefined;
  }
  early = undefined;
  candidate.passphrase.fill(0);
  return candidate.kek;
}

/**
 * Wipes an early derivation nobody will take: the key worker calls it on any request but an
 * unlock (worker-core.ts), so it lives only until the first request; one that gets none at all (its
 * command failed before opening the vault) ends with the process.
 */
export function discardEarlyKek(): void {
  const candidate = early;
  early = undefined;
  if (!candidate) return;
  candidate.passphrase.fill(0);
  wipeWhenDone(candidate.kek);
}

function wipeWhenDone(kek: Promise<Buffer>): void {
  kek.then(
    (key) => key.fill(0),
    () => undefined,
  );
}

/**
 * Unwraps the data key. `wrapped` comes from a file on disk and is validated here: a malformed
 * one is Vault.Corrupt naming the field; a wrong passphrase (or any tampering the KDF parameters'
 * checks cannot see) fails the GCM tag and is Vault.Locked.
 */
export async function unwrapDataKey(wrapped: unknown, passphrase: Uint8Array): Promise<Uint8Array> {
  if (!(passphrase instanceof Uint8Array)) throw invalidParameter('Passphrase', 'must be bytes');
  const { N, r, p, salt, nonce, ciphertext } = parseWrapped(wrapped);
  const derive = () => deriveKek(passphrase, salt, N, r, p);
  // An early derivation that failed (memory, say) is not the answer: derive again.
  const kek = await (takeEarlyKek(passphrase, salt, N, r, p)?.catch(derive) ?? derive());
  let plain: Buffer | undefined;
  let tail: Buffer | undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(AAD);
    decipher.setAuthTag(ciphertext.subarray(DATA_KEY_BYTES));
    plain = decipher.update(ciphertext.subarray(0, DATA_KEY_BYTES));
    try {
      tail = decipher.final();
    } catch {
      throw new KmsError('Vault.Locked', 'the passphrase does not unlock this vault');
    }
    const dataKey = new Uint8Array(DATA_KEY_BYTES);
    dataKey.set(plain);
    return dataKey;
  } finally {
    kek.fill(0);
    plain?.fill(0);
    tail?.fill(0);
  }
}
