// Runs core/keychain operations outside the test process, as plain Node runs them in production:
// - as a worker_threads worker (the key worker is where the data key lives): the job comes in
//   workerData, the outcomes go back with postMessage;
// - as a child process (to give it another environment): the job is argv[2] (JSON), the outcomes
//   are printed as JSON on stdout.
import { execFileSync } from 'node:child_process';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { KmsError } from '../../core/contract/errors.ts';
import { deleteDataKey, loadDataKey, storeDataKey } from '../../core/keychain/data-key.ts';
import { keychainBackendName } from '../../core/keychain/keychain.ts';
import { secretServiceOwner } from '../support/secret-service.ts';

export type Step =
  | { readonly op: 'store'; readonly key: string } // key: base64
  | { readonly op: 'load' }
  | { readonly op: 'delete' }
  | { readonly op: 'backend' }
  | { readonly op: 'lock' } // locks the login collection of the session's Secret Service
  | { readonly op: 'crash' }; // kills the session's gnome-keyring-daemon as its GLib trap does (SIGTRAP)

export interface Job {
  readonly account: string;
  readonly steps: readonly Step[];
}

export type Outcome =
  | { readonly ok: true; readonly value: string | boolean | null }
  | { readonly ok: false; readonly code: string; readonly message: string };

async function run(step: Step, account: string): Promise<string | boolean | null> {
  switch (step.op) {
    case 'store':
      await storeDataKey(account, new Uint8Array(Buffer.from(step.key, 'base64')));
      return null;
    case 'load': {
      const key = await loadDataKey(account);
      return key === undefined ? null : Buffer.from(key).toString('base64');
    }
    case 'delete':
      return deleteDataKey(account);
    case 'backend':
      return keychainBackendName();
    case 'lock':
      execFileSync('dbus-send', [
        '--session',
        '--print-reply',
        '--dest=org.freedesktop.secrets',
        '/org/freedesktop/secrets',
        'org.freedesktop.Secret.Service.Lock',
        'array:objpath:/org/freedesktop/secrets/collection/login',
      ]);
      return null;
    case 'crash': {
      const pid = secretServiceOwner();
      if (pid === undefined) throw new Error('no process holds org.freedesktop.secrets');
      process.kill(pid, 'SIGTRAP');
      // Until the bus sees it gone (a call sooner would still reach the dying daemon's name).
      for (let i = 0; i < 200 && secretServiceOwner() === pid; i++) execFileSync('sleep', ['0.05']);
      if (secretServiceOwner() === pid) throw new Error(`gnome-keyring-daemon (pid ${pid}) survived SIGTRAP`);
      return null;
    }
  }
}

async function runJob(job: Job): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const step of job.steps) {
    try {
      outcomes.push({ ok: true, value: await run(step, job.account) });
    } catch (error) {
      outcomes.push(
        error instanceof KmsError
          ? { ok: false, code: error.code, message: error.message }
          : { ok: false, code: 'NotKmsError', message: String(error) },
      );
    }
  }
  return outcomes;
}

if (isMainThread) {
  const argument = process.argv[2];
  if (argument !== undefined) process.stdout.write(`${JSON.stringify(await runJob(JSON.parse(argument) as Job))}\n`);
} else {
  parentPort?.postMessage(await runJob(workerData as Job));
}
