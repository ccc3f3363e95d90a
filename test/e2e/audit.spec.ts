// The audit log through the real renderer and host: operations done from the UI and through the
// API appear (a refused one with its Code, marked), filters by key and action narrow the table,
// "Verify chain" reports OK with the entry count; locking from the top bar shows the unlock
// screen, and unlocking brings the workspace (and the lock and unlock entries) back.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { appCall, createKey, kmsAction, pick } from './crypto-helpers.ts';
import { createVault, expect, screenshot, test } from './fixtures.ts';

test.use({ viewport: { width: 1280, height: 1100 } });

test('lists operations with their codes, filters by key and action, verifies the chain; lock and unlock', async ({ app: page, host }, testInfo) => {
  await createVault(page);
  const signer = await createKey(page, host, 'EC_P256', 'SIGN/VERIFY', 'alias/audit-signer');
  const other = await createKey(page, host, 'RSA_2048', 'ENCRYPT/DECRYPT', 'alias/audit-other');
  const digest = createHash('sha256').update('audited').digest('base64');

  // One signature made in the UI, one through the API, then a refusal after DisableKey.
  await page.getByRole('tab', { name: 'Sign & verify' }).click();
  await pick(page, signer, 'ECDSA_SHA_256');
  await page.getByLabel('Message text').fill('audited');
  await page.getByRole('button', { name: 'Sign', exact: true }).click();
  await expect(page.getByTestId('signature')).not.toHaveValue('');
  await kmsAction(page, host, 'AsymmetricSign', { KeyId: signer.KeyId, KeyVersionId: signer.KeyVersionId, Algorithm: 'ECDSA_SHA_256', Digest: digest });
  await kmsAction(page, host, 'AsymmetricEncrypt', { KeyId: other.KeyId, KeyVersionId: other.KeyVersionId, Algorithm: 'RSAES_OAEP_SHA_256', Plaintext: 'aGk=' });
  await kmsAction(page, host, 'DisableKey', { KeyId: signer.KeyId });
  const refused = await appCall(page, host, 'Kms.Call', {
    Action: 'AsymmetricSign',
    Params: { KeyId: signer.KeyId, KeyVersionId: signer.KeyVersionId, Algorithm: 'ECDSA_SHA_256', Digest: digest },
  });
  expect(refused).toMatchObject({ ok: false, error: { Code: 'Rejected.Disabled' } });

  await page.getByRole('tab', { name: 'Audit log' }).click();
  await expect(page.getByRole('heading', { name: 'Audit log' })).toBeVisible();
  const rows = page.getByTestId('audit-row');
  const table = page.getByRole('region', { name: 'Audit entries, newest first' });
  await expect(table.getByRole('columnheader')).toHaveText(['Seq', 'Time', 'Action', 'Key', 'Version', 'Code', 'Caller', 'RequestId']);

  // Newest first: the refused signature heads the table, marked as failed, with its Code.
  const newestSign = rows.filter({ hasText: 'AsymmetricSign' }).first();
  await expect(newestSign).toContainText('Rejected.Disabled');
  await expect(newestSign).toHaveClass(/failed/);
  await expect(newestSign).toContainText('alias/audit-signer');
  await expect(newestSign).toContainText('ui');
  const seqs = await rows.locator('td:first-child').allTextContents();
  expect(seqs.map(Number)).toEqual([...seqs.map(Number)].sort((a, b) => b - a));
  await expect(rows.filter({ hasText: 'CreateKey' })).toHaveCount(2);
  await expect(rows.filter({ hasText: 'DisableKey' })).toHaveCount(1);
  await expect(page.getByTestId('audit-count')).toContainText('1 failed');

  // Filter by alias: only the signer's entries.
  await page.getByLabel('Key (KeyId or alias)').fill('alias/audit-signer');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(rows.filter({ hasText: 'AsymmetricEncrypt' })).toHaveCount(0);
  await expect(rows.filter({ hasText: 'DisableKey' })).toHaveCount(1);
  for (const keyCell of await rows.locator('td:nth-child(4)').allTextContents()) expect(keyCell).toContain('alias/audit-signer');

  // And by action (a list of every Action): the two successful signatures and the refused one.
  await page.getByLabel('Action').selectOption('AsymmetricSign');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(rows).toHaveCount(3);
  await expect(rows.locator('td:nth-child(6)')).toHaveText(['✗ Rejected.Disabled', 'OK', 'OK']);

  // By KeyId and another action.
  await page.getByLabel('Key (KeyId or alias)').fill(other.KeyId);
  await page.getByLabel('Action').selectOption('AsymmetricEncrypt');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('OK');

  // A time window in the future matches nothing.
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await expect(page.getByLabel('Action')).toHaveValue('');
  await page.getByLabel('Since (UTC)').fill('2099-01-01 00:00:00');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page.getByText('No entries match.')).toBeVisible();
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await expect(rows.filter({ hasText: 'AsymmetricSign' })).toHaveCount(3);

  // The chain: OK, every entry counted, the head is the newest entry's hash.
  const total = await appCall(page, host, 'Audit.List', {});
  await page.getByRole('button', { name: 'Verify chain' }).click();
  const verdict = page.getByTestId('chain-verdict');
  await expect(verdict).toContainText(/^Chain OK — \d+ entries verified/);
  await expect(verdict).toHaveClass(/verdict valid/);
  await expect(verdict).toContainText(`${total.value.Entries.length} entries`);
  // Every entry was appended while unlocked: all are under the MACed anchor.
  await expect(verdict).toContainText(`${total.value.Entries.length} under the vault's MACed anchor`);
  await expect(verdict.locator('code')).toHaveText(total.value.Entries[0].hash);
  await screenshot(page, testInfo, 'audit-log');

  // Lock from the top bar: the unlock screen, then back in.
  await page.getByRole('button', { name: 'Lock', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Vault locked' })).toBeVisible();
  await expect(page.getByTestId('protection')).toContainText('OS keychain');
  expect(await appCall(page, host, 'Keys.Inventory', {})).toMatchObject({ ok: false, error: { Code: 'Vault.Locked' } });
  await screenshot(page, testInfo, 'locked');
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByRole('tab', { name: 'Keys' })).toBeVisible();

  await page.getByRole('tab', { name: 'Audit log' }).click();
  const action = (name: string) => rows.filter({ has: page.locator('td:nth-child(3)', { hasText: new RegExp(`^${name}$`) }) });
  await expect(action('LockVault')).toHaveCount(1);
  await expect(action('UnlockVault')).toHaveCount(1);
  await page.getByRole('button', { name: 'Verify chain' }).click();
  await expect(page.getByTestId('chain-verdict')).toContainText('Chain OK');
});

