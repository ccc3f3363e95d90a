// The flags that choose and unlock the vault, shared by every command that opens it and by each
// Action; apart from vault-session.ts so that help can list them without loading the vault.
import type { FlagSpec } from './command.ts';

export const VAULT_FLAGS: Readonly<Record<string, FlagSpec>> = {
  vault: { type: 'string', value: 'DIR', description: 'vault directory (default: $DESKKMS_VAULT, else the per-user data directory)' },
  'passphrase-file': {
    type: 'string',
    value: 'FILE',
    description: 'passphrase of a passphrase-protected vault (default: $DESKKMS_PASSPHRASE_FILE); one trailing newline is ignored',
  },
};

/**
 * The file of the vault's own passphrase: the value of its flag (--passphrase-file, and for backup
 * --vault-passphrase-file), else $DESKKMS_PASSPHRASE_FILE. Every reader of it asks here, the early
 * unlock (early-unlock.ts) included, so they cannot read different files.
 */
export function vaultPassphraseFile(flagValue: unknown, env: Readonly<Record<string, string | undefined>>): string | undefined {
  return typeof flagValue === 'string' ? flagValue : env.DESKKMS_PASSPHRASE_FILE;
}

/**
 * Whether a command run with `argv` may name a vault passphrase file (its --`flag` or the
 * environment's): a cheap look, so that a keychain vault's command loads nothing of the early
 * unlock (early-worker.ts) and starts its key worker at once.
 */
export function mayNamePassphraseFile(argv: readonly string[], flag: string, env: Readonly<Record<string, string | undefined>>): boolean {
  return Boolean(env.DESKKMS_PASSPHRASE_FILE) || argv.some((arg) => arg === `--${flag}` || arg.startsWith(`--${flag}=`));
}

/** backup's flag for the vault's passphrase (its --passphrase-file is the recovery passphrase). */
export const BACKUP_VAULT_PASSPHRASE_FLAG = 'vault-passphrase-file';
