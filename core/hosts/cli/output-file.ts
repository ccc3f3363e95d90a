// Files the CLI writes for the user (signatures, shares): whole or not at all. The bytes go to a
// temporary file beside the target, fsynced, then moved into place, so a process killed mid-write
// leaves no truncated file under the final name. Without `replace` the move is link(2), which
// refuses a file that appeared meanwhile instead of replacing it.
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { KmsError } from '../../contract/errors.ts';
import { errnoCode } from '../../vault/durable.ts';

export interface OutputFileOptions {
  /** File mode (0600 for secrets, 0644 for public output). */
  readonly mode: number;
  /** Replace an existing file (--force); otherwise an existing target is refused with `exists`. */
  readonly replace: boolean;
  /** The refusal when the target exists and may not be replaced. */
  readonly exists: (target: string) => KmsError;
}

export async function writeFileAtomically(target: string, data: Uint8Array | string, options: OutputFileOptions): Promise<string> {
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now().toString(36)}.partial`);
  const handle = await fs.open(temp, 'wx', options.mode);
  try {
    try {
      await handle.chmod(options.mode); // whatever the umask
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.replace) await fs.rename(temp, target);
    else {
      try {
        await fs.link(temp, target);
      } catch (error) {
        if (errnoCode(error) === 'EEXIST') throw options.exists(target);
        throw error;
      }
    }
  } finally {
    await fs.rm(temp, { force: true });
  }
  return target;
}
