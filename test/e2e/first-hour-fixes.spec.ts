// What a new user met in the first hour (issue 17), end to end: the first-run and unlock screens
// with no keychain answering (plain words, the passphrase explained, the raw error behind a
// disclosure), a damaged vault (an error screen with the path, the Code, what to do and Retry),
// the file chooser's one line, Sign / Encrypt / Decrypt refused up front on a disabled key with
// the reason beside them, a ciphertext dropped when its plaintext changes, and the CSR wizard
// quiet until a field is left or Preview is pressed.
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { createVault, expect, openHost, screenshot, startHostWithEnv, test, type UiHost } from './fixtures.ts';
import { appCall, createKey, kmsAction, pick } from './crypto-helpers.ts';
import { createKeyInUi, version } from './key-dialogs.ts';

/** The environment of a host that finds no session bus, so no Secret Service answers. */
function withoutSessionBus(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.DBUS_SESSION_BUS_ADDRESS;
  return env;
}

async function withHost<T>(vaultDir: string, env: NodeJS.ProcessEnv, use: (host: UiHost) => Promise<T>): Promise<T> {
  const started = await startHostWithEnv(vaultDir, env);
  try {
    return await use(started.host);
  } finally {
    await started.process.stop();
  }
}

async function vaultStatus(page: Page, host: UiHost): Promise<{ KeychainBackend: string; KeychainAvailable: boolean; KeychainError?: string }> {
  const status = await appCall(page, host, 'Vault.Status');
  if (!status.ok) throw new Error(`Vault.Status: ${status.error?.Code}: ${status.error?.Message}`);
  return status.value;
}

test.describe('no keychain answering', () => {
  let dir = '';
  test.beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'deskkms-e2e-nokeychain-'));
  });
  test.afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('first run says in plain words that no keychain answers, explains the passphrase, preselects it, and keeps the raw error behind a disclosure', async ({ page }, testInfo) => {
    await withHost(join(dir, 'vault'), withoutSessionBus(), async (host) => {
      await openHost(page, host);
      await expect(page.getByRole('heading', { name: 'Create your vault' })).toBeVisible();
      const status = await vaultStatus(page, host);
      expect(status.KeychainAvailable).toBe(false);
      const raw = status.KeychainError!;
      expect(raw.length).toBeGreaterThan(0);

      const state = page.getByTestId('keychain-state');
      await expect(state).toContainText('No keychain answers');
      await expect(state).toContainText(status.KeychainBackend);
      await expect(page.getByRole('radio', { name: /Passphrase/ })).toBeChecked();
      await expect(page.getByRole('radio', { name: /OS keychain/ })).toBeDisabled();
      // What the passphrase means, before it is chosen.
      const meaning = page.getByTestId('passphrase-meaning');
      await expect(meaning).toContainText('each unlock');
      await expect(meaning).toContainText('backup');
      // The raw D-Bus text is there for whoever wants it, closed; the CLI's advice is not.
      const detail = page.getByTestId('keychain-detail');
      await expect(detail).toBeHidden();
      await expect(page.locator('main')).not.toContainText('DBUS_SESSION_BUS_ADDRESS', { useInnerText: true });
      await page.getByText('What the keychain said').click();
      await expect(detail).toBeVisible();
      await expect(detail).toContainText(raw.split(';')[0]!.slice(0, 40));
      await expect(page.locator('main')).not.toContainText('deskkms init');
      await screenshot(page, testInfo, 'first-run-no-keychain');

      // The passphrase vault is made without touching the keychain.
      await createVault(page, 'passphrase');
    });
  });

  test('a keychain vault opened with no keychain answering says so in plain words on the unlock screen', async ({ page }, testInfo) => {
    const vaultDir = join(dir, 'vault');
    await withHost(vaultDir, process.env, async (host) => {
      await openHost(page, host);
      await createVault(page, 'keychain');
    });
    await withHost(vaultDir, withoutSessionBus(), async (host) => {
      await openHost(page, host);
      await expect(page.getByRole('heading', { name: 'Vault locked' })).toBeVisible();
      const status = await vaultStatus(page, host);
      const state = page.getByTestId('keychain-state');
      await expect(state).toContainText('No keychain answers');
      await expect(state).toContainText(status.KeychainBackend);
      await expect(page.getByTestId('keychain-detail')).toBeHidden();
      await expect(page.locator('main')).not.toContainText('DBUS_SESSION_BUS_ADDRESS', { useInnerText: true });
      await screenshot(page, testInfo, 'unlock-no-keychain');
    });
  });
});

