// What the vault can say about the OS keychain it keeps its data key in, for hosts that report it
// (`deskkms vault status`, the app's status line): hosts do not import core/keychain (the layering
// lint refuses it), they ask here.
import { toKmsError } from '../contract/errors.ts';
import { keychainBackendName, loadSecretText } from '../keychain/keychain.ts';

/**
 * Human-readable name of the keychain backend in force, e.g. 'Secret Service (gnome-keyring-daemon)',
 * 'macOS Keychain', 'Windows Credential Manager'. Best effort, never throws.
 */
export function keychainBackend(): string {
  return keychainBackendName();
}

/**
 * Whether the keychain service answers now: a read of an entry that need not exist answers only
 * when the service does. The error's message when it does not (never a secret: nothing is read).
 */
export async function keychainProblem(): Promise<string | undefined> {
  try {
    await loadSecretText('availability-probe', 'the keychain availability probe');
    return undefined;
  } catch (error) {
    return toKmsError(error).message;
  }
}
