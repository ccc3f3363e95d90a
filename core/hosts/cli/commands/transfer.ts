// deskkms export / deskkms import: encrypted PKCS#8 copies of key versions. Passphrases come from
// files (never the command line, where other users could read them in the process list).
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { encodeBase64 } from '../../../contract/base64.ts';
import { invalidParameter, missingParameter } from '../../../contract/errors.ts';
import { readPassphrase } from '../../../vault/secrets.ts';
import { EXIT_OK, type CliIO, type Command, type FlagValues } from '../command.ts';
import { callAction } from '../actions-cli.ts';
import { readSmallFile } from '../inputs.ts';
import { VAULT_FLAGS, withVault } from '../vault-session.ts';

async function passphraseFrom(flag: string, flags: FlagValues, io: CliIO): Promise<string> {
  const path = flags[flag];
  if (typeof path !== 'string') throw missingParameter(`--${flag}`);
  return encodeBase64(readPassphrase(await readSmallFile(flag, path, io)));
}

function keyArg(positionals: readonly string[]): string {
  const key = positionals[0];
  if (!key || positionals.length > 1) throw missingParameter('KEY');
  return key;
}

export const exportCommand: Command = {
  name: 'export',
  usage: 'deskkms export KEY --version V --export-passphrase-file FILE [--kdf scrypt|pbkdf2] [-o FILE]',
  flags: {
    ...VAULT_FLAGS,
    version: { type: 'string', value: 'V', required: true, description: 'the KeyVersionId' },
    'export-passphrase-file': { type: 'string', value: 'FILE', required: true, description: 'the passphrase that encrypts the exported key' },
    kdf: { type: 'string', value: 'scrypt|pbkdf2', description: 'PBES2 key derivation (default scrypt N=2^14; pbkdf2 = HMAC-SHA-256, 600,000 iterations)' },
    out: { type: 'string', value: 'FILE', short: 'o', description: 'write the PEM here (mode 0600) instead of stdout' },
  },
  positionals: ['KEY'],
  details: 'Only keys created with CreateKey --Exportable true can be exported; every export, and every refusal, is audited.',
  async run(flags, io, positionals = []) {
    const keyRef = keyArg(positionals);
    if (typeof flags.version !== 'string') throw missingParameter('--version');
    const passphrase = await passphraseFrom('export-passphrase-file', flags, io);
    const kdf = flags.kdf ?? 'scrypt';
    if (kdf !== 'scrypt' && kdf !== 'pbkdf2') throw invalidParameter('--kdf', 'must be scrypt or pbkdf2');
    return withVault(flags, io, async (vault) => {
      const body = await callAction(io, vault, 'ExportKeyVersion', { KeyId: keyRef, KeyVersionId: flags.version, Passphrase: passphrase, Kdf: kdf });
      const pem = body.EncryptedPrivateKey as string;
      if (typeof flags.out === 'string') await writeFile(resolve(io.cwd, flags.out), pem, { mode: 0o600 });
      else io.stdout.write(pem);
      return EXIT_OK;
    });
  },
};

export const importCommand: Command = {
  name: 'import',
  usage: 'deskkms import KEY --in FILE --import-passphrase-file FILE',
  flags: {
    ...VAULT_FLAGS,
    in: { type: 'string', value: 'FILE', required: true, description: 'PEM "ENCRYPTED PRIVATE KEY" or its DER' },
    'import-passphrase-file': { type: 'string', value: 'FILE', required: true, description: 'the passphrase the file is encrypted with' },
  },
  positionals: ['KEY'],
  details: 'Prints the new KeyVersion. A wrong passphrase, a damaged file or a key of another spec is refused and nothing is added.',
  async run(flags, io, positionals = []) {
    const keyRef = keyArg(positionals);
    if (typeof flags.in !== 'string') throw missingParameter('--in');
    const raw = Buffer.from(await readSmallFile('in', flags.in, io));
    const text = raw.subarray(0, 16).toString('latin1').startsWith('-----BEGIN') ? raw.toString('utf8') : raw.toString('base64');
    const passphrase = await passphraseFrom('import-passphrase-file', flags, io);
    return withVault(flags, io, async (vault) => {
      const body = await callAction(io, vault, 'ImportKeyVersion', { KeyId: keyRef, EncryptedPrivateKey: text, Passphrase: passphrase });
      io.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
      return EXIT_OK;
    });
  },
};
