// Streamed message digests for the app: the renderer reads a file in chunks and sends each one;
// the host hashes with node:crypto (native SM3 where OpenSSL has it) and returns the Digest that
// AsymmetricSign / AsymmetricVerify take. Sessions are few, bounded in idle time, and hold only a
// hash state and the public key's Z_A (SM2): nothing secret.
import { randomUUID } from 'node:crypto';
import { encodeBase64 } from '../contract/base64.ts';
import { KmsError } from '../contract/errors.ts';
import { ALGORITHM_TABLE, type SigningAlgorithm } from '../contract/specs.ts';
import { assertAlgorithmFor, type Digester, type PublicKey } from '../crypto/public-key.ts';

const MAX_SESSIONS = 8;
const IDLE_MS = 10 * 60_000;

interface Session {
  readonly digester: Digester;
  readonly algorithm: SigningAlgorithm;
  bytes: number;
  lastUsed: number;
}

export class DigestSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly clock: () => number;

  constructor(clock: () => number = Date.now) {
    this.clock = clock;
  }

  begin(key: PublicKey, algorithm: SigningAlgorithm): { SessionId: string; Hash: 'SHA-256' | 'SM3' } {
    this.expire();
    if (this.sessions.size >= MAX_SESSIONS) {
      throw new KmsError('InvalidParameter', `Digest.Begin: ${MAX_SESSIONS} digests are already in progress; finish or abort one`);
    }
    const alg = assertAlgorithmFor(key.spec, algorithm, 'SIGN/VERIFY') as SigningAlgorithm;
    const id = randomUUID();
    this.sessions.set(id, { digester: key.messageDigester(alg), algorithm: alg, bytes: 0, lastUsed: this.clock() });
    return { SessionId: id, Hash: ALGORITHM_TABLE[alg].hash === 'SM3' ? 'SM3' : 'SHA-256' };
  }

  update(id: string, chunk: Uint8Array): { BytesHashed: number } {
    const session = this.get(id);
    session.digester.update(chunk);
    session.bytes += chunk.length;
    session.lastUsed = this.clock();
    return { BytesHashed: session.bytes };
  }

  finish(id: string): { Digest: string; BytesHashed: number; Algorithm: SigningAlgorithm } {
    const session = this.get(id);
    this.sessions.delete(id);
    return { Digest: encodeBase64(session.digester.digest()), BytesHashed: session.bytes, Algorithm: session.algorithm };
  }

  abort(id: string): boolean {
    return this.sessions.delete(id);
  }

  clear(): void {
    this.sessions.clear();
  }

  get size(): number {
    return this.sessions.size;
  }

  private get(id: string): Session {
    this.expire();
    const session = this.sessions.get(id);
    if (!session) throw new KmsError('InvalidParameter', `SessionId: no digest in progress with id ${id} (finished, aborted, expired or locked)`);
    return session;
  }

  private expire(): void {
    const now = this.clock();
    for (const [id, s] of this.sessions) if (now - s.lastUsed > IDLE_MS) this.sessions.delete(id);
  }
}
