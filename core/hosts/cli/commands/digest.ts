import { invalidParameter, missingParameter } from '../../../contract/errors.ts';
import { encodeBase64 } from '../../../contract/base64.ts';
import { SIGNING_ALGORITHMS, isSigningAlgorithm } from '../../../contract/specs.ts';
import { createDigester, digestMessage, feedDigester, importPublicKey, type PublicKey } from '../../../crypto/public-key.ts';
import { EXIT_OK, type Command } from '../command.ts';
import { openStream, progressReporter, readSmallFile } from '../inputs.ts';

export const digestCommand: Command = {
  name: 'digest',
  usage: 'deskkms digest --algorithm ALG --in FILE [--public-key FILE]',
  flags: {
    algorithm: { type: 'string', value: 'ALG', required: true, description: `one of ${SIGNING_ALGORITHMS.join(', ')}` },
    in: { type: 'string', value: 'FILE', required: true, description: "the message, streamed (any size); '-' reads stdin" },
    'public-key': {
      type: 'string',
      value: 'FILE',
      description: 'the signer\'s public key (PEM or DER); required for SM2DSA, whose Digest is SM3(Z_A || M)',
    },
  },
  details: 'SHA-256(message) for RSA and ECDSA algorithms; SM3(Z_A || message) with ID 1234567812345678 for SM2DSA.',
  async run(flags, io) {
    const algorithm = flags.algorithm;
    if (typeof algorithm !== 'string') throw missingParameter('--algorithm');
    if (!isSigningAlgorithm(algorithm)) {
      throw invalidParameter('--algorithm', `${algorithm} is not a signing algorithm; valid: ${SIGNING_ALGORITHMS.join(', ')}`);
    }
    if (typeof flags.in !== 'string') throw missingParameter('--in');
    let publicKey: PublicKey | undefined;
    if (typeof flags['public-key'] === 'string') {
      publicKey = importPublicKey(await readSmallFile('public-key', flags['public-key'], io), '--public-key');
    } else if (algorithm === 'SM2DSA') {
      throw invalidParameter('--public-key', 'is required for SM2DSA: its Digest covers Z_A, which depends on the public key');
    }
    const input = await openStream('in', flags.in, io);
    const progress = progressReporter(io, 'hashing', input.size);
    // Without a key (RSA and ECDSA algorithms only) the Digest is plain SHA-256 of the message.
    const digest = publicKey
      ? await digestMessage(publicKey, algorithm, input.chunks, (n) => progress.update(n))
      : await feedDigester(createDigester('SHA-256'), input.chunks, (n) => progress.update(n));
    progress.done();
    io.stdout.write(`${encodeBase64(digest)}\n`);
    return EXIT_OK;
  },
};
