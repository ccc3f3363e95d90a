// The app as the air-gap station (issue 15), end to end: the real renderer through the browser
// host (`deskkms ui`), requests made by core/airgap/online.ts as the online machine makes them (no
// vault, real files), pasted into the Air gap view. The approval screen shows every fact the
// operator checks (key reference, alias, KeyId, version, spec, state, fingerprints, format and
// namespace, each file's name, size and SHA-256, the total, the note, the age and window, the
// RequestId), kept as screenshots at 1280x800 and 1024x700 in the light and the dark theme; Enter
// in a field does not approve, Approve is not focused by default, and the keyboard alone approves.
// The response is saved as a file, finished on the "online" side (core/airgap/finish.ts) and
// verified by `ssh-keygen -Y verify`; the animated QR codes, stepped through, are read by zbarimg
// and carry the same bytes, as does the copied UR text. A second request, read from its file, is
// rejected: nothing is signed for it (no AsymmetricSign with its caller in the audit log). A
// request for an unknown key, pasted as its QR codes' text, shows its Problem with its Code and
// Approve stays disabled. With Chromium's fake camera playing a Y4M video of a
// request's QR codes, "Scan with camera" reads them (jsqr) and opens the same approval screen.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page, type TestInfo } from '@playwright/test';
import { FrameAssembler, urFrames } from '../../core/airgap/qr.ts';
import { sha256Hex } from '../../core/airgap/request-file.ts';
import { APPROVE_EVENT, REJECT_EVENT, requestCaller } from '../../core/contract/signing-requests.ts';
import { APP_SESSION_STORAGE_KEY } from '../../core/contract/app-api.ts';
import { CHROMIUM } from '../../playwright.config.ts';
import { finishAndVerify, makeSshRequest, qrVideo, zbarRead, type MadeRequest } from './airgap-helpers.ts';
import { createKey, kmsAction } from './crypto-helpers.ts';
import { createVault, dismissNotices, expect, test } from './fixtures.ts';

const ALIAS = 'alias/e2e-airgap-release';
const NOTE = 'Release 1.0 <b>not bold</b> & co\nsecond line \u202Egnp.exe';
const SIZES: [string, number][] = [
  ['deskkms-1.0.0.tar.gz', 1_572_864],
  ['deskkms-1.0.0.zip', 4096],
  ['checksums.txt', 1],
];

let work: string;
test.beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'deskkms-e2e-airgap-'));
});
test.afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

/** The approval screen (and the rest) at a size, in the light and the dark theme, kept as artifacts. */
async function shoot(page: Page, testInfo: TestInfo, name: string, size = { width: 1280, height: 800 }): Promise<void> {
  await dismissNotices(page);
  await page.setViewportSize(size);
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const path = testInfo.outputPath(`${name}-${size.width}x${size.height}-${colorScheme}.png`);
    await page.screenshot({ path });
    await testInfo.attach(`${name}-${size.width}x${size.height}-${colorScheme}`, { path, contentType: 'image/png' });

  }
  // And the whole screen as the operator scrolls through it, at that width (a window tall enough to hold it).
  const view = await page.evaluate(() => {
    const el = document.querySelector('.view');
    return { scroll: el?.scrollHeight ?? 0, client: el?.clientHeight ?? 0 };
  });
  const tall = size.height + view.scroll - view.client;
  if (view.scroll > view.client) {
    await page.setViewportSize({ width: size.width, height: tall });
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      const path = testInfo.outputPath(`${name}-${size.width}-whole-${colorScheme}.png`);
      await page.screenshot({ path });
      await testInfo.attach(`${name}-${size.width}-whole-${colorScheme}`, { path, contentType: 'image/png' });
    }
    await page.setViewportSize(size);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  // Nothing runs off the side: the view scrolls down only.
  const overflow = await page.evaluate(() => ({ page: document.documentElement.scrollWidth - window.innerWidth, view: (() => {
    const view = document.querySelector('.view');
    return view ? view.scrollWidth - view.clientWidth : 0;
  })() }));
  expect(overflow, `${name} at ${size.width}x${size.height} runs off the side`).toEqual({ page: 0, view: 0 });
}

async function paste(page: Page, request: MadeRequest | string): Promise<void> {
  await page.getByRole('tab', { name: 'Air gap' }).click();
  await page.getByLabel(/^Or paste the request/).fill(typeof request === 'string' ? request : request.text);
  await page.getByRole('button', { name: 'Review request' }).click();
  await expect(page.getByRole('heading', { name: 'Signing request', level: 1 })).toBeVisible();
}

async function auditFor(page: Page, host: Parameters<typeof kmsAction>[1], action: string, caller: string): Promise<{ code: string; caller: string }[]> {
  const { Entries } = await kmsAction(page, host, 'ListAuditEntries', { Action: action, Limit: 1000 });
  return (Entries as { code: string; caller: string }[]).filter((e) => e.caller === caller || e.caller.startsWith(`${caller}:`));
}

