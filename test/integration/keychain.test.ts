// core/keychain against a real Secret Service: gnome-keyring-daemon inside the private session bus
// that test/setup/with-secret-service.sh provides (`npm test` runs the suite under it). secret-tool
// (libsecret) is the independent peer that reads and writes the same keychain.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deleteDataKey, loadDataKey, storeDataKey } from '../../core/keychain/data-key.ts';
import { KEYCHAIN_SERVICE, keychainBackendName } from '../../core/keychain/keychain.ts';
import type { Job, Outcome } from './keychain-fixture.ts';
import { rejection } from '../support/errors.ts';

const FIXTURE = fileURLToPath(new URL('./keychain-fixture.ts', import.meta.url));
const WITH_SECRET_SERVICE = fileURLToPath(new URL('../setup/with-secret-service.sh', import.meta.url));
const HINT = 'deskkms init --passphrase-file FILE';

const accounts: string[] = [];
function newAccount(): string {
  const account = `test-${randomUUID()}`;
  accounts.push(account);
  return account;
}

/** secret-tool: the libsecret client, reading the keychain independently of @napi-rs/keyring. */
function secretToolLookup(account: string): string {
  return execFileSync('secret-tool', ['lookup', 'service', KEYCHAIN_SERVICE, 'username', account], { encoding: 'utf8' });
}

function secretToolStore(account: string, secret: string | Uint8Array, ...extraAttributes: string[]): void {
  execFileSync(
    'secret-tool',
    ['store', '--label=written by the test', 'service', KEYCHAIN_SERVICE, 'username', account, ...extraAttributes],
    { input: secret },
  );
}


