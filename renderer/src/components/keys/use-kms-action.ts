// One mutation from the key views: runs it, remembers its error (shown with its Code next to the
// control that caused it), announces success, and always reloads the inventory afterwards, since
// even a refused call may race a change made elsewhere (the CLI on the same vault).
import { useCallback, useState } from 'react';
import { describeError } from '../../api/bridge.ts';
import { useKeysStore } from '../../stores/keys-store.ts';
import { useUiStore } from '../../stores/ui-store.ts';

export interface KmsAction {
  /** What is running (a short label), or undefined when idle. */
  readonly busy: string | undefined;
  readonly error: { code: string; message: string } | undefined;
  run(label: string, step: () => Promise<unknown>, success?: string): Promise<boolean>;
  clearError(): void;
}

export function useKmsAction(): KmsAction {
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const [error, setError] = useState<{ code: string; message: string } | undefined>(undefined);
  const run = useCallback(async (label: string, step: () => Promise<unknown>, success?: string): Promise<boolean> => {
    setBusy(label);
    setError(undefined);
    let ok = false;
    try {
      await step();
      ok = true;
      if (success) useUiStore.getState().notify('ok', success);
    } catch (err) {
      setError(describeError(err));
    }
    await useKeysStore.getState().load();
    setBusy(undefined);
    return ok;
  }, []);
  const clearError = useCallback(() => setError(undefined), []);
  return { busy, error, run, clearError };
}
