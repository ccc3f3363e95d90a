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
