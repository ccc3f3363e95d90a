// Main-thread side of the key worker: numbers requests, matches responses, restarts the worker
// if it dies (in-flight requests fail with a clear error; the new worker starts locked).
import type { Worker } from 'node:worker_threads';
import { KmsError } from '../contract/errors.ts';
import { isWorkerResponse, type OutgoingRequest, type WorkerOp, type WorkerResults } from './protocol.ts';
import { startKeyWorker, takePrestartedKeyWorker } from './prestart.ts';

interface Pending {
  readonly op: WorkerOp;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface KeyWorkerClientOptions {
  /** Sees every message the worker sends (tests prove no private material crosses). */
  readonly tap?: (message: unknown) => void;
  /** Called after an unexpected worker death, once the replacement runs (locked). */
  readonly onRestart?: () => void;
}

/**
 * A message's byte fields on buffers of their own size. Structured clone copies a view's whole
 * ArrayBuffer, and a small Buffer (Buffer.from) sits in Node's shared pool, 64 KiB on Node 24: a
 * request carrying one copied the whole pool to the worker, with whatever else the pool held.
 * (Serve's throughput did not measurably change with this; it stops what goes along.) Top-level
 * fields only: nested ones (a sealed key read from SQLite) have buffers of their own.
 */
export function exactBuffers<T extends object>(message: T): T {
  const fields = message as Record<string, unknown>;
  for (const name in fields) {
    const value = fields[name];
    if (value instanceof Uint8Array && value.byteLength !== value.buffer.byteLength) fields[name] = new Uint8Array(value);
  }
  return message;
}

export class KeyWorkerClient {
  private worker: Worker;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private closing = false;
  /** Requests made in this turn of the event loop, posted together at its check phase (one message). */
  private outbox: object[] = [];
  private readonly options: KeyWorkerClientOptions;
  restarts = 0;

  constructor(options: KeyWorkerClientOptions = {}) {
    this.options = options;
    this.worker = this.spawn();
  }

  private spawn(): Worker {
    // The one the command started early (prestart.ts), else a new one (a restart, tests, the app).
    const worker = takePrestartedKeyWorker() ?? startKeyWorker();
    worker.unref();
    worker.on('message', (message: unknown) => this.onMessage(message));
    worker.on('error', () => {
      // 'exit' follows; pending requests are failed there.
    });
    worker.on('exit', (code) => this.onExit(worker, code));
    return worker;
  }

  private onMessage(message: unknown): void {
    this.options.tap?.(message);
    // Answers ready together come as one array (core/worker/key-worker.ts).
    if (Array.isArray(message)) for (const one of message as unknown[]) this.settle(one);
    else this.settle(message);
  }

  private settle(message: unknown): void {
    if (!isWorkerResponse(message)) return;
    const pending = this.pending.get(message.seq);
    if (!pending) return;
    this.pending.delete(message.seq);
    if (this.pending.size === 0) this.worker.unref();
    if (message.ok) pending.resolve(message.value);
    else pending.reject(new KmsError(message.error.code, message.error.message));
  }

  private onExit(worker: Worker, code: number): void {
    if (worker !== this.worker) return;
    const inFlight = [...this.pending.values()];
    this.pending.clear();
    this.outbox = [];
    for (const p of inFlight) {
      p.reject(
        new KmsError(
          'InternalFailure',
          `the key worker stopped unexpectedly (exit code ${code}) during ${p.op}; the request was not completed. It has been restarted, locked.`,
        ),
      );
    }
    if (this.closing) return;
    this.restarts++;
    this.worker = this.spawn();
    this.options.onRestart?.();
  }

  /**
   * `transfer`: ArrayBuffers moved into the worker instead of copied (a passphrase: structured
   * clone would leave its bytes in this thread's memory); they are detached here afterwards.
   */
  request<O extends WorkerOp>(request: Extract<OutgoingRequest, { op: O }>, transfer: readonly ArrayBuffer[] = []): Promise<WorkerResults[O]> {
    if (this.closing) return Promise.reject(new KmsError('Vault.Locked', 'the vault is closed'));
    const seq = ++this.seq;
    return new Promise<WorkerResults[O]>((resolve, reject) => {
      this.pending.set(seq, { op: request.op, resolve: resolve, reject });
      this.worker.ref();
      // A message that moves buffers keeps them (a copy would leave a passphrase's bytes here).
      const message = transfer.length > 0 ? { ...request, seq } : exactBuffers({ ...request, seq });
      if (transfer.length > 0) {
        // Moved buffers go in a message of their own, after what was asked before.
        this.flushOutbox();
        this.worker.postMessage(message, [...transfer]);
        return;
      }
      this.outbox.push(message);
      if (this.outbox.length === 1) setImmediate(() => this.flushOutbox());
    });
  }

  /**
   * Posts the requests of this turn: one message for all of them. A message costs the two threads
   * ~10 µs whatever it holds; under load (deskkms serve, batch) dozens are asked in one turn.
   */
  private flushOutbox(): void {
    const batch = this.outbox;
    if (batch.length === 0) return;
    this.outbox = [];
    this.worker.postMessage(batch.length === 1 ? batch[0] : batch);
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Kills the worker as a crash would (tests of the restart path). */
  async kill(): Promise<void> {
    await this.worker.terminate();
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.outbox = [];
    await this.worker.terminate();
  }
}
