// The printable share page, read back by programs nobody here wrote: Debian's Chromium renders it
// and zbarimg (zbar-tools) decodes the QR code from the screenshot; the words must come back exactly.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShareInfo } from './share-file.ts';
import { renderSharePage, shareQrPng } from './share-page.ts';

const run = promisify(execFile);
const CHROMIUM = process.env.DESKKMS_CHROMIUM ?? '/usr/bin/chromium';

// SLIP-0039's published test vector 20 ("Valid mnemonic without sharing (256 bits)"): 33 real words.
const MNEMONIC =
  'theory painting academic academic armed sweater year military elder discuss acne wildlife boring employer fused large ' +
  'satoshi bundle carbon diagnose anatomy hamster leaves tracks paces beyond phantom capital marvel lips brave detect luck';

const SHARE: ShareInfo = {
  index: 3,
  count: 5,
  threshold: 3,
  identifier: 7945,
  backupId: 'bk-5d1e0f7a',
  vaultId: 'v-c0ffee00',
  created: '2026-12-01T21:00:00.000Z',
  mnemonic: MNEMONIC,
};

let dir: string;
let browser: Browser;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deskkms-share-page-'));
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
});

afterAll(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** What zbarimg reads from the image file: one line per symbol found (exit 4: none found). */
async function zbar(file: string): Promise<string> {
  const { stdout } = await run('zbarimg', ['--raw', '-q', '-Sdisable', '-Sqrcode.enable', file]);
  return stdout.replace(/\n$/, '');
}

/** The page rendered in Chromium at A4-ish width, with no network; its screenshot's path and what it asked to load. */
async function renderInChromium(html: string, name: string): Promise<{ png: string; requests: string[]; text: string }> {
  const context = await browser.newContext({ viewport: { width: 900, height: 1200 }, colorScheme: 'dark', offline: true });
  try {
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.setContent(html, { waitUntil: 'load' });
    const png = join(dir, `${name}.png`);
    await page.screenshot({ path: png, fullPage: true });
    return { png, requests, text: await page.locator('body').innerText() };
  } finally {
    await context.close();
  }
}

describe('share page', () => {
  it("holds a QR code Chromium draws and zbarimg decodes to exactly the share's words", async () => {
    const html = await renderSharePage({ ...SHARE, mnemonic: `  ${MNEMONIC.toUpperCase().replaceAll(' ', '  ')}\n` });
    const { png, requests, text } = await renderInChromium(html, 'page');
    expect(await zbar(png)).toBe(MNEMONIC);
    // Self-contained: nothing was fetched while it rendered (setContent loads no URL itself).
    expect(requests).toEqual([]);
    expect(text).toContain('DeskKMS recovery share 3 of 5');
    expect(text).toMatch(/Any 3 of the 5 shares/);
    expect(text).toContain('deskkms backup restore');
    expect(text).toMatch(/Keep this page apart from the other shares/);
    expect(text).toContain('bk-5d1e0f7a');
    expect(text).toContain('v-c0ffee00');
    expect(text).toContain('2026-12-01T21:00:00.000Z');
    // The 33 words, numbered in order.
    const words = MNEMONIC.split(' ');
    expect(html.match(/<li><span>\d+\.<\/span>[a-z]+<\/li>/g)).toEqual(words.map((w, i) => `<li><span>${i + 1}.</span>${w}</li>`));
  });

  it('decodes the QR code of shareQrPng too', async () => {
    const png = join(dir, 'qr.png');
    await writeFile(png, await shareQrPng(MNEMONIC));
    expect(await zbar(png)).toBe(MNEMONIC);
  });

  it('loads nothing and runs nothing: no URL, no script, a policy that forbids both', async () => {
    const html = await renderSharePage(SHARE);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|url\(|@import|https?:\/\/(?!www\.w3\.org\/2000\/svg")/i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
    expect(html).toContain('@media print');
  });

  it('escapes every value it shows', async () => {
    const hostile = '"><script>alert(1)</script><b x=\'y\'>&amp;';
    const html = await renderSharePage({ ...SHARE, backupId: hostile, vaultId: hostile, created: hostile });
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<b x=');
    expect(html.split('&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;&#60;b x=&#39;y&#39;&#62;&#38;amp;').length - 1).toBe(3);
    const { text } = await renderInChromium(html, 'hostile');
    expect(text.split(hostile).length - 1).toBe(3);
  });
});