test('the approval screen shows what is signed; keyboard approval; the response finishes and verifies; a rejected request signs nothing', async ({ app: page, host }, testInfo) => {
  await createVault(page);
  const key = await createKey(page, host, 'EC_P256', 'SIGN/VERIFY', ALIAS);
  const request = await makeSshRequest(join(work, 'release'), ALIAS, SIZES, { note: NOTE, created: new Date(Date.now() - 3 * 3600 * 1000) });

  await test.step('paste the request: the approval screen shows every fact', async () => {
    await paste(page, request);
    const screen = page.getByTestId('airgap-approval');
    await expect(screen.getByTestId('airgap-request-id')).toHaveText(request.id);
    await expect(screen.getByTestId('airgap-request-sha256')).toHaveText(sha256Hex(request.bytes));
    await expect(screen.getByTestId('airgap-age')).toContainText('created 3 h ago, window 24 h');
    const keyFacts = screen.getByTestId('airgap-key');
    await expect(keyFacts).toContainText(`Named in the request${ALIAS}`);
    await expect(screen.getByTestId('airgap-aliases')).toHaveText(ALIAS);
    await expect(screen.getByTestId('airgap-key-id')).toHaveText(key.KeyId);
    await expect(screen.getByTestId('airgap-key-version')).toHaveText(key.KeyVersionId);
    await expect(keyFacts).toContainText('(the newest: the request named no version)');
    await expect(screen.getByTestId('airgap-key-spec')).toHaveText('EC_P256');
    await expect(keyFacts.locator('.badge')).toHaveText('Enabled');
    await expect(screen.getByTestId('airgap-fingerprint')).toHaveText(/^SHA256:[A-Za-z0-9+/]{43}$/);
    await expect(screen.getByTestId('airgap-spki')).toHaveText(/^[0-9a-f]{64}$/);
    const format = screen.getByTestId('airgap-format');
    await expect(format).toContainText('ssh');
    await expect(format).toContainText('Namespacerelease@example.com');
    // The note is text: its markup shows as typed, its bidi override escaped.
    const note = screen.getByTestId('airgap-note');
    await expect(note).toContainText('Release 1.0 <b>not bold</b> & co');
    await expect(note).toContainText('second line \\u202Egnp.exe');
    await expect(note.locator('b')).toHaveCount(0);
    const rows = screen.getByTestId('airgap-file');
    await expect(rows).toHaveCount(SIZES.length);
    const human = ['1.5 MiB', '4.0 KiB', '1 byte'];
    const exact = ['1,572,864 bytes', '4,096 bytes', '1 byte'];
    for (const [i, file] of request.files.entries()) {
      const row = rows.nth(i);
      await expect(row).toContainText(file.name);
      await expect(row).toContainText(human[i]!);
      await expect(row).toContainText(exact[i]!);
      await expect(row.locator('code.digest')).toHaveText(sha256Hex(file.bytes));
      await expect(row).toBeVisible();
    }
    await expect(screen.getByRole('heading', { name: /^3 files, 1\.5 MiB in all/ })).toBeVisible();
    await expect(screen.getByTestId('airgap-total')).toHaveText('(1,576,961 bytes)');
    await expect(screen.getByTestId('airgap-problems')).toHaveCount(0);
    const approve = screen.getByRole('button', { name: 'Approve and sign' });
    await expect(approve).toBeEnabled();
    await expect(approve).not.toBeFocused();
    for (const size of [
      { width: 1280, height: 800 },
      { width: 1024, height: 700 },
    ]) {
      await shoot(page, testInfo, 'airgap-approval', size);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await test.step('Enter on another control does not approve; the keyboard alone does', async () => {
    const screen = page.getByTestId('airgap-approval');
    await screen.getByLabel('Window (oldest request accepted)').focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('Escape');
    // Enter on Reject does what Reject does (its confirmation opens), not Approve: were Approve the
    // form's default or Enter caught screen-wide, the response would show and nothing would ask.
    await screen.getByRole('button', { name: 'Reject' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByTestId('airgap-reject-dialog');
    await expect(dialog).toBeVisible();
    await expect(page.getByTestId('airgap-response')).toHaveCount(0);
    await dialog.getByRole('button', { name: 'Keep reviewing' }).click();
    await expect(dialog).toBeHidden();
    await expect(screen.getByTestId('airgap-request-id')).toHaveText(request.id);
    expect(await auditFor(page, host, REJECT_EVENT, requestCaller('ui', request.id))).toEqual([]);
    await expect(page.getByTestId('airgap-response')).toHaveCount(0);
    expect(await auditFor(page, host, 'AsymmetricSign', requestCaller('ui', request.id))).toEqual([]);

    // From the top of the screen, Tab until Approve has the focus, then Enter.
    await screen.getByRole('heading', { name: 'Signing request', level: 1 }).focus();
    const approve = screen.getByRole('button', { name: 'Approve and sign' });
    let tabs = 0;
    while (!(await approve.evaluate((el) => el === document.activeElement)) && tabs < 30) {
      await page.keyboard.press('Tab');
      tabs++;
    }
    await expect(approve).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(page.getByRole('heading', { name: 'Approved: the response is ready' })).toBeVisible();
  });

  let responseBytes: Buffer;
  await test.step('the response: saved as a file, finished online, verified by ssh-keygen', async () => {
    const downloading = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Save response file' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe(`${request.id}.response.json`);
    const saved = join(work, download.suggestedFilename());
    await download.saveAs(saved);
    responseBytes = await readFile(saved);
    const finished = await finishAndVerify(request, responseBytes, work);
    expect(finished.KeyId).toBe(key.KeyId);
    expect(finished.KeyVersionId).toBe(key.KeyVersionId);
    expect(finished.verified).toHaveLength(SIZES.length);
    for (const line of finished.verified) expect(line).toContain('Good "release@example.com" signature');
    const signed = await auditFor(page, host, 'AsymmetricSign', requestCaller('ui', request.id));
    expect(signed.map((e) => [e.code, e.caller])).toEqual(SIZES.map(() => ['OK', `${requestCaller('ui', request.id)}:ssh`]));
    expect((await auditFor(page, host, APPROVE_EVENT, requestCaller('ui', request.id))).map((e) => e.code)).toEqual(['OK']);
  });

  await test.step('the animated QR codes carry the response: they move, Pause holds one, zbarimg reads each', async () => {
    const counter = page.getByTestId('airgap-frame-counter');
    const first = (await counter.textContent()) ?? '';
    const total = Number(/of (\d+)$/.exec(first)?.[1]);
    expect(total).toBeGreaterThan(1);
    await expect(counter).not.toHaveText(first);
    await shoot(page, testInfo, 'airgap-response');
    // Copy UR text: the response's parts, one per line, that reassemble to the saved file.
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: host.origin });
    await page.getByRole('button', { name: 'Copy UR text' }).click();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    const fromText = new FrameAssembler();
    for (const line of copied.split('\n')) fromText.receive(line);
    expect(Buffer.from(fromText.result()).equals(responseBytes)).toBe(true);
    // The frame interval as the component has it: before Pause the frame changes within 3 intervals, after it not in 3.
    const frameMs = Number(await page.getByTestId('airgap-qr').getAttribute('data-frame-ms'));
    expect(frameMs).toBeGreaterThan(0);
    const moving = (await counter.textContent()) ?? '';
    await expect(counter).not.toHaveText(moving, { timeout: 3 * frameMs + 500 });
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect(page.getByRole('button', { name: 'Play' })).toHaveAttribute('aria-pressed', 'true');
    const held = (await counter.textContent()) ?? '';
    await page.waitForTimeout(3 * frameMs);
    await expect(counter).toHaveText(held);
    const image = page.getByTestId('airgap-qr').getByRole('img');
    const assembler = new FrameAssembler();
    for (let i = 0; i < total; i++) {
      const src = (await image.getAttribute('src')) ?? '';
      const text = await zbarRead(Buffer.from(src.replace(/^data:image\/png;base64,/, ''), 'base64'), join(work, `frame-${i}.png`));
      assembler.receive(text);
      await page.getByRole('button', { name: 'Next frame' }).click();
    }
    expect(Buffer.from(assembler.result()).equals(responseBytes)).toBe(true);
  });

  await test.step('a second request, rejected: nothing signed, the rejection audited', async () => {
    await page.getByRole('button', { name: 'Review another request' }).click();
    const second = await makeSshRequest(join(work, 'second'), ALIAS, [['other.bin', 100]], { note: 'reject me' });
    // This one comes as a file (the request file on a USB stick).
    const file = join(work, 'second.request.json');
    await writeFile(file, second.bytes);
    await page.getByLabel('Request file').setInputFiles(file);
    await expect(page.getByTestId('airgap-request-id')).toHaveText(second.id);
    await expect(page.getByTestId('airgap-request-sha256')).toHaveText(sha256Hex(second.bytes));
    await page.getByRole('button', { name: 'Reject', exact: true }).click();
    const dialog = page.getByTestId('airgap-reject-dialog');
    await expect(dialog).toBeVisible();
    await dialog.getByRole('button', { name: 'Reject request' }).click();
    await expect(page.getByRole('heading', { name: 'Rejected: nothing was signed' })).toBeVisible();
    await expect(page.getByTestId('airgap-rejected')).toContainText(second.id);
    await shoot(page, testInfo, 'airgap-rejected');
    const caller = requestCaller('ui', second.id);
    expect(await auditFor(page, host, 'AsymmetricSign', caller)).toEqual([]);
    expect((await auditFor(page, host, REJECT_EVENT, caller)).map((e) => e.code)).toEqual(['Request.Rejected']);

    // Loaded again: the rejection is listed and is a Problem; it cannot be approved later.
    await page.getByRole('button', { name: 'Review another request' }).click();
    await page.getByLabel('Request file').setInputFiles(file);
    await expect(page.getByTestId('airgap-request-id')).toHaveText(second.id);
    await expect(page.getByTestId('airgap-decisions')).toContainText(`rejected at`);
    await expect(page.getByTestId('airgap-decisions')).toContainText(caller);
    await expect(page.getByTestId('airgap-problems')).toContainText('Request.Rejected');
    await expect(page.getByRole('button', { name: 'Approve and sign' })).toBeDisabled();
    // The ssh files are bound to their SHA-256s: no warning.
    await expect(page.getByTestId('airgap-unbound')).toHaveCount(0);
  });

  await test.step('a request for a key this vault lacks: its Problem with its Code, Approve disabled', async () => {
    await page.getByRole('button', { name: 'Load another request' }).click();
    const unknown = await makeSshRequest(join(work, 'unknown'), 'alias/e2e-no-such-key', [['x.bin', 10]]);
    // This one as its QR codes' text (what a USB QR scanner types), the parts out of order.
    const parts = urFrames(unknown.bytes, { fragment: 100 });
    expect(parts.length).toBeGreaterThan(2);
    await paste(page, [...parts].reverse().join('\n'));
    await expect(page.getByTestId('airgap-request-sha256')).toHaveText(sha256Hex(unknown.bytes));
    const problems = page.getByTestId('airgap-problems');
    await expect(problems).toBeVisible();
    await expect(problems).toHaveAttribute('role', 'alert');
    await expect(problems).toContainText('Forbidden.AliasNotFound');
    await expect(page.getByRole('button', { name: 'Approve and sign' })).toBeDisabled();
    await shoot(page, testInfo, 'airgap-problems');
    expect(await auditFor(page, host, 'AsymmetricSign', requestCaller('ui', unknown.id))).toEqual([]);
  });
});

test('Scan with camera: Chromium\u2019s fake camera plays a request\u2019s QR codes; they open the approval screen', async ({ host }, testInfo) => {
  // The request first (it names the key by alias: the vault is made afterwards), then a video of its codes.
  const request = await makeSshRequest(join(work, 'scanned'), ALIAS, [
    ['a.tar.gz', 5000],
    ['b.tar.gz', 6000],
    ['c.tar.gz', 7000],
    ['d.tar.gz', 8000],
  ]);
  const frames = urFrames(request.bytes);
  expect(frames.length).toBeGreaterThan(2);
  const video = join(work, 'request-qr.y4m');
  // Two codes a second: the progress ("N of M frames") stays on screen long enough to be seen.
  await qrVideo(video, frames, { fps: 2 });

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${video}`],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.grantPermissions(['camera'], { origin: host.origin });
    const page = await context.newPage();
    // The host lets its own page use the camera (Permissions-Policy camera=(self); Electron grants
    // video-only media to app://deskkms), so the Scan button is there with no change to the page.
    expect((await page.goto(host.url))?.headers()['permissions-policy']).toMatch(/(^|,\s*)camera=\(self\)/);
    await page.waitForFunction((k) => sessionStorage.getItem(k) !== null, APP_SESSION_STORAGE_KEY);
    await createVault(page);
    const key = await createKey(page, host, 'EC_P256', 'SIGN/VERIFY', ALIAS);
    await page.getByRole('tab', { name: 'Air gap' }).click();
    await expect(page.getByRole('button', { name: 'Review request' })).toBeVisible();
    await page.getByRole('button', { name: 'Scan with camera' }).click();
    const progress = page.getByTestId('airgap-scan-progress');
    await expect(progress).toHaveText(/\d+ (of \d+ )?frames/);
    await expect(page.getByRole('heading', { name: 'Signing request', level: 1 })).toBeVisible({ timeout: 60_000 });
    await shoot(page, testInfo, 'airgap-scanned');
    await expect(page.getByTestId('airgap-request-id')).toHaveText(request.id);
    await expect(page.getByTestId('airgap-request-sha256')).toHaveText(sha256Hex(request.bytes));
    await expect(page.getByTestId('airgap-key-id')).toHaveText(key.KeyId);
    await expect(page.getByTestId('airgap-file')).toHaveCount(4);
    await expect(page.getByTestId('airgap-camera')).toHaveCount(0);
    await context.close();
  } finally {
    await browser.close();
  }
});
