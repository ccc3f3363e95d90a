// The browser host (`deskkms ui`): the built renderer and the app API on 127.0.0.1, for stations
// where Electron cannot run and for Playwright. Every request must carry the per-launch token:
// the launch URL holds it (?token=...), the host trades it, once, for an HttpOnly SameSite=Strict
// cookie and redirects to a clean URL. Host is checked (DNS rebinding), Origin is checked on API
// calls (cross-site requests), and the API body is JSON of bounded size handed to AppSession.call,
// which validates it. Transport only: no vault logic here.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { APP_HTTP_PATH, APP_REQUEST_MAX_BYTES, type AppResult } from '../contract/app-api.ts';
import { KmsError, toKmsError } from '../contract/errors.ts';
import { readBody } from '../api/server/http-server.ts';
import { readRendererAsset } from './renderer-assets.ts';

export interface UiServerOptions {
  /** Handles one API request (AppSession.call). */
  readonly call: (request: unknown) => Promise<AppResult<unknown>>;
  /** The built renderer (index.html and its assets). */
  readonly staticDir: string;
  readonly host?: string;
  /** 0 (default): a random free port. */
  readonly port?: number;
  /** Default: 32 random bytes, base64url. */
  readonly token?: string;
  readonly log?: (line: string) => void;
}

export interface RunningUiServer {
  /** The URL to open: carries the token once. */
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Content-Security-Policy of every page: our own scripts, styles and API only. */
export const UI_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': UI_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=(), hid=()',
  'cache-control': 'no-store',
};

function sameSecret(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export async function startUiServer(options: UiServerOptions): Promise<RunningUiServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? randomBytes(32).toString('base64url');
  if (!/^[A-Za-z0-9_-]{16,128}$/.test(token)) throw new KmsError('InvalidParameter', 'token: must be 16-128 base64url characters');
  const root = await realpath(options.staticDir).catch(() => {
    throw new KmsError('InvalidParameter', `the renderer is not built: ${options.staticDir} is missing (run npm run build:renderer)`);
  });
  const log = options.log ?? (() => undefined);
  let cookieName = '';
  let exchanged = false;
  let allowedHosts = new Set<string>();
  let origin = '';

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      log(`ui: internal failure: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal failure');
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  server.keepAliveTimeout = 5_000;

  function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': String(Buffer.byteLength(body)), ...extra });
    res.end(body);
  }

  function sendJson(res: ServerResponse, status: number, value: unknown): void {
    send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
  }

  function refuse(res: ServerResponse, status: number, code: 'InvalidParameter' | 'Forbidden.NoPermission', message: string): void {
    sendJson(res, status, { ok: false, error: { Code: code, Message: message } });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // DNS rebinding: a page on another name that resolves to 127.0.0.1 sends its own Host.
    if (!allowedHosts.has((req.headers.host ?? '').toLowerCase())) {
      refuse(res, 403, 'Forbidden.NoPermission', 'Host: not this DeskKMS browser host');
      return;
    }
    const url = new URL(req.url ?? '/', origin);
    const given = url.searchParams.get('token');
    if (req.method === 'GET' && url.pathname === '/' && given !== null) {
      if (!sameSecret(given, token)) {
        refuse(res, 401, 'Forbidden.NoPermission', 'token: not the token of this launch; open the URL that deskkms ui printed');
        return;
      }
      // One browser per launch: a copy of the URL (history, a process list, a log) is worth nothing later.
      if (exchanged) {
        refuse(res, 401, 'Forbidden.NoPermission', 'token: this launch URL was already used by a browser; restart deskkms ui for a new one');
        return;
      }
      exchanged = true;
      // Trade the URL's token for a cookie, and drop it from the address bar and history.
      send(res, 303, 'text/plain; charset=utf-8', 'see /', {
        'set-cookie': `${cookieName}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        location: '/',
      });
      return;
    }
    if (!sameSecret(cookieValue(req.headers.cookie, cookieName), token)) {
      refuse(res, 401, 'Forbidden.NoPermission', 'this DeskKMS browser host needs its launch token: open the URL that deskkms ui printed');
      return;
    }
    if (url.pathname === APP_HTTP_PATH) {
      await api(req, res);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed', { allow: 'GET, HEAD' });
      return;
    }
    await serveFile(url.pathname, res, req.method === 'HEAD');
  }

  async function api(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      refuse(res, 405, 'InvalidParameter', `${APP_HTTP_PATH}: use POST`);
      return;
    }
    // Browsers send Origin on every POST; a request without ours is not from our page.
    if (req.headers.origin !== origin) {
      refuse(res, 403, 'Forbidden.NoPermission', 'Origin: API calls are accepted only from this host\'s own page');
      return;
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') {
      refuse(res, 415, 'InvalidParameter', 'Content-Type: must be application/json');
      return;
    }
    let request: unknown;
    try {
      request = JSON.parse((await readBody(req, APP_REQUEST_MAX_BYTES)).toString('utf8'));
    } catch (error) {
      const e = error instanceof SyntaxError ? new KmsError('InvalidParameter', 'request body: not JSON') : toKmsError(error);
      sendJson(res, e.httpStatus, { ok: false, error: e.toWire() });
      return;
    }
    sendJson(res, 200, await options.call(request));
  }

  async function serveFile(pathname: string, res: ServerResponse, headOnly: boolean): Promise<void> {
    const asset = await readRendererAsset(pathname, root);
    if (!asset) {
      send(res, 404, 'text/plain; charset=utf-8', 'not found');
      return;
    }
    const type = asset.contentType;
    const body = asset.body;
    if (headOnly) {
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': String(body.length) });
      res.end();
      return;
    }
    send(res, 200, type, body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  cookieName = `deskkms_ui_${port}`;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  origin = `http://${hostPart}:${port}`;
  allowedHosts = new Set([`${hostPart}:${port}`.toLowerCase()]);

  let closed: Promise<void> | undefined;
  return {
    url: `${origin}/?token=${token}`,
    origin,
    port,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      })),
  };
}
