// The selected key's detail (Keys.Detail: metadata, aliases, tags, every version's public key and
// certificates) loaded ONCE per key and shared by the panes that show it (KeyDetail, KeyVersions,
// PublicKeyPanel, CertificatesPanel), so that a click on a key is one audited read, not one per
// Action per version. It is read again when the key's inventory summary changes (every change made
// in the key views reloads the inventory) and when a pane says it changed something the summary
// does not show (a certificate attached).
import { createContext, useCallback, useContext, useEffect, useState } from 'react';
import type { AppResults, KeySummary, KeyVersionDetailView } from '../../../../core/contract/app-api.ts';
import { call, describeError } from '../../api/bridge.ts';

export type KeyDetailData = AppResults['Keys.Detail'];

export interface KeyDetailState {
  /** The key's detail; undefined until the first answer for this key. */
  readonly detail: KeyDetailData | undefined;
  readonly error: { code: string; message: string } | undefined;
  /** Reads the detail again (after a change the inventory does not show). */
  readonly refresh: () => void;
}

const NONE: KeyDetailState = { detail: undefined, error: undefined, refresh: () => undefined };
export const KeyDetailContext = createContext<KeyDetailState>(NONE);

/** The detail of `keySummary`'s key, read again when its summary (state, aliases, tags, versions...) changes. */
export function useKeyDetailLoader(keySummary: KeySummary): KeyDetailState {
  const keyId = keySummary.KeyId;
  const stamp = JSON.stringify(keySummary);
  const [reloads, setReloads] = useState(0);
  const [state, setState] = useState<{ keyId: string; detail?: KeyDetailData; error?: { code: string; message: string } }>({ keyId });
  const refresh = useCallback(() => setReloads((n) => n + 1), []);

  useEffect(() => {
    let live = true;
    call('Keys.Detail', { KeyId: keyId }).then(
      (detail) => live && setState({ keyId, detail }),
      (err: unknown) => live && setState((s) => ({ keyId, ...(s.keyId === keyId && s.detail ? { detail: s.detail } : {}), error: describeError(err) })),
    );
    return () => {
      live = false;
    };
  }, [keyId, stamp, reloads]);

  // Another key's detail is never shown while this one loads.
  const current = state.keyId === keyId ? state : { keyId };
  return { detail: current.detail, error: current.error, refresh };
}

export function useKeyDetail(): KeyDetailState {
  return useContext(KeyDetailContext);
}

/** One version's part of the detail, when it is loaded. */
export function useVersionDetail(keyVersionId: string): KeyVersionDetailView | undefined {
  return useKeyDetail().detail?.Versions.find((v) => v.KeyVersionId === keyVersionId);
}