test('thousands of entries: the table stays virtualized, older pages load on demand, Export takes them all', async ({ app: page, host }, testInfo) => {
  await createVault(page);
  // 2,100 audited calls through the host (ListAliases is cheap), 50 in flight at a time.
  for (let i = 0; i < 2100; i += 50) {
    await Promise.all(Array.from({ length: 50 }, () => kmsAction(page, host, 'ListAliases', {})));
  }
  await page.getByRole('tab', { name: 'Audit log' }).click();
  const count = page.getByTestId('audit-count');
  await expect(count).toContainText('2000 entries (newest shown');
  // Only the rows in view (plus overscan) are in the DOM.
  const rendered = await page.getByTestId('audit-row').count();
  expect(rendered).toBeGreaterThan(10);
  expect(rendered).toBeLessThan(120);
  // Scrolling to the end brings the oldest loaded rows in.
  await page.getByRole('region', { name: 'Audit entries, newest first' }).evaluate((el) => el.scrollTo(0, el.scrollHeight));
  const newest = (await appCall(page, host, 'Audit.List', { Limit: 1 })).value.Entries[0].seq as number;
  // The virtualizer renders the scrolled-to rows on its next frame: poll until they are in.
  await expect
    .poll(async () => Math.min(...(await page.getByTestId('audit-row').locator('td:first-child').allTextContents()).map(Number)))
    .toBe(newest - 1999);

  // Export takes every entry, not the page shown: all pages of Audit.List, oldest first.
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON Lines' }).click()]);
  const path = testInfo.outputPath('downloads', file.suggestedFilename());
  await file.saveAs(path);
  const exported = (await readFile(path, 'utf8')).trimEnd().split('\n').map((line) => (JSON.parse(line) as { seq: number }).seq);
  expect(exported).toHaveLength(newest);
  expect(exported[0]).toBe(1);
  expect(exported.at(-1)).toBe(newest);

  await page.getByRole('button', { name: 'Show older entries' }).click();
  await expect(count).toHaveText(new RegExp(`^${newest} entries`));
  await expect(page.getByRole('button', { name: 'Show older entries' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Verify chain' }).click();
  await expect(page.getByTestId('chain-verdict')).toContainText(`Chain OK — ${newest} entries verified`);
});
