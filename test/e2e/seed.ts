// Seeding a running browser host quickly, without the UI: KMS Actions sent from the test process
// to the host's /api/call with the page's session (its secret header and its binding cookie) and
// the host's Origin (what the page itself sends), many in flight. Chromium would hold a page's fetches to six connections; Node's
// fetch is not limited that way, and the host is the same either way.
import type { Page } from '@playwright/test';
import { APP_SESSION_HEADER } from '../../core/contract/app-api.ts';
import { sessionSecret } from './fixtures.ts';

const IN_FLIGHT = 64;

interface Envelope {
  readonly ok: boolean;
  readonly value?: { readonly KeyMetadata?: { readonly KeyId: string } };
  readonly error?: { readonly Code: string; readonly Message: string };
}

/**
 * Sends `count` `action` requests (Params from `params(i)`) and returns, in index order, each
 * CreateKey's KeyId ('' for other Actions). The first refusal fails the whole seeding.
 */
export async function seedKeys(
  page: Page,
  origin: string,
  count: number,
  params: (i: number) => Record<string, unknown>,
  action = 'CreateKey',
): Promise<string[]> {
  const cookie = (await page.context().cookies(`${origin}/api/call`)).map((c) => `${c.name}=${c.value}`).join('; ');
  if (!cookie) throw new Error(`the page holds no cookie for ${origin}: open the host's launch URL first`);
  const secret = await sessionSecret(page);
  const results = new Array<string>(count);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < count) {
      const i = next++;
      const response = await fetch(`${origin}/api/call`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie, origin, [APP_SESSION_HEADER]: secret },
        body: JSON.stringify({ method: 'Kms.Call', params: { Action: action, Params: params(i) } }),
      });
      const body = (await response.json()) as Envelope;
      if (!body.ok) throw new Error(`${action} #${i} refused: ${body.error?.Code} ${body.error?.Message}`);
      results[i] = body.value?.KeyMetadata?.KeyId ?? '';
    }
  }
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, count) }, worker));
  return results;
}
