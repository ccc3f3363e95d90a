// Entry point of the key worker thread (worker_threads). See worker-core.ts for what it does.
import { parentPort } from 'node:worker_threads';
import type { WorkerResponse } from './protocol.ts';
import { KeyWorkerCore } from './worker-core.ts';

if (!parentPort) throw new Error('key-worker.ts must run as a worker thread');
const port = parentPort;
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
