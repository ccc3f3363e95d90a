// The renderer's first-hour decisions (issue 17) without a browser: a vault whose status cannot be
// read is its own phase (an error screen with Retry, not "Opening the vault…" forever), a damaged
// vault database reaches it through the real AppSession, and only an Enabled key is offered for a
// cryptographic operation, with the reason naming the Keys tab button.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppSession } from '../../core/app/app-session.ts';
import { setBridge } from '../../renderer/src/api/bridge.ts';
import { keyStateProblem } from '../../renderer/src/components/crypto/key-state-problem.ts';
import { resetVaultStore, useVaultStore, vaultPhase } from '../../renderer/src/stores/vault-store.ts';
import { tempDir } from '../integration/vault-helpers.ts';

describe('vaultPhase', () => {
  it('is failed when the status could not be read, loading while it is being read', () => {
    expect(vaultPhase({ status: undefined, error: undefined })).toBe('loading');
    expect(vaultPhase({ status: undefined, error: { code: 'Vault.Corrupt', message: 'damaged' } })).toBe('failed');
  });
});

describe('a damaged vault database', () => {
  let dir: { path: string; remove(): void } | undefined;
  afterEach(() => {
    setBridge(undefined);
    resetVaultStore();
    dir?.remove();
  });

  it('puts the store in the failed phase with Vault.Corrupt', async () => {
    dir = tempDir('deskkms-first-hour-gate-');
    const vaultDir = join(dir.path, 'vault');
    const first = new AppSession({ vaultDir, caller: 'test' });
    setBridge({ call: (method, params) => first.call({ method, params }) as any });
    resetVaultStore();
    expect(await useVaultStore.getState().createVault('passphrase', 'correct horse battery staple')).toBe(true);

    writeFileSync(join(vaultDir, 'vault.db'), Buffer.alloc(8192, 0x5a));
    const second = new AppSession({ vaultDir, caller: 'test' });
    setBridge({ call: (method, params) => second.call({ method, params }) as any });
    resetVaultStore();
    await useVaultStore.getState().refresh();
    expect(vaultPhase(useVaultStore.getState())).toBe('failed');
    expect(useVaultStore.getState().error?.code).toBe('Vault.Corrupt');
  });
});

describe('keyStateProblem', () => {
  it('is undefined for an Enabled key (or none) and names the Keys tab button otherwise', () => {
    expect(keyStateProblem(undefined)).toBeUndefined();
    expect(keyStateProblem({ KeyState: 'Enabled' })).toBeUndefined();
    expect(keyStateProblem({ KeyState: 'Disabled' })).toBe('This key is disabled: enable it on the Keys tab (Enable key)');
    expect(keyStateProblem({ KeyState: 'PendingDeletion' })).toMatch(/Cancel deletion/);
    expect(keyStateProblem({ KeyState: 'PendingImport' })).toMatch(/import it on the Keys tab/);
  });
});
