// bin/run-with-node keeps Node's compile cache (compiled DeskKMS modules, never vault data) in
// CACHE_HOME/deskkms/node-compile-cache. Tests that prove a machine holds no vault look for
// anything named deskkms under its HOME: this tells them which paths are that cache.
import { join } from 'node:path';

/** For paths relative to the same root as `cacheHome`: is `path` the launcher's compile cache (or its deskkms folder)? */
export function isCompileCache(cacheHome: string): (path: string) => boolean {
  const folder = join(cacheHome, 'deskkms');
  const cache = join(folder, 'node-compile-cache');
  return (path) => path === folder || path === cache || path.startsWith(`${cache}/`);
}
