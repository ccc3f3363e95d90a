// Requests to the key worker asked in one turn travel as one message, and answers ready together
// come back as one array (core/worker/client.ts, key-worker.ts): 48 concurrent P-256 signatures
// of 48 different messages' digests each verify (node:crypto) over their own message, so no answer reached
// another request; the worker answered in arrays, in fewer messages than requests; a lone
// request still goes and comes back on its own; and a worker that dies with requests queued
// fails them with the restart's error instead of leaving them pending. A request's bytes go on a
// buffer of their own size: a small Buffer sits in Node's shared pool, which the clone would copy
// whole (64 KiB on Node 24) along with whatever else it held.
import { createHash, createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../core/actions/dispatch.ts';
import { exactBuffers } from '../../core/worker/client.ts';
import { Vault } from '../../core/vault/vault.ts';

let dir: string;
let vault: Vault;
const seen: unknown[] = [];

async function ok(action: string, params: Record<string, unknown>): Promise<any> {
  const outcome = await dispatch(vault, action as never, params as never, 'test');
  if (!outcome.ok) throw new Error(`${action}: ${outcome.error.Code}: ${outcome.error.Message}`);
  return outcome.body;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deskkms-worker-batch-'));
  vault = await Vault.init(join(dir, 'vault'), { passphrase: Buffer.from('worker batch passphrase'), worker: { tap: (m) => seen.push(m) } });
});

afterAll(async () => {
  await vault.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the key worker protocol under load', () => {
  it('signs requests asked together, each answer for its own request, in fewer messages than requests', async () => {
    const { KeyMetadata, KeyVersionId } = await ok('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
    const { PublicKey } = await ok('GetPublicKey', { KeyId: KeyMetadata.KeyId, KeyVersionId });
    const publicKey = createPublicKey(PublicKey as string);
    seen.length = 0;
    const messages = Array.from({ length: 48 }, (_, i) => Buffer.from(`message ${i}`));
    const digests = messages.map((m) => createHash('sha256').update(m).digest());
    const signed = await Promise.all(digests.map((d) => ok('AsymmetricSign', { KeyId: KeyMetadata.KeyId, KeyVersionId, Algorithm: 'ECDSA_SHA_256', Digest: d.toString('base64') })));
    signed.forEach((s, i) => {
      const signature = Buffer.from(s.Value as string, 'base64');
      expect(verify('sha256', messages[i]!, { key: publicKey, dsaEncoding: 'der' }, signature), `signature ${i}`).toBe(true);
      expect(verify('sha256', messages[(i + 1) % messages.length]!, { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(false);
    });
    const arrays = seen.filter((m): m is unknown[] => Array.isArray(m));
    expect(arrays.length).toBeGreaterThan(0);
    expect(Math.max(...arrays.map((a) => a.length))).toBeGreaterThan(1);
    expect(seen.length).toBeLessThan(digests.length);
  });

  it('answers a lone request in a message of its own', async () => {
    const { KeyMetadata, KeyVersionId } = await ok('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
    seen.length = 0;
    await ok('AsymmetricSign', { KeyId: KeyMetadata.KeyId, KeyVersionId, Algorithm: 'ECDSA_SHA_256', Digest: Buffer.alloc(32, 9).toString('base64') });
    expect(seen).toHaveLength(1);
    expect(Array.isArray(seen[0])).toBe(false);
  });

  it('fails the requests still queued when the worker dies, and the restarted worker answers', async () => {
    const queued = Array.from({ length: 10 }, () => vault.worker.request({ op: 'lock' }));
    const killed = vault.worker.kill();
    const results = await Promise.allSettled(queued);
    await killed;
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'InternalFailure', message: expect.stringContaining('the key worker stopped unexpectedly') });
    expect(results.some((r) => r.status === 'rejected')).toBe(true);
    // The replacement starts locked and answers.
    await expect(vault.worker.request({ op: 'lock' })).resolves.toEqual({});
  });

  it('a request carries its own bytes, not the pool a small Buffer was cut from', () => {
    const pooled = Buffer.from('string to sign');
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.byteLength);
    const own = new Uint8Array([1, 2, 3]);
    const nested = { data: Buffer.from('nested') };
    const message = exactBuffers({ op: 'sign', data: pooled, own, nested, seq: 1 });
    expect(message.data.buffer.byteLength).toBe(pooled.byteLength);
    expect(Buffer.from(message.data).toString()).toBe('string to sign');
    expect(message.own).toBe(own);
    expect(message.nested).toBe(nested);
    // What crosses to the worker: structured clone of the message, the bytes' buffer exactly their size.
    expect(structuredClone(message).data.buffer.byteLength).toBe(14);
  });
});
