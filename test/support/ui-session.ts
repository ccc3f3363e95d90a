// The browser host's session protocol from a plain Node HTTP client, doing what the page does:
// read the launch token from the URL's #token= fragment, trade it at /api/session (with the
// host's own Origin and JSON), keep the secret from the body and the binding cookie from
// Set-Cookie, and send both on every /api/call. Raw node:http, so Host, Origin and Cookie are
// exactly what the caller says (fetch would set some itself).
import { request as httpRequest } from 'node:http';
import { APP_SESSION_HEADER } from '../../core/contract/app-api.ts';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The token of a launch URL's fragment (`http://127.0.0.1:PORT/#token=...`). */
export function launchTokenOf(url: string): string {
  const token = new URLSearchParams(new URL(url).hash.slice(1)).get('token');
  if (!token) throw new Error(`${url}: no #token= fragment`);
  return token;
}

/** POST /api/session as the page sends it; `headers` override or add to the page's. */
export function tradeLaunchToken(origin: string, token: string, headers: Record<string, string> = {}): Promise<Reply> {
  return send(`${origin}/api/session`, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ LaunchToken: token }),
  });
}

export interface UiSession {
  readonly origin: string;
  /** The per-session secret (the X-DeskKMS-Session header). */
  readonly secret: string;
  /** `name=value` of the binding cookie. */
  readonly cookie: string;
  /** Headers of an API call from the page: Origin, JSON, the session header and the cookie. */
  headers(): Record<string, string>;
  /** POST /api/call with the session; `headers` (lower-case names) override, add to or, as undefined, drop the page's. */
  call(body: unknown, headers?: Record<string, string | undefined>): Promise<Reply>;
}

/** Trades a launch URL's token and returns the session it opened (throws if refused). */
export async function openUiSession(url: string): Promise<UiSession> {
  const origin = new URL(url).origin;
  const traded = await tradeLaunchToken(origin, launchTokenOf(url));
  if (traded.status !== 200) throw new Error(`the launch token was refused: HTTP ${traded.status} ${traded.body}`);
  const secret = (JSON.parse(traded.body) as { value: { Session: string } }).value.Session;
  const cookie = String(traded.headers['set-cookie']).split(';')[0]!;
  const headers = (): Record<string, string> => ({ origin, 'content-type': 'application/json', cookie, [APP_SESSION_HEADER.toLowerCase()]: secret });
  return {
    origin,
    secret,
    cookie,
    headers,
    call: (body, extra = {}) => {
      const merged = Object.fromEntries(Object.entries({ ...headers(), ...extra }).filter((e): e is [string, string] => e[1] !== undefined));
      return send(`${origin}/api/call`, { method: 'POST', headers: merged, body: typeof body === 'string' ? body : JSON.stringify(body) });
    },
  };
}
