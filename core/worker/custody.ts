// WORKER-ONLY: the data key's custody operations (DESIGN.md section 4), run in the key worker, the
// only place that sees the data key: wrapping it into a backup under a recovery secret and taking it
// back out, re-protecting it (a new passphrase, the keychain), and rotating it (a new random data
// key; every sealed secret opened under the old one and sealed again under the new).
//
// A backup's keys (core/custody/backup-file.ts holds the file format):
//   recovery key K_r = scrypt(passphrase, salt, N, r, p)              (--passphrase-file)
//                    = HKDF-SHA256(secret, salt, "deskkms-backup-v1 recovery")  (SLIP-0039 shares:
//                      the shares' master secret is 32 random bytes, so no stretching is needed)
//   K_wrap    = HKDF-SHA256(K_r, "", "deskkms-backup-v1 data key")    wraps the data key (AES-256-GCM,
//                                                                     bound to backup id and vault id)
//   K_payload = HKDF-SHA256(K_r, "", "deskkms-backup-v1 payload")     authenticates the header and
//               encrypts the vault snapshot. It leaves the worker: the snapshot holds what vault.db
//               holds (private keys sealed under the data key), which the main thread reads anyway.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { decodeBase64, encodeBase64 } from '../contract/base64.ts';
import { KmsError } from '../contract/errors.ts';
import { unwrapDataKey } from '../keychain/passphrase.ts';
import { seal, sealSecret, unseal, unsealSecret } from './seal.ts';
import type { RecoveryInput, RecoveryKdf, SealedItem } from './protocol.ts';
import { checkKeyMaterial } from './symmetric-key.ts';

const KEY_BYTES = 32;
const SALT_BYTES = 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** The backup's scrypt cost: the vault's passphrase default (core/keychain/passphrase.ts). */
const DEFAULT_BACKUP_N = 2 ** 17;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const MIN_LOG2_N = 14;
/** scrypt N is read from the header before anything in it is authenticated: capped at 1 GiB of memory (r = 8), as the vault's own wrapped key is. */
const MAX_LOG2_N = 20;

function scryptKey(passphrase: Uint8Array, salt: Uint8Array, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(passphrase, salt, KEY_BYTES, { N, r, p, maxmem: 128 * r * (N + 2 + p) + 2 ** 20 }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

function hkdf(ikm: Uint8Array, salt: Uint8Array, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from(info, 'utf8'), KEY_BYTES));
}

function checkedSalt(kdf: RecoveryKdf): Uint8Array {
  const damaged = (why: string) => new KmsError('Backup.Damaged', `the backup's recovery parameters are damaged: ${why}`);
  let salt: Uint8Array;
  try {
    salt = decodeBase64(kdf.salt, 'salt');
  } catch {
    throw damaged('the salt is not base64');
  }
  if (salt.length !== SALT_BYTES) throw damaged(`the salt is ${salt.length} bytes, not ${SALT_BYTES}`);
  if (kdf.kind === 'scrypt') {
    const log2 = Math.log2(kdf.N);
    if (!Number.isInteger(log2) || log2 < MIN_LOG2_N || log2 > MAX_LOG2_N) throw damaged(`scrypt N must be a power of two from 2^${MIN_LOG2_N} to 2^${MAX_LOG2_N}`);
    if (kdf.r !== SCRYPT_R || kdf.p !== SCRYPT_P) throw damaged(`scrypt r and p must be ${SCRYPT_R} and ${SCRYPT_P}`);
  }
  return salt;
}

async function recoveryKey(recovery: RecoveryInput, kdf: RecoveryKdf): Promise<Buffer> {
  const salt = checkedSalt(kdf);
  try {
    if (recovery.kind === 'passphrase') {
      if (kdf.kind !== 'scrypt') throw new KmsError('Backup.WrongSecret', 'this backup is opened with recovery shares, not a passphrase');
      if (recovery.passphrase.length === 0) throw new KmsError('InvalidParameter', 'Passphrase: is empty');
      return await scryptKey(recovery.passphrase, salt, kdf.N, kdf.r, kdf.p);
    }
    if (kdf.kind !== 'hkdf') throw new KmsError('Backup.WrongSecret', 'this backup is opened with its recovery passphrase, not with shares');
    if (recovery.secret.length < 16) throw new KmsError('InvalidParameter', 'the recovery secret is shorter than 16 bytes');
    return hkdf(recovery.secret, salt, 'deskkms-backup-v1 recovery');
  } finally {
    if (recovery.kind === 'passphrase') recovery.passphrase.fill(0);
    else recovery.secret.fill(0);
  }
}

function wrapAad(backupId: string, vaultId: string): Buffer {
  return Buffer.from(`deskkms-backup-v1\0data key\0${backupId}\0${vaultId}`, 'utf8');
}

