// The browser host's shared folder (`deskkms ui --files DIR`): the one folder whose files the host
// may read itself, so that a release artifact is hashed for signing at the speed of the disk and
// the hash instead of Chromium's upload (~220–400 MiB/s here, whatever the transport). A page has
// no path for a file it holds, so where the user shares a folder, the page lists it (Files.List)
// and chooses a file in it (Files.Choose); the host opens that file and the page reads it no
// further than Electron's renderer does a file chosen in main's dialog (FileGrants, *.UpdateFile).
//
// Nothing outside the folder is reached: a path is relative, holds no `.` or `..` (the contract),
// and is resolved with every symbolic link followed (realpath) before it is checked to lie inside
// the folder's own real path; a file is opened without following a last link, and on Linux the
// descriptor's own path (/proc/self/fd) is checked again after the open, so a link swapped in
// between the check and the open is refused, not read. Sharing is off unless the user asks for it.
import { constants } from 'node:fs';
import { open, opendir, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import { basename, join, sep } from 'node:path';
import { HOST_FOLDER_ENTRIES_MAX, type HostFolderEntryView, type HostFolderView } from '../contract/app-api.ts';
import { KmsError } from '../contract/errors.ts';
import { escapeText } from '../contract/escape-text.ts';

function outside(path: string): KmsError {
  return new KmsError('Forbidden.NoPermission', `${escapeText(path, 512)} is outside the shared folder`);
}

function unreadable(path: string, error: NodeJS.ErrnoException): KmsError {
  if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return new KmsError('InvalidParameter', `${escapeText(path, 512)} does not exist in the shared folder`);
  return new KmsError('InvalidParameter', `${escapeText(path, 512)} cannot be read (${error.code ?? error.message})`);
}

export class HostFolder {
  /** The folder's real path (every link resolved). */
  private readonly root: string;

  private constructor(root: string) {
    this.root = root;
  }

  /** The folder the user named; refused unless it is a folder that exists. */
  static async open(dir: string): Promise<HostFolder> {
    const real = await realpath(dir).catch((error: NodeJS.ErrnoException) => {
      throw new KmsError('InvalidParameter', `--files: ${escapeText(dir, 512)} cannot be shared (${error.code ?? error.message})`);
    });
    if (!(await stat(real)).isDirectory()) throw new KmsError('InvalidParameter', `--files: ${escapeText(dir, 512)} is not a folder`);
    return new HostFolder(real);
  }

  /** The shared folder's name, for the page (the full path stays here). */
  get name(): string {
    return basename(this.root) || this.root;
  }

  /** Whether `real` (a resolved path) is the folder or lies inside it. */
  private contains(real: string): boolean {
    return real === this.root || real.startsWith(this.root.endsWith(sep) ? this.root : this.root + sep);
  }

  /** `path` (relative, as the contract took it) resolved with every link followed; refused outside the folder. */
  private async resolve(path: string): Promise<string> {
    const real = await realpath(join(this.root, path)).catch((error: NodeJS.ErrnoException) => {
      throw unreadable(path, error);
    });
    if (!this.contains(real)) throw outside(path);
    return real;
  }

  /** The entries of the folder at `path`: folders first, then files, each by name; other kinds left out. */
  async list(path = ''): Promise<HostFolderView> {
    const real = await this.resolve(path);
    if (!(await stat(real)).isDirectory()) throw new KmsError('InvalidParameter', `${escapeText(path, 512)} is not a folder`);
    const entries: HostFolderEntryView[] = [];
    let truncated = false;
    const dir = await opendir(real);
    for await (const entry of dir) {
      if (entries.length >= HOST_FOLDER_ENTRIES_MAX) {
        truncated = true;
        break;
      }
      // A link is listed as what it points to, and only when that lies inside the folder.
      const target = entry.isSymbolicLink() ? await realpath(join(real, entry.name)).catch(() => undefined) : join(real, entry.name);
      if (target === undefined || !this.contains(target)) continue;
      const stats = await stat(target).catch(() => undefined);
      if (stats?.isDirectory()) entries.push({ Name: entry.name, Kind: 'folder' });
      else if (stats?.isFile()) entries.push({ Name: entry.name, Kind: 'file', Size: stats.size });
    }
    // (The loop closes the folder however it ends: by the end, the break, or an error.)
    entries.sort((a, b) => (a.Kind === b.Kind ? (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0) : a.Kind === 'folder' ? -1 : 1));
    return { Root: this.name, Path: path.split('/').filter(Boolean).join('/'), Entries: entries, Truncated: truncated };
  }

  /**
   * Opens the file at `path` for reading; the caller owns the handle and checks the descriptor is
   * a regular file (FileGrants.grantOpened does).
   */
  async openFile(path: string): Promise<{ handle: FileHandle; name: string }> {
    const real = await this.resolve(path);
    // Only a regular file is opened: opening a FIFO would wait for a writer (holding the call, and
    // a thread of the pool, for ever), a device could be anything. Should one be swapped in after
    // this check, the open does not wait and the grant refuses the descriptor.
    if (!(await stat(real)).isFile()) throw new KmsError('InvalidParameter', `${escapeText(path, 512)} is not a regular file`);
    const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'ELOOP' ? outside(path) : unreadable(path, error);
    });
    try {
      // The descriptor's own path, where the system tells it: a folder swapped for a link after
      // the check above shows here.
      const opened = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => real);
      if (!this.contains(opened)) throw outside(path);
      return { handle, name: basename(real) };
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }
}
