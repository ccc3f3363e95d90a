// Files the user chose in the host's own file dialog (Electron's main process), which the host
// then reads itself: hashing a release artifact for signing at the speed of the disk and the hash,
// instead of the renderer sending it over IPC. The renderer never names a path: it gets an opaque
// handle for the file the user picked, and the host reads only that file, through the descriptor it
// opened at the pick (a rename or replacement of the path afterwards changes nothing read). A file
// whose size or modification time changes while it is read is refused: its digest would describe
// no version of it. Grants are few, and all dropped when the vault locks or the app closes.
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { KmsError } from '../contract/errors.ts';
import { escapeText } from '../contract/escape-text.ts';
import type { PickedFileView } from '../contract/app-api.ts';

/** Files granted at once; picking one more closes the oldest. */
export const MAX_GRANTS = 16;

interface Part {
  /** The buffer the part was read into (returned to the spares after use). */
  readonly buffer: Uint8Array;
  readonly bytes: Uint8Array;
}

interface Grant {
  readonly handle: FileHandle;
  readonly name: string;
  readonly size: number;
  readonly mtimeMs: number;
  /** The part read ahead, where the renderer will ask next. */
  ahead?: { readonly offset: number; readonly length: number; readonly part: Promise<Part> };
  /** A read of this file is under way: one at a time (each holds up to a part in memory). */
  busy: boolean;
}

/** Reads [offset, offset + length) of the grant's file (fewer bytes only at its end). */
async function readPart(grant: Grant, offset: number, length: number, spare?: Uint8Array): Promise<Part> {
  const want = Math.max(0, Math.min(length, grant.size - offset));
  const buffer = spare && spare.length >= want ? spare : new Uint8Array(want);
  let got = 0;
  while (got < want) {
    const { bytesRead } = await grant.handle.read(buffer, got, want - got, offset + got);
    if (bytesRead === 0) throw new KmsError('InvalidParameter', `${escapeText(grant.name, 255)} ended before its size: it changed while it was being read; choose it again`);
    got += bytesRead;
  }
  return { buffer, bytes: buffer.subarray(0, want) };
}

function unknownHandle(id: string): KmsError {
  return new KmsError('InvalidParameter', `Handle: no chosen file with id ${id} (released, or the vault was locked since it was chosen)`);
}

export class FileGrants {
  private readonly grants = new Map<string, Grant>();
  /** Buffers of parts already hashed, reused for the next reads (no page faults on fresh memory). */
  private spare: Uint8Array[] = [];

  /** Opens `path` (a regular file) and returns the handle the renderer names it by. */
  async grant(path: string): Promise<PickedFileView> {
    // Opened not to wait: a FIFO chosen in the dialog would otherwise hold the call (and a thread
    // of libuv's pool) until something writes to it; grantOpened then refuses it as not a file.
    const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK).catch((error: NodeJS.ErrnoException) => {
      throw new KmsError('InvalidParameter', `the chosen file cannot be opened (${error.code ?? error.message}): ${escapeText(path, 512)}`);
    });
    return this.grantOpened(handle, basename(path));
  }

  /**
   * Grants a file already opened (the browser host's shared folder opens its own); refuses, and
   * closes, a descriptor that is not a regular file. Open it with O_NONBLOCK so a FIFO gets here.
   */
  async grantOpened(handle: FileHandle, name: string): Promise<PickedFileView> {
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw new KmsError('InvalidParameter', `the chosen path is not a regular file: ${escapeText(name, 512)}`);
      const id = randomUUID();
      this.grants.set(id, { handle, name, size: stats.size, mtimeMs: stats.mtimeMs, busy: false });
      while (this.grants.size > MAX_GRANTS) this.release(this.grants.keys().next().value!);
      return { Handle: id, Name: name, Size: stats.size };
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Runs `use` on `length` bytes of the granted file from `offset` (fewer only at its end), read
   * ahead of time when the last read of this file ended there. The bytes are lent: `use` must be
   * done with them when it returns. Refused for an unknown handle, and for a file that changed
   * since it was picked.
   */
  async read<T>(id: string, offset: number, length: number, use: (bytes: Uint8Array) => T): Promise<T> {
    const grant = this.grants.get(id);
    if (!grant) throw unknownHandle(id);
    if (grant.busy) throw new KmsError('InvalidParameter', `Handle: a part of ${escapeText(grant.name, 255)} is being read; send the parts one at a time`);
    grant.busy = true;
    try {
      return await this.readNow(id, grant, offset, length, use);
    } finally {
      grant.busy = false;
    }
  }

  private async readNow<T>(id: string, grant: Grant, offset: number, length: number, use: (bytes: Uint8Array) => T): Promise<T> {
    const ahead = grant.ahead;
    grant.ahead = undefined;
    // What was read ahead serves when it holds exactly the bytes asked for (the last part is shorter).
    const span = (from: number, n: number): number => Math.max(0, Math.min(n, grant.size - from));
    const usable = ahead !== undefined && ahead.offset === offset && span(offset, ahead.length) === span(offset, length);
    const part = usable ? ahead.part : readPart(grant, offset, length, this.spare.pop());
    if (part !== ahead?.part) void ahead?.part.then((p) => this.recycle(p.buffer), () => undefined);
    let read: Part;
    let stats: { size: number; mtimeMs: number };
    try {
      read = await part;
      // Checked after the read, however early it started: a write before or during it shows here.
      stats = await grant.handle.stat();
    } catch (error) {
      // Released meanwhile (a lock closes the file): the handle is gone, not a failure of ours.
      if (this.grants.get(id) !== grant) throw unknownHandle(id);
      if (error instanceof KmsError) throw error;
      throw new KmsError('InvalidParameter', `${escapeText(grant.name, 255)} could not be read (${(error as NodeJS.ErrnoException).code ?? String(error)}); choose it again`);
    }
    try {
      if (this.grants.get(id) !== grant) throw unknownHandle(id);
      if (stats.size !== grant.size || stats.mtimeMs !== grant.mtimeMs) {
        throw new KmsError('InvalidParameter', `${escapeText(grant.name, 255)} changed while it was being read (size or modification time); choose it again`);
      }
      // The next part is read while this one is hashed: the renderer asks for the parts in order.
      const next = offset + read.bytes.length;
      if (next < grant.size) {
        const nextPart = readPart(grant, next, length, this.spare.pop());
        nextPart.catch(() => undefined);
        grant.ahead = { offset: next, length, part: nextPart };
      }
      return use(read.bytes);
    } finally {
      this.recycle(read.buffer);
    }
  }

  /** Keeps at most two buffers for the next reads. */
  private recycle(buffer: Uint8Array): void {
    if (this.spare.length < 2) this.spare.push(buffer);
  }

  /** Drops what was read ahead of `id` (its session ended): the memory goes, the grant stays. */
  dropReadAhead(id: string): void {
    const grant = this.grants.get(id);
    grant?.ahead?.part.then((p) => this.recycle(p.buffer), () => undefined);
    if (grant) grant.ahead = undefined;
  }

  release(id: string): boolean {
    const grant = this.grants.get(id);
    if (!grant) return false;
    this.grants.delete(id);
    grant.ahead = undefined;
    void grant.handle.close().catch(() => undefined);
    return true;
  }

  /** Drops every grant (the vault locked, the app closes). */
  clear(): void {
    for (const id of [...this.grants.keys()]) this.release(id);
  }

  get size(): number {
    return this.grants.size;
  }
}
