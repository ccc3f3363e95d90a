// A passphrase vault's unlock key derived ahead (prederiveKek, started by a CLI command's early key
// worker): the unwrap that follows takes it only for the very same passphrase, salt and cost, and
// every passphrase copy and unused derived key is wiped. scrypt is node:crypto's, recorded here.
import type * as NodeCrypto from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { discardEarlyKek, prederiveKek, unwrapDataKey, wrapDataKey } from './passphrase.ts';

/** Each scrypt call: its password as given (a view of the caller's buffer) and the key it produced. */
const scryptLog = vi.hoisted(() => [] as { password: Uint8Array; key?: Buffer }[]);
/** failNext: the next scrypt call fails instead of deriving. */
const scryptControl = vi.hoisted(() => ({ failNext: false }));
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof NodeCrypto>();
  const scrypt = (password: Uint8Array, salt: Uint8Array, length: number, options: NodeCrypto.ScryptOptions, done: (error: Error | null, key: Buffer) => void) => {
    const entry: { password: Uint8Array; key?: Buffer } = { password };
    scryptLog.push(entry);
    if (scryptControl.failNext) {
      scryptControl.failNext = false;
      entry.key = Buffer.alloc(0);
      setImmediate(() => done(new Error('simulated: memory limit exceeded'), Buffer.alloc(0)));
      return;
    }
    real.scrypt(password, salt, length, options, (error, key) => {
      entry.key = key;
      done(error, key);
    });
  };
  return { ...real, default: { ...real, scrypt }, scrypt };
});

const N = 2 ** 14;
const encode = (text: string) => new TextEncoder().encode(text);
const right = 'correct horse battery staple';
const dataKey = new Uint8Array(randomBytes(32));
const wrapped = await wrapDataKey(dataKey, encode(right), { N });
const text = JSON.stringify(wrapped);
const zero = (bytes: Uint8Array) => bytes.every((b) => b === 0);
/** Resolves once every scrypt started so far has produced its key. */
const derivationsDone = () => vi.waitFor(() => expect(scryptLog.every((e) => e.key !== undefined)).toBe(true));

beforeEach(() => {
  discardEarlyKek();
  scryptLog.length = 0;
});

