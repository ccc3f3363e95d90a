// Which file of the built renderer a request path names, for both hosts that serve it (the
// browser host over HTTP, Electron over app://): only known asset types, only inside the
// renderer's folder (no .., encoded or not, no empty segments, no NUL).
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';

export const RENDERER_CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

export interface RendererAsset {
  readonly file: string;
  readonly contentType: string;
}

/** Maps a URL path ("/", "/assets/x.js", percent-encoded) to a file below `root`, or undefined. */
export function rendererAsset(urlPath: string, root: string): RendererAsset | undefined {
  let pathname: string;
  try {
    pathname = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  const relative = pathname === '/' ? 'index.html' : pathname.replace(/^\/+/, '');
  const contentType = RENDERER_CONTENT_TYPES[extname(relative).toLowerCase()];
  if (!contentType || relative.includes('\0') || relative.split(/[\\/]/).some((part) => part === '..' || part === '')) return undefined;
  const base = resolve(root);
  const file = resolve(base, relative);
  if (!file.startsWith(base + sep)) return undefined;
  return { file, contentType };
}

/**
 * Reads the asset a URL path names, or undefined: besides rendererAsset's checks, the real path
 * (symlinks resolved) must still be a regular file inside the renderer's real folder.
 */
export async function readRendererAsset(urlPath: string, root: string): Promise<{ readonly body: Buffer; readonly contentType: string } | undefined> {
  const asset = rendererAsset(urlPath, root);
  if (!asset) return undefined;
  try {
    const [realRoot, file] = await Promise.all([realpath(root), realpath(asset.file)]);
    if (!file.startsWith(realRoot + sep) || !(await stat(file)).isFile()) return undefined;
    return { body: await readFile(file), contentType: asset.contentType };
  } catch {
    return undefined;
  }
}
