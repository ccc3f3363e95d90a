// Issue 17, the audit log a new user meets: browsing a key is one audited read (the detail pane
// used to write DescribeKey, ListKeyVersions, and GetPublicKeyBundle and GetCertificates per
// version), the KeyId, Arn and KeyVersionId copy to the clipboard, and the audit view filters by
// kind, Action (a list), caller and a search that finds a RequestId from an error, takes its time
// range in UTC as the table shows it (in a browser whose zone is not UTC), and exports every
// matching entry as CSV and JSON Lines.
import { readFile } from 'node:fs/promises';
import type { Locator, Page, TestInfo } from '@playwright/test';
import { appCall, createKey, kmsAction, type CreatedKey } from './crypto-helpers.ts';
import { createVault, expect, screenshot, test, type UiHost } from './fixtures.ts';

// Not UTC, and far from it: a picker read in the browser's zone would be five hours off.
test.use({ viewport: { width: 1280, height: 1000 }, timezoneId: 'America/New_York' });

interface Entry {
  seq: number;
  time: string;
  action: string;
  keyId: string | null;
  code: string;
  caller: string;
  requestId: string;
}

async function auditEntries(page: Page, host: UiHost, params: Record<string, unknown> = {}): Promise<Entry[]> {
  const listed = await appCall(page, host, 'Audit.List', { Limit: 10_000, ...params });
  if (!listed.ok) throw new Error(`Audit.List: ${listed.error?.Code}: ${listed.error?.Message}`);
  return listed.value.Entries as Entry[];
}

const keyRow = (page: Page, alias: string) => page.getByTestId('key-list').locator('[role=row], [role=option]').filter({ hasText: alias });
const detail = (page: Page) => page.locator('article.key-detail');

/** A signing key with two versions, a self-signed certificate on the first, in the key list. */
async function keyWithTwoVersions(page: Page, host: UiHost): Promise<CreatedKey & { second: string }> {
  const key = await createKey(page, host, 'EC_P256', 'SIGN/VERIFY', 'alias/first-hour');
  const second = (await kmsAction(page, host, 'CreateKeyVersion', { KeyId: key.KeyId })).KeyVersion.KeyVersionId as string;
  await kmsAction(page, host, 'CreateSelfSignedCertificate', { KeyId: key.KeyId, KeyVersionId: key.KeyVersionId, Subject: 'CN=First Hour Root' });
  await createKey(page, host, 'RSA_2048', 'ENCRYPT/DECRYPT', 'alias/first-hour-other');
  await page.getByRole('button', { name: 'Reload', exact: true }).click();
  await expect(keyRow(page, 'alias/first-hour-other')).toHaveCount(1);
  return { ...key, second };
}

/** Clicks the key and waits until the detail pane shows everything: Arn, both versions' fingerprints, the certificate. */
async function openKey(page: Page, alias: string): Promise<void> {
  await keyRow(page, alias).first().click();
  const pane = detail(page);
  await expect(pane.getByRole('heading', { level: 2 })).toHaveText(alias);
  await expect(pane.getByText(/^acs:kms:/)).toBeVisible();
  await expect(pane.getByTestId('fingerprint-hex')).toHaveCount(2);
  await expect(pane.getByTestId('cert-subject')).toHaveText(['CN=First Hour Root']);
  await expect(pane.getByText('No certificate attached.')).toHaveCount(1);
}

async function download(page: Page, button: Locator, testInfo: TestInfo): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent('download'), button.click()]);
  const path = testInfo.outputPath('downloads', file.suggestedFilename());
  await file.saveAs(path);
  return path;
}

test('clicking a key writes one audit entry, DescribeKeyDetail, where it wrote one per Action per version', async ({ app: page, host }) => {
  await createVault(page);
  const key = await keyWithTwoVersions(page, host);
  const before = await auditEntries(page, host);

  await openKey(page, key.alias);
  // Everything is on screen: every call the pane made has been answered and audited.
  const now = await auditEntries(page, host);
  const added = now.slice(0, now.length - before.length);
  expect(added.map((e) => e.action)).toEqual(['DescribeKeyDetail']);
  expect(added[0]).toMatchObject({ keyId: key.KeyId, code: 'OK', caller: 'ui' });

  // Another key and back: one entry per click.
  await keyRow(page, 'alias/first-hour-other').first().click();
  await expect(detail(page).getByRole('heading', { level: 2 })).toHaveText('alias/first-hour-other');
  await expect(detail(page).getByTestId('fingerprint-hex')).toHaveCount(1);
  await openKey(page, key.alias);
  const after = await auditEntries(page, host);
  expect(after.length - before.length).toBe(3);
  expect(after.slice(0, 3).map((e) => e.action)).toEqual(['DescribeKeyDetail', 'DescribeKeyDetail', 'DescribeKeyDetail']);

  // A change made in the pane reads the detail again: the new version with its public key.
  await detail(page).getByRole('button', { name: 'Create version' }).click();
  await expect(detail(page).getByTestId('fingerprint-hex')).toHaveCount(3);
  await expect(detail(page).getByRole('heading', { name: /^Versions \(3\)/ })).toBeVisible();
});