describe('prederiveKek then unwrapDataKey', () => {
  it('the same passphrase and header: one scrypt in all, the right data key, the early passphrase wiped', async () => {
    const early = encode(right);
    prederiveKek(text, early);
    expect(scryptLog).toHaveLength(1);
    expect(await unwrapDataKey(JSON.parse(text), encode(right))).toEqual(dataKey);
    expect(scryptLog).toHaveLength(1);
    expect(zero(early)).toBe(true);
    // The derived key is the unwrap's: it wipes it after use, as it wipes its own.
    expect(zero(scryptLog[0]!.key!)).toBe(true);
  });

  it('an early passphrase that is not the unlock\'s is never used: the unlock derives its own (right, then wrong)', async () => {
    const wrongEarly = encode('correct horse battery stapLe');
    prederiveKek(text, wrongEarly);
    expect(await unwrapDataKey(JSON.parse(text), encode(right))).toEqual(dataKey);
    expect(scryptLog).toHaveLength(2);
    await derivationsDone();
    expect(zero(wrongEarly)).toBe(true);
    expect(zero(scryptLog[0]!.key!)).toBe(true); // the unused early key, wiped when it was done

    // The other way round: the early derivation from the right passphrase never opens the vault
    // for an unlock given a wrong one (of the same length and of another).
    for (const wrong of ['correct horse battery stapLe', 'hunter2']) {
      prederiveKek(text, encode(right));
      await expect(unwrapDataKey(JSON.parse(text), encode(wrong))).rejects.toMatchObject({ code: 'Vault.Locked' });
    }
  });

  it('a header that changed in between (another salt, another cost) is unwrapped from its own derivation', async () => {
    const rewrapped = await wrapDataKey(dataKey, encode(right), { N });
    const costlier = await wrapDataKey(dataKey, encode(right), { N: 2 * N });
    const cases: [string, object, 'opens' | 'Vault.Locked'][] = [
      ['rewrapped under a new salt', rewrapped, 'opens'],
      ['a doubled cost and a new salt', costlier, 'opens'],
      // Same salt, another N: the early key would not be this one's (GCM would refuse either way; the scrypt count tells).
      ['a doubled cost, the same salt', { ...costlier, salt: wrapped.salt }, 'Vault.Locked'],
      ['another r, the same salt', { ...wrapped, r: 4 }, 'Vault.Locked'],
      ['another p, the same salt', { ...wrapped, p: 2 }, 'Vault.Locked'],
    ];
    for (const [what, now, outcome] of cases) {
      scryptLog.length = 0;
      prederiveKek(text, encode(right));
      const unwrapped = unwrapDataKey(JSON.parse(JSON.stringify(now)), encode(right));
      if (outcome === 'opens') expect(await unwrapped, what).toEqual(dataKey);
      else await expect(unwrapped, what).rejects.toMatchObject({ code: outcome });
      expect(scryptLog, what).toHaveLength(2);
    }
  });

  it('is taken once: the next unwrap derives again', async () => {
    prederiveKek(text, encode(right));
    await unwrapDataKey(JSON.parse(text), encode(right));
    await unwrapDataKey(JSON.parse(text), encode(right));
    expect(scryptLog).toHaveLength(2);
  });

  it('a malformed header or passphrase starts nothing and wipes the passphrase; the unwrap reports the damage itself', async () => {
    for (const bad of ['', '{', '[]', JSON.stringify({ ...wrapped, N: 3 }), JSON.stringify({ ...wrapped, salt: 'AAAA' }), JSON.stringify({ ...wrapped, kdf: 'argon2' })]) {
      const passphrase = encode(right);
      prederiveKek(bad, passphrase);
      expect(zero(passphrase), bad).toBe(true);
    }
    prederiveKek(text, new Uint8Array(0));
    expect(scryptLog).toHaveLength(0);
    await expect(unwrapDataKey({ ...wrapped, N: 3 }, encode(right))).rejects.toMatchObject({ code: 'Vault.Corrupt' });
  });

  it('an early derivation that failed is not the answer: the unwrap derives again', async () => {
    scryptControl.failNext = true; // as when the memory for it runs out
    prederiveKek(text, encode(right));
    expect(await unwrapDataKey(JSON.parse(text), encode(right))).toEqual(dataKey);
    expect(scryptLog).toHaveLength(2);
  });

  it('the key worker wipes it at its first request that is not an unlock', async () => {
    const { KeyWorkerCore } = await import('../worker/worker-core.ts');
    const core = new KeyWorkerCore();
    const passphrase = encode(right);
    prederiveKek(text, passphrase);
    expect(await core.handle({ seq: 1, op: 'lock' })).toEqual({ seq: 1, ok: true, value: {} });
    expect(zero(passphrase)).toBe(true);
    const again = encode(right);
    prederiveKek(text, again);
    await core.handle({ seq: 2, op: 'newAccessKey', accessKeyId: 'LTAI1' }); // refused (locked), and still wipes it
    expect(zero(again)).toBe(true);
    await derivationsDone();
    expect(scryptLog.map((e) => zero(e.key!))).toEqual([true, true]);
  });

  it('discardEarlyKek and a second prederive wipe the one waiting', async () => {
    const first = encode(right);
    prederiveKek(text, first);
    const second = encode(right);
    prederiveKek(text, second);
    expect(zero(first)).toBe(true);
    discardEarlyKek();
    expect(zero(second)).toBe(true);
    await derivationsDone();
    expect(scryptLog.map((e) => zero(e.key!))).toEqual([true, true]);
    await unwrapDataKey(JSON.parse(text), encode(right));
    expect(scryptLog).toHaveLength(3);
  });
});
