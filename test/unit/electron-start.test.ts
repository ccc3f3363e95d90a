// npm start where the Electron binary is missing (every build machine here): one line says so,
// then the browser host runs with the same arguments. And the Electron bundles npm start would
// launch: a preload that requires nothing but 'electron', a main process that finds its worker and
// sandboxes the whole app (app.enableSandbox) before anything waits for ready.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { APP_OUT_DIR, KEY_WORKER_FILE, bundleElectron } from '../../build/bundle-electron.ts';
import { APP_CHANNEL, APP_PICK_CHANNEL } from '../../core/contract/app-api.ts';
import { electronArgs } from '../../electron/start.ts';
import { spawnUntilFirstLine } from '../support/child-process.ts';
import { openUiSession } from '../support/ui-session.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'deskkms-start-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('npm start without an Electron binary', () => {
  it('says so in one line and serves the app from the browser host', async () => {
    const vault = join(tmp, 'vault');
    const start = await spawnUntilFirstLine(process.execPath, ['electron/start.ts', '--no-open', '--vault', vault], {
      cwd: ROOT,
      // A dist path with no binary: the same answer on a machine that does have Electron.
      env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: join(tmp, 'no-electron') },
      timeoutMs: 200_000,
    });
    const stderr = (): string[] => start.stderr().split('\n');
    try {
      const first = start.firstLine;
      const { Url, Vault } = JSON.parse(first) as { Url: string; Vault: string };
      expect(Vault).toBe(vault);
      expect(Url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]+$/);
      const notice = stderr().filter((line) => line.includes('Electron binary is unavailable'));
      expect(notice).toHaveLength(1);
      expect(notice[0]).toMatch(/^deskkms: the Electron binary is unavailable \(ELECTRON_OVERRIDE_DIST_PATH names .*\); starting the browser host instead$/);

      // The printed URL works: the page loads, its token opens a session, the API answers.
      const origin = new URL(Url).origin;
      const page = await fetch(`${origin}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="root"></div>');
      const ui = await openUiSession(Url);
      const status = await ui.call({ method: 'Vault.Status', params: {} });
      expect(JSON.parse(status.body)).toMatchObject({ ok: true, value: { Initialized: false, VaultPath: vault } });
    } finally {
      expect(await start.stop()).toBe(0);
    }
    expect(existsSync(vault)).toBe(false); // serving the page created no vault
  }, 240_000);

  it('forwards only the arguments the Electron app understands', () => {
    expect(electronArgs(['--vault', '/v', '--no-open', '--port', '8080', '--port=9'])).toEqual(['--vault', '/v']);
  });
});

describe('the Electron bundles', () => {
  it('builds a sandbox-loadable preload and a main process that finds its key worker', async () => {
    await bundleElectron({ quiet: true });
    const preload = readFileSync(join(APP_OUT_DIR, 'preload.cjs'), 'utf8');
    const requires = [...preload.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]);
    expect(requires).toEqual(['electron']);
    expect(preload).not.toMatch(/^\s*(import|export)\s/m);
    expect(preload).toContain(JSON.stringify(APP_CHANNEL));
    expect(preload).toContain(JSON.stringify(APP_PICK_CHANNEL));
    expect(preload).toContain('exposeInMainWorld("deskkms"');

    const main = readFileSync(join(APP_OUT_DIR, 'main.js'), 'utf8');
    // The worker's URL, in whichever file the bundler put prestart.ts (main.js or a chunk), names key-worker.js beside main.js.
    const workerUrls = readdirSync(APP_OUT_DIR, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.js'))
      .flatMap((file) => [...readFileSync(join(APP_OUT_DIR, file), 'utf8').matchAll(/new URL\("([^"]*key-worker[^"]*)", import\.meta\.url\)/g)].map((m) => new URL(m[1]!, pathToFileURL(join(APP_OUT_DIR, file)))));
    expect(workerUrls.map((url) => fileURLToPath(url))).toEqual([join(APP_OUT_DIR, KEY_WORKER_FILE)]);
    // And the bundled worker runs (its worker-core comes in by a dynamic import of a chunk) and answers.
    const worker = new Worker(join(APP_OUT_DIR, KEY_WORKER_FILE));
    try {
      worker.postMessage({ seq: 1, op: 'lock' });
      const [answer] = (await once(worker, 'message')) as unknown[];
      expect(answer).toEqual({ seq: 1, ok: true, value: {} });
    } finally {
      await worker.terminate();
    }
    // Only npm packages, Node built-ins and our own chunks are imported: no TypeScript left.
    const specifiers = [...main.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]!);
    expect(specifiers).toContain('electron');
    expect(specifiers.filter((s) => s.endsWith('.ts'))).toEqual([]);
    for (const s of specifiers.filter((s) => s.startsWith('.'))) expect(existsSync(join(APP_OUT_DIR, s)), s).toBe(true);

    // The bundled main process, loaded by Node with a stand-in for the electron module that
    // records what it is asked: the whole app is sandboxed before anything waits for ready.
    const standIn = join(tmp, 'electron-stand-in.mjs');
    writeFileSync(
      standIn,
      `const calls = [];
const rec = (name, value) => (...args) => (calls.push(name), typeof value === 'function' ? value(...args) : value);
process.on('exit', () => process.stdout.write(JSON.stringify(calls) + '\\n'));
export const app = {
  isReady: rec('app.isReady', false), enableSandbox: rec('app.enableSandbox'), requestSingleInstanceLock: rec('app.requestSingleInstanceLock', true),
  on: (event) => calls.push('app.on:' + event), whenReady: rec('app.whenReady', () => new Promise(() => {})), quit: rec('app.quit'),
  getAppPath: () => '/nonexistent', getVersion: () => '0.0.0', isPackaged: false,
};
export const protocol = { registerSchemesAsPrivileged: rec('protocol.registerSchemesAsPrivileged'), handle: rec('protocol.handle') };
export const ipcMain = { handle: rec('ipcMain.handle') };
export const session = {};
export const dialog = {};
export const Menu = {};
export class BrowserWindow { static getAllWindows() { return []; } }
`,
    );
    const hooks = join(tmp, 'electron-hooks.mjs');
    writeFileSync(
      hooks,
      `import { registerHooks } from 'node:module';
registerHooks({ resolve: (specifier, context, next) => (specifier === 'electron' ? { url: ${JSON.stringify(pathToFileURL(standIn).href)}, shortCircuit: true } : next(specifier, context)) });
`,
    );
    const loaded = spawnSync(process.execPath, ['--import', pathToFileURL(hooks).href, join(APP_OUT_DIR, 'main.js'), '--vault', join(tmp, 'main-vault')], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(loaded.status, loaded.stderr).toBe(0);
    const calls = JSON.parse(loaded.stdout.trim().split('\n').at(-1)!) as string[];
    expect(calls).toContain('app.enableSandbox');
    expect(calls).toContain('app.whenReady');
    expect(calls.indexOf('app.enableSandbox')).toBeLessThan(calls.indexOf('app.whenReady'));
    expect(calls.indexOf('app.enableSandbox')).toBeLessThan(calls.indexOf('app.requestSingleInstanceLock'));
    expect(calls.slice(0, calls.indexOf('app.enableSandbox'))).toEqual(['app.isReady']);
  }, 120_000);
});