test('copy buttons put the KeyId, the Arn and a KeyVersionId on the clipboard and say so', async ({ app: page, host, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: host.origin });
  await createVault(page);
  const key = await keyWithTwoVersions(page, host);
  await openKey(page, key.alias);
  const pane = detail(page);
  const clipboard = () => page.evaluate(() => navigator.clipboard.readText());

  await pane.getByRole('button', { name: 'Copy KeyId' }).click();
  await expect(pane.getByRole('status').filter({ hasText: 'Copied KeyId' })).toBeVisible();
  expect(await clipboard()).toBe(key.KeyId);

  const arn = (await kmsAction(page, host, 'DescribeKey', { KeyId: key.KeyId })).KeyMetadata.Arn as string;
  await pane.getByRole('button', { name: 'Copy Arn' }).click();
  await expect(pane.getByRole('status').filter({ hasText: 'Copied Arn' })).toBeVisible();
  expect(await clipboard()).toBe(arn);

  const second = pane.getByRole('region', { name: 'Version 2' });
  await second.getByRole('button', { name: 'Copy KeyVersionId' }).click();
  await expect(second.getByRole('status').filter({ hasText: 'Copied KeyVersionId' })).toBeVisible();
  expect(await clipboard()).toBe(key.second);
  const first = pane.getByRole('region', { name: 'Version 1' });
  await first.getByRole('button', { name: 'Copy KeyVersionId' }).click();
  await expect(first.getByRole('status').filter({ hasText: 'Copied KeyVersionId' })).toBeVisible();
  expect(await clipboard()).toBe(key.KeyVersionId);
});

