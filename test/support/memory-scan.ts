// Counting copies of a secret in a live process: every readable mapping of /proc/PID/mem (the
// JS heaps of all threads, ArrayBuffer backing stores, the native heap including freed blocks,
// stacks), which is what gcore would dump. A V8 heap snapshot would not do: it records strings
// but not the bytes of ArrayBuffers, where a passphrase read from a file lives.
// Needs root or the same user with ptrace allowed (kernel.yama.ptrace_scope 0).
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

export interface MemoryScan {
  /** Occurrences of the needle's bytes as given (what a Buffer or a one-byte V8 string holds). */
  readonly bytes: number;
  /** Occurrences of the needle as UTF-16LE (a two-byte V8 string). */
  readonly utf16: number;
  /** Bytes scanned. */
  readonly scanned: number;
}

const CHUNK = 8 << 20;

/** Occurrences of needle in haystack that start before `limit`. */
function countIn(haystack: Buffer, needle: Buffer, limit: number): number {
  let count = 0;
  for (let at = haystack.indexOf(needle); at >= 0 && at < limit; at = haystack.indexOf(needle, at + 1)) count++;
  return count;
}

export function scanProcessMemory(pid: number, needle: Uint8Array): MemoryScan {
  const ascii = Buffer.from(needle);
  const wide = Buffer.alloc(ascii.length * 2);
  ascii.forEach((b, i) => (wide[i * 2] = b));
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8').trim().split('\n');
  const fd = openSync(`/proc/${pid}/mem`, 'r');
  const buffer = Buffer.alloc(CHUNK + wide.length);
  let bytes = 0;
  let utf16 = 0;
  let scanned = 0;
  try {
    for (const line of maps) {
      const [range, perms, , , , path] = line.split(/\s+/);
      if (!perms?.startsWith('r') || path === '[vvar]' || path === '[vsyscall]' || path === '[vvar_vclock]') continue;
      const [start, end] = range!.split('-').map((h) => BigInt(`0x${h}`)) as [bigint, bigint];
      for (let at = start; at < end; at += BigInt(CHUNK)) {
        const length = Number(end - at < BigInt(buffer.length) ? end - at : BigInt(buffer.length));
        let read: number;
        try {
          read = readSync(fd, buffer, 0, length, at);
        } catch {
          break; // an unreadable mapping (guard pages, device memory)
        }
        // Windows overlap by the needle's length; a match counts in the window it starts in.
        const window = buffer.subarray(0, read);
        const limit = Math.min(read, CHUNK);
        bytes += countIn(window, ascii, limit);
        utf16 += countIn(window, wide, limit);
        scanned += Math.min(read, CHUNK);
      }
    }
  } finally {
    closeSync(fd);
    buffer.fill(0);
  }
  return { bytes, utf16, scanned };
}