test('a damaged vault shows what happened, where, its Code and what to do, with Retry and no "Opening the vault…"', async ({ page }, testInfo) => {
  const dir = await mkdtemp(join(tmpdir(), 'deskkms-e2e-corrupt-'));
  const vaultDir = join(dir, 'vault');
  const saved = join(dir, 'saved');
  try {
    await withHost(vaultDir, process.env, async (host) => {
      await openHost(page, host);
      await createVault(page, 'passphrase');
    });
    // Keep a copy of the database files, then overwrite the database with bytes that are no SQLite file.
    mkdirSync(saved);
    const files = readdirSync(vaultDir).filter((f) => f.startsWith('vault.db'));
    for (const f of files) copyFileSync(join(vaultDir, f), join(saved, f));
    for (const f of files) writeFileSync(join(vaultDir, f), f === 'vault.db' ? Buffer.alloc(8192, 0x5a) : Buffer.alloc(0));

    await withHost(vaultDir, process.env, async (host) => {
      await openHost(page, host);
      await expect(page.getByRole('heading', { name: 'The vault cannot be opened' })).toBeVisible();
      const screen = page.getByRole('main');
      await expect(screen).toContainText('Vault.Corrupt');
      await expect(screen).toContainText(vaultDir);
      await expect(screen).toContainText('backup');
      await expect(page.getByText('Opening the vault…')).toBeHidden();
      await screenshot(page, testInfo, 'vault-corrupt');

      // Put the database back: Retry opens it.
      for (const f of files) copyFileSync(join(saved, f), join(vaultDir, f));
      await page.getByRole('button', { name: 'Retry' }).click();
      await expect(page.getByRole('heading', { name: 'Vault locked' })).toBeVisible();
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the file chooser shows one line: "No file chosen" until a file is chosen, then its name and size', async ({ app: page }, testInfo) => {
  await createVault(page);
  await page.getByRole('tab', { name: 'Sign & verify' }).click();
  await page.getByRole('radio', { name: 'File' }).check();
  const zone = page.getByTestId('dropzone').first();
  await expect(zone.getByText('No file chosen')).toBeVisible();
  // The native control's own "No file chosen" is not drawn next to ours.
  const input = page.getByLabel('Message file');
  expect(await input.evaluate((el) => el.getBoundingClientRect().width)).toBeLessThanOrEqual(1);
  await input.setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.alloc(2048, 0x61) });
  await expect(zone.getByTestId('chosen-file')).toHaveText('notes.txt (2.0 KiB)');
  await expect(zone.getByText('No file chosen')).toHaveCount(0);
  await screenshot(page, testInfo, 'file-chosen');
});

test('Sign, Encrypt and Decrypt are disabled on a disabled key, with the reason and the way to enable it beside them', async ({ app: page, host }, testInfo) => {
  await createVault(page);
  const signer = await createKey(page, host, 'EC_P256', 'SIGN/VERIFY', 'alias/off-signer');
  const crypter = await createKey(page, host, 'RSA_2048', 'ENCRYPT/DECRYPT', 'alias/off-crypter');
  await kmsAction(page, host, 'DisableKey', { KeyId: signer.KeyId });
  await kmsAction(page, host, 'DisableKey', { KeyId: crypter.KeyId });
  const reason = 'This key is disabled: enable it on the Keys tab (Enable key)';

  await page.getByRole('tab', { name: 'Sign & verify' }).click();
  await pick(page, signer, 'ECDSA_SHA_256');
  await page.getByLabel('Message text').fill('release 1.0');
  await expect(page.getByRole('button', { name: 'Sign', exact: true })).toBeDisabled();
  await expect(page.getByTestId('key-state-problem')).toHaveText(reason);
  await screenshot(page, testInfo, 'sign-disabled-key');

  await page.getByRole('tab', { name: 'Encrypt & decrypt' }).click();
  await pick(page, crypter, 'RSAES_OAEP_SHA_256');
  await page.getByLabel('Plaintext (text, UTF-8)').fill('secret');
  await page.getByLabel('Ciphertext to decrypt (base64)').fill('AAAA');
  await expect(page.getByRole('button', { name: 'Encrypt', exact: true })).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Decrypt', exact: true })).toBeDisabled();
  // Said beside both buttons.
  await expect(page.getByTestId('key-state-problem')).toHaveText([reason, reason]);
});

test('a ciphertext or signature shown is dropped when the plaintext, message or key changes', async ({ app: page, host }) => {
  await createVault(page);
  const crypter = await createKey(page, host, 'RSA_2048', 'ENCRYPT/DECRYPT', 'alias/crypter');
  const signer = await createKey(page, host, 'EC_P256', 'SIGN/VERIFY', 'alias/signer');

  await page.getByRole('tab', { name: 'Encrypt & decrypt' }).click();
  await pick(page, crypter, 'RSAES_OAEP_SHA_256');
  const plaintext = page.getByLabel('Plaintext (text, UTF-8)');
  await plaintext.fill('first');
  await page.getByRole('button', { name: 'Encrypt', exact: true }).click();
  await expect(page.getByTestId('ciphertext')).toBeVisible();
  await plaintext.fill('second');
  await expect(page.getByTestId('ciphertext')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Decrypt this ciphertext' })).toHaveCount(0);
  // Encrypted again, then the algorithm changes: the old ciphertext goes too.
  await page.getByRole('button', { name: 'Encrypt', exact: true }).click();
  await expect(page.getByTestId('ciphertext')).toBeVisible();
  await page.getByLabel('Algorithm', { exact: true }).selectOption('RSAES_OAEP_SHA_1');
  await expect(page.getByTestId('ciphertext')).toHaveCount(0);

  await page.getByRole('tab', { name: 'Sign & verify' }).click();
  await pick(page, signer, 'ECDSA_SHA_256');
  const message = page.getByLabel('Message text');
  await message.fill('v1');
  await page.getByRole('button', { name: 'Sign', exact: true }).click();
  await expect(page.getByTestId('signature-panel')).toBeVisible();
  await message.fill('v2');
  await expect(page.getByTestId('signature-panel')).toHaveCount(0);
});

test('the CSR wizard shows no error before anything is typed; a field left invalid or Preview pressed shows it', async ({ app: page }, testInfo) => {
  await createVault(page);
  await createKeyInUi(page, { spec: 'EC_P256', alias: 'alias/csr-quiet' });
  await version(page, 1).getByRole('button', { name: 'Create CSR…' }).click();
  const wizard = page.getByRole('dialog', { name: 'Create certificate signing request' });
  await expect(wizard).toBeVisible();
  await expect(wizard.locator('.error')).toHaveCount(0);
  await screenshot(page, testInfo, 'csr-wizard-fresh');

  // Preview with nothing filled in: now the problem is said.
  await wizard.getByRole('button', { name: 'Preview' }).click();
  await expect(wizard.getByText('Fill in at least one subject field')).toBeVisible();
  await wizard.getByLabel('Common name (CN)').fill('quiet.example.com');
  await expect(wizard.getByText('Fill in at least one subject field')).toHaveCount(0);
  await expect(wizard.getByText('Subject: CN=quiet.example.com')).toBeVisible();
});

test('the CSR wizard says a field is wrong once it is left', async ({ app: page }) => {
  await createVault(page);
  await createKeyInUi(page, { spec: 'EC_P256', alias: 'alias/csr-blur' });
  await version(page, 1).getByRole('button', { name: 'Create CSR…' }).click();
  const wizard = page.getByRole('dialog', { name: 'Create certificate signing request' });
  await wizard.getByLabel('Common name (CN)').fill('blur.example.com');
  const country = wizard.getByLabel('Country (C, two letters)');
  await country.fill('X');
  // Still typing: nothing red yet.
  await expect(wizard.locator('.error')).toHaveCount(0);
  await country.blur();
  await expect(wizard.getByText('Country must be a two-letter code')).toBeVisible();
});
