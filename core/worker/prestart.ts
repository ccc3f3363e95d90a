// The key worker started before it is asked for: a command that will open a vault starts its
// worker first thing, and the worker loads its modules (~0.25 s of one core here) on the other
// core while the main thread loads the command's. The vault's KeyWorkerClient takes it over; one
// nobody takes (the command failed first) is unref'd and ends with the process. Only
// node:worker_threads here: the CLI's entry imports this before any heavy module.
import { Worker } from 'node:worker_threads';

const KEY_WORKER_URL = new URL('./key-worker.ts', import.meta.url);
const KEY_WORKER_NAME = 'deskkms-key-worker';

let early: { worker: Worker; exited: boolean } | undefined;

/**
 * What a worker started for a passphrase vault derives its unlock key from while it loads
 * (key-worker.ts): the header's wrapped data key as stored (JSON text) and the passphrase, in a
 * buffer of its own that is moved (transferred) to the worker, none of it left on this side.
 */
export interface Prederive {
  readonly wrapped: string;
  readonly passphrase: Uint8Array<ArrayBuffer>;
}

/** A new key worker thread (the one place that starts one), given `prederive` if any. */
export function startKeyWorker(prederive?: Prederive): Worker {
  return new Worker(KEY_WORKER_URL, {
    name: KEY_WORKER_NAME,
    ...(prederive && { workerData: { prederive: { wrapped: prederive.wrapped, passphrase: prederive.passphrase } }, transferList: [prederive.passphrase.buffer] }),
  });
}

/**
 * Starts the key worker now, for the next KeyWorkerClient to take (returned too); none more while
 * one is waiting (then `prederive`'s passphrase is wiped, unused).
 */
export function prestartKeyWorker(prederive?: Prederive): Worker {
  if (early) {
    prederive?.passphrase.fill(0);
    return early.worker;
  }
  const worker = startKeyWorker(prederive);
  worker.unref();
  const started = { worker, exited: false };
  // Until it is taken: an error is the client's to see as an exit (a Worker's unhandled 'error'
  // event would end the process).
  worker.on('error', () => undefined);
  worker.once('exit', () => (started.exited = true));
  early = started;
  return worker;
}

/** The worker prestartKeyWorker started, if it is still running; each is taken once. */
export function takePrestartedKeyWorker(): Worker | undefined {
  const taken = early;
  early = undefined;
  if (!taken || taken.exited) return undefined;
  return taken.worker;
}