function inWorker(job: Job): Promise<Outcome[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(FIXTURE, { workerData: job });
    worker.once('message', (outcomes: Outcome[]) => {
      resolve(outcomes);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before answering`)));
  });
}

function inChild(job: Job, env: NodeJS.ProcessEnv, command: readonly string[] = []): Outcome[] {
  const [file, ...args] = [...command, process.execPath, FIXTURE, JSON.stringify(job)];
  const child = spawnSync(file ?? process.execPath, args, { env, encoding: 'utf8', timeout: 30_000 });
  if (child.status !== 0) throw new Error(`child failed (${child.status}): ${child.stderr}`);
  return JSON.parse(child.stdout) as Outcome[];
}

beforeAll(() => {
  if (process.env.DESKKMS_TEST_SECRET_SERVICE !== '1' || !process.env.DBUS_SESSION_BUS_ADDRESS) {
    throw new Error(
      'the keychain tests need the private Secret Service of test/setup/with-secret-service.sh: run them via ' +
        '`npm test` (or `bash test/setup/with-secret-service.sh npx vitest run test/integration/keychain.test.ts`). ' +
        "They refuse to write to this station's own keychain.",
    );
  }
});

afterEach(async () => {
  for (const account of accounts.splice(0)) {
    try {
      execFileSync('secret-tool', ['clear', 'service', KEYCHAIN_SERVICE, 'username', account]);
    } catch {
      // already gone
    }
  }
  await Promise.resolve();
});

describe('OS keychain (real Secret Service)', () => {
  it('stores, loads and deletes the data key', async () => {
    const account = newAccount();
    const key = randomBytes(32);
    expect(await loadDataKey(account)).toBeUndefined();
    await storeDataKey(account, key);
    expect(Buffer.from((await loadDataKey(account))!)).toEqual(key);

    const replacement = randomBytes(32);
    await storeDataKey(account, replacement);
    expect(Buffer.from((await loadDataKey(account))!)).toEqual(replacement);

    expect(await deleteDataKey(account)).toBe(true);
    expect(await loadDataKey(account)).toBeUndefined();
    expect(await deleteDataKey(account)).toBe(false);
  });

  it('keeps entries apart by account', async () => {
    const [a, b] = [newAccount(), newAccount()];
    const [keyA, keyB] = [randomBytes(32), randomBytes(32)];
    await storeDataKey(a, keyA);
    await storeDataKey(b, keyB);
    expect(Buffer.from((await loadDataKey(a))!)).toEqual(keyA);
    expect(Buffer.from((await loadDataKey(b))!)).toEqual(keyB);
  });

  it('writes an entry that libsecret (secret-tool) reads as base64, and reads one it writes', async () => {
    const account = newAccount();
    const key = randomBytes(32);
    await storeDataKey(account, key);
    expect(secretToolLookup(account)).toBe(key.toString('base64'));

    const other = randomBytes(32);
    secretToolStore(account, other.toString('base64'));
    expect(Buffer.from((await loadDataKey(account))!)).toEqual(other);

    await deleteDataKey(account);
    expect(() => secretToolLookup(account)).toThrow();
  });

  it.each([
    ['not base64', 'not-base64', /is not base64/],
    ['a 16-byte key', randomBytes(16).toString('base64'), /holds 16 bytes, not a 32-byte/],
    ['a 33-byte key', randomBytes(33).toString('base64'), /holds 33 bytes/],
    ['base64 with a newline', `${randomBytes(32).toString('base64')}\n`, /is not base64/],
    ['bytes that are not UTF-8', new Uint8Array([0xff, 0xfe, 0x00, 0x41]), /does not hold text/],
  ])('refuses an entry holding %s: Vault.Corrupt naming the entry', async (_, secret, message) => {
    const account = newAccount();
    secretToolStore(account, secret);
    const error = await rejection(loadDataKey(account));
    expect(error.code).toBe('Vault.Corrupt');
    expect(error.message).toMatch(message);
    expect(error.message).toContain(`service=${KEYCHAIN_SERVICE} account=${account}`);
    if (typeof secret === 'string') expect(error.message).not.toContain(secret.trim());
  });

  it('refuses an entry matched by two keychain items (Vault.Corrupt), rather than pick one', async () => {
    const account = newAccount();
    secretToolStore(account, randomBytes(32).toString('base64'));
    secretToolStore(account, randomBytes(32).toString('base64'), 'written-by', 'another-program');
    const error = await rejection(loadDataKey(account));
    expect(error.code).toBe('Vault.Corrupt');
    expect(error.message).toMatch(/2 items in the keychain match/);
    expect(error.message).toContain(`account=${account}`);
  });

  it('refuses a data key that is not 32 bytes', async () => {
    const error = await rejection(storeDataKey(newAccount(), randomBytes(31)));
    expect(error.code).toBe('InvalidParameter');
  });

  it('names the Secret Service in force: gnome-keyring-daemon', () => {
    expect(keychainBackendName()).toMatch(/^Secret Service \(gnome-keyring/);
  });

  it('works from a worker_threads worker, sharing the keychain with the main thread', async () => {
    const account = newAccount();
    const key = randomBytes(32);
    const outcomes = await inWorker({
      account,
      steps: [{ op: 'store', key: key.toString('base64') }, { op: 'load' }, { op: 'backend' }],
    });
    expect(outcomes).toEqual([
      { ok: true, value: null },
      { ok: true, value: key.toString('base64') },
      { ok: true, value: expect.stringMatching(/^Secret Service \(gnome-keyring/) as unknown },
    ]);
    expect(Buffer.from((await loadDataKey(account))!)).toEqual(key);
    expect(await inWorker({ account, steps: [{ op: 'delete' }, { op: 'load' }] })).toEqual([
      { ok: true, value: true },
      { ok: true, value: null },
    ]);
  });

  describe('without a session bus', () => {
    let dir: string;
    let outcomes: Outcome[];
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'deskkms-no-bus-'));
      const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(dir, 'no-such-bus')}` };
      const job: Job = {
        account: 'never-written',
        steps: [{ op: 'load' }, { op: 'store', key: randomBytes(32).toString('base64') }, { op: 'delete' }, { op: 'backend' }],
      };
      outcomes = inChild(job, env);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('every operation is Vault.KeychainUnavailable, naming the backend, the reason and the passphrase option', () => {
      for (const outcome of outcomes.slice(0, 3)) {
        expect(outcome).toMatchObject({ ok: false, code: 'Vault.KeychainUnavailable' });
        const { message } = outcome as { message: string };
        expect(message).toContain('Secret Service (no D-Bus session)');
        expect(message).toContain('Failed to connect to socket'); // the platform's reason
        expect(message).toContain(HINT);
      }
    });

    it('does not fall back to another store (the kernel keyring forgets at reboot)', () => {
      expect(outcomes[1]).toMatchObject({ ok: false, code: 'Vault.KeychainUnavailable' });
    });

    it('says there is no D-Bus session', () => {
      expect(outcomes[3]).toEqual({ ok: true, value: 'Secret Service (no D-Bus session)' });
    });
  });

  it('a Secret Service without a keyring: nothing to load, and storing is Vault.KeychainUnavailable', () => {
    // Its own bare session: the bus starts gnome-keyring-daemon on demand, with no login keyring.
    const dir = mkdtempSync(join(tmpdir(), 'deskkms-no-keyring-'));
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_RUNTIME_DIR: dir };
      delete env.DBUS_SESSION_BUS_ADDRESS;
      delete env.GNOME_KEYRING_CONTROL;
      const key = randomBytes(32).toString('base64');
      const job: Job = { account: 'no-keyring', steps: [{ op: 'load' }, { op: 'store', key }] };
      const [load, store] = inChild(job, env, ['dbus-run-session', '--']);
      expect(load).toEqual({ ok: true, value: null });
      expect(store).toMatchObject({ ok: false, code: 'Vault.KeychainUnavailable' });
      const { message } = store as { message: string };
      expect(message).toMatch(/Secret Service \(gnome-keyring/);
      expect(message).toContain('no default keyring');
      expect(message).toContain(HINT);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a Secret Service that dies is started again with its login keyring unlocked: the key stored before is read back (own private session)', () => {
    // gnome-keyring-daemon 42 sometimes dies while the suite kills its clients mid-call; the bus of
    // test/setup/with-secret-service.sh must start the next one unlocked, or every later test fails.
    const [key, next] = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];
    const job: Job = { account: 'crashed', steps: [{ op: 'store', key }, { op: 'crash' }, { op: 'load' }, { op: 'crash' }, { op: 'store', key: next }, { op: 'load' }] };
    const env = { ...process.env };
    delete env.DBUS_SESSION_BUS_ADDRESS;
    const outcomes = inChild(job, env, ['bash', WITH_SECRET_SERVICE]);
    expect(outcomes).toEqual([
      { ok: true, value: null },
      { ok: true, value: null },
      { ok: true, value: key },
      { ok: true, value: null },
      { ok: true, value: null },
      { ok: true, value: next },
    ]);
  });

  it('a locked collection is Vault.KeychainUnavailable (own private session, so the suite keeps its keychain)', () => {
    const key = randomBytes(32).toString('base64');
    const job: Job = { account: 'locked', steps: [{ op: 'store', key }, { op: 'lock' }, { op: 'load' }, { op: 'store', key }] };
    const env = { ...process.env };
    delete env.DBUS_SESSION_BUS_ADDRESS;
    const outcomes = inChild(job, env, ['bash', WITH_SECRET_SERVICE]);
    expect(outcomes.slice(0, 2)).toEqual([
      { ok: true, value: null },
      { ok: true, value: null },
    ]);
    for (const outcome of outcomes.slice(2)) {
      expect(outcome).toMatchObject({ ok: false, code: 'Vault.KeychainUnavailable' });
      const { message } = outcome as { message: string };
      expect(message).toMatch(/Secret Service \(gnome-keyring/);
      expect(message).toContain('unlock prompt was dismissed'); // no display for the prompter here
      expect(message).toContain(HINT);
      expect(message).not.toContain(key);
    }
  });
});
