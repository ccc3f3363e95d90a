// deskkms vault change-passphrase | protect | rotate-data-key: how the vault's data key is kept.
// Each is its Action (ChangePassphrase, ChangeProtection, RotateDataKey: audited, atomic: the vault
// opens with the old secret or the new one, never neither). Passphrases come from files and travel
// base64 in the Action's parameters, as on every transport; the buffers read are wiped.
import { encodeBase64 } from '../../../contract/base64.ts';
import { invalidParameter, missingParameter } from '../../../contract/errors.ts';
import { escapeJsonText } from '../../../contract/escape-text.ts';
import type { Vault } from '../../../vault/vault.ts';
import { EXIT_OK, type CliIO, type Command, type FlagValues } from '../command.ts';
import { callAction } from '../actions-cli.ts';
import { VAULT_FLAGS, readPassphraseFile, withVault } from '../vault-session.ts';
import { vaultPassphraseFile } from '../vault-flags.ts';

/** The passphrase in --`flag`'s file, base64 for an Action's parameter; the buffer read is wiped. */
function passphraseParam(flag: string, path: string, io: CliIO): string {
  const bytes = readPassphraseFile(flag, path, io);
  try {
    return encodeBase64(bytes);
  } finally {
    bytes.fill(0);
  }
}

/**
 * The current passphrase as the Action's Passphrase: --passphrase-file, else
 * $DESKKMS_PASSPHRASE_FILE (the file that also unlocks the vault), only for a passphrase vault.
 * The Actions ask for it although the vault is unlocked: changing the protection needs the secret.
 */
function currentPassphrase(vault: Vault, flags: FlagValues, io: CliIO): { Passphrase?: string } {
  if (vault.protectionKind !== 'passphrase') {
    if (typeof flags['passphrase-file'] === 'string') throw invalidParameter('--passphrase-file', 'this vault is protected by the OS keychain, not a passphrase');
    return {};
  }
  const path = vaultPassphraseFile(flags['passphrase-file'], io.env);
  if (!path) throw missingParameter('--passphrase-file (the current passphrase of this vault)');
  return { Passphrase: passphraseParam('passphrase-file', path, io) };
}

function printJson(io: CliIO, value: unknown): void {
  io.stdout.write(`${escapeJsonText(JSON.stringify(value, null, 2))}\n`);
}

const BACKUPS_STAY =
  'Backups made before keep opening with their own recovery passphrase or shares (they hold the vault as it was): destroy those, and their shares, if they must no longer open.';

export const vaultCommand: Command = {
  name: 'vault',
  usage:
    'deskkms vault change-passphrase --passphrase-file CUR --new-passphrase-file NEW\n' +
    '       deskkms vault protect --with keychain [--passphrase-file CUR]\n' +
    '       deskkms vault protect --with passphrase --new-passphrase-file NEW\n' +
    '       deskkms vault rotate-data-key [--passphrase-file CUR]',
  flags: {
    ...VAULT_FLAGS,
    'passphrase-file': { ...VAULT_FLAGS['passphrase-file']!, description: 'the CURRENT passphrase of a passphrase-protected vault (default: $DESKKMS_PASSPHRASE_FILE)' },
    'new-passphrase-file': { type: 'string', value: 'FILE', description: 'change-passphrase, protect --with passphrase: the new passphrase (one trailing newline is ignored)' },
    with: { type: 'string', value: 'keychain|passphrase', description: 'protect: keep the data key in the OS keychain, or wrapped under a passphrase' },
  },
  positionals: ['change-passphrase|protect|rotate-data-key'],
  details:
    'Each is an Action (ChangePassphrase, ChangeProtection, RotateDataKey), audited, and atomic: killed at any moment, the vault opens with the old secret or the new one. ' +
    'protect --with passphrase wraps the data key under the new passphrase and removes the keychain entry; --with keychain stores it in this machine\'s keychain. ' +
    'rotate-data-key re-seals every private key and access-key secret under a new random data key. ' +
    'Backups made before are not changed: they open with their own recovery secret.',
  async run(flags, io, positionals = []) {
    const sub = positionals[0];
    if ((sub !== 'change-passphrase' && sub !== 'protect' && sub !== 'rotate-data-key') || positionals.length > 1) {
      throw invalidParameter('vault', 'give "change-passphrase", "protect" or "rotate-data-key"');
    }
    const newFile = typeof flags['new-passphrase-file'] === 'string' ? flags['new-passphrase-file'] : undefined;
    const target = flags.with;
    if (sub !== 'protect' && target !== undefined) throw invalidParameter('--with', 'is for vault protect');
    if (sub === 'protect' && target !== 'keychain' && target !== 'passphrase') throw invalidParameter('--with', 'give keychain or passphrase');
    if (sub === 'rotate-data-key' && newFile !== undefined) throw invalidParameter('--new-passphrase-file', 'rotate-data-key keeps the passphrase; use vault change-passphrase to change it');
    if (sub === 'protect' && target === 'keychain' && newFile !== undefined) throw invalidParameter('--new-passphrase-file', 'a keychain-protected vault has no passphrase');
    if ((sub === 'change-passphrase' || target === 'passphrase') && newFile === undefined) throw missingParameter('--new-passphrase-file');
    return withVault(flags, io, async (vault) => {
      const current = currentPassphrase(vault, flags, io);
      let answer: Record<string, unknown>;
      if (sub === 'change-passphrase') {
        if (vault.protectionKind !== 'passphrase') throw invalidParameter('vault change-passphrase', 'this vault is protected by the OS keychain; to protect it with a passphrase: deskkms vault protect --with passphrase --new-passphrase-file FILE');
        answer = await callAction(io, vault, 'ChangePassphrase', { ...current, NewPassphrase: passphraseParam('new-passphrase-file', newFile!, io) });
      } else if (sub === 'protect') {
        answer = await callAction(io, vault, 'ChangeProtection', {
          Protection: target,
          ...current,
          ...(newFile === undefined ? {} : { NewPassphrase: passphraseParam('new-passphrase-file', newFile, io) }),
        });
      } else {
        answer = await callAction(io, vault, 'RotateDataKey', current);
      }
      printJson(io, answer);
      io.stderr.write(`${sub === 'protect' && target === 'passphrase' ? 'From now on the vault opens with the new passphrase (--passphrase-file or DESKKMS_PASSPHRASE_FILE). ' : ''}${BACKUPS_STAY}\n`);
      return EXIT_OK;
    });
  },
};
