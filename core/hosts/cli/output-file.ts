// Files the CLI writes for the user (signatures, shares): whole or not at all. The bytes go to a
// temporary file beside the target, fsynced, then moved into place, so a process killed mid-write
// leaves no truncated file under the final name. Without `replace` the move is link(2), which
// refuses a file that appeared meanwhile instead of replacing it. Several files (a finished
// request's signatures) are all in place or none: every temp is written first, then all are moved,
// and a failure on any moves back what was already moved; the directory is fsynced once at the end.
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { KmsError } from '../../contract/errors.ts';
import { errnoCode, fsyncPath } from '../../vault/durable.ts';

export interface OutputFileOptions {
  /** File mode (0600 for secrets, 0644 for public output). */
  readonly mode: number;
  /** Replace an existing file (--force); otherwise an existing target is refused with `exists`. */
  readonly replace: boolean;
  /** The refusal when the target exists and may not be replaced. */
  readonly exists: (target: string) => KmsError;
}

export interface OutputFile {
  readonly target: string;
  readonly data: Uint8Array | string;
}

let serial = 0;
function sideName(target: string, kind: string): string {
  serial += 1;
  return join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now().toString(36)}.${serial}.${kind}`);
}

interface Staged {
  readonly target: string;
  readonly temp: string;
  backup?: string;
  moved: boolean;
}

/** The temp's bytes under the target's name: link(2) (refusing a taken name) or, with `replace`, rename keeping the replaced file as `backup`. */
async function moveIntoPlace(entry: Staged, options: OutputFileOptions): Promise<void> {
  if (options.replace) {
    // The file this one replaces is kept (a second link) until every file is in place.
    const backup = sideName(entry.target, 'old');
    try {
      await fs.link(entry.target, backup);
      entry.backup = backup;
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
    }
    await fs.rename(entry.temp, entry.target);
  } else {
    try {
      await fs.link(entry.temp, entry.target);
    } catch (error) {
      if (errnoCode(error) === 'EEXIST') throw options.exists(entry.target);
      throw error;
    }
  }
  entry.moved = true;
}

/**
 * An output prepared before the work that produces its bytes: the temp file beside the target is
 * created now (a missing or read-only directory fails here, before anything is done), and
 * `commit` writes, fsyncs and moves it into place as writeFileAtomically does. `discard` (always
 * safe, also after commit) removes the temp.
 */
export async function prepareOutputFile(target: string, options: OutputFileOptions): Promise<{ commit(data: Uint8Array | string): Promise<string>; discard(): Promise<void> }> {
  const entry: Staged = { target, temp: sideName(target, 'partial'), moved: false };
  const handle = await fs.open(entry.temp, 'wx', options.mode);
  let open = true;
  const close = async () => {
    if (open) {
      open = false;
      await handle.close();
    }
  };
  return {
    async commit(data) {
      try {
        await handle.chmod(options.mode);
        await handle.writeFile(data);
        await handle.sync();
        await close();
        await moveIntoPlace(entry, options);
        await fsyncPath(dirname(target));
        return target;
      } finally {
        await close().catch(() => undefined);
        await fs.rm(entry.temp, { force: true }).catch(() => undefined);
        if (entry.backup !== undefined) await fs.rm(entry.backup, { force: true }).catch(() => undefined);
      }
    },
    async discard() {
      await close().catch(() => undefined);
      await fs.rm(entry.temp, { force: true }).catch(() => undefined);
    },
  };
}

export async function writeFileAtomically(target: string, data: Uint8Array | string, options: OutputFileOptions): Promise<string> {
  await writeFilesAtomically([{ target, data }], options);
  return target;
}

/**
 * Writes every file or none: each to its fsynced temp first, then each moved into place. On any
 * failure the files already moved are removed (with `replace`, the file each one replaced is put
 * back) and the temps are deleted, so the targets are as they were before the call.
 */
export async function writeFilesAtomically(files: readonly OutputFile[], options: OutputFileOptions): Promise<string[]> {
  const staged: Staged[] = [];
  try {
    try {
      for (const file of files) {
        const entry: Staged = { target: file.target, temp: sideName(file.target, 'partial'), moved: false };
        const handle = await fs.open(entry.temp, 'wx', options.mode);
        staged.push(entry);
        try {
          await handle.chmod(options.mode); // whatever the umask
          await handle.writeFile(file.data);
          await handle.sync();
        } finally {
          await handle.close();
        }
      }
      for (const entry of staged) await moveIntoPlace(entry, options);
      for (const dir of new Set(staged.map((e) => dirname(e.target)))) await fsyncPath(dir);
    } catch (error) {
      for (const entry of [...staged].reverse()) {
        if (!entry.moved) continue;
        if (entry.backup !== undefined) await fs.rename(entry.backup, entry.target).catch(() => undefined);
        else await fs.rm(entry.target, { force: true }).catch(() => undefined);
      }
      throw error;
    }
  } finally {
    for (const entry of staged) {
      await fs.rm(entry.temp, { force: true }).catch(() => undefined);
      if (entry.backup !== undefined) await fs.rm(entry.backup, { force: true }).catch(() => undefined);
    }
  }
  return staged.map((e) => e.target);
}
