// Helpers shared by the crypto and audit end-to-end specs: the app API reached with the page's
// own session (its secret from sessionStorage; page.request shares the binding cookie), keys
// created through the real host, OpenSSL as the peer.
import { spawnSync } from 'node:child_process';
import { expect, type Page } from '@playwright/test';
import { sessionHeaders, type UiHost } from './fixtures.ts';

/** One app API call through the browser host, as the renderer makes it. */
export async function appCall(page: Page, host: UiHost, method: string, params: unknown = {}): Promise<{ ok: boolean; value?: any; error?: { Code: string; Message: string } }> {
  const response = await page.request.post(`${host.origin}/api/call`, { headers: await sessionHeaders(page, host.origin), data: { method, params } });
  return (await response.json()) as { ok: boolean; value?: any; error?: { Code: string; Message: string } };
}

/** A KMS Action that must succeed. */
export async function kmsAction(page: Page, host: UiHost, Action: string, Params: Record<string, unknown> = {}): Promise<any> {
  const result = await appCall(page, host, 'Kms.Call', { Action, Params });
  if (!result.ok) throw new Error(`${Action}: ${result.error?.Code}: ${result.error?.Message}`);
  return result.value;
}

export interface CreatedKey {
  readonly KeyId: string;
  readonly KeyVersionId: string;
  readonly alias: string;
}

export async function createKey(page: Page, host: UiHost, KeySpec: string, KeyUsage: string, alias: string): Promise<CreatedKey> {
  const created = await kmsAction(page, host, 'CreateKey', { KeySpec, KeyUsage });
  const KeyId = created.KeyMetadata.KeyId as string;
  await kmsAction(page, host, 'CreateAlias', { KeyId, AliasName: alias });
  const versions = await kmsAction(page, host, 'ListKeyVersions', { KeyId });
  return { KeyId, KeyVersionId: versions.KeyVersions.KeyVersion[0].KeyVersionId as string, alias };
}

export async function publicKeyPem(page: Page, host: UiHost, key: CreatedKey): Promise<string> {
  return (await kmsAction(page, host, 'GetPublicKey', { KeyId: key.KeyId, KeyVersionId: key.KeyVersionId })).PublicKey as string;
}

export function openssl(args: readonly string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Chooses key, newest version and algorithm in a KeyVersionPicker. */
export async function pick(page: Page, key: CreatedKey, algorithm: string): Promise<void> {
  await page.getByRole('button', { name: 'Reload keys' }).click();
  await page.getByLabel('Key', { exact: true }).selectOption(key.KeyId);
  const version = page.getByLabel('Version', { exact: true });
  await expect(version).toHaveValue(key.KeyVersionId);
  await page.getByLabel('Algorithm', { exact: true }).selectOption(algorithm);
}

/**
 * Slows the page's streamed parts of one method (they go to /api/chunk as bytes) so the hashing
 * progress can be watched. Also counts them, so a test can see they went as bytes. A part the page
 * cancels meanwhile (Cancel aborts its upload) is not continued.
 */
export async function slowChunks(page: Page, method: 'Digest.Update' | 'Sign.Update', ms: number): Promise<{ count: number }> {
  const seen = { count: 0 };
  await page.route('**/api/chunk?*', async (route) => {
    if (new URL(route.request().url()).searchParams.get('method') === method) {
      seen.count++;
      await new Promise((r) => setTimeout(r, ms));
    }
    await route.continue().catch(() => undefined);
  });
  return seen;
}
