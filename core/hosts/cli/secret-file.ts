// Reading a secret file (a passphrase file) into one buffer of our own, outside V8's heap. Apart
// from vault-session.ts so that the early unlock (early-unlock.ts), which runs before the command's
// modules load, reads the file exactly as the command does, with nothing heavier than node:fs.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { secretBytes } from '../../vault/secrets.ts';

export const MAX_PASSPHRASE_FILE = 64 << 10;

/**
 * The file's bytes in one buffer of our own, read straight into it (no intermediate copy; a pipe
 * such as <(pass show vault) grows it, wiping each buffer it leaves). null reads stdin (fd 0). The caller wipes it.
 */
export function readSecretFile(full: string | null): Uint8Array {
  const fd = full === null ? 0 : openSync(full, 'r');
  try {
    return readSecretFd(fd);
  } finally {
    if (fd !== 0) closeSync(fd);
  }
}

/**
 * `full` opened for reading if it is a regular file, else undefined (closed again, nothing read).
 * Opened without waiting: a named pipe would otherwise wait for its writer.
 */
export function openRegularFile(full: string): number | undefined {
  const fd = openSync(full, constants.O_RDONLY | constants.O_NONBLOCK);
  let regular = false;
  try {
    regular = fstatSync(fd).isFile();
  } finally {
    if (!regular) closeSync(fd);
  }
  return regular ? fd : undefined;
}

/** readSecretFile's reading of an open descriptor (which the caller closes). */
export function readSecretFd(fd: number): Uint8Array {
  let bytes = new Uint8Array(0);
  try {
    const stats = fstatSync(fd);
    if (stats.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    if (stats.size > MAX_PASSPHRASE_FILE) throw Object.assign(new Error('too large'), { code: 'E2BIG' });
    bytes = secretBytes(stats.isFile() ? stats.size + 1 : 256); // + 1: a file that grew is seen
    let length = 0;
    for (;;) {
      if (length === bytes.length) {
        if (bytes.length >= MAX_PASSPHRASE_FILE) throw Object.assign(new Error('too large'), { code: 'E2BIG' });
        const larger = secretBytes(Math.min(bytes.length * 2, MAX_PASSPHRASE_FILE));
        larger.set(bytes);
        bytes.fill(0);
        bytes = larger;
      }
      const read = readStdinAware(fd, bytes, length);
      if (read === 0) return bytes.subarray(0, length);
      length += read;
    }
  } catch (error) {
    bytes.fill(0);
    throw error;
  }
}

/** readSync into `bytes` at `at`; stdin may be a non-blocking pipe (Node's own stream set it so): wait and retry on EAGAIN. */
function readStdinAware(fd: number, bytes: Uint8Array, at: number): number {
  for (;;) {
    try {
      return readSync(fd, bytes, at, bytes.length - at, null);
    } catch (error) {
      if (fd !== 0 || (error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}
