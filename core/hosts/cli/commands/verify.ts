// deskkms verify: offline, no vault. A raw signature over a file or a Digest (the AsymmetricSign
// Value), or a signature file of a release format (core/formats) checked with the material its
// ecosystem publishes: a public key, an OpenPGP certificate, an allowed_signers file.
import { decodeBase64 } from '../../../contract/base64.ts';
import { invalidParameter, missingParameter } from '../../../contract/errors.ts';
import { escapeText } from '../../../contract/escape-text.ts';
import { KEY_SPEC_TABLE, SIGNING_ALGORITHMS } from '../../../contract/specs.ts';
import { importPublicKey, verifyDigest, type PublicKey } from '../../../crypto/public-key.ts';
import { SIGNATURE_FORMATS, type SignatureFormatName, type VerifyMaterial } from '../../../formats/format.ts';
import { signatureFormat } from '../../../formats/registry.ts';
import { EXIT_NEGATIVE, EXIT_OK, type CliIO, type Command, type FlagValues } from '../command.ts';
import { openStream, progressReporter, readSmallFile as readFile } from '../inputs.ts';
import { assertFlagsFit, formatOf, formatOptionsOf } from './sign.ts';

/** Which formats read each flag of verify (the signature's own options and its material). */
const VERIFY_FLAG_FORMATS: Readonly<Record<string, readonly SignatureFormatName[]>> = {
  namespace: ['ssh'],
  algorithm: ['raw'],
  digest: ['raw'],
  signature: ['raw'],
  'public-key': ['raw', 'ssh', 'sigstore', 'jws'],
  certificate: ['openpgp'],
  'allowed-signers': ['ssh'],
  principal: ['ssh'],
};

type FileReader = (flag: string, path: string, io: CliIO) => Promise<Uint8Array>;

async function materialOf(flags: FlagValues, io: CliIO, format: SignatureFormatName, readSmallFile: FileReader): Promise<VerifyMaterial> {
  if (flags['public-key'] !== undefined && flags['allowed-signers'] !== undefined) {
    throw invalidParameter('--public-key/--allowed-signers', 'give one: the signer\'s public key, or an allowed_signers file with --principal');
  }
  const file = async (flag: string): Promise<Uint8Array | undefined> => (typeof flags[flag] === 'string' ? readSmallFile(flag, flags[flag], io) : undefined);
  const publicKey = await file('public-key');
  const certificate = await file('certificate');
  const allowed = await file('allowed-signers');
  let allowedSigners: string | undefined;
  if (allowed) {
    try {
      allowedSigners = new TextDecoder('utf-8', { fatal: true }).decode(allowed);
    } catch {
      throw invalidParameter('--allowed-signers', `${String(flags['allowed-signers'])}: is not UTF-8 text`);
    }
  }
  const options = formatOptionsOf(flags, format, VERIFY_FLAG_FORMATS);
  return {
    ...(publicKey ? { publicKey } : {}),
    ...(certificate ? { certificate } : {}),
    ...(allowedSigners !== undefined ? { allowedSigners } : {}),
    ...(typeof flags.principal === 'string' ? { principal: flags.principal } : {}),
    ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
    ...(options.algorithm !== undefined ? { algorithm: options.algorithm } : {}),
  };
}

const BASE64_TEXT = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * A raw signature file as the signature's bytes: the bytes themselves, or the base64 text of them
 * that the app's "Save base64" writes (one trailing newline allowed). The two cannot be confused:
 * an RSA signature is exactly the modulus length, which its base64 text never is; an ECDSA or
 * SM2DSA signature is DER, whose third byte is the INTEGER tag 0x02, never a base64 character,
 * while base64 text is taken only when it decodes to a DER SEQUENCE of the length it says.
 */
export function rawSignatureOf(file: Uint8Array, publicKey: PublicKey): Uint8Array {
  const info = KEY_SPEC_TABLE[publicKey.spec];
  if (info.family === 'RSA' && file.length === info.bits / 8) return file;
  let end = file.length;
  if (file[end - 1] === 0x0a) end--;
  if (file[end - 1] === 0x0d) end--;
  const text = new TextDecoder('latin1').decode(file.subarray(0, end));
  if (end === 0 || !BASE64_TEXT.test(text)) return file;
  const decoded = decodeBase64(text, '--signature-file');
  const fits = info.family === 'RSA' ? decoded.length === info.bits / 8 : decoded[0] === 0x30 && derLength(decoded) === decoded.length;
  return fits ? decoded : file;
}

/** The total length a DER SEQUENCE's header announces (short or 1-2 byte long form), or -1. */
function derLength(der: Uint8Array): number {
  const first = der[1];
  if (first === undefined) return -1;
  if (first < 0x80) return 2 + first;
  if (first === 0x81 && der.length >= 3) return 3 + der[2]!;
  if (first === 0x82 && der.length >= 4) return 4 + ((der[2]! << 8) | der[3]!);
  return -1;
}

function report(io: CliIO, valid: boolean, detail: string | undefined): number {
  io.stdout.write(valid ? 'valid\n' : 'invalid\n');
  if (detail) io.stderr.write(`${escapeText(detail, 1024)}\n`);
  return valid ? EXIT_OK : EXIT_NEGATIVE;
}

