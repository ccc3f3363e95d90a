// The browser host's shared folder (`deskkms ui --files DIR`): a dialog that lists it (Files.List)
// and chooses a file in it (Files.Choose). The host then reads the file itself, as Electron's main
// does a file chosen in its dialog, so a large artifact is hashed at the speed of the disk instead
// of Chromium's upload. Where the host shares no folder, nothing is shown.
import { useEffect, useState } from 'react';
import type { HostFolderView } from '../../../../core/contract/app-api.ts';
import { AppError, call, describeError, hostPicksFiles } from '../../api/bridge.ts';
import type { PickedFile } from '../../lib/digest.ts';
import { Dialog, ErrorLine, type Failure } from '../common.tsx';
import { formatBytes } from './bytes.ts';

/** The shared folder's name, once asked: null where the host shares none. */
let sharedRoot: Promise<string | null> | undefined;

/** Forgets what the host answered (tests install another bridge). */
export function forgetSharedFolder(): void {
  sharedRoot = undefined;
}

/** The name of the folder the host shares, or null; undefined until the host answered. */
export function useSharedFolder(): string | null | undefined {
  const [root, setRoot] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    // Electron has its own dialog and shares no folder.
    if (hostPicksFiles()) {
      setRoot(null);
      return;
    }
    let live = true;
    sharedRoot ??= call('Files.List', {}).then(
      (view) => view.Root,
      (error: unknown) => {
        // Asked again next time unless the host said it shares nothing (a locked vault, a lost connection).
        if (!(error instanceof AppError && error.code === 'UnsupportedOperation')) sharedRoot = undefined;
        return null;
      },
    );
    void sharedRoot.then((name) => live && setRoot(name));
    return () => {
      live = false;
    };
  }, []);
  return root;
}

/** "Choose in DIR…": a dialog over the shared folder; a chosen file becomes a PickedFile the host reads. */
export function SharedFolderPicker({ root, disabled, onPicked }: { root: string; disabled?: boolean; onPicked: (file: PickedFile) => void }) {
  const [open, setOpen] = useState(false);
  const [view, setView] = useState<HostFolderView | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Failure>(undefined);

  async function step(work: () => Promise<void>): Promise<void> {
    setBusy(true);
    setError(undefined);
    try {
      await work();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  }

  const list = (Path: string) => step(async () => setView(await call('Files.List', { Path })));
  const choose = (Path: string) =>
    step(async () => {
      const picked = await call('Files.Choose', { Path });
      onPicked({ picked: true, handle: picked.Handle, name: picked.Name, size: picked.Size });
      setOpen(false);
    });
  const within = (name: string) => (view?.Path ? `${view.Path}/${name}` : name);

  return (
    <>
      <button
        type="button"
        className="file-button"
        disabled={disabled}
        onClick={() => {
          setOpen(true);
          void list('');
        }}
      >
        Choose in {root}…
      </button>
      <Dialog title={`Files in ${root}`} open={open} onClose={() => setOpen(false)} testId="shared-folder">
        <p className="muted">
          The host reads the file you choose here itself, from <strong>{root}</strong>{view?.Path ? `/${view.Path}` : ''}: nothing is uploaded from the page.
        </p>
        <ul className="shared-folder" aria-busy={busy}>
          {view?.Path ? (
            <li>
              <button type="button" className="link" disabled={busy} onClick={() => void list(view.Path.split('/').slice(0, -1).join('/'))}>
                ↑ Up
              </button>
            </li>
          ) : null}
          {view?.Entries.map((entry) => (
            <li key={`${entry.Kind}:${entry.Name}`}>
              {entry.Kind === 'folder' ? (
                <button type="button" className="link" disabled={busy} onClick={() => void list(within(entry.Name))}>
                  {entry.Name}/
                </button>
              ) : (
                <button type="button" className="link" disabled={busy} onClick={() => void choose(within(entry.Name))}>
                  {entry.Name} <span className="muted">({formatBytes(entry.Size ?? 0)})</span>
                </button>
              )}
            </li>
          ))}
          {view && view.Entries.length === 0 ? <li className="muted">This folder is empty.</li> : null}
        </ul>
        {view?.Truncated ? <p className="muted">Only the first {view.Entries.length} entries are listed.</p> : null}
        <ErrorLine error={error} />
      </Dialog>
    </>
  );
}
