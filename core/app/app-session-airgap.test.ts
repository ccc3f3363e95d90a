// The app as the air-gap station (issue 15), through AppSession.call as the renderer reaches it:
// a real passphrase vault, requests made by core/airgap/online.ts's createRequest from real files,
// carried as JSON text or as the QR codes' UR parts. Request.Review lists the Problems (unknown
// key, disabled key, too old) and signs nothing; Request.Approve refuses a request other than the
// one reviewed (Request.Mismatch) and one with a Problem, and otherwise answers a response that
// core/airgap/finish.ts accepts and OpenSSH's `ssh-keygen -Y verify` verifies, with QR frames that
// zbarimg reads back into the same bytes; Request.Reject is audited and signs nothing;
// Request.Frames reassembles a camera's parts statelessly.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finishRequest } from '../airgap/finish.ts';
import { createRequest } from '../airgap/online.ts';
import { FrameAssembler, maxParts, urFrames } from '../airgap/qr.ts';
import { sha256Hex } from '../airgap/request-file.ts';
import { APPROVE_EVENT, MAX_REQUEST_BYTES, REJECT_EVENT, requestCaller, type RequestFormat } from '../contract/signing-requests.ts';
import { REQUEST_PARTS_MAX, REQUEST_TEXT_MAX, type RequestApprovedView, type RequestFramesView, type RequestReviewView } from '../contract/app-api.ts';
import type { AuditEntryInfo } from '../contract/responses.ts';
import { AppSession } from './app-session.ts';
import { appCalls } from '../../test/support/app-calls.ts';

const PASSPHRASE = 'correct horse battery staple';
const ALIAS = 'alias/app-airgap-release';
const DISABLED_ALIAS = 'alias/app-airgap-disabled';
const HOUR = 3600 * 1000;
let dir: string;
let app: AppSession;
let key: { KeyId: string; KeyVersionId: string };
let disabled: { KeyId: string };
const files: { name: string; path: string; bytes: Buffer }[] = [];

const { value, refusal } = appCalls(() => app);

async function kms<T = any>(Action: string, Params: Record<string, unknown>): Promise<T> {
  return value<T>('Kms.Call', { Action, Params });
}

async function audit(filter: Record<string, unknown>): Promise<AuditEntryInfo[]> {
  return (await kms<{ Entries: AuditEntryInfo[] }>('ListAuditEntries', { ...filter, Limit: 1000 })).Entries;
}

/** A request from the files, as `deskkms request create` makes it on the online machine (no vault). */
async function makeRequest(
  keyRef: string,
  options: { format?: RequestFormat; created?: Date; note?: string; only?: number } = {},
): Promise<{ bytes: Uint8Array; text: string; id: string }> {
  const chosen = options.only !== undefined ? files.slice(0, options.only) : files;
  const { request, bytes } = await createRequest({
    key: keyRef,
    format: options.format ?? 'ssh',
    options: (options.format ?? 'ssh') === 'ssh' ? { Namespace: 'release@example.com' } : {},
    ...(options.note !== undefined ? { note: options.note } : {}),
    files: chosen.map((f) => ({ name: f.name, size: f.bytes.length, chunks: createReadStream(f.path) })),
    ...(options.created ? { now: options.created } : {}),
  });
  return { bytes, text: new TextDecoder().decode(bytes), id: request.RequestId };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deskkms-app-airgap-'));
  app = new AppSession({ vaultDir: join(dir, 'vault'), caller: 'app', log: () => undefined, env: {} });
  await value('Vault.Create', { Protection: 'passphrase', Passphrase: PASSPHRASE });
  const { KeyMetadata } = await kms('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY', Description: 'release signing' });
  await kms('CreateAlias', { KeyId: KeyMetadata.KeyId, AliasName: ALIAS });
  const [{ KeyVersionId }] = (await kms('ListKeyVersions', { KeyId: KeyMetadata.KeyId })).KeyVersions.KeyVersion;
  key = { KeyId: KeyMetadata.KeyId, KeyVersionId };
  const other = await kms('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
  await kms('CreateAlias', { KeyId: other.KeyMetadata.KeyId, AliasName: DISABLED_ALIAS });
  await kms('DisableKey', { KeyId: other.KeyMetadata.KeyId });
  disabled = { KeyId: other.KeyMetadata.KeyId };
  for (const [name, size] of [
    ['app-1.0.tar.gz', 300_000],
    ['app-1.0.zip', 1],
    ['notes.txt', 0],
  ] as const) {
    const path = join(dir, name);
    const bytes = randomBytes(size);
    writeFileSync(path, bytes);
    files.push({ name, path, bytes });
  }
}, 120_000);

afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Request.Review', () => {
  it('shows the key as the vault resolves it, each file with its size and SHA-256, the note and the age', async () => {
    const created = new Date(Date.now() - 3 * HOUR);
    const request = await makeRequest(ALIAS, { created, note: 'release 1.0\nsee the changelog' });
    const review = await value<RequestReviewView>('Request.Review', { Text: request.text });
    expect(review.RequestId).toBe(request.id);
    expect(review.RequestSha256).toBe(createHash('sha256').update(request.bytes).digest('hex'));
    expect(review.Problems).toEqual([]);
    expect(review.Format).toBe('ssh');
    expect(review.Options).toEqual({ Namespace: 'release@example.com' });
    expect(review.Note).toBe('release 1.0\nsee the changelog');
    expect(review.Key).toMatchObject({ Reference: ALIAS, KeyId: key.KeyId, KeyVersionId: key.KeyVersionId, Newest: true, KeySpec: 'EC_P256', KeyState: 'Enabled' });
    expect(review.Key.Aliases).toContain(ALIAS);
    expect(review.Key.FormatFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(review.Key.SpkiSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(review.Files).toEqual(files.map((f) => ({ Name: f.name, Size: f.bytes.length, Sha256: createHash('sha256').update(f.bytes).digest('hex'), Bound: true })));
    expect(review.TotalSize).toBe(300_001);
    expect(review.MaxAgeSeconds).toBe(24 * 3600);
    expect(review.AgeSeconds).toBeGreaterThanOrEqual(3 * 3600 - 5);
    expect(review.AgeSeconds).toBeLessThan(3 * 3600 + 120);
    // A review signs nothing.
    expect((await audit({ Action: 'AsymmetricSign' })).filter((e) => e.caller.includes(request.id))).toEqual([]);
  });

  it('reads the request from its QR codes\u2019 text in any order and case, and from JSON that lost its line end', async () => {
    const request = await makeRequest(ALIAS);
    const expected = sha256Hex(request.bytes);
    const frames = urFrames(request.bytes, { fragment: 100 });
    expect(frames.length).toBeGreaterThan(3);
    const shuffled = [...frames].reverse().map((f, i) => (i % 2 === 0 ? f.toLowerCase() : f));
    expect((await value<RequestReviewView>('Request.Review', { Text: `\n${shuffled.join('\r\n')}\n` })).RequestSha256).toBe(expected);
    expect((await value<RequestReviewView>('Request.Review', { Text: `  ${request.text.trim()}` })).RequestSha256).toBe(expected);
    // Missing parts: refused, naming how many it has.
    const incomplete = await refusal('Request.Review', { Text: frames.slice(0, 2).join('\n') });
    expect(incomplete.Code).toBe('Request.Malformed');
    expect(incomplete.Message).toMatch(/^Text: the QR codes' text is incomplete \(2 parts of \d+\)/);
  });

  it('lists the Problems with their Codes: unknown key, disabled key, too old (and a longer window accepts it)', async () => {
    const unknownAlias = await value<RequestReviewView>('Request.Review', { Text: (await makeRequest('alias/no-such-key')).text });
    expect(unknownAlias.Problems.map((p) => p.Code)).toEqual(['Forbidden.AliasNotFound']);
    expect(unknownAlias.Key.KeyId).toBeUndefined();
    const unknown = await value<RequestReviewView>('Request.Review', { Text: (await makeRequest(randomUUID())).text });
    expect(unknown.Problems.map((p) => p.Code)).toEqual(['Forbidden.KeyNotFound']);

    const off = await value<RequestReviewView>('Request.Review', { Text: (await makeRequest(DISABLED_ALIAS)).text });
    expect(off.Key.KeyId).toBe(disabled.KeyId);
    expect(off.Problems.map((p) => p.Code)).toContain('Rejected.Disabled');

    const old = await makeRequest(ALIAS, { created: new Date(Date.now() - 30 * HOUR) });
    const expired = await value<RequestReviewView>('Request.Review', { Text: old.text });
    expect(expired.Problems.map((p) => p.Code)).toEqual(['Request.Expired']);
    const wider = await value<RequestReviewView>('Request.Review', { Text: old.text, MaxAgeHours: 72 });
    expect(wider.Problems).toEqual([]);
    expect(wider.MaxAgeSeconds).toBe(72 * 3600);

    const future = await value<RequestReviewView>('Request.Review', { Text: (await makeRequest(ALIAS, { created: new Date(Date.now() + HOUR) })).text });
    expect(future.Problems.map((p) => p.Code)).toEqual(['Request.Expired']);
    expect(future.AgeSeconds).toBeLessThan(0);
  });

  it('refuses what is not a request, before the vault reads it; and a locked vault reviews nothing', async () => {
    expect((await refusal('Request.Review', { Text: 'hello' })).Code).toBe('Request.Malformed');
    expect((await refusal('Request.Review', { Text: '{"Type":"deskkms-signing-request"}' })).Code).toBe('Request.Malformed');
    expect((await refusal('Request.Review', { Text: 'UR:CRYPTO-PSBT/AEADAOLFAXHJKIAX' })).Code).toBe('Request.Malformed');
    const long = await refusal('Request.Review', { Text: 'x'.repeat(REQUEST_TEXT_MAX + 1) });
    expect(long.Code).toBe('InvalidParameter');
    expect(long.Message).toMatch(/^Text: /);
    expect((await refusal('Request.Review', { Text: '   ' })).Code).toBe('InvalidParameter');
    expect((await refusal('Request.Review', { Text: '{}', MaxAgeHours: 0 })).Code).toBe('InvalidParameter');
    expect((await refusal('Request.Review', { Text: '{}', Extra: 1 })).Code).toBe('InvalidParameter');
    expect((await refusal('Request.Approve', { Text: '{}', RequestSha256: 'ABC' })).Message).toMatch(/^RequestSha256: /);
    expect(REQUEST_TEXT_MAX).toBe(3 * MAX_REQUEST_BYTES);

    const request = await makeRequest(ALIAS, { only: 1 });
    await value('Vault.Lock');
    try {
      expect((await refusal('Request.Review', { Text: request.text })).Code).toBe('Vault.Locked');
      expect((await refusal('Request.Approve', { Text: request.text, RequestSha256: sha256Hex(request.bytes) })).Code).toBe('Vault.Locked');
    } finally {
      await value('Vault.Unlock', { Passphrase: PASSPHRASE });
    }
  });
});

describe('Request.Approve and Request.Reject', () => {
  it('refuses a request other than the one reviewed (Request.Mismatch) and one with a Problem: nothing signed, the refusal audited', async () => {
    const reviewed = await makeRequest(ALIAS, { only: 1, note: 'the one shown' });
    const { RequestSha256 } = await value<RequestReviewView>('Request.Review', { Text: reviewed.text });
    const swapped = await makeRequest(ALIAS, { only: 1, note: 'another' });
    const stale = await refusal('Request.Approve', { Text: swapped.text, RequestSha256 });
    expect(stale.Code).toBe('Request.Mismatch');
    expect(stale.Message).toContain(RequestSha256);

    const expired = await makeRequest(ALIAS, { created: new Date(Date.now() - 30 * HOUR), only: 1 });
    const tooOld = await refusal('Request.Approve', { Text: expired.text, RequestSha256: sha256Hex(expired.bytes), KeyVersionId: key.KeyVersionId });
    expect(tooOld.Code).toBe('Request.Expired');

    const off = await makeRequest(DISABLED_ALIAS, { only: 1 });
    const offReview = await value<RequestReviewView>('Request.Review', { Text: off.text });
    expect((await refusal('Request.Approve', { Text: off.text, RequestSha256: offReview.RequestSha256, KeyVersionId: offReview.Key.KeyVersionId })).Code).toBe('Rejected.Disabled');

    for (const [request, code] of [
      [swapped, 'Request.Mismatch'],
      [expired, 'Request.Expired'],
      [off, 'Rejected.Disabled'],
    ] as const) {
      const caller = requestCaller('app', request.id);
      const decisions = (await audit({ Action: APPROVE_EVENT })).filter((e) => e.caller === caller);
      expect(decisions.map((e) => e.code)).toEqual([code]);
      expect((await audit({ Action: 'AsymmetricSign' })).filter((e) => e.caller.startsWith(caller))).toEqual([]);
    }
  });

  it('approves what was reviewed: a response that finishRequest accepts and ssh-keygen -Y verify verifies, its QR frames read back by zbarimg', async () => {
    const request = await makeRequest(ALIAS, { note: 'release 1.0' });
    const review = await value<RequestReviewView>('Request.Review', { Text: request.text });
    // Without the reviewed key version (the review showed one): Request.Mismatch, nothing signed.
    const unnamed = await refusal('Request.Approve', { Text: request.text, RequestSha256: review.RequestSha256 });
    expect(unnamed.Code).toBe('Request.Mismatch');
    expect(unnamed.Message).toMatch(/is not the one reviewed \(none\)/);
    expect((await refusal('Request.Approve', { Text: request.text, RequestSha256: review.RequestSha256, KeyVersionId: 'not a version\u202e' })).Message).toMatch(/^KeyVersionId: /);
    expect((await audit({ Action: 'AsymmetricSign' })).filter((e) => e.caller.includes(request.id))).toEqual([]);
    const approved = await value<RequestApprovedView>('Request.Approve', { Text: request.text, RequestSha256: review.RequestSha256, KeyVersionId: review.Key.KeyVersionId });
    expect(approved.RequestId).toBe(request.id);
    expect(approved.FileName).toBe(`${request.id}.response.json`);
    expect(approved.Review.RequestSha256).toBe(review.RequestSha256);
    const responseBytes = new TextEncoder().encode(approved.Response);

    // The frames carry exactly the response's bytes; each PNG is a QR code zbarimg reads as its frame.
    expect(approved.FramePngs).toHaveLength(approved.Frames.length);
    const assembler = new FrameAssembler();
    for (const frame of approved.Frames) assembler.receive(frame);
    expect(Buffer.from(assembler.result()).equals(Buffer.from(responseBytes))).toBe(true);
    const pngDir = mkdtempSync(join(dir, 'frames-'));
    approved.FramePngs.forEach((png, i) => writeFileSync(join(pngDir, `frame-${i}.png`), Buffer.from(png, 'base64')));
    for (const [i, frame] of approved.Frames.entries()) {
      const read = spawnSync('zbarimg', ['--raw', '-q', '-Sdisable', '-Sqrcode.enable', join(pngDir, `frame-${i}.png`)], { encoding: 'utf8' });
      expect(read.status, read.stderr).toBe(0);
      expect(read.stdout.trim()).toBe(frame);
    }

    // The online machine: finish checks the response against the request and the files, then OpenSSH verifies.
    const finished = await finishRequest({
      request: request.bytes,
      response: responseBytes,
      openFile: (name) => Promise.resolve(createReadStream(join(dir, name))),
    });
    expect(finished.KeyId).toBe(key.KeyId);
    expect(finished.KeyVersionId).toBe(key.KeyVersionId);
    expect(finished.SpkiSha256).toBe(review.Key.SpkiSha256);
    expect(finished.outputs.map((o) => o.FileName)).toEqual(files.map((f) => `${f.name}.sig`));
    const pub = finished.publicMaterial.find((m) => m.FileName.endsWith('.pub'));
    expect(pub).toBeDefined();
    const allowed = join(dir, 'allowed_signers');
    writeFileSync(allowed, `release@example.com ${new TextDecoder().decode(pub!.Bytes).trim()}\n`);
    for (const [i, output] of finished.outputs.entries()) {
      const sig = join(dir, `verify-${i}.sig`);
      writeFileSync(sig, output.Bytes);
      const verified = spawnSync('ssh-keygen', ['-Y', 'verify', '-f', allowed, '-I', 'release@example.com', '-n', 'release@example.com', '-s', sig], { input: files[i]!.bytes });
      expect(verified.status, String(verified.stderr)).toBe(0);
      expect(String(verified.stdout)).toContain('Good "release@example.com" signature');
    }

    // Audited: one AsymmetricSign per file for this request, then the approval.
    const caller = requestCaller('app', request.id);
    const signed = (await audit({ Action: 'AsymmetricSign', KeyId: key.KeyId })).filter((e) => e.caller.startsWith(caller));
    expect(signed.map((e) => [e.code, e.caller])).toEqual(files.map(() => ['OK', `${caller}:ssh`]));
    expect((await audit({ Action: APPROVE_EVENT })).filter((e) => e.caller === caller).map((e) => e.code)).toEqual(['Request.Mismatch', 'OK']); // the approve without KeyVersionId, refused
    // Reviewed again, the approval is listed (and it may be approved again).
    const again = await value<RequestReviewView>('Request.Review', { Text: request.text });
    expect(again.Decisions.map((d) => [d.Event, d.Caller])).toEqual([[APPROVE_EVENT, caller]]);
    expect(again.Problems).toEqual([]);
  });

  it('rejects: audited as RejectSigningRequest with Request.Rejected, nothing signed', async () => {
    const request = await makeRequest(ALIAS, { only: 2 });
    const rejected = await value<{ Rejected: boolean; Review: RequestReviewView }>('Request.Reject', { Text: request.text });
    expect(rejected.Rejected).toBe(true);
    expect(rejected.Review.RequestId).toBe(request.id);
    const caller = requestCaller('app', request.id);
    expect((await audit({ Action: REJECT_EVENT })).filter((e) => e.caller === caller).map((e) => e.code)).toEqual(['Request.Rejected']);
    // Once rejected, it is a Problem: it cannot be approved later.
    const review = await value<RequestReviewView>('Request.Review', { Text: request.text });
    expect(review.Decisions.map((d) => [d.Event, d.Caller])).toEqual([[REJECT_EVENT, caller]]);
    expect(review.Problems.map((p) => p.Code)).toEqual(['Request.Rejected']);
    const late = await refusal('Request.Approve', { Text: request.text, RequestSha256: review.RequestSha256, KeyVersionId: review.Key.KeyVersionId });
    expect(late.Code).toBe('Request.Rejected');
    expect((await audit({ Action: 'AsymmetricSign' })).filter((e) => e.caller.startsWith(caller))).toEqual([]);
  });
});

describe('Request.Frames', () => {
  it('reassembles a camera\u2019s parts statelessly: progress until complete, then the request\u2019s text', async () => {
    const request = await makeRequest(ALIAS);
    const frames = urFrames(request.bytes, { fragment: 120 });
    const n = frames.length;
    expect(n).toBeGreaterThan(4);
    const first = await value<RequestFramesView>('Request.Frames', { Parts: [frames[0]] });
    expect(first.Complete).toBe(false);
    expect(first.Frames).toBe(1);
    expect(first.Expected).toBeGreaterThan(1);
    expect(first.Text).toBeUndefined();
    const some = await value<RequestFramesView>('Request.Frames', { Parts: [frames[2], frames[0], frames[0]] });
    expect(some.Frames).toBe(2);
    expect(some.Progress).toBeGreaterThan(first.Progress);
    const all = await value<RequestFramesView>('Request.Frames', { Parts: [...frames].reverse() });
    expect(all.Complete).toBe(true);
    expect(all.Progress).toBe(1);
    expect(all.Text).toBe(request.text);
    // What Request.Frames answers is what Request.Review takes, to the byte.
    expect((await value<RequestReviewView>('Request.Review', { Text: all.Text })).RequestSha256).toBe(sha256Hex(request.bytes));
  });

  it('refuses a part that is not a request\u2019s, naming it, and more parts than a camera can have read', async () => {
    const frames = urFrames((await makeRequest(ALIAS, { only: 1 })).bytes, { fragment: 60 });
    const foreign = await refusal('Request.Frames', { Parts: [frames[0], 'https://example.com/'] });
    expect(foreign.Code).toBe('Request.Malformed');
    expect(foreign.Message).toMatch(/^Parts\[1\]: /);
    const other = urFrames((await makeRequest(ALIAS, { only: 1 })).bytes, { fragment: 60 });
    expect((await refusal('Request.Frames', { Parts: [frames[0], other[0]] })).Code).toBe('Request.Malformed');
    // After completion too (one rule with the CLI's readCarried, qr.ts assembleParts): another message's part is refused.
    const late = await refusal('Request.Frames', { Parts: [...frames, frames[0], other[0]] });
    expect(late.Code).toBe('Request.Malformed');
    expect(late.Message).toMatch(new RegExp(`^Parts\\[${frames.length + 1}\\]: QR frames of two different messages are mixed`));
    expect((await refusal('Request.Frames', { Parts: [] })).Code).toBe('InvalidParameter');
    // The contract's bound is qr.ts's for a request (the contract imports nothing, so it is written out).
    expect(REQUEST_PARTS_MAX).toBe(maxParts(MAX_REQUEST_BYTES));
    const many = await refusal('Request.Frames', { Parts: Array.from({ length: REQUEST_PARTS_MAX + 1 }, () => 'UR:BYTES/X') });
    expect(many.Code).toBe('InvalidParameter');
    expect(many.Message).toMatch(/^Parts: /);
  });
});
