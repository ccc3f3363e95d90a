// DeskKMS keys for age (age-plugin-deskkms, core/formats/age-deskkms.ts):
//   deskkms pubkey KEY --format age-recipient [--version V]   the recipient (pubkey.ts calls ageRecipient)
//   deskkms age-identity KEY [-o FILE]                        the identity line for `age -d -i FILE`
// A symmetric key's recipient names the key (encrypting asks the vault); an RSA ENCRYPT/DECRYPT
// key's names a version and carries its public key (encrypting needs no vault).
import { resolve } from 'node:path';
import { decodeBase64 } from '../../../contract/base64.ts';
import { KmsError, invalidParameter, missingParameter } from '../../../contract/errors.ts';
import { KEY_SPEC_TABLE, isKeySpec, isSymmetricSpec } from '../../../contract/specs.ts';
import { encodeIdentity, encodeRecipient } from '../../../formats/age-deskkms.ts';
import type { Vault } from '../../../vault/vault.ts';
import { callAction } from '../actions-cli.ts';
import { EXIT_OK, type CliIO, type Command, type FlagValues } from '../command.ts';
import { writeFileAtomically } from '../output-file.ts';
import { VAULT_FLAGS, withVault } from '../vault-session.ts';

interface KeyFacts {
  readonly keyId: string;
  readonly spec: string;
  readonly usage: string;
}

async function keyFacts(io: CliIO, vault: Vault, keyRef: string): Promise<KeyFacts> {
  const meta = (await callAction(io, vault, 'DescribeKey', { KeyId: keyRef })).KeyMetadata as Record<string, string>;
  return { keyId: meta.KeyId!, spec: meta.KeySpec!, usage: meta.KeyUsage! };
}

/** Which keys age can use: symmetric keys, and RSA keys of usage ENCRYPT/DECRYPT. */
function assertAgeKey(key: KeyFacts): void {
  const rsaEncrypting = isKeySpec(key.spec) && KEY_SPEC_TABLE[key.spec].family === 'RSA' && key.usage === 'ENCRYPT/DECRYPT';
  if (!(isKeySpec(key.spec) && isSymmetricSpec(key.spec)) && !rsaEncrypting) {
    throw new KmsError('Format.UnsupportedKeySpec', `age files are encrypted to symmetric keys (Aliyun_AES_256, Aliyun_SM4) or RSA keys of usage ENCRYPT/DECRYPT; key ${key.keyId} is ${key.spec} ${key.usage}`);
  }
}

/** The age1deskkms1... recipient of a key (and of a version, for RSA keys: `version` or the newest). */
export async function ageRecipient(io: CliIO, vault: Vault, keyRef: string, version: string | undefined): Promise<{ text: string; keyId: string; keyVersionId: string }> {
  const key = await keyFacts(io, vault, keyRef);
  assertAgeKey(key);
  if (isKeySpec(key.spec) && isSymmetricSpec(key.spec)) return { text: `${encodeRecipient({ kind: 'kms', keyId: key.keyId })}\n`, keyId: key.keyId, keyVersionId: '' };
  let keyVersionId = version;
  if (keyVersionId === undefined) {
    const listed = await callAction(io, vault, 'ListKeyVersions', { KeyId: key.keyId, PageSize: 100 });
    const versions = (listed.KeyVersions as { KeyVersion: { KeyVersionId: string }[] }).KeyVersion;
    keyVersionId = versions.at(-1)?.KeyVersionId;
    if (!keyVersionId) throw new KmsError('Rejected.PendingImport', `key ${key.keyId} has no version yet`);
    io.stderr.write(`deskkms: key ${key.keyId} version ${keyVersionId} (its newest; give --version to choose)\n`);
  }
  const pem = (await callAction(io, vault, 'GetPublicKey', { KeyId: key.keyId, KeyVersionId: keyVersionId })).PublicKey as string;
  const spki = decodeBase64(pem.replace(/-----[^-]+-----|\s/g, ''), 'PublicKey');
  return { text: `${encodeRecipient({ kind: 'rsa', keyId: key.keyId, keyVersionId, spki })}\n`, keyId: key.keyId, keyVersionId };
}

export const ageIdentityCommand: Command = {
  name: 'age-identity',
  usage: 'deskkms age-identity KEY [-o FILE [--force]]',
  positionals: ['KEY'],
  flags: {
    ...VAULT_FLAGS,
    out: { type: 'string', value: 'FILE', short: 'o', description: 'write the identity file (0600) instead of printing it' },
    force: { type: 'boolean', description: 'with -o: replace FILE' },
  },
  details:
    'Prints the AGE-PLUGIN-DESKKMS-1... identity of a symmetric key or an RSA ENCRYPT/DECRYPT key, for `age -d -i FILE`. ' +
    'It names the key, not a secret: decrypting asks the vault (age-plugin-deskkms on PATH; $DESKKMS_VAULT chooses the vault), which audits each file key it unwraps. ' +
    'Recipients for `age -r`: deskkms pubkey KEY --format age-recipient.',
  async run(flags: FlagValues, io: CliIO, positionals: readonly string[] = []) {
    const keyRef = positionals[0];
    if (!keyRef || positionals.length > 1) throw missingParameter('KEY');
    return withVault(flags, io, async (vault) => {
      const key = await keyFacts(io, vault, keyRef);
      assertAgeKey(key);
      const text = `# DeskKMS key ${key.keyId} (${key.spec}); decrypting asks the vault through age-plugin-deskkms\n${encodeIdentity(key.keyId)}\n`;
      if (typeof flags.out !== 'string') {
        io.stdout.write(text);
        return EXIT_OK;
      }
      const target = resolve(io.cwd, flags.out);
      await writeFileAtomically(target, text, { mode: 0o600, replace: flags.force === true, exists: (path) => invalidParameter('--out', `${path} already exists; give --force to replace it`) });
      io.stdout.write(`${JSON.stringify({ File: target, KeyId: key.keyId }, null, 2)}\n`);
      return EXIT_OK;
    });
  },
};
