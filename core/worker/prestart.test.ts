// The key worker a CLI command starts early (prestart.ts): the next client takes that very worker
// and is served by it, each is taken once, one that died before it was taken is not handed out,
// and one nobody takes does not keep the process alive.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { KeyWorkerClient } from './client.ts';
import { prestartKeyWorker, takePrestartedKeyWorker } from './prestart.ts';

describe('prestartKeyWorker', () => {
  it('the next KeyWorkerClient takes the prestarted worker and is answered by it; the one after starts its own', async () => {
    const started = prestartKeyWorker();
    expect(prestartKeyWorker()).toBe(started); // one waiting is enough: a second call starts nothing
    const early = takePrestartedKeyWorker();
    expect(early).toBe(started);
    expect(takePrestartedKeyWorker()).toBeUndefined();
    await started.terminate();

    const taken = prestartKeyWorker();
    const messages: unknown[] = [];
    const first = new KeyWorkerClient({ tap: (m) => messages.push(m) });
    const second = new KeyWorkerClient();
    try {
      // Taken by the first: nothing is left for anyone else.
      expect(takePrestartedKeyWorker()).toBeUndefined();
      expect((first as unknown as { worker: unknown }).worker).toBe(taken);
      expect((second as unknown as { worker: unknown }).worker).not.toBe(taken);
      // Both answer: the first locks, the second (locked) refuses a new access key with Vault.Locked, the worker's own answer.
      await expect(first.request({ op: 'lock' })).resolves.toEqual({});
      await expect(second.request({ op: 'newAccessKey', accessKeyId: 'LTAI1' })).rejects.toMatchObject({ code: 'Vault.Locked' });
      expect(messages).toEqual([{ seq: 1, ok: true, value: {} }]);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('a prestarted worker that died before it was taken is not handed out; the client starts another', async () => {
    const dying = prestartKeyWorker();
    const exited = once(dying, 'exit');
    await dying.terminate();
    await exited;
    expect(takePrestartedKeyWorker()).toBeUndefined();
    const client = new KeyWorkerClient();
    try {
      await expect(client.request({ op: 'lock' })).resolves.toEqual({});
      expect(client.restarts).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('a prestarted worker that nobody takes does not keep the process alive', () => {
    // A script file, not --eval: a worker inherits the process's flags, and --input-type would stop it.
    const dir = mkdtempSync(join(tmpdir(), 'deskkms-prestart-'));
    try {
      const script = join(dir, 'prestart.mjs');
      // The interval holds the process until the worker runs; after that only the worker could.
      writeFileSync(
        script,
        `const { prestartKeyWorker } = await import(${JSON.stringify(new URL('./prestart.ts', import.meta.url).href)});
const worker = prestartKeyWorker();
const hold = setInterval(() => undefined, 1000);
worker.on('error', (error) => console.log('error', error.message));
worker.once('online', () => { console.log('online'); clearInterval(hold); });
`,
      );
      const run = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 });
      expect(run.error).toBeUndefined(); // a worker that held the process would time out here
      expect(run.stdout).toBe('online\n');
      expect(run.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
