// Every main screen, photographed (issue 17): the first-run gate, the unlock screen, Keys (a few
// keys, one selected), Sign & verify, Encrypt & decrypt, Audit log, Backup & recovery, SSH agent
// and Air gap, each at 1280x800 and 1024x700 in the light and the dark theme: one vault, one page,
// 36 screenshots under the test's output directory (and in docs/screenshots/ with
// DESKKMS_UPDATE_SCREENSHOTS=1: `<screen>-<w>x<h>-<theme>.png`). At each size, nothing may run off
// the side: neither the page nor the workspace's view is wider than the window (checked softly,
// so one run names every screen that does).
import type { Page, TestInfo } from '@playwright/test';
import { dismissNotices, kmsValue } from './key-dialogs.ts';
import { createVault, expect, SCREEN_SIZES, shootScreen, test } from './fixtures.ts';

const PASSPHRASE = 'correct horse battery staple';

const KEYS = [
  { spec: 'EC_P256', usage: 'SIGN/VERIFY', alias: 'alias/release-signing-2026', description: 'Signs release artifacts' },
  { spec: 'RSA_2048', usage: 'ENCRYPT/DECRYPT', alias: 'alias/backup-wrap', description: 'Wraps backup keys' },
  { spec: 'EC_P256', usage: 'SIGN/VERIFY', alias: 'alias/ssh-login', description: 'SSH login to the build hosts' },
  { spec: 'EC_SM2', usage: 'ENCRYPT/DECRYPT', alias: 'alias/partner-exchange', description: 'Partner file exchange' },
] as const;

async function shootAll(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  for (const size of SCREEN_SIZES) await shootScreen(page, testInfo, name, size);
}

/** Opens a workspace tab and waits for its view's title. */
async function openTab(page: Page, tab: string, title: string | RegExp): Promise<void> {
  await page.getByRole('tab', { name: tab, exact: true }).click();
  await expect(page.getByRole('tabpanel').getByRole('heading', { level: 1, name: title }).first()).toBeVisible();
}

test('every main screen at 1280x800 and 1024x700, light and dark, and none runs off the side', async ({ app: page, host }, testInfo) => {
  // About a minute and a half on an idle machine; more when other runs share its two cores.
  test.setTimeout(360_000);
  await page.setViewportSize(SCREEN_SIZES[0]!);
  await expect(page.getByRole('heading', { name: 'Create your vault' })).toBeVisible();
  await shootAll(page, testInfo, 'first-run');

  await createVault(page, 'passphrase', PASSPHRASE);
  for (const key of KEYS) {
    const created = await kmsValue(page, host.origin, 'CreateKey', { KeySpec: key.spec, KeyUsage: key.usage, Description: key.description });
    await kmsValue(page, host.origin, 'CreateAlias', { KeyId: created.KeyMetadata.KeyId, AliasName: key.alias });
  }
  await page.getByRole('button', { name: 'Reload', exact: true }).click();
  const grid = page.getByRole('grid', { name: 'Keys' });
  await grid.getByRole('row', { name: /^alias\/release-signing-2026 / }).click();
  const detail = page.getByRole('region', { name: 'Key detail' });
  await expect(detail.getByRole('heading', { level: 2 })).toHaveText('alias/release-signing-2026');
  await expect(detail.getByRole('region', { name: 'Version 1', exact: true })).toBeVisible();
  await dismissNotices(page);
  await shootAll(page, testInfo, 'keys');

  await openTab(page, 'Sign & verify', 'Sign & verify');
  await shootAll(page, testInfo, 'sign-verify');
  await openTab(page, 'Encrypt & decrypt', 'Encrypt & decrypt');
  await shootAll(page, testInfo, 'encrypt-decrypt');
  await openTab(page, 'Audit log', 'Audit log');
  await shootAll(page, testInfo, 'audit-log');
  await openTab(page, 'Backup & recovery', 'Backup & recovery');
  await shootAll(page, testInfo, 'backup');
  await openTab(page, 'SSH agent', 'SSH agent');
  await shootAll(page, testInfo, 'ssh-agent');
  await openTab(page, 'Air gap', /^Air gap/);
  await shootAll(page, testInfo, 'air-gap');

  await page.getByRole('button', { name: 'Lock', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Vault locked' })).toBeVisible();
  await shootAll(page, testInfo, 'unlock');
});
