// Reading what the user points the CLI at: files (or '-' for stdin), with errors that name the
// flag and the file, and a progress line on a terminal while a large input streams.
import { createReadStream, promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import { invalidParameter } from '../../contract/errors.ts';
import type { CliIO } from './command.ts';

const CHUNK = 1 << 20;
const MAX_SMALL_FILE = 16 << 20;

/** Why a file the user named could not be read, in a few words; `tooLarge` for E2BIG (our own size refusal). */
export function describeFsError(error: unknown, tooLarge = 'too large'): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'E2BIG':
      return tooLarge;
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return code ?? 'cannot be read';
  }
}

/** Which flag of this call reads stdin ('-'): one at most, since stdin can be read only once. */
const stdinReader = new WeakMap<CliIO, string>();

/**
 * Records that `reader` (a flag, "--in") reads stdin in this call; a second reader is a usage error naming both. Every
 * input that takes '-' (files, passphrase files, batch's requests) claims it before reading.
 */
export function claimStdin(io: CliIO, reader: string): void {
  const first = stdinReader.get(io);
  if (first !== undefined && first !== reader) {
    throw invalidParameter(reader, `'-' reads stdin, which ${first} already reads; only one input can come from stdin (give the other as a file)`);
  }
  stdinReader.set(io, reader);
}

async function readStdin(io: CliIO, flag: string, max: number): Promise<Uint8Array> {
  claimStdin(io, `--${flag}`);
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of io.stdin) {
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : (chunk as Uint8Array);
    length += bytes.length;
    if (length > max) throw invalidParameter(`--${flag}`, `stdin: larger than ${max >> 20} MiB; expected a small file`);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks, length);
}

/** A small file (key, signature) read whole, or stdin for '-'; refuses anything over 16 MiB. */
export async function readSmallFile(flag: string, path: string, io: CliIO): Promise<Uint8Array> {
  if (path === '-') return readStdin(io, flag, MAX_SMALL_FILE);
  const full = resolve(io.cwd, path);
  let data: Buffer;
  try {
    const stat = await fs.stat(full);
    if (stat.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    if (stat.size > MAX_SMALL_FILE) throw Object.assign(new Error('too large'), { code: 'E2BIG' });
    data = await fs.readFile(full);
  } catch (error) {
    const reason = describeFsError(error, 'larger than 16 MiB; expected a small file');
    throw invalidParameter(`--${flag}`, `${path}: ${reason}`);
  }
  return new Uint8Array(data);
}

export interface StreamedInput {
  readonly chunks: AsyncIterable<Uint8Array>;
  /** Total size when known (regular files), for progress. */
  readonly size: number | undefined;
}

/** A possibly huge input streamed in 1 MiB chunks; '-' is stdin. Checked now (a readable regular file), opened when first read. */
export async function openStream(flag: string, path: string, io: CliIO): Promise<StreamedInput> {
  if (path === '-') {
    claimStdin(io, `--${flag}`);
    return { chunks: io.stdin as AsyncIterable<Uint8Array>, size: undefined };
  }
  const full = resolve(io.cwd, path);
  let size: number;
  try {
    const stat = await fs.stat(full);
    if (!stat.isFile()) throw Object.assign(new Error(), { code: stat.isDirectory() ? 'EISDIR' : 'ENOTREG' });
    size = stat.size;
    await fs.access(full, fs.constants.R_OK);
  } catch (error) {
    throw invalidParameter(`--${flag}`, `${path}: ${describeFsError(error)}`);
  }
  async function* chunks(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of createReadStream(full, { highWaterMark: CHUNK })) yield chunk as Buffer;
    } catch (error) {
      throw invalidParameter(`--${flag}`, `${path}: read failed (${describeFsError(error)})`);
    }
  }
  return { chunks: chunks(), size };
}

/** Progress on stderr for inputs over 64 MiB when stderr is a terminal; returns a finisher. */
export function progressReporter(io: CliIO, label: string, size: number | undefined): { update(bytes: number): void; done(): void } {
  const enabled = io.stderr.isTTY === true && size !== undefined && size > 64 << 20;
  let lastPercent = -1;
  return {
    update(bytes) {
      if (!enabled || size === undefined) return;
      const percent = Math.floor((bytes * 100) / size);
      if (percent !== lastPercent) {
        lastPercent = percent;
        io.stderr.write(`\r${label}: ${percent}% of ${(size / 2 ** 20).toFixed(0)} MiB`);
      }
    },
    done() {
      if (enabled) io.stderr.write('\n');
    },
  };
}
