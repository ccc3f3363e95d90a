// `deskkms <Action> --help`: each parameter with what it takes (valid values from the specs table
// and the request schemas), what a Digest is and how to make one, and the Action's example. Loads
// the schemas (zod) and the specs table, never the vault.
import { ACTION_SCHEMAS, type ActionName } from '../../contract/actions.ts';
import { KEY_SPECS, KEY_SPEC_TABLE, SIGNING_ALGORITHMS, ENCRYPTION_ALGORITHMS, specsFor, type Algorithm } from '../../contract/specs.ts';
import { ACTION_EXAMPLES } from './action-examples.ts';
import { EXIT_CODES_HELP } from './command.ts';
import { VAULT_FLAGS } from './vault-flags.ts';

interface SchemaNode {
  readonly _zod: { readonly def: { readonly type: string; readonly innerType?: SchemaNode; readonly in?: SchemaNode; readonly entries?: Record<string, string>; readonly defaultValue?: unknown } };
  safeParse(value: unknown): { success: boolean };
}

/** The values an enum parameter takes (through optional, default and pipe), or undefined. */
function enumValues(schema: SchemaNode): readonly string[] | undefined {
  let node: SchemaNode | undefined = schema;
  for (let depth = 0; node && depth < 8; depth++) {
    const def: SchemaNode['_zod']['def'] = node._zod.def;
    if (def.type === 'enum') return Object.values(def.entries ?? {});
    node = def.type === 'optional' || def.type === 'default' ? def.innerType : def.type === 'pipe' ? def.in : undefined;
  }
  return undefined;
}

function defaultValue(schema: SchemaNode): unknown {
  let node: SchemaNode | undefined = schema;
  for (let depth = 0; node && depth < 8; depth++) {
    const def: SchemaNode['_zod']['def'] = node._zod.def;
    if (def.type === 'default') return def.defaultValue;
    node = def.type === 'optional' ? def.innerType : undefined;
  }
  return undefined;
}

/** Each algorithm with the key specs it works with, e.g. "ECDSA_SHA_256 (EC_P256, EC_P256K keys)". */
function algorithmsWithSpecs(algorithms: readonly Algorithm[]): string {
  return algorithms.map((alg) => `${alg} (${specsFor(alg).join(', ')})`).join(', ');
}

const DIGEST_HOW =
  'base64 of the message digest, not the message: SHA-256(message) for RSA and ECDSA algorithms, SM3(Z_A || message) for SM2DSA. ' +
  'Make it with: deskkms digest --algorithm ALG --in FILE (add --public-key PUB.pem for SM2DSA; GetPublicKey gives the PEM)';

