// Fixtures for the end-to-end tests: each test gets its own vault directory and its own
// `deskkms ui` process (the real CLI entry point, Node 24), and a page that opened the launch URL
// and so holds the session (its secret in sessionStorage, its binding cookie in the browser).
// Helpers drive the UI the way a person does: by roles and labels.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test as base, expect, type Page, type TestInfo } from '@playwright/test';
import { APP_SESSION_HEADER, APP_SESSION_STORAGE_KEY } from '../../core/contract/app-api.ts';
import { spawnUntilFirstLine, type RunningProcess } from '../support/child-process.ts';

const CLI = fileURLToPath(new URL('../../core/hosts/cli/deskkms.ts', import.meta.url));

export interface UiHost {
  readonly url: string;
  readonly origin: string;
  readonly vaultDir: string;
  /** The folder the host shares with the page (`--files`), where the test asked for one. */
  readonly filesDir?: string;
  /** Everything the host wrote to stderr so far (for failure messages). */
  stderr(): string;
}

async function startHost(vaultDir: string, filesDir?: string): Promise<{ host: UiHost; process: RunningProcess }> {
  if (!process.env.DBUS_SESSION_BUS_ADDRESS) {
    throw new Error('no session bus: run the end-to-end tests through test/setup/with-secret-service.sh (npm test does)');
  }
  const ui = await spawnUntilFirstLine(process.execPath, [CLI, 'ui', '--no-open', '--vault', vaultDir, ...(filesDir ? ['--files', filesDir] : [])], { timeoutMs: 60_000 });
  const { Url } = JSON.parse(ui.firstLine) as { Url: string };
  return { host: { url: Url, origin: new URL(Url).origin, vaultDir, ...(filesDir ? { filesDir } : {}), stderr: ui.stderr }, process: ui };
}

export const test = base.extend<{ shareFolder: boolean; host: UiHost; app: Page }>({
  /** `test.use({ shareFolder: true })`: the host shares an empty folder of its own (`deskkms ui --files`). */
  shareFolder: [false, { option: true }],
  host: async ({ shareFolder }, use) => {
    const vaultDir = await mkdtemp(join(tmpdir(), 'deskkms-e2e-'));
    const filesDir = shareFolder ? await mkdtemp(join(tmpdir(), 'deskkms-e2e-files-')) : undefined;
    const started = await startHost(vaultDir, filesDir);
    try {
      await use(started.host);
    } finally {
      await started.process.stop();
      await rm(vaultDir, { recursive: true, force: true });
      if (filesDir) await rm(filesDir, { recursive: true, force: true });
    }
  },
  /** A page that opened the host's launch URL and traded its token for the session. */
  app: async ({ page, host }, use) => {
    await page.goto(host.url);
    // The page drops the #token= fragment from the address bar and history at once.
    await expect(page).toHaveURL(`${host.origin}/`);
    await page.waitForFunction((key) => sessionStorage.getItem(key) !== null, APP_SESSION_STORAGE_KEY);
    await use(page);
  },
});

export { expect };

/** The session secret the page holds (sessionStorage), as the page sends it. */
export async function sessionSecret(page: Page): Promise<string> {
  const secret = await page.evaluate((key) => sessionStorage.getItem(key), APP_SESSION_STORAGE_KEY);
  if (!secret) throw new Error(`the page at ${page.url()} holds no DeskKMS session: open the host's launch URL first`);
  return secret;
}

/**
 * Headers for an app API call from the test with the page's session, as the page sends them:
 * Origin and the session header (page.request adds the context's binding cookie itself).
 */
export async function sessionHeaders(page: Page, origin: string): Promise<Record<string, string>> {
  return { Origin: origin, [APP_SESSION_HEADER]: await sessionSecret(page) };
}

/** Creates the vault from the first-run screen (OS keychain by default) and waits for the key list. */
export async function createVault(page: Page, protection: 'keychain' | 'passphrase' = 'keychain', passphrase = 'correct horse battery'): Promise<void> {
  await expect(page.getByRole('heading', { name: 'Create your vault' })).toBeVisible();
  if (protection === 'passphrase') {
    await page.getByRole('radio', { name: /Passphrase/ }).check();
    await page.getByLabel(/^Passphrase \(at least/).fill(passphrase);
    await page.getByLabel('Repeat passphrase').fill(passphrase);
  } else {
    await page.getByRole('radio', { name: /OS keychain/ }).check();
  }
  await page.getByRole('button', { name: 'Create vault' }).click();
  // A keychain under load (two test workers, gnome-keyring creating its first collection) can take
  // longer than one expect timeout; if the screen shows an error instead, the failure quotes it.
  const keys = page.getByRole('tab', { name: 'Keys' });
  const refused = page.getByRole('alert');
  await expect(keys.or(refused).first()).toBeVisible({ timeout: 60_000 });
  if (!(await keys.isVisible())) {
    throw new Error(`creating the vault (${protection}) failed on screen: ${(await refused.allInnerTexts()).join(' | ')}`);
  }
}

/** A full-page screenshot kept as a test artifact (and attached to the report). */
export async function screenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}

