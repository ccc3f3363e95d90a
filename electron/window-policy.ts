// The main window's security settings as data and pure functions, so each one is asserted in a
// Node test: the web preferences, the CSP (one definition, shared with the browser host), and the
// deny-everything answers to navigation, new windows, permission requests and remote requests.
import type { WebPreferences, WindowOpenHandlerResponse } from 'electron';
import { UI_CSP } from '../core/hosts/ui/ui-server.ts';
import { isAppUrl } from './app-protocol.ts';

export { UI_CSP as APP_CSP };

/** The renderer runs sandboxed, isolated, without Node; devTools only in development. */
export function webPreferencesFor(options: { readonly packaged: boolean; readonly preload: string }): WebPreferences {
  return {
    preload: options.preload,
    sandbox: true,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webviewTag: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    enableWebSQL: false,
    safeDialogs: true,
    spellcheck: false,
    devTools: !options.packaged,
  };
}

/** will-navigate / will-frame-navigate / will-redirect: the page never leaves itself. */
export function shouldBlockNavigation(target: { readonly url: string; readonly isSameDocument?: boolean }, currentUrl: string): boolean {
  // An in-page move (#hash, pushState) or a reload of our own page is not leaving it; anything
  // else is refused, our own origin's other URLs included: the app is one document.
  if (!isAppUrl(target.url)) return true;
  return !(target.isSameDocument === true || target.url === currentUrl);
}

/** setWindowOpenHandler: no new windows, whatever the URL (window.open, target=_blank, middle click). */
export function denyWindowOpen(): WindowOpenHandlerResponse {
  return { action: 'deny' };
}

/**
 * The permissions the app uses, for our own app:// page only: writing text to the clipboard (the
 * Copy buttons, navigator.clipboard.writeText) and the camera, video only, for the Air gap view's
 * "Scan with camera" (a signing request's QR codes; issue 15). Everything else (the microphone,
 * notifications, clipboard-read, ...) is refused, and so is any media request that asks for audio.
 */
export function permissionAllowed(permission: string, requestingUrl: string | undefined, media?: { readonly mediaTypes?: readonly string[]; readonly mediaType?: string }): boolean {
  if (requestingUrl === undefined || !isAppUrl(requestingUrl)) return false;
  if (permission === 'clipboard-sanitized-write') return true;
  if (permission !== 'media') return false;
  // A request names every type it wants (all must be video); a check names the one it asks about.
  const types = media?.mediaTypes ?? (media?.mediaType !== undefined ? [media.mediaType] : []);
  return types.length > 0 && types.every((type) => type === 'video');
}

/** session.setPermissionRequestHandler. */
export function permissionRequestHandler(
  _webContents: unknown,
  permission: string,
  callback: (granted: boolean) => void,
  details?: { readonly requestingUrl?: string; readonly mediaTypes?: readonly string[] },
): void {
  callback(permissionAllowed(permission, details?.requestingUrl, details));
}

/** session.setPermissionCheckHandler. */
export function permissionCheckHandler(_webContents?: unknown, permission = '', requestingOrigin?: string, details?: { readonly mediaType?: string }): boolean {
  return permissionAllowed(permission, requestingOrigin, details);
}

/**
 * session.webRequest.onBeforeRequest: no remote content. Only our app:// origin, and DevTools'
 * own pages in development, may load; http(s), file://, ws: and data: documents are cancelled.
 */
export function isAllowedRequest(url: string, options: { readonly packaged: boolean }): boolean {
  if (isAppUrl(url)) return true;
  if (!options.packaged && (url.startsWith('devtools://') || url.startsWith('chrome-extension://'))) return true;
  // Images the page builds itself (blob: for downloads, data: for small icons) stay in-process.
  return url.startsWith('blob:app://deskkms/') || url.startsWith('data:image/');
}

/** session.webRequest.onHeadersReceived: our CSP on every response, replacing any other. */
export function withCsp(headers: Readonly<Record<string, string | string[]>> | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() === 'content-security-policy') continue;
    out[name] = Array.isArray(value) ? value : [value];
  }
  out['Content-Security-Policy'] = [UI_CSP];
  return out;
}

/** Headers of every app:// response the protocol handler builds. */
export function appResponseHeaders(contentType: string): Record<string, string> {
  return {
    'content-type': contentType,
    'content-security-policy': UI_CSP,
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
  };
}
