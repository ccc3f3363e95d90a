// What the vault can say about the OS keychain it keeps its data key in, for hosts that report it
// (`deskkms vault status`, the app's status line): hosts do not import core/keychain (the layering
// lint refuses it), they ask here.
import { keychainBackendName } from '../keychain/keychain.ts';

/**
 * Human-readable name of the keychain backend in force, e.g. 'Secret Service (gnome-keyring-daemon)',
 * 'macOS Keychain', 'Windows Credential Manager'. Best effort, never throws.
 */
export function keychainBackend(): string {
  return keychainBackendName();
}
