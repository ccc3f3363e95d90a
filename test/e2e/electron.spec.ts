// The packaged shape of the desktop app, driven by Playwright's Electron support: where an Electron
// binary is installed, launch the real app on a fresh vault and check the window, its sandbox and
// the first-run screen. Where it is not (our build machines cannot download it), the test is
// skipped with the reason, which the list reporter prints.
import { _electron, expect, test } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleElectron, ROOT } from '../../build/bundle-electron.ts';
import type { DeskKmsBridge } from '../../core/contract/app-api.ts';
import { APP_ENTRY_URL } from '../../electron/app-protocol.ts';
import { findElectronBinary } from '../../electron/electron-binary.ts';
import { screenshot } from './fixtures.ts';

const binary = findElectronBinary();
/** The page's globals as the preload leaves them (the renderer's Window augmentation is not in scope here). */
type AppGlobals = typeof globalThis & { deskkms?: DeskKmsBridge; require?: unknown };

// eslint-disable-next-line no-empty-pattern -- Playwright reads the fixtures a test destructures; this one needs none.
test('the Electron app opens one sandboxed window on the first-run screen', async ({}, testInfo) => {
  if (!binary.found) {
    // Printed as well as annotated: the list reporter shows a skip without its reason.
    const reason = `Electron binary not installed: ${binary.reason}`;
    console.log(`electron.spec.ts skipped: ${reason}`);
    test.skip(true, reason);
    return;
  }
  await bundleElectron({ quiet: true });
  const vault = mkdtempSync(join(tmpdir(), 'deskkms-electron-e2e-'));
  const app = await _electron.launch({
    executablePath: binary.path,
    args: [ROOT, '--vault', join(vault, 'vault')],
    env: { ...process.env, ELECTRON_ENABLE_LOGGING: '1' },
  });
  try {
    const page = await app.firstWindow();
    expect(page.url()).toBe(APP_ENTRY_URL);
    await expect(page.getByRole('heading', { name: 'Create your vault' })).toBeVisible();
    // The preload exposed one object with one function, and the page has no Node.
    expect(await page.evaluate(() => ({ keys: Object.keys((globalThis as AppGlobals).deskkms ?? {}), node: typeof (globalThis as AppGlobals).require }))).toEqual({
      keys: ['call'],
      node: 'undefined',
    });
    // The renderer's first call went through IPC, the sender check and AppSession.
    expect(await page.evaluate(() => (globalThis as AppGlobals).deskkms!.call('Vault.Status', {}))).toMatchObject({ ok: true, value: { Initialized: false } });
    expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);
    await screenshot(page, testInfo, 'electron-first-run');
  } finally {
    await app.close();
    rmSync(vault, { recursive: true, force: true });
  }
});
