// The OS keychain (DESIGN.md section 4): Secret Service on Linux, macOS Keychain, Windows
// Credential Manager, through @napi-rs/keyring: its entries, its errors, the name of the backend in
// force, and the text secrets DeskKMS keeps there besides the data key (a remote connection's
// AccessKey secret). The vault data key's own entry is core/keychain/data-key.ts, worker-only.
//
// On Linux every entry is pinned to the Secret Service. The library's default there silently falls
// back to the kernel keyutils keyring when no Secret Service answers; that keyring lives in kernel
// memory and is gone after a reboot, which would leave the vault sealed under a key nobody holds.
// (@napi-rs/keyring's keytar.js API offers no way to pin the store, hence AsyncEntry.)
//
// Entries carry the Secret Service attributes `service` and `username` (not keytar's `account`):
// `secret-tool lookup service DeskKMS username ACCOUNT` shows one.
import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { AsyncEntry } from '@napi-rs/keyring';
import { KmsError, invalidParameter } from '../contract/errors.ts';

export const KEYCHAIN_SERVICE = 'DeskKMS';

const SECRET_SERVICE_NAME = 'org.freedesktop.secrets';
export const PASSPHRASE_HINT = 'a station without a keychain can use `deskkms init --passphrase-file FILE` instead';

/** Cache of keychainBackendName() for Secret Service, per session bus address. */
const backendNames = new Map<string, string>();

function usesSecretService(): boolean {
  return process.platform === 'linux' || process.platform === 'freebsd';
}

/**
 * Human-readable name of the backend in force, e.g. 'Secret Service (gnome-keyring-daemon)',
 * 'macOS Keychain', 'Windows Credential Manager'. Best effort, never throws.
 */
export function keychainBackendName(): string {
  if (process.platform === 'darwin') return 'macOS Keychain';
  if (process.platform === 'win32') return 'Windows Credential Manager';
  if (!usesSecretService()) return `OS keychain (${process.platform})`;
  const address = process.env.DBUS_SESSION_BUS_ADDRESS ?? '';
  const cached = backendNames.get(address);
  if (cached !== undefined) return cached;
  const { name, definitive } = secretServiceName();
  // "Can't tell" may change (the service is started on demand): ask again next time.
  if (definitive) backendNames.set(address, name);
  return name;
}

function secretServiceName(): { name: string; definitive: boolean } {
  let reply: string;
  try {
    reply = execFileSync(
      'dbus-send',
      [
        '--session',
        '--print-reply=literal',
        '--dest=org.freedesktop.DBus',
        '/org/freedesktop/DBus',
        'org.freedesktop.DBus.GetConnectionUnixProcessID',
        `string:${SECRET_SERVICE_NAME}`,
      ],
      { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } catch (error) {
    const { stderr } = error as { stderr?: unknown };
    if (typeof stderr === 'string' && stderr.includes('Failed to open connection')) {
      return { name: 'Secret Service (no D-Bus session)', definitive: true };
    }
    return { name: 'Secret Service', definitive: false };
  }
  const pid = /(\d+)\s*$/.exec(reply)?.[1];
  const program = pid === undefined ? undefined : programName(pid);
  return program === undefined
    ? { name: 'Secret Service', definitive: false }
    : { name: `Secret Service (${program})`, definitive: true };
}

/** The program behind a pid: the executable's file name, else the (15-character) comm. */
function programName(pid: string): string | undefined {
  try {
    const exe = basename(readlinkSync(`/proc/${pid}/exe`)).replace(/ \(deleted\)$/, '');
    if (exe !== '') return exe;
  } catch {
    // Not ours to read (another user, another pid namespace): try comm.
  }
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    return comm === '' ? undefined : comm;
  } catch {
    return undefined;
  }
}

export function entryName(account: string): string {
  return `keychain entry service=${KEYCHAIN_SERVICE} account=${account}`;
}

export function checkAccount(account: unknown): asserts account is string {
  if (typeof account !== 'string' || account === '') throw invalidParameter('Account', 'must be a non-empty string');
}

/** The platform's own reason, on one line and bounded. It never holds the secret: see toKmsError. */
function reasonText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 300)}...` : line || 'unknown error';
}

/** Plain words for the Secret Service reasons that do not speak for themselves. */
function explain(reason: string): string {
  if (/Secret Service: no result found/.test(reason)) return ' (the keychain has no default keyring to hold it)';
  if (/unlock prompt was dismissed/.test(reason)) return ' (the keyring is locked and was not unlocked)';
  return '';
}

/**
 * Maps a failure of the platform store to a KmsError. Two failures are about the entry rather than
 * the store: a secret that is not text, and several items matching one entry (another program wrote
 * one); both are Vault.Corrupt, since either could yield a wrong key. Everything else (no D-Bus
 * session, no Secret Service, locked collection, access denied) is Vault.KeychainUnavailable.
 */
export function toKmsError(error: unknown, action: string, account: string, what = 'the vault data key'): KmsError {
  if (error instanceof KmsError) return error;
  const reason = reasonText(error);
  if (/not valid UTF-8|not UTF-8 encoded/i.test(reason)) {
    return new KmsError('Vault.Corrupt', `the ${entryName(account)} does not hold text; it is not a DeskKMS data key`);
  }
  const ambiguous = /matched by (\d+) credentials/i.exec(reason);
  if (ambiguous) {
    return new KmsError(
      'Vault.Corrupt',
      `${ambiguous[1] ?? 'several'} items in the keychain match the ${entryName(account)}; remove the ones DeskKMS did not write`,
    );
  }
  return new KmsError(
    'Vault.KeychainUnavailable',
    `could not ${action} ${what} in the OS keychain (${keychainBackendName()}): ${reason}${explain(reason)}. ` +
      `Unlock or start the keychain and retry; ${PASSPHRASE_HINT}`,
  );
}

export function entry(account: string, action: string, what?: string): AsyncEntry {
  try {
    return new AsyncEntry(KEYCHAIN_SERVICE, account, { linux: { store: 'secret-service' } });
  } catch (error) {
    throw toKmsError(error, action, account, what);
  }
}

/**
 * Other secrets DeskKMS keeps in the keychain (a remote KMS connection's AccessKey secret):
 * text, stored and read back like the data key. `what` names it in errors.
 */
export async function storeSecretText(account: string, secret: string, what: string): Promise<void> {
  checkAccount(account);
  if (secret.length === 0) throw invalidParameter('Secret', 'is empty');
  const store = entry(account, 'store', what);
  let readBack: string | null;
  try {
    await store.setPassword(secret);
    readBack = await store.getPassword();
  } catch (error) {
    throw toKmsError(error, 'store', account, what);
  }
  if (readBack !== secret) {
    throw new KmsError('Vault.KeychainUnavailable', `the OS keychain (${keychainBackendName()}) did not keep ${what}`);
  }
}

export async function loadSecretText(account: string, what: string): Promise<string | undefined> {
  checkAccount(account);
  try {
    return (await entry(account, 'read', what).getPassword()) ?? undefined;
  } catch (error) {
    throw toKmsError(error, 'read', account, what);
  }
}

export async function deleteSecret(account: string, what: string): Promise<boolean> {
  checkAccount(account);
  try {
    return await entry(account, 'delete', what).deletePassword();
  } catch (error) {
    throw toKmsError(error, 'delete', account, what);
  }
}
