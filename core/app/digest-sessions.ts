// Streamed message digests for the app: the host hashes with node:crypto (native SM3 where OpenSSL
// has it) and returns the Digest that AsymmetricSign / AsymmetricVerify take. A session holds a
// hash state and the public key's Z_A (SM2): nothing secret.
import { encodeBase64 } from '../contract/base64.ts';
import { ALGORITHM_TABLE, type SigningAlgorithm } from '../contract/specs.ts';
import { assertAlgorithmFor, type Digester, type PublicKey } from '../crypto/public-key.ts';
import { StreamSessions } from './stream-sessions.ts';

interface DigestState {
  readonly digester: Digester;
  readonly algorithm: SigningAlgorithm;
  update(chunk: Uint8Array): void;
}

export class DigestSessions extends StreamSessions<DigestState> {
  constructor(clock: () => number = Date.now) {
    super({ begin: 'Digest.Begin', noun: 'digest' }, clock);
  }

  /** `since`: the store's epoch when the host started the call, before awaiting the public key (see StreamSessions.open). */
  begin(key: PublicKey, algorithm: SigningAlgorithm, since: number = this.epoch): { SessionId: string; Hash: 'SHA-256' | 'SM3' } {
    this.assertRoom();
    const alg = assertAlgorithmFor(key.spec, algorithm, 'SIGN/VERIFY') as SigningAlgorithm;
    const digester = key.messageDigester(alg);
    const id = this.open({ digester, algorithm: alg, update: (chunk) => digester.update(chunk) }, since);
    return { SessionId: id, Hash: ALGORITHM_TABLE[alg].hash === 'SM3' ? 'SM3' : 'SHA-256' };
  }

  finish(id: string): { Digest: string; BytesHashed: number; Algorithm: SigningAlgorithm } {
    const { state, bytes } = this.take(id);
    return { Digest: encodeBase64(state.digester.digest()), BytesHashed: bytes, Algorithm: state.algorithm };
  }
}
