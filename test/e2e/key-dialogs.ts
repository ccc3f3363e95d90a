// Helpers of the certificate and import/export end-to-end specs: keys created through the Create
// key dialog, a key opened in the list, a version's region, downloads saved as test artifacts,
// and OpenSSL runs whose stdout and stderr are both kept (OpenSSL 3.0's `req -verify` reports a
// bad signature only in its text).
import { spawnSync } from 'node:child_process';
import type { Locator, Page, TestInfo } from '@playwright/test';
import { dismissNotices, expect, sessionHeaders } from './fixtures.ts';

export const detail = (page: Page): Locator => page.getByRole('region', { name: 'Key detail' });

export { dismissNotices };

export interface UiKey {
  readonly spec: string;
  readonly usage?: 'SIGN/VERIFY' | 'ENCRYPT/DECRYPT';
  readonly alias: string;
  readonly origin?: 'Aliyun_KMS' | 'EXTERNAL' | 'EXTERNAL_PUBLIC_KEY';
  readonly exportable?: boolean;
}

const ORIGIN_LABEL = { Aliyun_KMS: /Generated in the vault/, EXTERNAL: /Bring your own key/, EXTERNAL_PUBLIC_KEY: /Public key only/ } as const;

/** Creates a key through the Create key dialog; returns its KeyId (the new key is selected). */
export async function createKeyInUi(page: Page, key: UiKey): Promise<string> {
  await page.getByRole('button', { name: 'Create key…', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Create key' });
  await expect(dialog).toBeVisible();
  await dialog.getByLabel('Key spec').selectOption(key.spec);
  await dialog.getByLabel('Key usage').selectOption(key.usage ?? 'SIGN/VERIFY');
  await dialog.getByLabel('Alias (optional)').fill(key.alias);
  await dialog.getByRole('radio', { name: ORIGIN_LABEL[key.origin ?? 'Aliyun_KMS'] }).check();
  if (key.exportable) await dialog.getByLabel(/^Exportable/).check();
  await dialog.getByRole('button', { name: 'Create key', exact: true }).click();
  await expect(dialog).toBeHidden({ timeout: 60_000 });
  await expect(detail(page).getByRole('heading', { level: 2 })).toHaveText(key.alias);
  await dismissNotices(page);
  return (await detail(page).getByTestId('key-id').textContent())!.trim();
}

export async function openKey(page: Page, alias: string): Promise<void> {
  await page.getByRole('grid', { name: 'Keys' }).getByRole('row', { name: new RegExp(alias.replace(/[/]/g, '\\/')) }).click();
  await expect(detail(page).getByRole('heading', { level: 2 })).toHaveText(alias);
}

export const version = (page: Page, n: number): Locator => detail(page).getByRole('region', { name: `Version ${n}`, exact: true });

/** Clicks `button` and keeps the file it downloads under the test's output directory. */
export async function download(page: Page, button: Locator, testInfo: TestInfo, name?: string): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent('download'), button.click()]);
  const path = testInfo.outputPath('downloads', name ?? file.suggestedFilename());
  await file.saveAs(path);
  return path;
}

/** Runs openssl; stdout and stderr together, for messages OpenSSL prints on either. */
export function opensslText(args: readonly string[]): { status: number; text: string; stdout: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { status: r.status ?? -1, text: `${r.stdout}${r.stderr}`, stdout: r.stdout };
}

/** A KMS Action through the browser host with the page's own session, as the renderer calls it. */
export async function kmsCall(page: Page, origin: string, Action: string, Params: Record<string, unknown>): Promise<{ ok: boolean; value?: any; error?: { Code: string; Message: string } }> {
  const response = await page.request.post(`${origin}/api/call`, { headers: await sessionHeaders(page, origin), data: { method: 'Kms.Call', params: { Action, Params } } });
  return (await response.json()) as { ok: boolean; value?: any; error?: { Code: string; Message: string } };
}

/** A KMS Action that must succeed. */
export async function kmsValue(page: Page, origin: string, Action: string, Params: Record<string, unknown>): Promise<any> {
  const r = await kmsCall(page, origin, Action, Params);
  if (!r.ok) throw new Error(`${Action}: ${r.error?.Code}: ${r.error?.Message}`);
  return r.value;
}
