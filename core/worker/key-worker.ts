// Entry point of the key worker thread (worker_threads). See worker-core.ts for what it does.
//
// A worker started early for a passphrase vault (core/worker/prestart.ts) is given the header's
// wrapped data key and the passphrase as its workerData: it starts scrypt on them first thing, so
// the derivation runs while this thread loads worker-core's modules and the main thread loads the
// command's; the unlock that follows takes it (core/keychain/passphrase.ts prederiveKek). That is
// why worker-core is imported only after: a static import would load it all first. Requests that
// arrive meanwhile wait in the port until the listener below is attached.
import { parentPort, workerData } from 'node:worker_threads';
import { prederiveKek } from '../keychain/passphrase.ts';
import type { WorkerResponse } from './protocol.ts';

if (!parentPort) throw new Error('key-worker.ts must run as a worker thread');
const port = parentPort;
const early = (workerData as { prederive?: { wrapped?: unknown; passphrase?: unknown } } | null | undefined)?.prederive;
if (early && typeof early.wrapped === 'string' && early.passphrase instanceof Uint8Array) prederiveKek(early.wrapped, early.passphrase);

const { KeyWorkerCore } = await import('./worker-core.ts');
const core = new KeyWorkerCore();
// Answers ready together (a group of signatures) go back as one array: they are queued and posted
// once the microtasks that finish them have run (their continuations run in step).
let answers: WorkerResponse[] = [];
const post = (): void => {
  const ready = answers;
  answers = [];
  port.postMessage(ready.length === 1 ? ready[0] : ready);
};
const answer = (message: unknown): void =>
  void core.handle(message).then((response) => {
    answers.push(response);
    if (answers.length === 1) queueMicrotask(post);
  });
// Requests asked in one turn of the main thread come as one array (core/worker/client.ts).
port.on('message', (message: unknown) => (Array.isArray(message) ? message.forEach(answer) : answer(message)));
