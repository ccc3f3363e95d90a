// Opening the vault for one CLI invocation: --vault / $DESKKMS_VAULT / platform default, and the
// passphrase from --passphrase-file / $DESKKMS_PASSPHRASE_FILE for passphrase-protected vaults.
import { readPassphrase } from '../keychain/passphrase.ts';
import { resolveVaultDir } from '../vault/paths.ts';
import { Vault } from '../vault/vault.ts';
import type { CliIO, FlagSpec, FlagValues } from './command.ts';
import { readSmallFile } from './inputs.ts';

export const VAULT_FLAGS: Readonly<Record<string, FlagSpec>> = {
  vault: { type: 'string', value: 'DIR', description: 'vault directory (default: $DESKKMS_VAULT, else the per-user data directory)' },
  'passphrase-file': {
    type: 'string',
    value: 'FILE',
    description: 'passphrase of a passphrase-protected vault (default: $DESKKMS_PASSPHRASE_FILE); one trailing newline is ignored',
  },
};

export function vaultDirOf(flags: FlagValues, io: CliIO): string {
  return resolveVaultDir(typeof flags.vault === 'string' ? flags.vault : undefined, io.cwd, io.env);
}

export async function passphraseOf(flags: FlagValues, io: CliIO): Promise<Uint8Array | undefined> {
  const path = typeof flags['passphrase-file'] === 'string' ? flags['passphrase-file'] : io.env.DESKKMS_PASSPHRASE_FILE;
  if (!path) return undefined;
  return readPassphrase(await readSmallFile('passphrase-file', path, io));
}

/** Opens the vault, sweeps due deletions, runs `fn`, and always closes. */
export async function withVault<T>(flags: FlagValues, io: CliIO, fn: (vault: Vault) => Promise<T>): Promise<T> {
  const passphrase = await passphraseOf(flags, io);
  const vault = Vault.open(vaultDirOf(flags, io), passphrase ? { passphrase } : {});
  try {
    await vault.purgeDueKeys();
    return await fn(vault);
  } finally {
    await vault.close();
  }
}
