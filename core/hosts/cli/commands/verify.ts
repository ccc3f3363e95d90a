import { decodeBase64 } from '../../../contract/base64.ts';
import { invalidParameter, missingParameter } from '../../../contract/errors.ts';
import { SIGNING_ALGORITHMS } from '../../../contract/specs.ts';
import { digestMessage, importPublicKey, verifyDigest } from '../../../crypto/public-key.ts';
import { EXIT_NEGATIVE, EXIT_OK, type Command } from '../command.ts';
import { openStream, progressReporter, readSmallFile } from '../inputs.ts';

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'Verify a signature with a public key (offline, no vault needed)',
  usage: 'deskkms verify --public-key FILE --algorithm ALG (--in FILE | --digest BASE64) (--signature-file FILE | --signature BASE64)',
  flags: {
    'public-key': { type: 'string', value: 'FILE', required: true, description: 'SubjectPublicKeyInfo, PEM ("PUBLIC KEY") or DER' },
    algorithm: { type: 'string', value: 'ALG', required: true, description: `one of ${SIGNING_ALGORITHMS.join(', ')}` },
    in: { type: 'string', value: 'FILE', description: "the signed message, streamed (any size); '-' reads stdin" },
    digest: { type: 'string', value: 'BASE64', description: 'the precomputed Digest, as AsymmetricSign takes it' },
    'signature-file': { type: 'string', value: 'FILE', description: 'the signature as raw bytes (DER for ECDSA/SM2DSA, raw for RSA)' },
    signature: { type: 'string', value: 'BASE64', description: 'the signature as base64 (the Value field of AsymmetricSign)' },
  },
  details: 'Prints "valid" or "invalid". Exit status: 0 valid, 1 invalid, 2 error (reason on stderr).',
  async run(flags, io) {
    const keyPath = flags['public-key'];
    if (typeof keyPath !== 'string') throw missingParameter('--public-key');
    const algorithm = flags.algorithm;
    if (typeof algorithm !== 'string') throw missingParameter('--algorithm');
    const publicKey = importPublicKey(await readSmallFile('public-key', keyPath, io), '--public-key');

    const hasIn = typeof flags.in === 'string';
    const hasDigest = typeof flags.digest === 'string';
    if (hasIn === hasDigest) throw invalidParameter('--in/--digest', 'give exactly one of --in FILE or --digest BASE64');
    const hasSigFile = typeof flags['signature-file'] === 'string';
    const hasSig = typeof flags.signature === 'string';
    if (hasSigFile === hasSig) throw invalidParameter('--signature-file/--signature', 'give exactly one of --signature-file FILE or --signature BASE64');

    const signature = hasSigFile
      ? await readSmallFile('signature-file', flags['signature-file'] as string, io)
      : decodeBase64(flags.signature, '--signature');

    let digest: Uint8Array;
    if (hasDigest) {
      digest = decodeBase64(flags.digest, '--digest');
    } else {
      const input = await openStream('in', flags.in as string, io);
      const progress = progressReporter(io, 'hashing', input.size);
      digest = await digestMessage(publicKey, algorithm, input.chunks, (n) => progress.update(n));
      progress.done();
    }
    const valid = verifyDigest(publicKey, algorithm, digest, signature);
    io.stdout.write(valid ? 'valid\n' : 'invalid\n');
    return valid ? EXIT_OK : EXIT_NEGATIVE;
  },
};
