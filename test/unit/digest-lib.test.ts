// lib/digest.ts (the renderer's streamed hashing) against a real AppSession: a Blob of several
// 2 MiB chunks gives the Digest computed independently (node:crypto SHA-256; for SM2DSA the vault
// signs it and OpenSSL verifies that signature over the file, so SM3(Z_A || M) is checked by
// OpenSSL), progress climbs monotonically to the total, and an abort cancels the host session.
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppSession } from '../../core/app/app-session.ts';
import { STREAM_PART_BYTES, type DeskKmsBridge } from '../../core/contract/app-api.ts';
import type { SigningAlgorithm } from '../../core/contract/specs.ts';
import { startUiServer } from '../../core/hosts/ui/ui-server.ts';
import { call, createHttpBridge, kms, setBridge } from '../../renderer/src/api/bridge.ts';
import { FILE_CHUNK_BYTES, digestOf, type DigestProgress } from '../../renderer/src/lib/digest.ts';
import { runOpenssl } from '../interop/openssl-peer.ts';
import { tempDir } from '../integration/vault-helpers.ts';

let dir: { path: string; remove(): void };
let session: AppSession;
/** Every request the renderer side sent, in order, with its answer. */
const log: { method: string; params: any; result: any }[] = [];

const MESSAGE = new Uint8Array(randomBytes(2 * FILE_CHUNK_BYTES + 12_345));

async function key(KeySpec: string): Promise<{ KeyId: string; KeyVersionId: string }> {
  const created = await kms<any>('CreateKey', { KeySpec, KeyUsage: 'SIGN/VERIFY' });
  const KeyId = created.KeyMetadata.KeyId as string;
  const versions = await kms<any>('ListKeyVersions', { KeyId });
  return { KeyId, KeyVersionId: versions.KeyVersions.KeyVersion[0].KeyVersionId as string };
}

/** The bridge of these tests: the AppSession in this process, every request logged. */
function loggingBridge(): DeskKmsBridge {
  return {
    call: async (method, params) => {
      const result = await session.call({ method, params });
      log.push({ method, params, result });
      return result as any;
    },
  };
}

beforeAll(async () => {
  dir = tempDir('deskkms-digest-lib-');
  session = new AppSession({ vaultDir: join(dir.path, 'vault'), caller: 'test' });
  setBridge(loggingBridge());
  await call('Vault.Create', { Protection: 'passphrase', Passphrase: 'correct horse battery staple' });
});

afterAll(async () => {
  setBridge(undefined);
  await session.close();
  dir.remove();
});

function progressOf(updates: DigestProgress[]): void {
  expect(updates[0]).toEqual({ done: 0, total: MESSAGE.length });
  expect(updates.at(-1)).toEqual({ done: MESSAGE.length, total: MESSAGE.length });
  for (let i = 1; i < updates.length; i++) {
    expect(updates[i]!.done).toBeGreaterThan(updates[i - 1]!.done);
    expect(updates[i]!.total).toBe(MESSAGE.length);
  }
  // One report before the first chunk, then one per chunk.
  expect(updates).toHaveLength(1 + Math.ceil(MESSAGE.length / FILE_CHUNK_BYTES));
}

