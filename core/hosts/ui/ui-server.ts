// The browser host (`deskkms ui`): the built renderer and the app API on 127.0.0.1, for stations
// where Electron cannot run and for Playwright. Transport only: no vault logic here; the API body
// is JSON of bounded size handed to AppSession.call, which validates it.
//
// Threat model. Whoever can reach 127.0.0.1 can talk to this port: other local processes (any
// user), and any page the user's browser shows. Browsers scope cookies by host, not by port, and
// two ports on one host are the same site (so SameSite=Strict does not separate them): once the
// app is open, the browser sends this host's cookie to every server on 127.0.0.1 it visits, and a
// plain HTTP client sets Host and Origin to whatever it likes. So a cookie is never proof alone.
//   - Launch: the URL carries a single-use launch token in its fragment (#token=...), which the
//     browser never sends in a request line or a Referer. It is opened through a launch page only
//     this user can read (never on a command line) or printed once with --no-open. The page's
//     script drops it from the address bar and history and trades it, with a same-origin POST
//     to /api/session, for the session. It is good for one trade and for LAUNCH_TTL_MS; after
//     that a copy (history, a log, scrollback) is worth nothing.
//   - Session: the trade answers a fresh 256-bit secret in the JSON body, which the page keeps in
//     memory and in sessionStorage (scoped to this origin, i.e. this port) and sends in the
//     X-DeskKMS-Session header; and it sets a different random value as an HttpOnly,
//     SameSite=Strict cookie that only binds the browser. Every API call needs BOTH, compared in
//     constant time: the cookie a server on another port collects is useless without the header,
//     and another browser (or a plain client) has neither. One session per launch.
//   - Cross-origin: pages on other origins (other ports included) cannot read our answers (no
//     CORS headers ever, CORP same-origin), cannot send the custom header or JSON without a
//     preflight, and preflights (OPTIONS) are refused; POSTs must carry our exact Origin (and, from
//     a browser, Sec-Fetch-Site: same-origin); frames are refused (frame-ancestors, XFO).
//   - DNS rebinding: Host must be this host's own 127.0.0.1:PORT.
//   - Static files (the built renderer) are served without a session: they hold no secret, and the
//     page must load before it can trade. No page or asset carries the secret or the token.
// Not defended: a race for a launch URL that was printed and not yet opened (the browser that then
// opens it is told it was already used, and the host logs it: stop the host); malware running as
// this user, which can read the browser's memory or profile; a local server overwriting the
// binding cookie (cookies are per host), which only breaks the session (a denial of service).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  APP_CHUNK_PATH,
  APP_HTTP_PATH,
  APP_REQUEST_MAX_BYTES,
  APP_SESSION_HEADER,
  APP_SESSION_PATH,
  CHUNK_METHODS,
  STREAM_PART_MAX,
  type AppResult,
} from '../../contract/app-api.ts';
import { KmsError, toKmsError } from '../../contract/errors.ts';
import { readBody } from '../http/http-server.ts';
import { readRendererAsset } from '../../app/renderer-assets.ts';

/** How long the launch token can be traded after the host starts (a person opening a printed URL). */
export const LAUNCH_TTL_MS = 5 * 60_000;
/** The trade's body is `{"LaunchToken": "..."}`: small. */
const SESSION_REQUEST_MAX_BYTES = 1024;
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export interface UiServerOptions {
  /** Handles one API request (AppSession.call). */
  readonly call: (request: unknown) => Promise<AppResult<unknown>>;
  /** The built renderer (index.html and its assets). */
  readonly staticDir: string;
  readonly host?: string;
  /** 0 (default): a random free port. */
  readonly port?: number;
  /** How long the launch token stays tradeable. Default LAUNCH_TTL_MS. */
  readonly launchTtlMs?: number;
  readonly log?: (line: string) => void;
}

export interface RunningUiServer {
  /** The URL to open, once: `${origin}/#token=<launch token>`. */
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  /** Name of the binding cookie (per port, so two hosts do not overwrite each other's). */
  readonly cookieName: string;
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
  // The camera for the page itself only: the Air gap view scans a signing request's QR codes (issue 15).
  'permissions-policy': 'camera=(self), microphone=(), geolocation=(), usb=(), serial=(), hid=()',
  'cache-control': 'no-store',
};

