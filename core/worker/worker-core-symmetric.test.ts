// The key worker's symmetric ops (issue 18): a symmetric version is made, used and forgotten inside
// the worker; its key never comes out (generate answers no key), GCM under it authenticates the
// associated data, and a changed byte or another key's sealed material is refused.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyWorkerCore } from './worker-core.ts';
import type { SealedKey, WorkerResults } from './protocol.ts';

let seq = 0;
async function call<T extends keyof WorkerResults>(worker: KeyWorkerCore, request: Record<string, unknown> & { op: T }): Promise<WorkerResults[T]> {
  const response = await worker.handle({ seq: ++seq, ...request });
  if (!response.ok) throw Object.assign(new Error(response.error.message), { code: response.error.code });
  return response.value as WorkerResults[T];
}

async function unlockedWorker(): Promise<KeyWorkerCore> {
  const worker = new KeyWorkerCore();
  await call(worker, { op: 'init', vaultId: randomUUID(), protection: { kind: 'passphrase', passphrase: new TextEncoder().encode('correct horse'), kdfN: 2 ** 14 } });
  return worker;
}

describe.each([
  ['Aliyun_AES_256', 32],
  ['Aliyun_SM4', 16],
] as const)('%s in the key worker', (spec, keyBytes) => {
  it('generates a version with no public key whose key stays sealed, and GCM round-trips under it', async () => {
    const worker = await unlockedWorker();
    const ref = { keyId: randomUUID(), keyVersionId: randomUUID(), spec };
    const generated = await call(worker, { op: 'generate', ...ref });
    expect(generated.publicKey.length).toBe(0);
    // Sealed: the key, a nonce and a tag; the raw key bytes are nowhere in the answer.
    expect(generated.sealed.length).toBeGreaterThan(keyBytes);
    const key: SealedKey = { ...ref, sealed: generated.sealed };
    const aad = new TextEncoder().encode('header{"purpose":"test"}');
    const plaintext = new TextEncoder().encode('a database password');
    const enc = await call(worker, { op: 'symEncrypt', key, plaintext, aad });
    expect(enc.iv.length).toBe(12);
    expect(enc.tag.length).toBe(16);
    expect(enc.ciphertext.length).toBe(plaintext.length);
    expect(Buffer.from(enc.ciphertext).equals(Buffer.from(plaintext))).toBe(false);
    const dec = await call(worker, { op: 'symDecrypt', key, iv: enc.iv, ciphertext: enc.ciphertext, tag: enc.tag, aad });
    expect(new TextDecoder().decode(dec.plaintext)).toBe('a database password');
    // Two encryptions of one plaintext differ (a random IV per call).
    const again = await call(worker, { op: 'symEncrypt', key, plaintext, aad });
    expect(Buffer.from(again.iv).equals(Buffer.from(enc.iv))).toBe(false);

    // After forget (and so from the sealed material alone), the same answer.
    await call(worker, { op: 'forget', keyVersionIds: [ref.keyVersionId] });
    expect(new TextDecoder().decode((await call(worker, { op: 'symDecrypt', key, iv: enc.iv, ciphertext: enc.ciphertext, tag: enc.tag, aad })).plaintext)).toBe('a database password');

    // Another AAD, a flipped ciphertext byte or IV byte: InvalidCiphertext, never plaintext.
    const flip = (b: Uint8Array) => Uint8Array.from(b, (x, i) => (i === 0 ? x ^ 1 : x));
    for (const bad of [
      { iv: enc.iv, ciphertext: enc.ciphertext, tag: enc.tag, aad: new TextEncoder().encode('header{"purpose":"other"}') },
      { iv: enc.iv, ciphertext: flip(enc.ciphertext), tag: enc.tag, aad },
      { iv: flip(enc.iv), ciphertext: enc.ciphertext, tag: enc.tag, aad },
      { iv: enc.iv, ciphertext: enc.ciphertext, tag: flip(enc.tag), aad },
    ]) {
      await expect(call(worker, { op: 'symDecrypt', key, ...bad })).rejects.toMatchObject({ code: 'InvalidCiphertext' });
    }
  });

  it("refuses a version's sealed material under another version's name (the seal binds it), and asymmetric ops on it", async () => {
    const worker = await unlockedWorker();
    const ref = { keyId: randomUUID(), keyVersionId: randomUUID(), spec };
    const { sealed } = await call(worker, { op: 'generate', ...ref });
    await call(worker, { op: 'forget', keyVersionIds: [ref.keyVersionId] });
    const moved: SealedKey = { ...ref, keyVersionId: randomUUID(), sealed };
    await expect(call(worker, { op: 'symEncrypt', key: moved, plaintext: new Uint8Array(1), aad: new Uint8Array(0) })).rejects.toMatchObject({ code: 'Vault.Corrupt' });
    await expect(call(worker, { op: 'sign', key: { ...ref, sealed }, algorithm: 'ECDSA_SHA_256', digest: new Uint8Array(32) })).rejects.toMatchObject({ code: 'UnsupportedOperation' });
  });

  it('is locked with the vault: after lock nothing is encrypted', async () => {
    const worker = await unlockedWorker();
    const ref = { keyId: randomUUID(), keyVersionId: randomUUID(), spec };
    const { sealed } = await call(worker, { op: 'generate', ...ref });
    await call(worker, { op: 'lock' });
    await expect(call(worker, { op: 'symEncrypt', key: { ...ref, sealed }, plaintext: new Uint8Array(1), aad: new Uint8Array(0) })).rejects.toMatchObject({ code: 'Vault.Locked' });
  });
});

describe('a symmetric key never leaves the worker', () => {
  it('refuses exportEncrypted for a symmetric version, even when asked directly', async () => {
    const worker = await unlockedWorker();
    const ref = { keyId: randomUUID(), keyVersionId: randomUUID(), spec: 'Aliyun_AES_256' as const };
    const { sealed } = await call(worker, { op: 'generate', ...ref });
    await expect(call(worker, { op: 'exportEncrypted', key: { ...ref, sealed }, passphrase: new TextEncoder().encode('a long passphrase'), kdf: 'pbkdf2' })).rejects.toMatchObject({ code: 'UnsupportedOperation' });
  });
});
