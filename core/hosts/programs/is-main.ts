// Whether a program module is the one the process was started with (bin/<program> runs it by path),
// rather than imported by a test or another module: then it runs itself.
import { realpathSync } from 'node:fs';

/** `moduleFile` is the module's import.meta.filename. */
export function isMainModule(moduleFile: string): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(moduleFile);
  } catch {
    return false;
  }
}
