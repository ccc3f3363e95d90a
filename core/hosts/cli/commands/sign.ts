// deskkms sign: a file (streamed, any size) signed by a vault key version in the format its
// verifiers read (core/formats): the one AsymmetricSign goes through the handler table
// (core/actions/format-signing.ts), audited as "cli:<format>", or through a running DeskKMS agent
// serving the vault when it serves the key version (signer-session.ts), audited there as
// "ssh-agent[PROGRAM PID]:cli:<format>".
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { invalidParameter, missingParameter } from '../../../contract/errors.ts';
import { SIGNING_ALGORITHMS, isSigningAlgorithm, type SigningAlgorithm } from '../../../contract/specs.ts';
import { signMessage } from '../../../actions/format-signing.ts';
import { SIGNATURE_FORMATS, isSignatureFormat, type FormatOptions, type SignatureFormatName } from '../../../formats/format.ts';
import { defaultSignatureName, signatureFormat } from '../../../formats/registry.ts';
import { CLI_CALLER } from '../actions-cli.ts';
import { EXIT_OK, type Command, type FlagValues } from '../command.ts';
import { openStream, progressReporter } from '../inputs.ts';
import { writeFileAtomically } from '../output-file.ts';
import { withSigner } from '../signer-session.ts';
import { VAULT_FLAGS } from '../vault-session.ts';

/** Which formats read each option flag: one given to another format is refused, never ignored. */
const OPTION_FORMATS: Readonly<Record<'namespace' | 'detached' | 'algorithm', readonly SignatureFormatName[]>> = {
  namespace: ['ssh'],
  detached: ['jws'],
  algorithm: ['raw', 'jws'],
};

/** Refuses a flag the format does not read (e.g. --namespace with openpgp). */
export function assertFlagsFit(flags: FlagValues, format: SignatureFormatName, table: Readonly<Record<string, readonly SignatureFormatName[]>>): void {
  for (const [flag, formats] of Object.entries(table)) {
    if (flags[flag] !== undefined && !formats.includes(format)) {
      throw invalidParameter(`--${flag}`, `is for the ${formats.join(' and ')} format${formats.length > 1 ? 's' : ''}, not ${format}`);
    }
  }
}

/** The format options the sign and verify commands share, read from their flags. */
export function formatOptionsOf(flags: FlagValues, format: SignatureFormatName, table: Readonly<Record<string, readonly SignatureFormatName[]>> = OPTION_FORMATS): FormatOptions & { algorithm?: SigningAlgorithm } {
  assertFlagsFit(flags, format, table);
  const algorithm = flags.algorithm;
  if (algorithm !== undefined && !isSigningAlgorithm(algorithm)) {
    throw invalidParameter('--algorithm', `${String(algorithm)} is not a signing algorithm; valid: ${SIGNING_ALGORITHMS.join(', ')}`);
  }
  return {
    ...(typeof flags.namespace === 'string' ? { namespace: flags.namespace } : {}),
    ...(flags.detached === true ? { detached: true } : {}),
    ...(algorithm !== undefined ? { algorithm } : {}),
  };
}

export function formatOf(flags: FlagValues, fallback?: 'raw'): SignatureFormatName {
  const format = flags.format ?? fallback;
  if (format === undefined) throw missingParameter('--format');
  if (!isSignatureFormat(format)) throw invalidParameter('--format', `${String(format)} is not a signature format; valid: ${SIGNATURE_FORMATS.join(', ')}`);
  return format;
}

export const signCommand: Command = {
  name: 'sign',
  usage: 'deskkms sign --key KEY [--version V] --format raw|ssh|openpgp|sigstore|jws --in FILE [-o OUT] [--namespace NS] [--detached] [--algorithm ALG] [--force]',
  flags: {
    ...VAULT_FLAGS,
    key: { type: 'string', value: 'KEY', required: true, description: 'KeyId, alias/NAME or ARN of a SIGN/VERIFY key' },
    version: { type: 'string', value: 'V', description: "the KeyVersionId (default: the key's newest version, named on stderr)" },
    format: { type: 'string', value: 'FORMAT', required: true, description: `one of ${SIGNATURE_FORMATS.join(', ')}` },
    in: { type: 'string', value: 'FILE', required: true, description: "the file to sign, streamed (any size); '-' reads stdin" },
    out: { type: 'string', value: 'OUT', short: 'o', description: "where to write the signature (default FILE.sig, FILE.asc, FILE.sigstore.json or FILE.jws; '-' or stdin input: stdout)" },
    namespace: { type: 'string', value: 'NS', description: 'ssh: the SSHSIG namespace (default "file"; git uses "git")' },
    detached: { type: 'boolean', description: 'jws: leave the payload out of the token (RFC 7515 appendix F)' },
    algorithm: { type: 'string', value: 'ALG', description: 'raw and jws with RSA keys: RSA_PKCS1_SHA_256 (default; JWS RS256) or RSA_PSS_SHA_256 (PS256)' },
    force: { type: 'boolean', description: 'replace an existing signature file' },
  },
  details:
    'The key version must be Enabled and hold its private key; formats refuse specs they cannot carry (Format.UnsupportedKeySpec: SM2 has no SSH, OpenPGP, sigstore or JWS form; secp256k1 no SSH or sigstore form). ' +
    'The signature file is written whole or not at all; an existing one is kept unless --force. Prints {"Signature","Format","KeyId","KeyVersionId"} when it writes a file. ' +
    'When a DeskKMS agent serving this vault runs ($DESKKMS_AGENT_SOCK, else $SSH_AUTH_SOCK or the default socket) and serves the key version, it signs (no passphrase needed here); otherwise the vault is opened. DESKKMS_NO_AGENT=1 always opens the vault.',
  async run(flags, io) {
    const keyRef = flags.key;
    if (typeof keyRef !== 'string' || keyRef === '') throw missingParameter('--key');
    if (typeof flags.in !== 'string') throw missingParameter('--in');
    const format = formatOf(flags);
    const options = formatOptionsOf(flags, format);
    const version = typeof flags.version === 'string' ? flags.version : undefined;
    const toStdout = flags.out === '-' || (flags.out === undefined && flags.in === '-');
    const target = toStdout ? undefined : resolve(io.cwd, typeof flags.out === 'string' ? flags.out : defaultSignatureName(flags.in, format));
    const refuseExisting = (path: string) => invalidParameter('--out', `${path} already exists; give --force to replace it, or -o another file`);
    if (target !== undefined && flags.force !== true && existsSync(target)) throw refuseExisting(target); // before anything is signed
    const input = await openStream('in', flags.in, io);
    return withSigner(flags, io, CLI_CALLER, async (signer) => {
      const progress = progressReporter(io, 'signing', input.size);
      const { output, key } = await signMessage(signer, { key: keyRef, ...(version !== undefined ? { version } : {}), format, options }, input.chunks, (n) => progress.update(n));
      progress.done();
      const through = signer.agent ? ', through the DeskKMS agent' : '';
      if (key.newest) io.stderr.write(`deskkms: signed with key ${key.keyId} version ${key.keyVersionId} (its newest; give --version to choose)${through}\n`);
      if (target === undefined) {
        io.stdout.write(output);
        return EXIT_OK;
      }
      await writeFileAtomically(target, output, {
        mode: 0o644,
        replace: flags.force === true,
        exists: refuseExisting,
      });
      io.stdout.write(`${JSON.stringify({ Signature: target, Format: format, KeyId: key.keyId, KeyVersionId: key.keyVersionId, Description: signatureFormat(format).description }, null, 2)}\n`);
      return EXIT_OK;
    });
  },
};
