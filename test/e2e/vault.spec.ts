// A passphrase-protected vault through the UI: first run with a passphrase (for stations without
// a keychain), the protection shown honestly, lock, a wrong passphrase refused with its Code, the
// right one unlocking, and the vault still holding its key afterwards.
import { createVault, expect, screenshot, test } from './fixtures.ts';

const PASSPHRASE = 'correct horse battery staple';

test('passphrase vault: create, lock, wrong passphrase refused, unlock', async ({ app: page }, testInfo) => {
  await expect(page.getByRole('heading', { name: 'Create your vault' })).toBeVisible();
  // Mismatched or short passphrases never reach the vault.
  await page.getByRole('radio', { name: /Passphrase/ }).check();
  await page.getByLabel(/^Passphrase \(at least/).fill('short');
  await page.getByLabel('Repeat passphrase').fill('short');
  await expect(page.getByRole('button', { name: 'Create vault' })).toBeDisabled();
  await page.getByLabel(/^Passphrase \(at least/).fill(PASSPHRASE);
  await page.getByLabel('Repeat passphrase').fill(`${PASSPHRASE}!`);
  await expect(page.getByText('The passphrases differ.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Create vault' })).toBeDisabled();
  await page.reload();

  await createVault(page, 'passphrase', PASSPHRASE);
  await expect(page.getByTestId('protection')).toHaveText(/^passphrase \(scrypt N=2\^17/);

  await page.getByRole('button', { name: 'Create key…', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Create key' });
  await dialog.getByLabel('Key spec').selectOption('EC_P256');
  await dialog.getByLabel('Alias (optional)').fill('alias/station');
  await dialog.getByRole('button', { name: 'Create key', exact: true }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('grid', { name: 'Keys' }).getByRole('row', { name: /^alias\/station / })).toBeVisible();

  await page.getByRole('button', { name: 'Lock' }).click();
  await expect(page.getByRole('heading', { name: 'Vault locked' })).toBeVisible();
  await expect(page.getByTestId('protection')).toHaveText(/^passphrase \(scrypt/);
  const field = page.getByLabel('Passphrase', { exact: true });
  await field.fill('not the passphrase');
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByRole('alert')).toContainText('Vault.Locked');
  await expect(page.getByRole('alert')).toContainText('does not unlock');
  // The field is emptied after each attempt: the passphrase is not kept in the page.
  await expect(field).toHaveValue('');
  await screenshot(page, testInfo, 'unlock-refused');

  await field.fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByRole('tab', { name: 'Keys' })).toBeVisible();
  await expect(page.getByRole('grid', { name: 'Keys' }).getByRole('row', { name: /^alias\/station / })).toBeVisible();
});
