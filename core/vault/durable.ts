// Durable writes of files the vault's hosts put on disk (backups, share files, key bundles): the
// errno of a failed call, and fsync of a file or of the directory a rename changed, so what was
// reported written survives a power cut. One place for what three writers did alike.
import { closeSync, fsyncSync, openSync, promises as fs } from 'node:fs';

/** The errno code (ENOENT, EEXIST, ...) of a failed fs call, or undefined. */
export function errnoCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/** fsync of a file or directory (a rename's directory entry). Windows cannot open a directory for fsync; NTFS metadata journaling covers the rename there. */
export async function fsyncPath(path: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await fs.open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsyncPath, synchronously. */
export function fsyncPathSync(path: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
