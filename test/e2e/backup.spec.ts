// Backup & recovery through the app, end to end: keys made, a backup with 3-of-5 recovery shares,
// a share's page opened to print (its QR code read back by zbarimg from Chromium's print
// rendering), the backup verified with 3 shares (2 refused), the vault moved to a passphrase, the
// passphrase changed and the data key rotated (the vault still unlocks and signs), and the backup
// restored on a second host's first-run screen: the restored vault lists the same keys with the
// same public keys, and its keys sign what the first vault's public keys verify. Screenshots at
// 1280x800 in light and dark.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Locator, Page, TestInfo } from '@playwright/test';
import { APP_SESSION_STORAGE_KEY } from '../../core/contract/app-api.ts';
import { spawnUntilFirstLine } from '../support/child-process.ts';
import { createVault, dismissNotices, expect, sessionHeaders, test } from './fixtures.ts';

const CLI = fileURLToPath(new URL('../../core/hosts/cli/deskkms.ts', import.meta.url));
const run = promisify(execFile);
const VAULT_PASSPHRASE = 'station passphrase one';
const NEW_PASSPHRASE = 'station passphrase two';

test.use({ viewport: { width: 1280, height: 800 } });

interface Envelope<T> {
  readonly ok: boolean;
  readonly value?: T;
  readonly error?: { readonly Code: string; readonly Message: string };
}

/** An app API call from the test with the page's session, as the page sends it. */
async function api<T>(page: Page, origin: string, method: string, params: Record<string, unknown>): Promise<Envelope<T>> {
  const response = await page.request.post(`${origin}/api/call`, { headers: await sessionHeaders(page, origin), data: { method, params } });
  return (await response.json()) as Envelope<T>;
}

async function ok<T>(page: Page, origin: string, method: string, params: Record<string, unknown>): Promise<T> {
  const answer = await api<T>(page, origin, method, params);
  if (!answer.ok) throw new Error(`${method} refused: ${answer.error?.Code} ${answer.error?.Message}`);
  return answer.value!;
}

function kms<T>(page: Page, origin: string, action: string, params: Record<string, unknown>): Promise<T> {
  return ok<T>(page, origin, 'Kms.Call', { Action: action, Params: params });
}

/** Every key of the vault with its aliases and each version's public key (PEM). */
async function keysWithPublicKeys(page: Page, origin: string): Promise<{ KeyId: string; Aliases: string[]; PublicKeys: string[] }[]> {
  const { Keys } = await ok<{ Keys: { KeyId: string; Aliases: string[] }[] }>(page, origin, 'Keys.Inventory', {});
  const out = [];
  for (const key of Keys) {
    const versions = await kms<{ KeyVersions: { KeyVersion: { KeyVersionId: string }[] } }>(page, origin, 'ListKeyVersions', { KeyId: key.KeyId });
    const PublicKeys = [];
    for (const v of versions.KeyVersions.KeyVersion) {
      PublicKeys.push((await kms<{ PublicKey: string }>(page, origin, 'GetPublicKey', { KeyId: key.KeyId, KeyVersionId: v.KeyVersionId })).PublicKey);
    }
    out.push({ KeyId: key.KeyId, Aliases: [...key.Aliases].sort(), PublicKeys });
  }
  return out.sort((a, b) => a.KeyId.localeCompare(b.KeyId));
}

/** Signs a digest with the key's first version in one vault; true when the other vault's copy verifies it. */
async function signsAcross(signer: { page: Page; origin: string }, verifier: { page: Page; origin: string }, keyId: string): Promise<boolean> {
  const versions = await kms<{ KeyVersions: { KeyVersion: { KeyVersionId: string }[] } }>(signer.page, signer.origin, 'ListKeyVersions', { KeyId: keyId });
  const KeyVersionId = versions.KeyVersions.KeyVersion[0]!.KeyVersionId;
  const Digest = createHash('sha256').update(`signed after the restore ${keyId}`).digest('base64');
  const signed = await kms<{ Value: string }>(signer.page, signer.origin, 'AsymmetricSign', { KeyId: keyId, KeyVersionId, Algorithm: 'ECDSA_SHA_256', Digest });
  const verified = await kms<{ Value: boolean }>(verifier.page, verifier.origin, 'AsymmetricVerify', {
    KeyId: keyId,
    KeyVersionId,
    Algorithm: 'ECDSA_SHA_256',
    Digest,
    Value: signed.Value,
  });
  return verified.Value;
}

