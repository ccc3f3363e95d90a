// npm start where the Electron binary is missing (every build machine here): one line says so,
// then the browser host runs with the same arguments. And the Electron bundles npm start would
// launch: a preload that requires nothing but 'electron', a main process that finds its worker.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { APP_OUT_DIR, bundleElectron } from '../../build/bundle-electron.ts';
import { APP_CHANNEL } from '../../core/contract/app-api.ts';
import { electronArgs } from '../../electron/start.ts';
import { spawnUntilFirstLine } from '../support/child-process.ts';

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
      expect(Url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+$/);
      const notice = stderr().filter((line) => line.includes('Electron binary is unavailable'));
      expect(notice).toHaveLength(1);
      expect(notice[0]).toMatch(/^deskkms: the Electron binary is unavailable \(ELECTRON_OVERRIDE_DIST_PATH names .*\); starting the browser host instead$/);

      // The printed URL works: the token is traded for a cookie, the page and the API answer.
      const traded = await fetch(Url, { redirect: 'manual' });
      expect(traded.status).toBe(303);
      const cookie = traded.headers.get('set-cookie')!.split(';')[0]!;
      const origin = new URL(Url).origin;
      const page = await fetch(`${origin}/`, { headers: { cookie } });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="root"></div>');
      const status = await fetch(`${origin}/api/call`, {
        method: 'POST',
        headers: { cookie, origin, 'content-type': 'application/json' },
        body: JSON.stringify({ method: 'Vault.Status', params: {} }),
      });
      expect(await status.json()).toMatchObject({ ok: true, value: { Initialized: false, VaultPath: vault } });
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
    expect(preload).toContain('exposeInMainWorld("deskkms"');

    const main = readFileSync(join(APP_OUT_DIR, 'main.js'), 'utf8');
    expect(main).toContain('new URL("./key-worker.js", import.meta.url)');
    expect(existsSync(join(APP_OUT_DIR, 'key-worker.js'))).toBe(true);
    // Only npm packages, Node built-ins and our own chunks are imported: no TypeScript left.
    const specifiers = [...main.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]!);
    expect(specifiers).toContain('electron');
    expect(specifiers.filter((s) => s.endsWith('.ts'))).toEqual([]);
    for (const s of specifiers.filter((s) => s.startsWith('.'))) expect(existsSync(join(APP_OUT_DIR, s)), s).toBe(true);
  }, 120_000);
});
