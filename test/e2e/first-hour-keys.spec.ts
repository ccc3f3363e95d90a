// Issue 17 ("the first hour"), the Keys view end to end through the browser host:
// - notifications: after six keys made through the Create key dialog (three of them with an alias
//   taken meanwhile from elsewhere, so three persistent errors), successes go away on their own,
//   errors stay until dismissed, and nothing covers the key detail's Disable key, Schedule
//   deletion and New alias controls at 1280x800 or 1024x700 (the point at each one's centre is
//   the control, and a real click reaches it); successes sit in a polite live region, errors are
//   alerts outside it (announced once, at once);
// - the key list at 1024x700: column headers (a grid with columnheaders), the name column shows
//   `alias/release-signing-2026` in full, and a header click sorts (aria-sort) both ways and back;
// - an empty vault says it has no keys yet and offers Create key; filters that hide every key say
//   "No keys match." and offer Clear filters.
import type { Locator, Page } from '@playwright/test';
import { dismissNotices, kmsValue } from './key-dialogs.ts';
import { createVault, expect, screenshot, test, type UiHost } from './fixtures.ts';

const detail = (page: Page) => page.getByRole('region', { name: 'Key detail' });
const grid = (page: Page) => page.getByRole('grid', { name: 'Keys' });

/** Makes a key through the Create key dialog (EC_P256, quick), with `alias`. */
async function createInDialog(page: Page, alias: string): Promise<void> {
  await page.getByRole('button', { name: 'Create key…', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Create key' });
  await expect(dialog).toBeVisible();
  await dialog.getByLabel('Key spec').selectOption('EC_P256');
  await dialog.getByLabel('Alias (optional)').fill(alias);
  await dialog.getByRole('button', { name: 'Create key', exact: true }).click();
  await expect(dialog).toBeHidden({ timeout: 60_000 });
}

/** The control is on top at its centre (nothing covers it) and a real click reaches it. */
async function uncovered(control: Locator, what: string): Promise<void> {
  await control.scrollIntoViewIfNeeded();
  const onTop = await control.evaluate((el) => {
    const box = el.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    return hit !== null && (hit === el || el.contains(hit));
  });
  expect(onTop, `${what} is covered at its centre`).toBe(true);
}

async function checkControls(page: Page, size: { width: number; height: number }): Promise<void> {
  await page.setViewportSize(size);
  const at = `at ${size.width}x${size.height}`;
  await uncovered(detail(page).getByRole('button', { name: 'Disable key' }), `Disable key ${at}`);
  await uncovered(detail(page).getByRole('button', { name: 'Schedule deletion…' }), `Schedule deletion ${at}`);
  await uncovered(detail(page).getByLabel('New alias'), `the New alias field ${at}`);
}

async function seed(page: Page, host: UiHost, spec: string, alias: string): Promise<string> {
  const created = await kmsValue(page, host.origin, 'CreateKey', { KeySpec: spec, KeyUsage: 'SIGN/VERIFY' });
  await kmsValue(page, host.origin, 'CreateAlias', { KeyId: created.KeyMetadata.KeyId, AliasName: alias });
  return created.KeyMetadata.KeyId as string;
}

test('notifications: successes go away, errors stay, nothing covers the key detail, both are announced', async ({ app: page, host }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await createVault(page);
  for (let i = 1; i <= 6; i++) {
    // For the last three, the alias is taken from elsewhere (the CLI, another window) while the
    // dialog is open: the key is made, the alias refused, and an error notice says so.
    if (i > 3) await seed(page, host, 'EC_P256', `alias/e2e-taken-${i}`);
    await createInDialog(page, i > 3 ? `alias/e2e-taken-${i}` : `alias/e2e-notice-${i}`);
  }
  const errors = page.getByTestId('notice').and(page.getByRole('alert'));
  await expect(errors).toHaveCount(3);
  await expect(errors.first()).toContainText('AlreadyExists');
  await screenshot(page, testInfo, 'notices-after-six-keys');

  await test.step('nothing covers Disable key, Schedule deletion and the alias field', async () => {
    await checkControls(page, { width: 1280, height: 800 });
    await checkControls(page, { width: 1024, height: 700 });
    await page.setViewportSize({ width: 1280, height: 800 });
    // Real clicks (Playwright refuses to click what something else would receive).
    await detail(page).getByLabel('New alias').click();
    await expect(detail(page).getByLabel('New alias')).toBeFocused();
    await detail(page).getByRole('button', { name: 'Disable key' }).click();
    await expect(detail(page).getByRole('button', { name: 'Enable key' })).toBeVisible();
    // Hold the notices (pointer over them) while the next step reads the success's roles: it would
    // otherwise go after 5 s, which a loaded machine can spend between two steps.
    await page.getByTestId('notices').hover();
    const success = page.getByTestId('notice').filter({ hasText: 'disabled' });
    await expect(success).toHaveAttribute('role', 'status');
    // In a live region that was there before the notice came (so screen readers read it out).
    expect(await success.evaluate((el) => el.parentElement?.closest('[aria-live="polite"]') !== null)).toBe(true);
    await detail(page).getByRole('button', { name: 'Schedule deletion…' }).click();
    const schedule = page.getByRole('dialog', { name: 'Schedule key deletion' });
    await expect(schedule).toBeVisible();
    await page.keyboard.press('Escape');
    await expect(schedule).toBeHidden();
  });

  await test.step('successes go away on their own once let go; errors are alerts and stay, also after one is dismissed by a click', async () => {
    // Errors are alerts of their own, not also inside the polite region (read out once).
    expect(await errors.first().evaluate((el) => el.parentElement?.closest('[aria-live]') === null)).toBe(true);
    await expect(page.getByTestId('notice').and(page.getByRole('status'))).toHaveCount(0, { timeout: 15_000 });
    await expect(errors).toHaveCount(3);
    // Dismissing an error by a click takes its focused button away (no blur event): a later
    // success must still go by itself.
    await errors.first().getByRole('button', { name: 'Dismiss' }).click();
    await expect(errors).toHaveCount(2);
    await page.mouse.move(5, 5);
    await detail(page).getByRole('button', { name: 'Enable key' }).click();
    await expect(detail(page).getByRole('button', { name: 'Disable key' })).toBeVisible();
    await expect(page.getByTestId('notice').and(page.getByRole('status'))).toHaveCount(0, { timeout: 15_000 });
    await dismissNotices(page);
    await expect(page.getByTestId('notice')).toHaveCount(0);
  });
});

test('the key list at 1024x700: headers, the name in full, sorting by a column', async ({ app: page, host }) => {
  await page.setViewportSize({ width: 1024, height: 700 });
  await createVault(page);
  const made = [
    ['EC_P256', 'alias/release-signing-2026'],
    ['EC_SM2', 'alias/app-login'],
    ['RSA_2048', 'alias/zeta-ci'],
    ['EC_P256K', 'alias/backup-wrap'],
  ] as const;
  for (const [spec, alias] of made) await seed(page, host, spec, alias);
  await page.getByRole('button', { name: 'Reload', exact: true }).click();
  const names = grid(page).locator('.key-row-name');
  // Inventory (creation) order by default, as before.
  await expect(names).toHaveText(made.map(([, alias]) => alias));

  const headers = grid(page).getByRole('columnheader');
  await expect(headers.first()).toHaveAccessibleName('Name');
  expect((await headers.allInnerTexts()).length).toBeGreaterThanOrEqual(3);

  const cell = grid(page).getByText('alias/release-signing-2026', { exact: true });
  for (const size of [{ width: 1024, height: 700 }, { width: 1280, height: 800 }]) {
    await page.setViewportSize(size);
    const fit = await cell.evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
    expect(fit.scroll, `alias/release-signing-2026 is cut short at ${size.width}x${size.height}`).toBeLessThanOrEqual(fit.client);
  }
  await page.setViewportSize({ width: 1024, height: 700 });

  const name = grid(page).getByRole('columnheader', { name: 'Name' });
  await expect(name).toHaveAttribute('aria-sort', 'none');
  await name.getByRole('button').click();
  await expect(name).toHaveAttribute('aria-sort', 'ascending');
  await expect(names).toHaveText(['alias/app-login', 'alias/backup-wrap', 'alias/release-signing-2026', 'alias/zeta-ci']);
  await name.getByRole('button').click();
  await expect(name).toHaveAttribute('aria-sort', 'descending');
  await expect(names).toHaveText(['alias/zeta-ci', 'alias/release-signing-2026', 'alias/backup-wrap', 'alias/app-login']);
  const spec = grid(page).getByRole('columnheader', { name: 'Spec' });
  await spec.getByRole('button').click();
  await expect(spec).toHaveAttribute('aria-sort', 'ascending');
  await expect(name).toHaveAttribute('aria-sort', 'none');
  // EC_P256 < EC_P256K < EC_SM2 < RSA_2048
  await expect(names).toHaveText(['alias/release-signing-2026', 'alias/backup-wrap', 'alias/app-login', 'alias/zeta-ci']);
  // A third click goes back to the inventory order.
  await spec.getByRole('button').click();
  await spec.getByRole('button').click();
  await expect(spec).toHaveAttribute('aria-sort', 'none');
  await expect(names).toHaveText(made.map(([, alias]) => alias));
});

test('an empty vault offers Create key; filters that hide every key offer Clear filters', async ({ app: page, host }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await createVault(page);
  const list = page.getByRole('region', { name: 'Keys' });
  const empty = page.getByTestId('key-list-empty');
  await expect(empty).toContainText('This vault has no keys yet');
  await expect(list).not.toContainText('No keys match.');
  await empty.getByRole('button', { name: 'Create your first key' }).click();
  await expect(page.getByRole('dialog', { name: 'Create key' })).toBeVisible();
  await page.getByRole('dialog', { name: 'Create key' }).getByRole('button', { name: 'Cancel' }).click();

  await seed(page, host, 'EC_P256', 'alias/e2e-only');
  await page.getByRole('button', { name: 'Reload', exact: true }).click();
  await expect(grid(page).locator('.key-row-name')).toHaveText(['alias/e2e-only']);
  await page.getByRole('search', { name: 'Filter keys' }).getByLabel('Search', { exact: true }).fill('nothing-like-this');
  await expect(empty).toContainText('No keys match.');
  await expect(list).not.toContainText('no keys yet');
  await empty.getByRole('button', { name: 'Clear filters' }).click();
  await expect(grid(page).locator('.key-row-name')).toHaveText(['alias/e2e-only']);
});