/** A backup's recovery parameters and its wrapped data key; the payload key goes to the main thread. */
export async function sealForBackup(
  dataKey: Uint8Array,
  vaultId: string,
  backupId: string,
  recovery: RecoveryInput,
): Promise<{ kdf: RecoveryKdf; wrapped: Uint8Array; payloadKey: Uint8Array }> {
  const salt = encodeBase64(randomBytes(SALT_BYTES));
  const kdf: RecoveryKdf =
    recovery.kind === 'passphrase' ? { kind: 'scrypt', salt, N: recovery.kdfN ?? DEFAULT_BACKUP_N, r: SCRYPT_R, p: SCRYPT_P } : { kind: 'hkdf', salt };
  const kr = await recoveryKey(recovery, kdf);
  const kWrap = hkdf(kr, new Uint8Array(0), 'deskkms-backup-v1 data key');
  const payloadKey = hkdf(kr, new Uint8Array(0), 'deskkms-backup-v1 payload');
  kr.fill(0);
  try {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', kWrap, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(wrapAad(backupId, vaultId));
    const wrapped = new Uint8Array(Buffer.concat([nonce, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]));
    return { kdf, wrapped, payloadKey: new Uint8Array(payloadKey) };
  } finally {
    kWrap.fill(0);
    payloadKey.fill(0);
  }
}

/**
 * Opens a backup's wrapped data key with the recovery secret. A secret that does not open it is
 * Backup.WrongSecret (a damaged wrapped key fails the same tag; the file's checksum, checked
 * first by the main thread, tells damage apart).
 */
export async function openFromBackup(
  vaultId: string,
  backupId: string,
  recovery: RecoveryInput,
  kdf: RecoveryKdf,
  wrapped: Uint8Array,
): Promise<{ dataKey: Uint8Array; payloadKey: Uint8Array }> {
  const kr = await recoveryKey(recovery, kdf);
  const kWrap = hkdf(kr, new Uint8Array(0), 'deskkms-backup-v1 data key');
  const payloadKey = hkdf(kr, new Uint8Array(0), 'deskkms-backup-v1 payload');
  kr.fill(0);
  if (wrapped.length !== NONCE_BYTES + KEY_BYTES + TAG_BYTES) {
    throw new KmsError('Backup.Damaged', `the backup's wrapped data key is ${wrapped.length} bytes, not ${NONCE_BYTES + KEY_BYTES + TAG_BYTES}`);
  }
  let plain: Buffer | undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', kWrap, wrapped.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(wrapAad(backupId, vaultId));
    decipher.setAuthTag(wrapped.subarray(NONCE_BYTES + KEY_BYTES));
    plain = decipher.update(wrapped.subarray(NONCE_BYTES, NONCE_BYTES + KEY_BYTES));
    try {
      decipher.final();
    } catch {
      payloadKey.fill(0);
      throw new KmsError(
        'Backup.WrongSecret',
        recoveryKindText(kdf) === 'passphrase' ? 'the recovery passphrase does not open this backup' : 'these shares do not open this backup (they belong to another backup)',
      );
    }
    const dataKey = new Uint8Array(new ArrayBuffer(KEY_BYTES));
    dataKey.set(plain);
    const out = new Uint8Array(payloadKey);
    return { dataKey, payloadKey: out };
  } finally {
    kWrap.fill(0);
    payloadKey.fill(0);
    plain?.fill(0);
  }
}

function recoveryKindText(kdf: RecoveryKdf): 'passphrase' | 'shares' {
  return kdf.kind === 'scrypt' ? 'passphrase' : 'shares';
}

/** Opens every sealed item under `dataKey` (and parses each private key, checks each symmetric key's length): proof that a backup's keys are whole. */
export function checkSealedItems(dataKey: Uint8Array, items: readonly SealedItem[]): number {
  for (const item of items) {
    const plain = open(dataKey, item);
    try {
      if (item.kind === 'key') checkKeyMaterial(plain, item.spec);
    } catch (error) {
      if (item.kind === 'key' && error instanceof KmsError && error.code === 'InvalidParameter') {
        throw new KmsError('Vault.Corrupt', `key version ${item.keyVersionId} of key ${item.keyId} holds unreadable key material`);
      }
      throw error;
    } finally {
      plain.fill(0);
    }
  }
  return items.length;
}

function open(dataKey: Uint8Array, item: SealedItem): Uint8Array {
  return item.kind === 'key' ? unseal(dataKey, item, item.sealed) : unsealSecret(dataKey, item.label, item.sealed);
}

/** Each item opened under `from` and sealed again under `to` (a fresh nonce), in order. */
export function resealItems(from: Uint8Array, to: Uint8Array, items: readonly SealedItem[]): Uint8Array[] {
  return items.map((item) => {
    const plain = open(from, item);
    try {
      return item.kind === 'key' ? seal(to, item, plain) : sealSecret(to, item.label, plain);
    } finally {
      plain.fill(0);
    }
  });
}

/**
 * Proves the caller knows the vault's current passphrase: it must open the vault's wrapped data key
 * to the very key this worker holds. Protection changes of a passphrase vault ask for it, so that an
 * unlocked, unattended vault cannot be re-keyed by whoever sits down at it.
 */
export async function checkCurrentPassphrase(dataKey: Uint8Array, passphrase: Uint8Array, wrapped: unknown): Promise<void> {
  let opened: Uint8Array;
  try {
    opened = await unwrapDataKey(wrapped, passphrase);
  } catch (error) {
    if (error instanceof KmsError && error.code === 'Vault.Locked') throw new KmsError('Vault.Locked', 'Passphrase: is not the vault\'s current passphrase; nothing was changed');
    throw error;
  } finally {
    passphrase.fill(0);
  }
  const same = opened.length === dataKey.length && timingSafeEqual(opened, dataKey);
  opened.fill(0);
  if (!same) throw new KmsError('Vault.Corrupt', "the vault's wrapped data key opens, but to another key than the one this vault is unlocked with; nothing was changed");
}