/**
 * The same screen at 1280x800 in the light and the dark theme, kept as artifacts: `focus` scrolled
 * into view, the notices of earlier steps dismissed unless `keepNotices`.
 */
async function shoot(page: Page, testInfo: TestInfo, name: string, options: { focus?: Locator; keepNotices?: boolean } = {}): Promise<void> {
  if (!options.keepNotices) {
    await dismissNotices(page);
  }
  await options.focus?.scrollIntoViewIfNeeded();
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const path = testInfo.outputPath(`${name}-${colorScheme}.png`);
    await page.screenshot({ path });
    await testInfo.attach(`${name}-${colorScheme}`, { path, contentType: 'image/png' });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

async function createKey(page: Page, spec: string, alias: string): Promise<void> {
  await page.getByRole('button', { name: 'Create key…', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Create key' });
  await dialog.getByLabel('Key spec').selectOption(spec);
  await dialog.getByLabel('Alias (optional)').fill(alias);
  await dialog.getByRole('button', { name: 'Create key', exact: true }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('grid', { name: 'Keys' }).getByRole('row', { name: new RegExp(`^${alias}[ ,]`) })).toBeVisible();
}

async function openTab(page: Page, name: string): Promise<void> {
  await page.getByRole('tab', { name }).click();
  await expect(page.getByRole('tab', { name })).toHaveAttribute('aria-selected', 'true');
}

test('backup with 3-of-5 shares, print a share, verify, change the protection, restore on first run', async ({ app: page, host, browser }, testInfo) => {
  const work = await mkdtemp(join(tmpdir(), 'deskkms-e2e-backup-'));
  const backupFile = join(work, 'station.backup');
  const secondVault = join(work, 'second-vault');
  let second: Awaited<ReturnType<typeof spawnUntilFirstLine>> | undefined;
  try {
    await createVault(page);
    await createKey(page, 'EC_P256', 'alias/release-signing');
    await createKey(page, 'EC_P256', 'alias/offline-ca');
    const original = await keysWithPublicKeys(page, host.origin);
    expect(original).toHaveLength(2);

    // No backup yet: the top bar and the view say so.
    await expect(page.getByTestId('backup-state')).toContainText('No backup yet');
    await openTab(page, 'Backup & recovery');
    await expect(page.getByTestId('last-backup')).toContainText('none yet');
    await expect(page.getByTestId('backup-advice')).toBeVisible();
    await expect(page.getByTestId('versions-since-backup')).toHaveText('2');
    await shoot(page, testInfo, 'backup-view-no-backup');

    // Create: 3-of-5 shares.
    const create = page.getByRole('region', { name: 'Create backup' });
    await create.getByLabel('Backup file (on this machine)').fill(backupFile);
    await create.getByRole('radio', { name: /Recovery shares/ }).check();
    await create.getByLabel('Shares (N)').selectOption('5');
    await create.getByLabel('Needed to restore (M)').selectOption('3');
    await expect(create.getByText('Any 3 of 5 shares restore the backup.')).toBeVisible();
    await create.getByRole('button', { name: 'Create backup' }).click();
    const created = page.getByRole('region', { name: 'Backup created' });
    await expect(created).toBeVisible();
    await expect(created.getByTestId('created-backup')).toContainText(backupFile);
    await expect(created.getByTestId('created-backup')).toContainText('2 keys, 2 key versions');
    await expect(created.getByRole('alert')).toContainText('The share words are shown this once');
    await expect(created.getByRole('button', { name: /^Open page to print/ })).toHaveCount(5);
    await shoot(page, testInfo, 'backup-created-shares', { focus: created.getByRole('button', { name: /^Done: every share/ }) });

    // Each share's page: read its words; share 2's QR code, as Chromium prints it, decodes to them.
    const words: string[] = [];
    const sheet = page.getByTestId('share-print');
    for (let k = 1; k <= 5; k++) {
      await created.getByRole('button', { name: `Open page to print (share ${k})` }).click();
      await expect(sheet).toBeVisible();
      await expect(sheet.getByRole('heading', { name: `DeskKMS recovery share ${k} of 5` })).toBeVisible();
      const shareWords = await sheet.locator('.share-word').allTextContents();
      expect(shareWords.length).toBeGreaterThanOrEqual(20);
      words.push(shareWords.join(' '));
      if (k === 2) {
        await shoot(page, testInfo, 'share-page', { keepNotices: true });
        await page.emulateMedia({ media: 'print' });
        const printed = testInfo.outputPath('share-page-print.png');
        await page.screenshot({ path: printed, fullPage: true });
        await testInfo.attach('share-page-print', { path: printed, contentType: 'image/png' });
        // The print rendering shows the sheet alone (no app behind it, no buttons).
        await expect(page.getByRole('tab', { name: 'Keys' })).toBeHidden();
        await expect(sheet.getByRole('button', { name: 'Print' })).toBeHidden();
        await page.emulateMedia({ media: 'screen' });
        const { stdout } = await run('zbarimg', ['--raw', '-q', '-Sdisable', '-Sqrcode.enable', printed]);
        expect(stdout.trim()).toBe(words[1]);
        // Print asks the browser to print (stubbed: headless Chromium has no print dialog).
        await page.evaluate(() => {
          (window as unknown as { printed: number }).printed = 0;
          window.print = () => void ((window as unknown as { printed: number }).printed += 1);
        });
        await sheet.getByRole('button', { name: 'Print' }).click();
        expect(await page.evaluate(() => (window as unknown as { printed: number }).printed)).toBe(1);
      }
      if (k === 1) {
        // The share file, as the CLI writes it and `deskkms backup restore --share` reads it.
        const download = page.waitForEvent('download');
        await sheet.getByRole('button', { name: /^Save share file/ }).click();
        const saved = await download;
        expect(saved.suggestedFilename()).toBe('share-1-of-5.txt');
        await saved.saveAs(join(work, 'share-1-of-5.txt'));
      }
      await sheet.getByRole('button', { name: 'Close' }).click();
      await expect(sheet).toBeHidden();
    }
    expect(new Set(words).size).toBe(5);
    const shareFile = await readFile(join(work, 'share-1-of-5.txt'), 'utf8');
    expect(shareFile).toMatch(/^# DeskKMS recovery share 1 of 5/);
    expect(shareFile.split('\n').filter((l) => l !== '' && !l.startsWith('#')).join(' ')).toBe(words[0]);

    // A look at another view keeps the shares (they are shown once); Done drops them from the app.
    await openTab(page, 'Keys');
    await openTab(page, 'Backup & recovery');
    await expect(created.getByRole('button', { name: /^Open page to print/ })).toHaveCount(5);
    await created.getByRole('button', { name: /^Done: every share/ }).click();
    await expect(page.getByRole('button', { name: /^Open page to print/ })).toHaveCount(0);
    await expect(page.getByTestId('last-backup')).toContainText(backupFile);
    await expect(page.getByTestId('versions-since-backup')).toHaveText('0');
    await expect(page.getByTestId('backup-advice')).toBeHidden();
    await expect(page.getByTestId('backup-state')).toContainText('Backed up');

    // A key made after the backup: the status warns.
    await kms(page, host.origin, 'CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
    await openTab(page, 'Keys');
    await openTab(page, 'Backup & recovery');
    await expect(page.getByTestId('versions-since-backup')).toHaveText('1');
    await expect(page.getByTestId('backup-advice')).toBeVisible();
    await expect(page.getByTestId('backup-state')).toContainText('1 key version not backed up');
    await shoot(page, testInfo, 'backup-view-advice', { focus: page.getByTestId('backup-advice') });

    // Verify: 2 shares are refused by the vault (the form does not even send them), 3 open it.
    const twoShares = await api(page, host.origin, 'Backup.Verify', { Path: backupFile, Shares: [words[0], words[2]] });
    expect(twoShares.error?.Code).toBe('Backup.SharesInsufficient');
    const verify = page.getByRole('region', { name: 'Verify backup' });
    await verify.getByLabel('Backup file').fill(backupFile);
    await verify.getByRole('button', { name: 'Read backup header' }).click();
    await expect(verify.getByTestId('backup-header')).toContainText('any 3 of 5 recovery shares');
    await verify.getByLabel('Share 1', { exact: true }).fill(words[0]!);
    await verify.getByLabel('Share 2', { exact: true }).fill(words[2]!);
    await expect(verify.getByRole('button', { name: 'Verify backup' })).toBeDisabled();
    await verify.getByLabel('Share 3', { exact: true }).fill(words[4]!);
    await verify.getByRole('button', { name: 'Verify backup' }).click();
    const contents = verify.getByTestId('backup-contents');
    await expect(contents.getByTestId('backup-key-count')).toContainText('2 keys, 2 key versions');
    for (const key of original) await expect(contents.getByText(key.KeyId)).toBeVisible();
    await expect(contents.getByText('alias/release-signing')).toBeVisible();
    await expect(contents.getByTestId('backup-audit-head')).toContainText(/entry \d+, [0-9a-f]{16,}/);
    // The fields are emptied once the call is made.
    await expect(verify.getByLabel('Share 1', { exact: true })).toHaveValue('');
    await shoot(page, testInfo, 'backup-verified', { focus: contents.getByRole('table') });

    // Protection: keychain -> passphrase, change the passphrase, rotate the data key.
    const protection = page.getByRole('region', { name: 'Protection' });
    const toPassphrase = protection.getByRole('form', { name: 'Move to a passphrase' });
    await toPassphrase.getByLabel(/^New passphrase/).fill(VAULT_PASSPHRASE);
    await toPassphrase.getByLabel('Repeat new passphrase').fill(VAULT_PASSPHRASE);
    await toPassphrase.getByRole('button', { name: 'Move to a passphrase' }).click();
    await expect(protection.getByTestId('protection-now')).toHaveText(/^passphrase/);
    await expect(page.getByTestId('protection')).toHaveText(/^passphrase/);
    const change = protection.getByRole('form', { name: 'Change passphrase' });
    await change.getByLabel('Current passphrase').fill('not the passphrase');
    await change.getByLabel(/^New passphrase/).fill(NEW_PASSPHRASE);
    await change.getByLabel('Repeat new passphrase').fill(NEW_PASSPHRASE);
    await change.getByRole('button', { name: 'Change passphrase' }).click();
    await expect(change.getByRole('alert')).toBeVisible();
    await change.getByLabel('Current passphrase').fill(VAULT_PASSPHRASE);
    await change.getByLabel(/^New passphrase/).fill(NEW_PASSPHRASE);
    await change.getByLabel('Repeat new passphrase').fill(NEW_PASSPHRASE);
    await change.getByRole('button', { name: 'Change passphrase' }).click();
    await expect(page.getByText('The vault passphrase was changed.')).toBeVisible();
    await protection.getByRole('button', { name: 'Rotate data key…' }).click();
    const rotate = page.getByRole('dialog', { name: 'Rotate the data key' });
    await rotate.getByLabel('Current passphrase').fill(NEW_PASSPHRASE);
    await shoot(page, testInfo, 'rotate-data-key', { keepNotices: true });
    await rotate.getByRole('button', { name: 'Rotate data key' }).click();
    await expect(rotate).toBeHidden();
    await expect(page.getByText(/^The data key was rotated: \d+ sealed secrets/)).toBeVisible();
    await shoot(page, testInfo, 'protection-passphrase', { focus: protection.getByRole('heading', { name: 'Protection' }) });

    // Locked, the old passphrase no longer opens it; the new one does, and every key is still there.
    await page.getByRole('button', { name: 'Lock' }).click();
    const field = page.getByLabel('Passphrase', { exact: true });
    await field.fill(VAULT_PASSPHRASE);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await expect(page.getByRole('alert')).toContainText('Vault.Locked');
    await field.fill(NEW_PASSPHRASE);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await expect(page.getByRole('tab', { name: 'Keys' })).toBeVisible();
    await expect(page.getByTestId('key-count')).toHaveText('3 of 3 keys');

    // Restore on a second host's first run, one share from its saved file and two typed.
    const ui = await spawnUntilFirstLine(process.execPath, [CLI, 'ui', '--no-open', '--vault', secondVault], { timeoutMs: 60_000 });
    second = ui;
    const { Url } = JSON.parse(ui.firstLine) as { Url: string };
    const origin2 = new URL(Url).origin;
    // Its own browser context: the two hosts share 127.0.0.1, and cookies do not tell ports apart.
    const context2 = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page2 = await context2.newPage();
    await page2.goto(Url);
    await page2.waitForFunction((key) => sessionStorage.getItem(key) !== null, APP_SESSION_STORAGE_KEY);
    await expect(page2.getByRole('heading', { name: 'Create your vault' })).toBeVisible();
    await page2.getByRole('button', { name: 'Restore from a backup' }).click();
    await expect(page2.getByRole('heading', { name: 'Restore from a backup' })).toBeVisible();
    await page2.getByLabel('Backup file').fill(backupFile);
    await page2.getByRole('button', { name: 'Read backup header' }).click();
    await expect(page2.getByTestId('backup-header')).toContainText('any 3 of 5 recovery shares');
    await page2.getByLabel('Load share file 1').setInputFiles(join(work, 'share-1-of-5.txt'));
    await expect(page2.getByLabel('Share 1', { exact: true })).toHaveValue(shareFile);
    await page2.getByLabel('Share 2', { exact: true }).fill(words[3]!);
    await page2.getByLabel('Share 3', { exact: true }).fill(words[1]!);
    await page2.getByRole('radio', { name: /OS keychain/ }).check();
    await shoot(page2, testInfo, 'restore-first-run', { focus: page2.getByRole('button', { name: 'Restore vault' }) });
    await page2.getByRole('button', { name: 'Restore vault' }).click();
    await expect(page2.getByRole('tab', { name: 'Keys' })).toBeVisible();
    await expect(page2.getByText(/^Restored 2 keys \(2 key versions\) from backup/)).toBeVisible();
    await expect(page2.getByTestId('key-count')).toHaveText('2 of 2 keys');
    await shoot(page2, testInfo, 'restored-keys', { keepNotices: true });

    // The same keys, the same public keys; a restored key signs what the first vault verifies.
    expect(await keysWithPublicKeys(page2, origin2)).toEqual(original);
    const releaseKey = original.find((k) => k.Aliases.includes('alias/release-signing'))!.KeyId;
    expect(await signsAcross({ page: page2, origin: origin2 }, { page, origin: host.origin }, releaseKey)).toBe(true);
    // The restored vault's audit log records the restore and its chain verifies.
    const verdict = await ok<{ ok: boolean }>(page2, origin2, 'Audit.Verify', {});
    expect(verdict.ok).toBe(true);
    const restoredEntries = await ok<{ Entries: { action: string }[] }>(page2, origin2, 'Audit.List', {});
    expect(restoredEntries.Entries.map((e) => e.action)).toContain('CreateKey');
    expect(restoredEntries.Entries.some((e) => /restore/i.test(e.action))).toBe(true);
    await context2.close();
  } finally {
    await second?.stop();
    await rm(work, { recursive: true, force: true });
  }
});
