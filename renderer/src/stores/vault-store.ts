// The vault's lifecycle as the UI sees it: status (protection, keychain, locked, last backup),
// create, restore from a backup, unlock, lock. Holds metadata only: a passphrase or a share passes
// through create/restore/unlock and is never stored.
import { create } from 'zustand';
import type { AppParams, BackupContentsView, VaultStatusView } from '../../../core/contract/app-api.ts';
import { call, describeError } from '../api/bridge.ts';

export interface VaultState {
  readonly status: VaultStatusView | undefined;
  readonly busy: boolean;
  readonly error: { code: string; message: string } | undefined;
  readonly refresh: () => Promise<void>;
  readonly createVault: (protection: 'keychain' | 'passphrase', passphrase?: string) => Promise<boolean>;
  /** Restores the vault from a backup on first run; what the backup held, or undefined when refused. */
  readonly restoreVault: (params: AppParams<'Vault.Restore'>) => Promise<BackupContentsView | undefined>;
  readonly unlock: (passphrase?: string) => Promise<boolean>;
  readonly lock: () => Promise<void>;
  readonly clearError: () => void;
}

const initial = { status: undefined, busy: false, error: undefined };

export const useVaultStore = create<VaultState>()((set) => {
  async function run(step: () => Promise<VaultStatusView>): Promise<boolean> {
    set({ busy: true, error: undefined });
    try {
      set({ status: await step(), busy: false });
      return true;
    } catch (error) {
      set({ busy: false, error: describeError(error) });
      return false;
    }
  }
  return {
    ...initial,
    refresh: async () => void (await run(() => call('Vault.Status', {}))),
    createVault: (protection, passphrase) =>
      run(() => call('Vault.Create', protection === 'passphrase' ? { Protection: 'passphrase', Passphrase: passphrase ?? '' } : { Protection: 'keychain' })),
    restoreVault: async (params) => {
      let restored: BackupContentsView | undefined;
      await run(async () => {
        const { Restored, ...status } = await call('Vault.Restore', params);
        restored = Restored;
        return status;
      });
      return restored;
    },
    unlock: (passphrase) => run(() => call('Vault.Unlock', passphrase ? { Passphrase: passphrase } : {})),
    lock: async () => void (await run(() => call('Vault.Lock', {}))),
    clearError: () => set({ error: undefined }),
  };
});

export function resetVaultStore(): void {
  useVaultStore.setState(initial);
}

/**
 * Which screen the vault's state calls for. 'failed': the vault's status could not be read at all
 * (a damaged or unreadable vault); the error says why, and refresh() tries again.
 */
export function vaultPhase(state: Pick<VaultState, 'status' | 'error'>): 'loading' | 'failed' | 'first-run' | 'locked' | 'unlocked' {
  if (!state.status) return state.error ? 'failed' : 'loading';
  if (!state.status.Initialized) return 'first-run';
  return state.status.Locked ? 'locked' : 'unlocked';
}
