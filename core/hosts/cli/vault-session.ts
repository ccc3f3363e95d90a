// Opening the vault for one CLI invocation: --vault / $DESKKMS_VAULT / platform default, and the
// passphrase from --passphrase-file / $DESKKMS_PASSPHRASE_FILE for passphrase-protected vaults.
import { resolve } from 'node:path';
import { KmsError, invalidParameter } from '../../contract/errors.ts';
import { readPassphrase } from '../../vault/secrets.ts';
import { resolveVaultDir } from '../../vault/paths.ts';
import { Vault } from '../../vault/vault.ts';
import { raisedByVault, refusedCall, type CliIO, type FlagValues } from './command.ts';
import { claimStdin, describeFsError } from './inputs.ts';
import { MAX_PASSPHRASE_FILE, readSecretFile } from './secret-file.ts';
import { vaultPassphraseFile } from './vault-flags.ts';
import { sweepDue } from '../../actions/key-rotation.ts';

export { VAULT_FLAGS } from './vault-flags.ts';

export function vaultDirOf(flags: FlagValues, io: CliIO): string {
  return resolveVaultDir(typeof flags.vault === 'string' ? flags.vault : undefined, io.cwd, io.env);
}

function fileProblem(error: unknown): string {
  return describeFsError(error, `larger than ${MAX_PASSPHRASE_FILE >> 10} KiB; a passphrase file holds one line`);
}

/**
 * The passphrase from --passphrase-file / $DESKKMS_PASSPHRASE_FILE: a view of a buffer that only
 * the vault holds (it wipes it after unlocking). Never a string, never a second copy.
 */
export function passphraseOf(flags: FlagValues, io: CliIO): Promise<Uint8Array | undefined> {
  return Promise.resolve().then(() => {
    const path = vaultPassphraseFile(flags['passphrase-file'], io.env);
    return path ? readPassphraseFile('passphrase-file', path, io) : undefined;
  });
}

/**
 * The passphrase in the file `path` given as --`flag` (the backup and protection commands read
 * several: the vault's, a recovery passphrase, a new one), read as passphraseOf reads its own:
 * one buffer of our own, which the caller (or the vault it is handed to) wipes.
 */
export function readPassphraseFile(flag: string, path: string, io: CliIO): Uint8Array {
  if (path === '-') claimStdin(io, `--${flag}`);
  let bytes: Uint8Array;
  try {
    bytes = readSecretFile(path === '-' ? null : resolve(io.cwd, path));
  } catch (error) {
    throw invalidParameter(`--${flag}`, `${path}: ${fileProblem(error)}`);
  }
  try {
    return readPassphrase(bytes);
  } catch (error) {
    bytes.fill(0);
    throw error;
  }
}

/** Opens the vault, sweeps due deletions, runs `fn`, and always closes. */
export async function withVault<T>(flags: FlagValues, io: CliIO, fn: (vault: Vault) => Promise<T>): Promise<T> {
  const passphrase = await passphraseOf(flags, io);
  let vault: Vault;
  try {
    vault = Vault.open(vaultDirOf(flags, io), passphrase ? { passphrase } : {});
  } catch (error) {
    // Whatever its Code (no vault at DIR is InvalidParameter), the vault did not open: exit 1.
    throw error instanceof KmsError ? refusedCall(error) : error;
  }
  try {
    await sweepDue(vault);
    return await fn(vault);
  } catch (error) {
    // A failure of the vault or of a call on it exits 1 (command.ts: exitStatusOf).
    throw raisedByVault(error);
  } finally {
    await vault.close();
  }
}