test('the audit view: kind, Action list, caller, RequestId search, a UTC time range, CSV and JSON Lines export', async ({ app: page, host }, testInfo) => {
  await createVault(page);
  const key = await createKey(page, host, 'EC_P256', 'SIGN/VERIFY', 'alias/audit-hour');
  const digest = Buffer.alloc(32, 7).toString('base64');
  await kmsAction(page, host, 'AsymmetricSign', { KeyId: key.KeyId, KeyVersionId: key.KeyVersionId, Algorithm: 'ECDSA_SHA_256', Digest: digest });
  // A signature in a release format: caller "ui:raw".
  const begun = await appCall(page, host, 'Sign.Begin', { KeyId: key.KeyId, KeyVersionId: key.KeyVersionId, Format: 'raw', FileName: 'release.tar' });
  await appCall(page, host, 'Sign.Update', { SessionId: begun.value.SessionId, Chunk: Buffer.from('release').toString('base64') });
  expect((await appCall(page, host, 'Sign.Finish', { SessionId: begun.value.SessionId })).ok).toBe(true);
  await kmsAction(page, host, 'DisableKey', { KeyId: key.KeyId });
  const refused = await appCall(page, host, 'Kms.Call', {
    Action: 'AsymmetricSign',
    Params: { KeyId: key.KeyId, KeyVersionId: key.KeyVersionId, Algorithm: 'ECDSA_SHA_256', Digest: digest },
  });
  // The error quotes the RequestId of its entry.
  const requestId = (refused.error as unknown as { RequestId: string }).RequestId;
  expect(requestId).toMatch(/^[0-9a-f-]{36}$/);

  await page.getByRole('tab', { name: 'Audit log' }).click();
  const rows = page.getByTestId('audit-row');
  const table = page.getByRole('region', { name: 'Audit entries, newest first' });
  await expect(table.getByRole('columnheader')).toHaveText(['Seq', 'Time', 'Action', 'Key', 'Version', 'Code', 'Caller', 'RequestId']);
  const apply = () => page.getByRole('button', { name: 'Apply filters' }).click();
  const clear = async () => {
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect(page.getByLabel('Search')).toHaveValue('');
  };
  const column = (n: number) => rows.locator(`td:nth-child(${n})`);

  // Search: the RequestId pasted from the error finds its entry, shown in the RequestId column.
  await page.getByLabel('Search').fill(requestId);
  await apply();
  await expect(rows).toHaveCount(1);
  await expect(column(8)).toHaveText([requestId]);
  await expect(column(6)).toHaveText(['✗ Rejected.Disabled']);

  // Kind: private-key use is the two signatures that were made (not the refused one).
  await clear();
  await page.getByLabel('Kind').selectOption({ label: 'Private-key use' });
  await apply();
  await expect(rows).toHaveCount(2);
  await expect(column(3)).toHaveText(['AsymmetricSign', 'AsymmetricSign']);
  await page.getByLabel('Kind').selectOption({ label: 'Refused' });
  await apply();
  await expect(column(8)).toHaveText([requestId]);
  await page.getByLabel('Kind').selectOption({ label: 'Changes' });
  await apply();
  await expect(column(3)).toContainText(['DisableKey', 'CreateAlias', 'CreateKey']);

  // Action is a list of every Action: "AsymmetricSign" is one choice, and finds all three.
  await clear();
  const actionList = page.getByLabel('Action');
  expect(await actionList.evaluate((el) => el.tagName)).toBe('SELECT');
  await expect(actionList.locator('option', { hasText: /^AsymmetricSign$/ })).toHaveCount(1);
  await actionList.selectOption('AsymmetricSign');
  await apply();
  await expect(rows).toHaveCount(3);

  // Caller, exactly: the release-format signature.
  await page.getByLabel('Caller').fill('ui:raw');
  await apply();
  await expect(rows).toHaveCount(1);
  await expect(column(7)).toHaveText(['ui:raw']);

  // Time: the refused entry's time as the table shows it (UTC) is inside [that second, that
  // second] and outside a range ending a second before, in a browser set to New York.
  await clear();
  const entry = (await auditEntries(page, host, { Search: requestId }))[0]!;
  const shown = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
  const at = Date.parse(entry.time);
  await page.getByLabel('Search').fill(requestId);
  await page.getByLabel('Since (UTC)').fill(shown(at));
  await page.getByLabel('Until (UTC)').fill(shown(at));
  await apply();
  await expect(rows).toHaveCount(1);
  await expect(column(2)).toHaveText([`${shown(at)} UTC`]);
  await page.getByLabel('Since (UTC)').fill('');
  await page.getByLabel('Until (UTC)').fill(shown(at - 1000));
  await apply();
  await expect(page.getByText('No entries match.')).toBeVisible();
  await page.getByLabel('Since (UTC)').fill(shown(at + 1000));
  await page.getByLabel('Until (UTC)').fill('');
  await apply();
  await expect(page.getByText('No entries match.')).toBeVisible();
  // The day, in UTC, holds it.
  await page.getByLabel('Since (UTC)').fill(shown(at).slice(0, 10));
  await page.getByLabel('Until (UTC)').fill(shown(at).slice(0, 10));
  await apply();
  await expect(rows).toHaveCount(1);
  // A local-style date is refused, saying what to write.
  await page.getByLabel('Until (UTC)').fill('12/31/2026');
  await apply();
  await expect(page.getByRole('alert').filter({ hasText: 'Until: "12/31/2026" is not a UTC time' })).toBeVisible();

  // Export: every entry the applied filters match.
  await clear();
  await page.getByLabel('Kind').selectOption({ label: 'Private-key use' });
  await apply();
  await expect(rows).toHaveCount(2);
  const csv = await readFile(await download(page, page.getByRole('button', { name: 'Export CSV' }), testInfo), 'utf8');
  const lines = csv.split('\r\n');
  expect(lines[0]).toBe('seq,time,action,keyId,keyVersionId,code,caller,requestId,prevHash,hash');
  expect(lines.slice(1, -1).map((l) => l.split(',')[2])).toEqual(['"AsymmetricSign"', '"AsymmetricSign"']);
  expect(lines.slice(1, -1).map((l) => l.split(',')[6])).toEqual(['"ui"', '"ui:raw"']);
  await clear();
  const all = await auditEntries(page, host);
  const jsonl = await readFile(await download(page, page.getByRole('button', { name: 'Export JSON Lines' }), testInfo), 'utf8');
  const exported = jsonl.trimEnd().split('\n').map((l) => JSON.parse(l) as Entry);
  expect(exported.map((e) => e.seq)).toEqual(all.map((e) => e.seq).reverse());
  expect(exported.find((e) => e.requestId === requestId)).toMatchObject({ code: 'Rejected.Disabled' });
  await screenshot(page, testInfo, 'audit-first-hour');
});
