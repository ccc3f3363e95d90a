// Which of the project's modules a process loads: a module-load hook (node:module registerHooks)
// that writes "LOAD <url>" on stderr for every file it loads, given to the process as
// `--import <hookUrl>` (or in NODE_OPTIONS, through a launcher that execs node), and the list read
// back from its stderr, each path relative to the checkout ("/core/...", "/node_modules/...").
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(import.meta.dirname, '../..');

/** Writes the hook into `dir`; answers its file URL for --import. */
export function moduleLoadHook(dir: string): string {
  const file = join(dir, 'list-loads.mjs');
  writeFileSync(
    file,
    "import { registerHooks } from 'node:module';\n" +
      "registerHooks({ load(url, context, next) { if (url.startsWith('file:')) process.stderr.write('LOAD ' + url + '\\n'); return next(url, context); } });\n",
  );
  return pathToFileURL(file).href;
}

/** The modules the hook listed on `stderr`. */
export function loadedModules(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('LOAD '))
    .map((l) => l.slice(5).replace(pathToFileURL(ROOT).href, ''));
}

/** Of `loaded`, the modules of the vault side: the vault, the handler table, crypto, formats, the key worker, and any npm package. */
export function vaultSideModules(loaded: readonly string[]): string[] {
  return loaded.filter((f) => /^\/(core\/(vault|actions|crypto|formats|worker|audit)\/|node_modules\/)/.test(f));
}
