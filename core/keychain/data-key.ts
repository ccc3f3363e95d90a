// WORKER-ONLY: the vault data key's entry in the OS keychain (DESIGN.md section 4), stored, read
// and deleted. Runs inside the key worker (a worker_threads worker), the only place that sees the
// data key, so only core/worker imports it (the layering lint refuses any other importer). The
// keychain itself (entries, errors, backend name) is core/keychain/keychain.ts.
import { decodeBase64, encodeBase64 } from '../contract/base64.ts';
import { KmsError, invalidParameter } from '../contract/errors.ts';
import { PASSPHRASE_HINT, checkAccount, entry, entryName, keychainBackendName, toKmsError } from './keychain.ts';

const DATA_KEY_BYTES = 32;

function decodeDataKey(stored: string, account: string): Uint8Array {
  let key: Uint8Array;
  try {
    key = decodeBase64(stored, 'DataKey');
  } catch {
    throw new KmsError('Vault.Corrupt', `the ${entryName(account)} is not base64; it is not a DeskKMS data key`);
  }
  if (key.length !== DATA_KEY_BYTES) {
    const length = key.length;
    key.fill(0);
    throw new KmsError(
      'Vault.Corrupt',
      `the ${entryName(account)} holds ${length} bytes, not a ${DATA_KEY_BYTES}-byte DeskKMS data key`,
    );
  }
  return key;
}

/**
 * Stores (or replaces) the data key for `account`, then reads it back: a keychain that accepts a
 * secret but does not keep it must fail here, not after the vault is sealed under that key.
 */
export async function storeDataKey(account: string, dataKey: Uint8Array): Promise<void> {
  checkAccount(account);
  if (!(dataKey instanceof Uint8Array) || dataKey.length !== DATA_KEY_BYTES) {
    throw invalidParameter('DataKey', `must be ${DATA_KEY_BYTES} bytes`);
  }
  const encoded = encodeBase64(dataKey);
  const store = entry(account, 'store');
  let readBack: string | null;
  try {
    await store.setPassword(encoded);
    readBack = await store.getPassword();
  } catch (error) {
    throw toKmsError(error, 'store', account);
  }
  if (readBack !== encoded) {
    throw new KmsError(
      'Vault.KeychainUnavailable',
      `the OS keychain (${keychainBackendName()}) did not keep the vault data key (${entryName(account)} reads back ` +
        `${readBack === null ? 'missing' : 'different'}); ${PASSPHRASE_HINT}`,
    );
  }
}

/** undefined when no entry exists for account. */
export async function loadDataKey(account: string): Promise<Uint8Array | undefined> {
  checkAccount(account);
  let stored: string | null;
  try {
    stored = await entry(account, 'read').getPassword();
  } catch (error) {
    throw toKmsError(error, 'read', account);
  }
  return stored === null ? undefined : decodeDataKey(stored, account);
}

/** true when an entry was deleted, false when there was none. */
export async function deleteDataKey(account: string): Promise<boolean> {
  checkAccount(account);
  try {
    return await entry(account, 'delete').deletePassword();
  } catch (error) {
    throw toKmsError(error, 'delete', account);
  }
}