/** What a parameter means, where its name alone does not say (by Action, then for every Action). */
function parameterNote(action: ActionName, name: string): string | undefined {
  const encrypting = action === 'AsymmetricEncrypt' || action === 'AsymmetricDecrypt';
  // The data-key Actions' KeySpec is the data key's, not a key's.
  if (name === 'KeySpec' && (action === 'GenerateDataKey' || action === 'GenerateDataKeyWithoutPlaintext' || action === 'GenerateAndExportDataKey')) {
    return "the data key's: AES_256 (32 bytes, the default) or AES_128 (16)";
  }
  switch (name) {
    case 'KeyId':
      return "the key's id, alias/NAME or ARN (ListKeys, ListAliases)";
    case 'KeyVersionId':
      return "a version's UUID: CreateKey answers it as KeyVersionId; ListKeyVersions lists every version";
    case 'Algorithm':
      return `one of ${algorithmsWithSpecs(encrypting ? ENCRYPTION_ALGORITHMS : SIGNING_ALGORITHMS)}; deskkms specs prints the table`;
    case 'Digest':
      return DIGEST_HOW;
    case 'Value':
      return 'the base64 signature, as AsymmetricSign answered it';
    case 'Plaintext':
      return action === 'Encrypt' ? 'base64 of at most 6144 bytes, e.g. "$(printf %s SECRET | base64 -w0)"' : "base64 of the bytes to encrypt (deskkms specs gives each algorithm's limit)";
    case 'CiphertextBlob':
      return encrypting ? 'base64, as AsymmetricEncrypt answered it' : action === 'ReEncrypt' ? 'base64: a CiphertextBlob of Encrypt or GenerateDataKey, or an AsymmetricEncrypt ciphertext (then the Source* parameters)' : 'base64, as Encrypt or GenerateDataKey answered it (it names its key: no KeyId)';
    case 'EncryptionContext':
    case 'SourceEncryptionContext':
    case 'DestinationEncryptionContext':
      return 'a JSON object of string values, e.g. \'{"purpose":"backup"}\'; authenticated, not stored: decrypting needs the same one';
    case 'NumberOfBytes':
      return '1-1024: the data key\'s length (wins over KeySpec; neither: 32)';
    case 'PublicKeyBlob':
      return 'base64 of the DER SubjectPublicKeyInfo to wrap the data key to (openssl pkey -pubin -outform DER | base64 -w0)';
    case 'RotationInterval':
      return '7d to 365d (d, h, m or s), e.g. 365d';
    case 'DestinationKeyId':
      return 'the symmetric key to encrypt under (id, alias/NAME or ARN)';
    case 'DryRun':
      return 'true checks the call as it would run and answers DryRunOperationError instead of acting';
    case 'KeyUsage':
      return action === 'CreateKey'
        ? `default per KeySpec: ${KEY_SPECS.map((spec) => `${spec} ${KEY_SPEC_TABLE[spec].defaultUsage}`).join(', ')}; signing keys need SIGN/VERIFY`
        : undefined;
    case 'Passphrase':
    case 'NewPassphrase':
      return 'base64 of the passphrase bytes';
    case 'Tags':
      return 'JSON array of {"TagKey","TagValue"}';
    case 'TagKeys':
      return 'JSON array of tag keys';
    case 'Filters':
      return 'JSON array of {"Key","Values"}, Key one of KeyState, KeySpec, KeyUsage, ProtectionLevel, CreatorType, KeyId, AliasName, Creator, TagKey, TagValue';
    default:
      return undefined;
  }
}

/** The parameter names of an Action. */
export function actionParameters(action: ActionName): string[] {
  return Object.keys(ACTION_SCHEMAS[action].shape);
}

export function actionHelp(action: ActionName): string {
  const shape = ACTION_SCHEMAS[action].shape as unknown as Record<string, SchemaNode>;
  const names = Object.keys(shape);
  const width = Math.max(0, ...names.map((n) => n.length + 2));
  const params = names.map((name) => {
    const schema = shape[name]!;
    const optional = schema.safeParse(undefined).success;
    const values = enumValues(schema);
    const boolean = !values && schema.safeParse('true').success && schema.safeParse('false').success && !schema.safeParse('maybe').success;
    const fallback = defaultValue(schema);
    const parts = [
      optional ? 'optional' : 'required',
      ...(values ? [`one of ${values.join(', ')}`] : boolean ? ['true or false'] : []),
      ...(fallback !== undefined && fallback !== '' ? [`default ${JSON.stringify(fallback).replace(/^"|"$/g, '')}`] : []),
    ];
    const note = parameterNote(action, name);
    return `  ${`--${name}`.padEnd(width)}  ${parts.join('; ')}${note ? `. ${note}` : ''}`;
  });
  const vaultFlags = Object.entries(VAULT_FLAGS).map(([n, f]) => `  --${n} ${f.value ?? ''}  ${f.description}`);
  return [
    `Calls ${action} on the vault (Alibaba Cloud KMS semantics) and prints the response JSON.`,
    '',
    `Usage: deskkms ${action}${names.map((n) => (shape[n]!.safeParse(undefined).success ? ` [--${n} VALUE]` : ` --${n} VALUE`)).join('')}`,
    '',
    ...(names.length ? ['Parameters (--Name value or --Name=value; names are case-sensitive):', ...params, ''] : []),
    'Vault:',
    ...vaultFlags,
    '',
    'Example:',
    `  deskkms ${ACTION_EXAMPLES[action]}`,
    '',
    EXIT_CODES_HELP,
    '',
  ].join('\n');
}
