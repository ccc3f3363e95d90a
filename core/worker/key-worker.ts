// Entry point of the key worker thread (worker_threads). See worker-core.ts for what it does.
import { parentPort } from 'node:worker_threads';
import { KeyWorkerCore } from './worker-core.ts';

if (!parentPort) throw new Error('key-worker.ts must run as a worker thread');
const port = parentPort;
const core = new KeyWorkerCore();
port.on('message', (message: unknown) => {
  void core.handle(message).then((response) => port.postMessage(response));
});
