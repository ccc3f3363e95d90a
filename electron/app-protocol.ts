// The app's own origin: Electron serves renderer/dist under app://deskkms/ (a privileged, standard,
// secure custom scheme) instead of file://, so the page has a real origin that the IPC guard and
// the request filter can compare exactly, and no other file on the disk is reachable from it.
// Plain Node: tested without Electron.
import { extname, resolve, sep } from 'node:path';

export const APP_SCHEME = 'app';
export const APP_HOST = 'deskkms';
/** What Chromium reports as the page's origin. */
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** True when `url` is on our app origin (scheme and host compared, not a prefix). */
export function isAppUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  // WHATWG URL gives non-special schemes the opaque origin "null": compare the parts instead.
  return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST && parsed.username === '' && parsed.password === '';
}

export interface AppAsset {
  readonly file: string;
  readonly contentType: string;
}

/**
 * Maps an app:// request to a file inside `root` (renderer/dist), or undefined: another origin,
 * a path that climbs out (.. or encoded), a NUL, or a type we do not serve.
 */
export function resolveAppAsset(url: string, root: string): AppAsset | undefined {
  if (!isAppUrl(url)) return undefined;
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(url).pathname);
  } catch {
    return undefined;
  }
  const relative = pathname === '/' ? 'index.html' : pathname.replace(/^\/+/, '');
  const contentType = CONTENT_TYPES[extname(relative).toLowerCase()];
  if (!contentType || relative.includes('\0') || relative.split(/[\\/]/).some((part) => part === '..' || part === '')) return undefined;
  const base = resolve(root);
  const file = resolve(base, relative);
  if (!file.startsWith(base + sep)) return undefined;
  return { file, contentType };
}
