// The app's own origin: Electron serves renderer/dist under app://deskkms/ (a privileged, standard,
// secure custom scheme) instead of file://, so the page has a real origin that the IPC guard and
// the request filter can compare exactly, and no other file on the disk is reachable from it.
// Plain Node: tested without Electron.
import { readRendererAsset, rendererAsset, type RendererAsset } from '../core/app/renderer-assets.ts';

export const APP_SCHEME = 'app';
export const APP_HOST = 'deskkms';
/** What Chromium reports as the page's origin. */
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

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

export type AppAsset = RendererAsset;

/**
 * Maps an app:// request to a file inside `root` (renderer/dist), or undefined: another origin,
 * a path that climbs out (.. or encoded), a NUL, or a type we do not serve.
 */
export function resolveAppAsset(url: string, root: string): AppAsset | undefined {
  if (!isAppUrl(url)) return undefined;
  return rendererAsset(new URL(url).pathname, root);
}

/** Reads an app:// request's file (symlinks leading out of `root` refused), or undefined. */
export function readAppAsset(url: string, root: string): Promise<{ readonly body: Buffer; readonly contentType: string } | undefined> {
  if (!isAppUrl(url)) return Promise.resolve(undefined);
  return readRendererAsset(new URL(url).pathname, root);
}