export const verifyCommand: Command = {
  name: 'verify',
  usage:
    'deskkms verify [--format raw|ssh|openpgp|sigstore|jws] --in FILE (--signature-file FILE | --signature BASE64) ' +
    '(--public-key FILE | --certificate FILE | --allowed-signers FILE --principal ID) [--namespace NS] [--algorithm ALG] [--digest BASE64]',
  flags: {
    format: { type: 'string', value: 'FORMAT', description: `one of ${SIGNATURE_FORMATS.join(', ')} (default raw)` },
    'public-key': {
      type: 'string',
      value: 'FILE',
      description: 'raw, sigstore, jws, ssh: the public key (SPKI PEM/DER; ssh also an OpenSSH .pub line; jws also a JWK)',
    },
    certificate: { type: 'string', value: 'FILE', description: 'openpgp: the signer\'s OpenPGP certificate (armored or binary)' },
    'allowed-signers': { type: 'string', value: 'FILE', description: 'ssh: an allowed_signers file (ssh-keygen -Y verify -f), with --principal' },
    principal: { type: 'string', value: 'ID', description: 'ssh: the signer identity to look up in --allowed-signers (ssh-keygen -I)' },
    namespace: { type: 'string', value: 'NS', description: 'ssh: the namespace the signature must carry (default "file")' },
    algorithm: { type: 'string', value: 'ALG', description: `raw: one of ${SIGNING_ALGORITHMS.join(', ')} (default: the key's usual one)` },
    in: { type: 'string', value: 'FILE', description: "the signed file, streamed (any size); '-' reads stdin (jws with an attached payload needs none)" },
    digest: { type: 'string', value: 'BASE64', description: 'raw: the precomputed Digest, as AsymmetricSign takes it, instead of --in' },
    'signature-file': {
      type: 'string',
      value: 'FILE',
      description: "the signature file (raw: DER for ECDSA/SM2DSA, raw bytes for RSA, or their base64 text as the app's \"Save base64\" writes; a bundle for sigstore)",
    },
    signature: { type: 'string', value: 'BASE64', description: 'raw: the signature as base64 (the Value field of AsymmetricSign)' },
  },
  details: 'Prints "valid" or "invalid" (who signed, or why not, on stderr). Exit status: 0 valid, 1 invalid, 2 error (reason on stderr as {"Code","Message"}).',
  async run(flags, io) {
    const format = formatOf(flags, 'raw');
    // Each file is read once (the public key serves twice for raw; a file may be stdin, '-').
    const read = new Map<string, Promise<Uint8Array>>();
    const readSmallFile: FileReader = (flag, path, cliIo) => {
      if (!read.has(flag)) read.set(flag, readFile(flag, path, cliIo));
      return read.get(flag)!;
    };
    assertFlagsFit(flags, format, VERIFY_FLAG_FORMATS);
    if (format === 'raw' && typeof flags['public-key'] !== 'string') throw missingParameter('--public-key');
    const hasSigFile = typeof flags['signature-file'] === 'string';
    const hasSig = typeof flags.signature === 'string';
    if (hasSigFile === hasSig) throw invalidParameter('--signature-file/--signature', 'give exactly one of --signature-file FILE or --signature BASE64');
    let signature = hasSigFile ? await readSmallFile('signature-file', flags['signature-file'] as string, io) : decodeBase64(flags.signature, '--signature');
    if (format === 'raw' && hasSigFile) {
      signature = rawSignatureOf(signature, importPublicKey(await readSmallFile('public-key', flags['public-key'] as string, io), '--public-key'));
    }
    const hasIn = typeof flags.in === 'string';
    const hasDigest = typeof flags.digest === 'string';
    if (hasIn && hasDigest) throw invalidParameter('--in/--digest', 'give exactly one of --in FILE or --digest BASE64');

    if (format === 'raw' && hasDigest) {
      // A Digest given as is: the KMS API's AsymmetricVerify, offline.
      if (typeof flags['public-key'] !== 'string') throw missingParameter('--public-key');
      const publicKey = importPublicKey(await readSmallFile('public-key', flags['public-key'], io), '--public-key');
      const algorithm = formatOptionsOf(flags, format, VERIFY_FLAG_FORMATS).algorithm;
      if (algorithm === undefined) throw missingParameter('--algorithm');
      return report(io, verifyDigest(publicKey, algorithm, decodeBase64(flags.digest, '--digest'), signature), undefined);
    }
    if (format === 'raw' && !hasIn) throw invalidParameter('--in/--digest', 'give exactly one of --in FILE or --digest BASE64');

    if (!hasIn && format !== 'jws') throw missingParameter('--in');
    const pending = signatureFormat(format).verify(signature, { ...(await materialOf(flags, io, format, readSmallFile)), ...(hasIn ? {} : { withoutMessage: true }) });
    if (hasIn) {
      const input = await openStream('in', flags.in as string, io);
      const progress = progressReporter(io, 'hashing', input.size);
      let bytes = 0;
      for await (const chunk of input.chunks) {
        pending.update(chunk);
        bytes += chunk.length;
        progress.update(bytes);
      }
      progress.done();
    }
    const result = pending.result();
    return report(io, result.valid, result.valid ? (result.signer ? `signed by ${result.signer}` : undefined) : result.reason);
  },
};

