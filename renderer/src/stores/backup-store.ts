// The backup just made, while its recovery shares wait to be printed or saved: kept here rather
// than in the Create backup panel, so that a look at another view does not lose words that are
// shown only once. Done (every share printed or saved) and Lock drop them.
import { create } from 'zustand';
import type { SharePageView, ShareInfoParam } from '../../../core/contract/app-api.ts';
import type { ActionResponse } from '../../../core/contract/responses.ts';

export interface CreatedBackup {
  readonly created: ActionResponse<'CreateBackup'>;
  readonly shares: readonly ShareInfoParam[];
  readonly pages: readonly SharePageView[];
}

export interface BackupState {
  readonly result: CreatedBackup | undefined;
  readonly setResult: (result: CreatedBackup | undefined) => void;
  /** Forgets the shares (and their pages), keeping what was made. */
  readonly dropShares: () => void;
}

export const useBackupStore = create<BackupState>()((set) => ({
  result: undefined,
  setResult: (result) => set({ result }),
  dropShares: () => set((s) => ({ result: s.result ? { ...s.result, shares: [], pages: [] } : undefined })),
}));

export function resetBackupStore(): void {
  useBackupStore.setState({ result: undefined });
}
