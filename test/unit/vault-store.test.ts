// The vault store against a real AppSession (a passphrase vault in a temp dir, reached through
// setBridge exactly as the renderer reaches the host): the phases the UI shows, the Codes of
// refusals, and that no passphrase stays in the store.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppSession } from '../../core/app/app-session.ts';
import { setBridge } from '../../renderer/src/api/bridge.ts';
import { resetVaultStore, useVaultStore, vaultPhase } from '../../renderer/src/stores/vault-store.ts';
import { tempDir } from '../integration/vault-helpers.ts';

const PASSPHRASE = 'correct horse battery staple';
const WRONG = 'incorrect donkey accumulator';

let dir: { path: string; remove(): void };
let session: AppSession;

const store = () => useVaultStore.getState();
const phase = () => vaultPhase(useVaultStore.getState());
/** Everything the store holds, as the devtools would show it. */
const snapshot = () => JSON.stringify(useVaultStore.getState());

beforeEach(() => {
  dir = tempDir('deskkms-vault-store-');
  session = new AppSession({ vaultDir: join(dir.path, 'vault'), caller: 'test' });
  setBridge({ call: (method, params) => session.call({ method, params }) as any });
  resetVaultStore();
});

afterEach(async () => {
  setBridge(undefined);
  resetVaultStore();
  await session.close();
  dir.remove();
});

describe('vault store', () => {
  it('moves loading → first-run → unlocked → locked → unlocked, with an honest protection status', async () => {
    expect(phase()).toBe('loading');
    await store().refresh();
    expect(phase()).toBe('first-run');
    expect(store().status).toMatchObject({ Initialized: false, Locked: true });

    expect(await store().createVault('passphrase', PASSPHRASE)).toBe(true);
    expect(phase()).toBe('unlocked');
    expect(store().status).toMatchObject({ Initialized: true, Locked: false, ProtectionKind: 'passphrase', KeyCount: 0 });
    expect(store().status!.Protection).toMatch(/passphrase/i);

    await store().lock();
    expect(phase()).toBe('locked');
    // Locked means locked: the host refuses key operations, whatever the UI shows.
    const refused = await session.call({ method: 'Keys.Inventory', params: {} });
    expect(refused).toMatchObject({ ok: false, error: { Code: 'Vault.Locked' } });

    expect(await store().unlock(PASSPHRASE)).toBe(true);
    expect(phase()).toBe('unlocked');
    expect(store().error).toBeUndefined();
    expect(snapshot()).not.toContain(PASSPHRASE);
  });

  it('refuses a short passphrase at create with InvalidParameter and stays on first run', async () => {
    await store().refresh();
    expect(await store().createVault('passphrase', 'short')).toBe(false);
    expect(store().error).toMatchObject({ code: 'InvalidParameter' });
    expect(store().error!.message).toMatch(/Passphrase/);
    expect(phase()).toBe('first-run');
    expect(snapshot()).not.toContain('short"');
  });

  it('a wrong passphrase gives Vault.Locked, keeps the vault locked, and the store holds no passphrase', async () => {
    await store().createVault('passphrase', PASSPHRASE);
    await store().lock();

    expect(await store().unlock(WRONG)).toBe(false);
    expect(store().error).toMatchObject({ code: 'Vault.Locked' });
    expect(store().error!.message).toMatch(/passphrase does not unlock/);
    expect(phase()).toBe('locked');
    expect(store().busy).toBe(false);
    expect(snapshot()).not.toContain(WRONG);

    // No passphrase at all for a passphrase vault: MissingParameter, named.
    expect(await store().unlock()).toBe(false);
    expect(store().error).toMatchObject({ code: 'MissingParameter' });

    // The audit log is read through an Action: not while the vault is locked.
    expect(await session.call({ method: 'Audit.List', params: { Action: 'UnlockVault' } })).toMatchObject({ ok: false, error: { Code: 'Vault.Locked' } });

    expect(await store().unlock(PASSPHRASE)).toBe(true);
    expect(store().error).toBeUndefined();
    expect(phase()).toBe('unlocked');

    // The failed attempts are in the audit log with their Codes.
    const list = await session.call({ method: 'Audit.List', params: { Action: 'UnlockVault' } });
    expect(list.ok).toBe(true);
    const codes = (list as any).value.Entries.map((e: any) => e.code);
    expect(codes).toEqual(['OK', 'MissingParameter', 'Vault.Locked']); // newest first
    expect(snapshot()).not.toContain(PASSPHRASE);
    expect(snapshot()).not.toContain(WRONG);
  });

  it('clearError forgets the last refusal', async () => {
    await store().refresh();
    await store().createVault('passphrase', 'short');
    expect(store().error).toBeDefined();
    store().clearError();
    expect(store().error).toBeUndefined();
  });
});