function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant time whatever the lengths: both sides are hashed to 32 bytes first. */
function sameSecret(given: string | undefined, expected: string | undefined): boolean {
  if (given === undefined || expected === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? undefined : value;
}

const NO_SESSION =
  'this request does not carry the session of this DeskKMS browser host (its header and its cookie): ' +
  'open the URL that deskkms ui printed, in the browser that opened it first';

export async function startUiServer(options: UiServerOptions): Promise<RunningUiServer> {
  const host = options.host ?? '127.0.0.1';
  const launchTtlMs = options.launchTtlMs ?? LAUNCH_TTL_MS;
  const root = await realpath(options.staticDir).catch(() => {
    throw new KmsError('InvalidParameter', `the renderer is not built: ${options.staticDir} is missing (run npm run build:renderer)`);
  });
  const log = options.log ?? (() => undefined);
  /** The single-use launch token; undefined once traded. */
  let launchToken: string | undefined = newSecret();
  const launchUrlToken = launchToken;
  let launchExpiresAt = Infinity;
  /** The one session of this launch: the header secret and the (different) cookie value. */
  let session: { readonly secret: string; readonly binding: string } | undefined;
  let cookieName = '';
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

  function sendJson(res: ServerResponse, status: number, value: unknown, extra: Record<string, string> = {}): void {
    send(res, status, 'application/json; charset=utf-8', JSON.stringify(value), extra);
  }

  function fail(res: ServerResponse, error: KmsError, status = error.httpStatus, extra: Record<string, string> = {}): void {
    sendJson(res, status, { ok: false, error: error.toWire() }, extra);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // DNS rebinding: a page on another name that resolves to 127.0.0.1 sends its own Host.
    if (!allowedHosts.has((req.headers.host ?? '').toLowerCase())) {
      fail(res, new KmsError('Forbidden.NoPermission', 'Host: not this DeskKMS browser host'));
      return;
    }
    const { pathname, searchParams } = new URL(req.url ?? '/', origin);
    // No CORS, ever: a preflight is refused (and no response carries Access-Control-Allow-*).
    if (req.method === 'OPTIONS') {
      fail(res, new KmsError('Forbidden.NoPermission', 'cross-origin requests are not served'), 405, { allow: 'GET, HEAD, POST' });
      return;
    }
    if (pathname === APP_SESSION_PATH || pathname === APP_HTTP_PATH) {
      if (!checkPost(req, res, 'application/json')) return;
      await (pathname === APP_SESSION_PATH ? trade(req, res) : api(req, res));
      return;
    }
    if (pathname === APP_CHUNK_PATH) {
      if (!checkPost(req, res, 'application/octet-stream')) return;
      await chunk(req, res, searchParams);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed', { allow: 'GET, HEAD' });
      return;
    }
    await serveFile(pathname, res, req.method === 'HEAD');
  }

  /**
   * What the POST endpoints require of the request itself: method, our page's Origin, the type.
   * (application/octet-stream is not a type a cross-origin page may send without a preflight,
   * which is refused, just as application/json is not.)
   */
  function checkPost(req: IncomingMessage, res: ServerResponse, expected: 'application/json' | 'application/octet-stream'): boolean {
    if (req.method !== 'POST') {
      fail(res, new KmsError('InvalidParameter', `${req.url ?? ''}: use POST`), 405, { allow: 'POST' });
      return false;
    }
    // Browsers send Origin on every POST; a request without ours is not from our page. (A plain
    // client can forge it: the session, checked next, is what keeps those out.)
    const fetchSite = singleHeader(req.headers['sec-fetch-site']);
    if (req.headers.origin !== origin || (fetchSite !== undefined && fetchSite !== 'same-origin')) {
      fail(res, new KmsError('Forbidden.NoPermission', "Origin: API calls are accepted only from this host's own page"));
      return false;
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== expected) {
      fail(res, new KmsError('InvalidParameter', `Content-Type: must be ${expected}`), 415);
      return false;
    }
    return true;
  }

  async function jsonBody(req: IncomingMessage, res: ServerResponse, limit: number): Promise<{ value: unknown } | undefined> {
    try {
      return { value: JSON.parse((await readBody(req, limit)).toString('utf8')) as unknown };
    } catch (error) {
      fail(res, error instanceof SyntaxError ? new KmsError('InvalidParameter', 'request body: not JSON') : toKmsError(error));
      return undefined;
    }
  }

  /** POST /api/session {LaunchToken}: the launch token, once and in time, for the session. */
  async function trade(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await jsonBody(req, res, SESSION_REQUEST_MAX_BYTES);
    if (!body) return;
    const given = (body.value as { LaunchToken?: unknown } | null)?.LaunchToken;
    if (typeof given !== 'string' || !SECRET.test(given)) {
      fail(res, new KmsError('InvalidParameter', 'LaunchToken: must be the token of the launch URL (43 base64url characters)'));
      return;
    }
    // Compared against the token this launch printed, so a used or expired one gets a clear answer.
    if (!sameSecret(given, launchUrlToken)) {
      fail(res, new KmsError('Unauthorized.LaunchToken', 'LaunchToken: not the token of this launch; open the URL that deskkms ui printed'));
      return;
    }
    if (launchToken === undefined) {
      log('ui: refused a second use of the launch URL (a browser already opened it); if that was not you, stop deskkms ui');
      fail(res, new KmsError('Unauthorized.LaunchToken', 'LaunchToken: this launch URL was already used by a browser; restart deskkms ui for a new one'));
      return;
    }
    if (Date.now() > launchExpiresAt) {
      fail(res, new KmsError('Unauthorized.LaunchToken', `LaunchToken: this launch URL expired (it is good for ${Math.round(launchTtlMs / 1000)} s); restart deskkms ui for a new one`));
      return;
    }
    launchToken = undefined;
    session = { secret: newSecret(), binding: newSecret() };
    log('ui: a browser opened the app (the launch URL is now used up)');
    sendJson(res, 200, { ok: true, value: { Session: session.secret, Header: APP_SESSION_HEADER } }, {
      'set-cookie': `${cookieName}=${session.binding}; HttpOnly; SameSite=Strict; Path=/api`,
    });
  }

  /** The session's header secret and cookie binding, both; refuses the request when not. */
  function authorized(req: IncomingMessage, res: ServerResponse): boolean {
    const secret = singleHeader(req.headers[APP_SESSION_HEADER.toLowerCase()]);
    const binding = cookieValue(singleHeader(req.headers.cookie), cookieName);
    // Both, always, and both evaluated (no early exit that times which one was wrong).
    const headerOk = sameSecret(secret, session?.secret);
    const cookieOk = sameSecret(binding, session?.binding);
    if (!(headerOk && cookieOk)) {
      fail(res, new KmsError('Unauthorized.Session', NO_SESSION));
      return false;
    }
    return true;
  }

  async function api(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!authorized(req, res)) return;
    const body = await jsonBody(req, res, APP_REQUEST_MAX_BYTES);
    if (!body) return;
    sendJson(res, 200, await options.call(body.value));
  }

  /**
   * POST /api/chunk?method=&session=: part of a streamed message, hashed as it arrives. Each piece
   * the socket delivers goes to AppSession.call as the method's Chunk (validated there as JSON's
   * would be), in order; the answer is the last one's. A part that fails after some of it was
   * hashed (too long, cut off, refused) aborts the session: a message with a hole in it is never
   * signed.
   */
  async function chunk(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    if (!authorized(req, res)) return;
    const method = query.get('method') ?? '';
    if (!(CHUNK_METHODS as readonly string[]).includes(method)) {
      fail(res, new KmsError('InvalidParameter', `method: must be one of ${CHUNK_METHODS.join(', ')}`));
      return;
    }
    if (Number(req.headers['content-length'] ?? 0) > STREAM_PART_MAX) {
      fail(res, tooLongPart(), 413, { connection: 'close' });
      return;
    }
    const SessionId = query.get('session') ?? '';
    const update = (piece: Uint8Array): Promise<unknown> => options.call({ method, params: { SessionId, Chunk: piece } });
    // The session and method are checked before a byte is read (an empty update hashes nothing).
    let answer = (await update(new Uint8Array(0))) as { ok: boolean };
    if (!answer.ok) {
      sendJson(res, 200, answer, { connection: 'close' });
      return;
    }
    let size = 0;
    let failure: KmsError | undefined;
    // The socket's reads (64 KiB) are gathered into updates of about UPDATE_BYTES: one call's
    // validation per MiB, not per read.
    let gathered: Buffer[] = [];
    let gatheredBytes = 0;
    const flush = async (): Promise<boolean> => {
      if (gatheredBytes === 0) return true;
      const piece = gathered.length === 1 ? gathered[0]! : Buffer.concat(gathered, gatheredBytes);
      gathered = [];
      gatheredBytes = 0;
      answer = (await update(piece)) as { ok: boolean };
      return answer.ok;
    };
    try {
      for await (const read of req as AsyncIterable<Buffer>) {
        size += read.length;
        if (size > STREAM_PART_MAX) {
          failure = tooLongPart();
          break;
        }
        gathered.push(read);
        gatheredBytes += read.length;
        if (gatheredBytes >= UPDATE_BYTES && !(await flush())) break;
      }
      if (!failure && answer.ok) await flush();
      if (!failure && answer.ok && !req.complete) failure = new KmsError('InvalidParameter', 'request body: connection closed before the body was complete');
    } catch {
      failure = new KmsError('InvalidParameter', 'request body: connection closed before the body was complete');
    }
    if (failure || !answer.ok) {
      await options.call({ method: method === 'Sign.Update' ? 'Sign.Abort' : 'Digest.Abort', params: { SessionId } });
      if (failure) fail(res, failure, failure.code === 'RequestTooLarge' ? 413 : 400, { connection: 'close' });
      else sendJson(res, 200, answer, { connection: 'close' });
      return;
    }
    sendJson(res, 200, answer);
  }

  /** About how many bytes of a streamed part one update hashes (see chunk()); at most DIGEST_CHUNK_MAX. */
  const UPDATE_BYTES = 1024 * 1024;

  function tooLongPart(): KmsError {
    return new KmsError('RequestTooLarge', `request body: a part of a streamed message is at most ${STREAM_PART_MAX} bytes; send the rest in another request`);
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
  launchExpiresAt = Date.now() + launchTtlMs;
  const port = (server.address() as AddressInfo).port;
  cookieName = `deskkms_ui_${port}`;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  origin = `http://${hostPart}:${port}`;
  allowedHosts = new Set([`${hostPart}:${port}`.toLowerCase()]);

  let closed: Promise<void> | undefined;
  return {
    url: `${origin}/#token=${launchUrlToken}`,
    origin,
    port,
    cookieName,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      })),
  };
}