/**
 * A `deskkms ui` host the test starts itself, on `vaultDir`, with `env` as its whole environment
 * (e.g. without DBUS_SESSION_BUS_ADDRESS, to see the app with no keychain answering). The caller
 * stops it (`process.stop()`) and removes the directory; open it with `openHost`.
 */
export async function startHostWithEnv(vaultDir: string, env: NodeJS.ProcessEnv): Promise<{ host: UiHost; process: RunningProcess }> {
  const ui = await spawnUntilFirstLine(process.execPath, [CLI, 'ui', '--no-open', '--vault', vaultDir], { env, timeoutMs: 60_000 });
  const { Url } = JSON.parse(ui.firstLine) as { Url: string };
  return { host: { url: Url, origin: new URL(Url).origin, vaultDir, stderr: ui.stderr }, process: ui };
}

/** Opens `host`'s launch URL in `page` and waits until the page holds the session (as the `app` fixture does). */
export async function openHost(page: Page, host: UiHost): Promise<void> {
  await page.goto(host.url);
  await expect(page).toHaveURL(`${host.origin}/`);
  await page.waitForFunction((key) => sessionStorage.getItem(key) !== null, APP_SESSION_STORAGE_KEY);
}

/** The two window sizes every main screen is checked and photographed at (issue 17). */
export const SCREEN_SIZES: readonly { readonly width: number; readonly height: number }[] = [
  { width: 1280, height: 800 },
  { width: 1024, height: 700 },
];

/**
 * What the page shows at `size`, checked and photographed: nothing runs off the side (neither the
 * page nor the workspace's scrolling view is wider than the window; a soft assertion), then one screenshot in the
 * light and one in the dark theme, `<name>-<w>x<h>-<theme>.png` under the test's output directory
 * (attached to the report) and, when DESKKMS_UPDATE_SCREENSHOTS=1, copied to docs/screenshots/.
 * Leaves the page in the light theme at `size`.
 */
export async function shootScreen(page: Page, testInfo: TestInfo, name: string, size: { width: number; height: number }): Promise<void> {
  await page.setViewportSize(size);
  await page.emulateMedia({ colorScheme: 'light' });
  const overflow = await page.evaluate(() => {
    const view = document.querySelector('.view');
    return { page: document.documentElement.scrollWidth - window.innerWidth, view: view ? view.scrollWidth - view.clientWidth : 0 };
  });
  // Soft: every screen is still photographed, and every one that overflows is reported.
  expect.soft(overflow, `${name} at ${size.width}x${size.height} runs off the side`).toEqual({ page: 0, view: 0 });
  const docs = process.env.DESKKMS_UPDATE_SCREENSHOTS === '1' ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url)) : undefined;
  const { copyFile, mkdir } = await import('node:fs/promises');
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const file = `${name}-${size.width}x${size.height}-${colorScheme}.png`;
    const path = testInfo.outputPath(file);
    await page.screenshot({ path, animations: 'disabled' });
    await testInfo.attach(file, { path, contentType: 'image/png' });
    if (docs) {
      await mkdir(docs, { recursive: true });
      await copyFile(path, join(docs, file));
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/**
 * Closes every notice on screen. Successes also leave by themselves (after 5 s) and the strip
 * closes up as one goes, so a notice may be gone or moving when its Dismiss is clicked: a click
 * that cannot land soon is let go and the loop looks again.
 */
export async function dismissNotices(page: Page): Promise<void> {
  const dismiss = page.getByTestId('notice').getByRole('button', { name: 'Dismiss' });
  for (let round = 0; round < 50 && (await dismiss.count()) > 0; round++) {
    await dismiss
      .first()
      .click({ timeout: 2_000 })
      .catch(() => undefined);
  }
  await expect(dismiss).toHaveCount(0);
}
