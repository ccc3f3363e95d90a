// Whether an Electron binary is installed, found without require('electron'): that package's
// index.js downloads the binary when it is missing, which fails on machines without network (and
// must never run in tests or CI). Its installer writes path.txt (the executable's path inside
// dist/) once the download succeeded; ELECTRON_OVERRIDE_DIST_PATH points at a binary elsewhere.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ELECTRON_PACKAGE_DIR = fileURLToPath(new URL('../node_modules/electron/', import.meta.url));

export type ElectronBinary = { readonly found: true; readonly path: string } | { readonly found: false; readonly reason: string };

const PLATFORM_EXECUTABLE: Readonly<Partial<Record<NodeJS.Platform, string>>> = {
  darwin: 'Electron.app/Contents/MacOS/Electron',
  win32: 'electron.exe',
};

export function findElectronBinary(
  options: { readonly packageDir?: string; readonly env?: NodeJS.ProcessEnv; readonly platform?: NodeJS.Platform } = {},
): ElectronBinary {
  const packageDir = options.packageDir ?? ELECTRON_PACKAGE_DIR;
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  if (!existsSync(join(packageDir, 'package.json'))) {
    return { found: false, reason: `the electron package is not installed (${packageDir}); run npm ci` };
  }
  let relative: string | undefined;
  try {
    relative = readFileSync(join(packageDir, 'path.txt'), 'utf8').trim() || undefined;
  } catch {
    relative = undefined;
  }
  const override = env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) {
    const path = join(override, relative ?? PLATFORM_EXECUTABLE[platform] ?? 'electron');
    return existsSync(path) ? { found: true, path } : { found: false, reason: `ELECTRON_OVERRIDE_DIST_PATH names ${path}, which does not exist` };
  }
  if (relative === undefined) {
    return { found: false, reason: 'node_modules/electron/path.txt is missing: its download did not run or failed' };
  }
  const path = join(packageDir, 'dist', relative);
  return existsSync(path) ? { found: true, path } : { found: false, reason: `${path} is missing` };
}
