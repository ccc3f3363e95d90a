// The key worker's sign requests that arrive together are signed together: engine.signDigests
// shares one nonce inversion among P-256 signatures, most of a lone signature's cost. A request
// waits at most until the event loop's next check phase (setImmediate), i.e. until the messages
// already delivered to the worker have been read; a lone request is signed as soon as it is read.
// One group is signed per turn: its answers are posted before the next group is signed, so the
// main thread works on them while this thread signs the rest.
import { signDigests, type SignDigestRequest } from '../crypto/engine.ts';

interface Waiting extends SignDigestRequest {
  resolve: (signature: Uint8Array) => void;
  reject: (error: Error) => void;
}

/**
 * At most this many signatures in one group: a bound on one group's latency under a flood (~3-4 ms
 * of P-256 here). A group's answers come back together, and the main thread audits those of one
 * turn in one commit: 128 rather than 64 halves the commits a flood makes (each ~0.2-0.3 ms of the
 * main thread: the WAL frames of every page it touched, the anchor, the fsync's dispatch), which
 * took `deskkms batch`'s EC_P256 wall time down ~6% (issue 19).
 */
const MAX_BATCH = 128;

export class SignBatcher {
  private waiting: Waiting[] = [];

  sign(request: SignDigestRequest): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      this.waiting.push({ ...request, resolve, reject });
      if (this.waiting.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.waiting.splice(0, MAX_BATCH);
    if (this.waiting.length > 0) setImmediate(() => this.flush());
    const results = signDigests(batch);
    batch.forEach((item, i) => {
      const result = results[i]!;
      if (result instanceof Error) item.reject(result);
      else item.resolve(result);
    });
  }
}
