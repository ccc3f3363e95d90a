// End-to-end tests of the real renderer through the browser host (`deskkms ui`), driven in
// Debian's Chromium (no browser download), with a real vault and the Secret Service that
// test/setup/with-secret-service.sh starts. Screenshots of every main screen are kept as
// artifacts under test-results/e2e.
import { defineConfig } from '@playwright/test';

export const CHROMIUM = process.env.DESKKMS_CHROMIUM ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: './test/e2e',
  testMatch: '**/*.spec.ts',
  // One folder per concurrent run (Playwright empties it at start): DESKKMS_E2E_OUTPUT.
  outputDir: process.env.DESKKMS_E2E_OUTPUT ?? './test-results/e2e',
  globalSetup: './test/e2e/global-setup.ts',
  // Each test has its own vault and host; two cores run two of them side by side.
  workers: 2,
  fullyParallel: false,
  timeout: 180_000,
  expect: { timeout: 20_000 },
  retries: 0,
  reporter: [['list'], ['./test/e2e/summary-reporter.ts']],
  use: {
    browserName: 'chromium',
    headless: true,
    acceptDownloads: true,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: CHROMIUM,
      // This machine's network is closed: Chromium's background connections only fail.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-default-apps',
      ],
    },
  },
});
