// The browser host's shared folder (`deskkms ui --files DIR`) in Chromium: the page lists DIR in a
// dialog, goes into a folder and back, and chooses a file; the host reads and hashes that file
// itself (no part of it is uploaded: no /api/chunk request, one Digest.UpdateFile call per part),
// and OpenSSL verifies the signature over the file. A link out of the folder is not listed.
// Without --files the page offers no such button.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { STREAM_PART_BYTES } from '../../core/contract/app-api.ts';
import { createKey, openssl, pick, publicKeyPem } from './crypto-helpers.ts';
import { createVault, expect, screenshot, test } from './fixtures.ts';

let work: string;
test.beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'deskkms-e2e-shared-'));
});
test.afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

test.describe('with --files DIR', () => {
  test.use({ shareFolder: true, viewport: { width: 1280, height: 1200 } });

  test('a file chosen in the shared folder is read by the host, not uploaded, and OpenSSL verifies its signature', async ({ app: page, host }, testInfo) => {
    const shared = host.filesDir!;
    const bytes = randomBytes(STREAM_PART_BYTES + 12_345);
    await writeFile(join(shared, 'release.tar'), bytes);
    await mkdir(join(shared, 'linux'));
    await writeFile(join(shared, 'linux', 'deskkms'), 'a binary');
    await writeFile(join(work, 'secret.txt'), 'outside');
    await symlink(join(work, 'secret.txt'), join(shared, 'leak.txt'));

    await createVault(page);
    const key = await createKey(page, host, 'EC_P256', 'SIGN/VERIFY', 'alias/e2e-shared');
    await page.getByRole('tab', { name: 'Sign & verify' }).click();
    await pick(page, key, 'ECDSA_SHA_256');
    await page.getByRole('radio', { name: 'File' }).check();

    const uploads: string[] = [];
    const fileParts: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/api/chunk')) uploads.push(request.url());
      if (request.url().endsWith('/api/call') && request.postData()?.includes('"Digest.UpdateFile"')) fileParts.push(request.postData()!);
    });

    await page.getByRole('button', { name: `Choose in ${basename(shared)}…` }).click();
    const dialog = page.getByTestId('shared-folder');
    await expect(dialog.getByRole('listitem')).toHaveText(['linux/', 'release.tar (16.0 MiB)']);
    await dialog.getByRole('button', { name: 'linux/' }).click();
    await expect(dialog.getByRole('listitem')).toHaveText(['↑ Up', 'deskkms (8 B)']);
    await dialog.getByRole('button', { name: '↑ Up' }).click();
    await expect(dialog.getByRole('button', { name: /^release\.tar/ })).toBeVisible();
    await screenshot(page, testInfo, 'shared-folder');
    await dialog.getByRole('button', { name: /^release\.tar/ }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByTestId('chosen-file')).toHaveText('release.tar (16.0 MiB)');

    await page.getByRole('button', { name: 'Sign', exact: true }).click();
    await expect(page.getByText('Hashed release.tar — 100%')).toBeVisible();
    await expect(page.getByTestId('signature')).not.toHaveValue('');
    expect(uploads).toEqual([]);
    expect(fileParts).toHaveLength(Math.ceil(bytes.length / STREAM_PART_BYTES));

    const pub = join(work, 'pub.pem');
    const sig = join(work, 'release.sig');
    await writeFile(pub, await publicKeyPem(page, host, key));
    await writeFile(sig, Buffer.from(await page.getByTestId('signature').inputValue(), 'base64'));
    expect(openssl(['dgst', '-sha256', '-verify', pub, '-signature', sig, join(shared, 'release.tar')]).stdout).toContain('Verified OK');
  });
});

test('without --files the page offers no shared folder', async ({ app: page, host }) => {
  await createVault(page);
  const key = await createKey(page, host, 'EC_P256', 'SIGN/VERIFY', 'alias/e2e-no-share');
  // The page asks the host once; the answer decides (so the button's absence is not a race).
  const asked = page.waitForResponse((r) => r.url().endsWith('/api/call') && (r.request().postData() ?? '').includes('"Files.List"'));
  await page.getByRole('tab', { name: 'Sign & verify' }).click();
  expect(await (await asked).json()).toMatchObject({ ok: false, error: { Code: 'UnsupportedOperation' } });
  await pick(page, key, 'ECDSA_SHA_256');
  await page.getByRole('radio', { name: 'File' }).check();
  await expect(page.getByLabel('Message file')).toBeAttached();
  await expect(page.getByRole('button', { name: /^Choose in / })).toHaveCount(0);
});
