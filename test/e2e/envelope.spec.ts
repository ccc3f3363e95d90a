// Symmetric keys in the app (issue 18): an Aliyun_AES_256 key created through the dialog with
// automatic rotation, its rotation policy on the key's page (changed there), text encrypted with an
// EncryptionContext and decrypted back (the blob names the primary version), a changed context
// refused as InvalidCiphertext, a malformed context refused before sending, an SM4 round trip.
import { createKeyInUi, detail, dismissNotices } from './key-dialogs.ts';
import { createVault, expect, test } from './fixtures.ts';

test.use({ viewport: { width: 1280, height: 1400 } });

test('symmetric keys: create with rotation, encrypt and decrypt with a context, rotate', async ({ app: page }) => {
  await createVault(page);
  await page.getByRole('button', { name: 'Create key…', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Create key' });
  await dialog.getByLabel('Key spec').selectOption('Aliyun_AES_256');
  await expect(dialog.getByLabel('Key usage')).toHaveValue('ENCRYPT/DECRYPT');
  await expect(dialog.getByRole('radio', { name: /Public key only/ })).toHaveCount(0);
  await expect(dialog.getByLabel(/^Exportable/)).toBeDisabled();
  await dialog.getByLabel('Alias (optional)').fill('alias/e2e-aes');
  await dialog.getByLabel(/Rotate automatically/).check();
  await dialog.getByLabel('Days').fill('3');
  await expect(dialog.getByRole('button', { name: 'Create key', exact: true })).toBeDisabled();
  await dialog.getByLabel('Days').fill('30');
  await dialog.getByRole('button', { name: 'Create key', exact: true }).click();
  await expect(dialog).toBeHidden({ timeout: 60_000 });
  await expect(detail(page).getByRole('heading', { level: 2 })).toHaveText('alias/e2e-aes');
  await dismissNotices(page);
  const facts = detail(page).getByTestId('rotation-facts');
  await expect(facts).toContainText('Every 30 days');
  const primary = (await facts.locator('dd code').first().textContent())!.trim();
  expect(primary).toMatch(/^[0-9a-f-]{36}$/);
  await expect(detail(page).getByTestId('primary-version')).toHaveCount(1);
  // No public key, export or PKCS#8 import for a symmetric key.
  await expect(detail(page).getByTestId('export-status')).toContainText('never leaves the vault');
  await expect(detail(page).getByRole('button', { name: /Import version from encrypted PKCS#8/ })).toHaveCount(0);
  // Change the interval on the key's page.
  await detail(page).getByLabel('Interval (days, 7-365)').fill('90');
  await detail(page).getByRole('button', { name: 'Change interval' }).click();
  await expect(facts).toContainText('Every 90 days');

  await createKeyInUi(page, { spec: 'Aliyun_SM4', usage: 'ENCRYPT/DECRYPT', alias: 'alias/e2e-sm4' });

  await page.getByRole('tab', { name: 'Encrypt & decrypt' }).click();
  const panel = page.getByTestId('symmetric-panel');
  await panel.getByLabel('Symmetric key').selectOption({ label: 'alias/e2e-aes — Aliyun_AES_256 · ENCRYPT/DECRYPT · Enabled' });
  await panel.getByLabel('Text to encrypt (UTF-8)').fill('db password ✓');
  await panel.getByLabel('Encryption context (JSON object of strings, optional)').fill('{"purpose":"e2e"}');
  await panel.getByRole('button', { name: 'Encrypt with the symmetric key' }).click();
  await expect(panel.getByTestId('symmetric-context')).toHaveText('{"purpose":"e2e"}');
  await expect(panel).toContainText(`Primary version ${primary}`);
  await expect(panel.getByTestId('symmetric-ciphertext')).toHaveValue(/^REtNUwEB/);
  await panel.getByRole('button', { name: 'Decrypt this blob' }).click();
  await panel.getByRole('button', { name: 'Decrypt the blob' }).click();
  await expect(panel.getByTestId('symmetric-decrypted-text')).toHaveValue('db password ✓');
  await expect(panel.getByTestId('symmetric-decrypted')).toContainText(primary);

  // Another context: InvalidCiphertext, no plaintext.
  await panel.getByLabel('Context it was encrypted with (JSON object of strings, optional)').fill('{"purpose":"other"}');
  await panel.getByRole('button', { name: 'Decrypt the blob' }).click();
  await expect(panel.getByRole('alert')).toContainText('InvalidCiphertext');
  await expect(panel.getByTestId('symmetric-decrypted')).toHaveCount(0);
  await panel.getByLabel('Context it was encrypted with (JSON object of strings, optional)').fill('not json');
  await expect(panel.getByText(/Encryption context is not valid JSON/)).toBeVisible();
  await expect(panel.getByRole('button', { name: 'Decrypt the blob' })).toBeDisabled();
  await panel.getByLabel('Context it was encrypted with (JSON object of strings, optional)').fill('{"purpose":"e2e"}');

  // SM4 round trip, no context.
  await panel.getByLabel('Symmetric key').selectOption({ label: 'alias/e2e-sm4 — Aliyun_SM4 · ENCRYPT/DECRYPT · Enabled' });
  await panel.getByLabel('Encryption context (JSON object of strings, optional)').fill('');
  await panel.getByLabel('Text to encrypt (UTF-8)').fill('sm4 text');
  await panel.getByRole('button', { name: 'Encrypt with the symmetric key' }).click();
  await expect(panel.getByTestId('symmetric-context')).toHaveText('{}');
  await panel.getByRole('button', { name: 'Decrypt this blob' }).click();
  await panel.getByRole('button', { name: 'Decrypt the blob' }).click();
  await expect(panel.getByTestId('symmetric-decrypted-text')).toHaveValue('sm4 text');
});