describe('digestOf', () => {
  it.each([
    ['EC_P256', 'ECDSA_SHA_256'],
    ['RSA_2048', 'RSA_PSS_SHA_256'],
    ['RSA_2048', 'RSA_PKCS1_SHA_256'],
  ] as const)('%s %s: a multi-chunk Blob hashes to SHA-256(message), with monotonic progress', async (spec, Algorithm) => {
    const target = { ...(await key(spec)), Algorithm: Algorithm as SigningAlgorithm };
    const updates: DigestProgress[] = [];
    log.length = 0;
    const digest = await digestOf(target, new Blob([MESSAGE]), (p) => updates.push(p));
    expect(digest).toBe(createHash('sha256').update(MESSAGE).digest('base64'));
    progressOf(updates);
    // Streamed: no request carried more than one chunk.
    const updatesSent = log.filter((l) => l.method === 'Digest.Update');
    expect(updatesSent).toHaveLength(3);
    for (const u of updatesSent) expect(Buffer.from(u.params.Chunk as string, 'base64').length).toBeLessThanOrEqual(FILE_CHUNK_BYTES);
    // Bytes and text go through the same path.
    expect(await digestOf(target, new TextEncoder().encode('hello'))).toBe(createHash('sha256').update('hello').digest('base64'));
  });

  it('EC_SM2 SM2DSA: the Digest is SM3(Z_A || M), which OpenSSL confirms by verifying a signature over the file', async () => {
    const target = { ...(await key('EC_SM2')), Algorithm: 'SM2DSA' as const };
    const updates: DigestProgress[] = [];
    const digest = await digestOf(target, new Blob([MESSAGE]), (p) => updates.push(p));
    progressOf(updates);
    expect(digest).not.toBe(createHash('sha256').update(MESSAGE).digest('base64'));
    const signed = await kms<any>('AsymmetricSign', { ...target, Digest: digest });
    const pub = await kms<any>('GetPublicKey', { KeyId: target.KeyId, KeyVersionId: target.KeyVersionId });
    const files = { msg: join(dir.path, 'msg.bin'), sig: join(dir.path, 'msg.sig'), pub: join(dir.path, 'pub.pem'), other: join(dir.path, 'other.bin') };
    writeFileSync(files.msg, MESSAGE);
    writeFileSync(files.sig, Buffer.from(signed.Value as string, 'base64'));
    writeFileSync(files.pub, pub.PublicKey as string);
    const args = (file: string) => ['dgst', '-sm3', '-verify', files.pub, '-sigopt', 'distid:1234567812345678', '-signature', files.sig, file];
    const ok = runOpenssl(args(files.msg));
    expect(ok.stdout.toString()).toContain('Verified OK');
    // The control: the same signature over a message one byte off does not verify.
    const other = MESSAGE.slice();
    other[FILE_CHUNK_BYTES + 1]! ^= 1;
    writeFileSync(files.other, other);
    expect(runOpenssl(args(files.other)).stdout.toString()).not.toContain('Verified OK');
  });

  it('an abort stops the stream, rejects with AbortError and aborts the host session', async () => {
    const target = { ...(await key('EC_P256')), Algorithm: 'ECDSA_SHA_256' as const };
    const controller = new AbortController();
    const updates: DigestProgress[] = [];
    log.length = 0;
    const run = digestOf(
      target,
      new Blob([MESSAGE]),
      (p) => {
        updates.push(p);
        if (p.done > 0) controller.abort();
      },
      controller.signal,
    );
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    const methods = log.map((l) => l.method);
    expect(methods).toEqual(['Digest.Begin', 'Digest.Update', 'Digest.Abort']);
    const sessionId = log[0]!.result.value.SessionId as string;
    expect(log[2]!.params).toEqual({ SessionId: sessionId });
    expect(log[2]!.result).toEqual({ ok: true, value: { Aborted: true } });
    expect(updates.at(-1)!.done).toBe(FILE_CHUNK_BYTES);
    // The session is gone on the host: it takes no more chunks and gives no Digest.
    await expect(call('Digest.Finish', { SessionId: sessionId })).rejects.toMatchObject({ code: 'InvalidParameter' });

    // An already-aborted signal sends no chunk at all.
    log.length = 0;
    await expect(digestOf(target, new Blob([MESSAGE]), undefined, AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
    expect(log.map((l) => l.method)).toEqual(['Digest.Begin', 'Digest.Abort']);
  });
});

// The page's own path in `deskkms ui`: the fetch bridge sends each STREAM_PART_BYTES slice of the
// Blob as the body of one POST to /api/chunk, and the real browser host hashes it as it arrives.
// Node's fetch plays the browser: it sends the page's Origin and keeps the session cookie.
describe('digestOf through the browser host (parts as bytes)', () => {
  it('a Blob of two parts and a tail hashes to SHA-256(message), one request and one progress report per part; an abort mid-part aborts the host session', async () => {
    const server = await startUiServer({ call: (r) => session.call(r), staticDir: join(import.meta.dirname, '../../renderer') });
    const sent: { path: string; bytes: number }[] = [];
    let cookie = '';
    let abortOnPart: AbortController | undefined;
    const browserFetch: typeof fetch = async (input, init = {}) => {
      const path = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const headers = { ...(init.headers as Record<string, string>), origin: server.origin, ...(cookie ? { cookie } : {}) };
      if (init.body instanceof Blob) {
        sent.push({ path, bytes: init.body.size });
        const cancel = abortOnPart;
        abortOnPart = undefined;
        if (cancel) setTimeout(() => cancel.abort(), 0);
      }
      const response = await fetch(`${server.origin}${path}`, { ...init, headers });
      const set = response.headers.getSetCookie()[0];
      if (set) cookie = set.split(';')[0]!;
      return response;
    };
    const token = new URL(server.url).hash;
    setBridge(createHttpBridge(browserFetch, { hash: () => token, dropHash: () => undefined, storage: undefined }));
    try {
      const target = { ...(await key('EC_P256')), Algorithm: 'ECDSA_SHA_256' as const };
      const message = new Uint8Array(randomBytes(2 * STREAM_PART_BYTES + 54_321));
      const updates: DigestProgress[] = [];
      const digest = await digestOf(target, new Blob([message]), (p) => updates.push(p));
      expect(digest).toBe(createHash('sha256').update(message).digest('base64'));
      expect(sent.map((s) => s.bytes)).toEqual([STREAM_PART_BYTES, STREAM_PART_BYTES, 54_321]);
      for (const s of sent) expect(s.path).toMatch(/^\/api\/chunk\?method=Digest\.Update&session=[0-9a-f-]{36}$/);
      expect(updates.map((u) => u.done)).toEqual([0, STREAM_PART_BYTES, 2 * STREAM_PART_BYTES, message.length]);

      // Cancelled while the first part uploads: AbortError, and the host session is gone.
      sent.length = 0;
      const controller = new AbortController();
      abortOnPart = controller;
      await expect(digestOf(target, new Blob([message]), undefined, controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
      const cancelled = new URL(sent[0]!.path, server.origin).searchParams.get('session')!;
      await expect(call('Digest.Finish', { SessionId: cancelled })).rejects.toMatchObject({ code: 'InvalidParameter' });
    } finally {
      setBridge(loggingBridge());
      await server.close();
    }
  });
});

// Electron's path: the file the user chose in main's dialog is read by the host; the renderer sends
// only which part to hash next (Digest.UpdateFile), one call and one progress report per part.
describe('digestOf a file the host reads itself (Electron\'s dialog)', () => {
  it('hashes the chosen file part by part, with progress, to SHA-256(file)', async () => {
    const bytes = new Uint8Array(randomBytes(STREAM_PART_BYTES + 99));
    const path = join(dir.path, 'chosen.bin');
    writeFileSync(path, bytes);
    const granted = await session.grantFile(path);
    const target = { ...(await key('EC_P256')), Algorithm: 'ECDSA_SHA_256' as const };
    log.length = 0;
    const updates: DigestProgress[] = [];
    const digest = await digestOf(target, { picked: true, handle: granted.Handle, name: granted.Name, size: granted.Size }, (p) => updates.push(p));
    expect(digest).toBe(createHash('sha256').update(bytes).digest('base64'));
    expect(updates.map((u) => u.done)).toEqual([0, STREAM_PART_BYTES, bytes.length]);
    const parts = log.filter((l) => l.method === 'Digest.UpdateFile').map((l) => [l.params.Offset, l.params.Length]);
    expect(parts).toEqual([[0, STREAM_PART_BYTES], [STREAM_PART_BYTES, 99]]);
    expect(log.some((l) => l.method === 'Digest.Update')).toBe(false);
  });
});
