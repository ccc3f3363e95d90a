// The browser host over real HTTP: the single-use launch token (URL fragment, traded once and in
// time at /api/session), the session it opens (a secret header AND a different binding cookie,
// both required on every call), Host and Origin checks, no CORS, the API envelope, limits, static
// files without traversal, the security headers, and `deskkms ui` as a process that prints its URL
// and stops cleanly on SIGTERM. The attack through a real browser is test/e2e/session-theft.spec.ts.
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppSession } from '../../core/app/app-session.ts';
import { DIGEST_CHUNK_MAX, STREAM_PART_MAX } from '../../core/contract/app-api.ts';
import { UI_CSP, startUiServer, type RunningUiServer } from '../../core/hosts/ui/ui-server.ts';
import { spawnUntilFirstLine } from '../support/child-process.ts';
import { launchTokenOf, openUiSession, send, tradeLaunchToken, type Reply, type UiSession } from '../support/ui-session.ts';
import { requireSecretService, tempDir } from './vault-helpers.ts';

let dir: { path: string; remove(): void };
let session: AppSession;
let server: RunningUiServer;
let ui: UiSession;

beforeEach(async () => {
  requireSecretService();
  dir = tempDir('deskkms-ui-');
  const dist = join(dir.path, 'dist');
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>DeskKMS</title>');
  writeFileSync(join(dist, 'assets', 'app.js'), 'export const x = 1;');
  writeFileSync(join(dir.path, 'secret.js'), 'outside the renderer');
  symlinkSync(join(dir.path, 'secret.js'), join(dist, 'assets', 'link.js'));
  session = new AppSession({ vaultDir: join(dir.path, 'vault'), caller: 'ui' });
  server = await startUiServer({ call: (r) => session.call(r), staticDir: dist });
  ui = await openUiSession(server.url);
});

afterEach(async () => {
  await server.close();
  await session.close();
  dir.remove();
});

function api(body: unknown, headers: Record<string, string | undefined> = {}): Promise<Reply> {
  return ui.call(body, headers);
}

function errorOf(reply: Reply): { Code: string; Message: string } {
  return (JSON.parse(reply.body) as { ok: false; error: { Code: string; Message: string } }).error;
}

/** A host of its own, for tests that must see the launch token before it is traded. */
async function freshHost(options: { launchTtlMs?: number; log?: (line: string) => void } = {}): Promise<RunningUiServer> {
  return startUiServer({ call: (r) => session.call(r), staticDir: join(dir.path, 'dist'), ...options });
}

const STATUS = { method: 'Vault.Status', params: {} };

describe('browser host: the launch token', () => {
  it('binds 127.0.0.1 on a random port; the URL carries the token in its fragment, traded once for a secret and a different cookie', async () => {
    expect(server.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{43}$/);
    const logged: string[] = [];
    const fresh = await freshHost({ log: (line) => logged.push(line) });
    try {
      const token = launchTokenOf(fresh.url);
      // What a browser requests for the launch URL: the page, without the fragment. No secret in it.
      const page = await send(`${fresh.origin}/`);
      expect(page.status).toBe(200);
      expect(page.headers['set-cookie']).toBeUndefined();
      expect(page.body).not.toContain(token);
      const traded = await tradeLaunchToken(fresh.origin, token);
      expect(traded.status).toBe(200);
      const { Session } = (JSON.parse(traded.body) as { value: { Session: string } }).value;
      expect(Session).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const setCookie = String(traded.headers['set-cookie']);
      expect(setCookie).toMatch(new RegExp(`^deskkms_ui_${fresh.port}=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=/api$`));
      expect(fresh.cookieName).toBe(`deskkms_ui_${fresh.port}`);
      const binding = setCookie.split(';')[0]!.split('=')[1]!;
      // Three different values: what the URL carried, what the page keeps, what the browser keeps.
      expect(new Set([token, Session, binding]).size).toBe(3);
      expect(traded.headers['cache-control']).toBe('no-store');
      // The launch URL works once: a second browser (or a copy of the URL) is refused, and logged.
      const again = await tradeLaunchToken(fresh.origin, token);
      expect(again.status).toBe(401);
      expect(errorOf(again)).toMatchObject({ Code: 'Unauthorized.LaunchToken', Message: expect.stringMatching(/already used/) });
      expect(logged.join('\n')).toMatch(/refused a second use of the launch URL/);
      expect(logged.join('\n')).not.toContain(token);
      expect(logged.join('\n')).not.toContain(Session);
    } finally {
      await fresh.close();
    }
    const page = await send(`${server.origin}/`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>DeskKMS</title>');
    expect(page.headers['content-security-policy']).toBe(UI_CSP);
    expect(UI_CSP).toMatch(/default-src 'self'/);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['cache-control']).toBe('no-store');
  });

  it('expires: past its time limit the launch token opens nothing', async () => {
    const fresh = await freshHost({ launchTtlMs: 50 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 120));
      const late = await tradeLaunchToken(fresh.origin, launchTokenOf(fresh.url));
      expect(late.status).toBe(401);
      expect(errorOf(late)).toMatchObject({ Code: 'Unauthorized.LaunchToken', Message: expect.stringMatching(/expired/) });
      expect(late.headers['set-cookie']).toBeUndefined();
    } finally {
      await fresh.close();
    }
  });

  it('refuses a wrong token without using up the right one, and trades only from the page (Origin, JSON, POST)', async () => {
    const fresh = await freshHost();
    try {
      const token = launchTokenOf(fresh.url);
      const wrong = await tradeLaunchToken(fresh.origin, 'A'.repeat(43));
      expect(wrong.status).toBe(401);
      expect(errorOf(wrong)).toMatchObject({ Code: 'Unauthorized.LaunchToken', Message: expect.stringMatching(/not the token of this launch/) });
      expect(errorOf(await tradeLaunchToken(fresh.origin, 'short'))).toMatchObject({ Code: 'InvalidParameter' });
      // Another origin (a page on another port, a rebinding name), a cross-site browser fetch, a form post, a GET.
      expect((await tradeLaunchToken(fresh.origin, token, { origin: 'http://127.0.0.1:1' })).status).toBe(403);
      expect((await tradeLaunchToken(fresh.origin, token, { origin: '' })).status).toBe(403);
      expect((await tradeLaunchToken(fresh.origin, token, { 'sec-fetch-site': 'same-site' })).status).toBe(403);
      expect((await tradeLaunchToken(fresh.origin, token, { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
      expect((await send(`${fresh.origin}/api/session`)).status).toBe(405);
      const huge = await send(`${fresh.origin}/api/session`, {
        method: 'POST',
        headers: { origin: fresh.origin, 'content-type': 'application/json' },
        body: JSON.stringify({ LaunchToken: token, Pad: 'x'.repeat(100_000) }),
      });
      expect(huge.status).toBe(413);
      // None of that used the token up.
      expect((await tradeLaunchToken(fresh.origin, token)).status).toBe(200);
    } finally {
      await fresh.close();
    }
  });
});

describe('browser host: the session', () => {
  it('needs both the secret header and the binding cookie, each the right one', async () => {
    const secretHeader = 'x-deskkms-session';
    const cases: [string, Record<string, string | undefined>][] = [
      ['neither', { cookie: undefined, [secretHeader]: undefined }],
      ['the header without the cookie', { cookie: undefined }],
      ['the cookie without the header', { [secretHeader]: undefined }],
      ['the cookie with a wrong header', { [secretHeader]: 'B'.repeat(43) }],
      ['the header with a wrong cookie', { cookie: `${server.cookieName}=${'C'.repeat(43)}` }],
      ['the two values swapped', { cookie: `${server.cookieName}=${ui.secret}`, [secretHeader]: ui.cookie.split('=')[1]! }],
      ['the secret in both', { cookie: `${server.cookieName}=${ui.secret}` }],
      ['the header twice', { [secretHeader]: `${ui.secret}, ${ui.secret}` }],
    ];
    for (const [name, headers] of cases) {
      const reply = await api(STATUS, headers);
      expect(reply.status, name).toBe(401);
      expect(errorOf(reply), name).toMatchObject({ Code: 'Unauthorized.Session', Message: expect.stringMatching(/header and its cookie/) });
    }
    const ok = await api(STATUS);
    expect(ok.status).toBe(200);
  });

  it('opens no session before the trade, and one per launch: another host\'s session is worth nothing here', async () => {
    const fresh = await freshHost();
    try {
      // Before any trade there is no session to match, whatever is sent.
      const guessed = await send(`${fresh.origin}/api/call`, {
        method: 'POST',
        headers: { origin: fresh.origin, 'content-type': 'application/json', cookie: `${fresh.cookieName}=`, 'x-deskkms-session': '' },
        body: JSON.stringify(STATUS),
      });
      expect(guessed.status).toBe(401);
      expect(errorOf(guessed).Code).toBe('Unauthorized.Session');
      // The session of the other host, sent here (same secret and cookie value under this port's name).
      const foreign = await send(`${fresh.origin}/api/call`, {
        method: 'POST',
        headers: { ...ui.headers(), origin: fresh.origin, cookie: `${fresh.cookieName}=${ui.cookie.split('=')[1]!}` },
        body: JSON.stringify(STATUS),
      });
      expect(foreign.status).toBe(401);
    } finally {
      await fresh.close();
    }
  });

  it('grants no CORS: preflights are refused and no answer carries Access-Control-Allow-*', async () => {
    for (const path of ['/api/call', '/api/session', '/']) {
      const preflight = await send(`${server.origin}${path}`, {
        method: 'OPTIONS',
        headers: { origin: 'http://127.0.0.1:8080', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-deskkms-session' },
      });
      expect(preflight.status, path).toBe(405);
      expect(Object.keys(preflight.headers).filter((h) => h.startsWith('access-control-')), path).toEqual([]);
    }
    const answered = await api(STATUS);
    expect(Object.keys(answered.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    expect(answered.headers['cross-origin-resource-policy']).toBe('same-origin');
  });

  it('refuses a foreign Host (DNS rebinding) even with the session', async () => {
    const rebound = await api(STATUS, { host: `attacker.example:${server.port}` });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toMatch(/Host/);
    const page = await send(`${server.origin}/`, { headers: { host: `attacker.example:${server.port}` } });
    expect(page.status).toBe(403);
  });
});

describe('browser host: the API', () => {
  it('answers a valid call with the AppSession envelope', async () => {
    const reply = await api(STATUS);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ ok: true, value: { Initialized: false, Locked: true } });
  });

  it('refuses a missing or foreign Origin, a cross-site fetch, a wrong method or content type, bad JSON and oversized bodies', async () => {
    const noOrigin = await api('{"method":"Vault.Status"}', { origin: undefined });
    expect(noOrigin.status).toBe(403);
    expect((await api(STATUS, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await api(STATUS, { origin: `http://localhost:${server.port}` })).status).toBe(403);
    expect((await api(STATUS, { origin: 'http://127.0.0.1:1' })).status).toBe(403);
    expect((await api(STATUS, { 'sec-fetch-site': 'same-site' })).status).toBe(403);
    expect((await api(STATUS, { 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect((await send(`${server.origin}/api/call`, { headers: ui.headers() })).status).toBe(405);
    expect((await api('{"method":"Vault.Status"}', { 'content-type': 'text/plain' })).status).toBe(415);
    const badJson = await api('{"method":');
    expect(badJson.status).toBe(400);
    expect(JSON.parse(badJson.body)).toMatchObject({ ok: false, error: { Code: 'InvalidParameter' } });
    const huge = await api({ method: 'Digest.Update', params: { SessionId: 'x', Chunk: 'A'.repeat(7 * 1024 * 1024) } });
    expect(huge.status).toBe(413);
    expect(JSON.parse(huge.body)).toMatchObject({ ok: false, error: { Code: 'RequestTooLarge' } });
    const invalid = await api({ method: 'Vault.Create', params: { Protection: 'cloud' } });
    expect(invalid.status).toBe(200);
    expect(JSON.parse(invalid.body)).toMatchObject({ ok: false, error: { Code: 'InvalidParameter' } });
  });
});

describe('browser host: streamed chunks as bytes (/api/chunk)', () => {
  const chunkUrl = (method: string, sessionId: string): string => `${server.origin}/api/chunk?${new URLSearchParams({ method, session: sessionId }).toString()}`;
  const octets = { 'content-type': 'application/octet-stream' };

  it('hashes the bytes it is sent into the Digest session, as the same chunks in base64 JSON would be', async () => {
    const ok = async (body: unknown): Promise<any> => {
      const reply = JSON.parse((await api(body)).body) as { ok: boolean; value?: any; error?: unknown };
      expect(reply, JSON.stringify(body).slice(0, 80)).toMatchObject({ ok: true });
      return reply.value;
    };
    await ok({ method: 'Vault.Create', params: { Protection: 'passphrase', Passphrase: 'chunk test passphrase' } });
    const { KeyId } = (await ok({ method: 'Kms.Call', params: { Action: 'CreateKey', Params: { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' } } })).KeyMetadata;
    const [{ KeyVersionId }] = (await ok({ method: 'Kms.Call', params: { Action: 'ListKeyVersions', Params: { KeyId } } })).KeyVersions.KeyVersion;
    const target = { KeyId, KeyVersionId, Algorithm: 'ECDSA_SHA_256' };
    // A part larger than a JSON chunk may be (it arrives in many socket reads), a byte, nothing.
    const parts = [randomBytes(3 * DIGEST_CHUNK_MAX + 12_345), randomBytes(1), Buffer.alloc(0), randomBytes(70_000)];
    const binary = (await ok({ method: 'Digest.Begin', params: target })).SessionId as string;
    let hashed = 0;
    for (const part of parts) {
      const reply = await send(chunkUrl('Digest.Update', binary), { method: 'POST', headers: { ...ui.headers(), ...octets }, body: part });
      expect(reply.status).toBe(200);
      hashed += part.length;
      expect(JSON.parse(reply.body)).toEqual({ ok: true, value: { BytesHashed: hashed } });
    }
    const viaBytes = (await ok({ method: 'Digest.Finish', params: { SessionId: binary } })).Digest as string;
    const json = (await ok({ method: 'Digest.Begin', params: target })).SessionId as string;
    for (const part of parts) {
      for (let at = 0; at < Math.max(1, part.length); at += DIGEST_CHUNK_MAX) {
        await ok({ method: 'Digest.Update', params: { SessionId: json, Chunk: part.subarray(at, at + DIGEST_CHUNK_MAX).toString('base64') } });
      }
    }
    const viaJson = (await ok({ method: 'Digest.Finish', params: { SessionId: json } })).Digest as string;
    expect(viaBytes).toBe(createHash('sha256').update(Buffer.concat(parts)).digest('base64'));
    expect(viaJson).toBe(viaBytes);
  });

  it('aborts the session when a part fails after some of it was hashed (cut off, or longer than a part may be): a message with a hole is never signed', async () => {
    const ok = async (body: unknown): Promise<any> => {
      const reply = JSON.parse((await api(body)).body) as { ok: boolean; value?: any };
      expect(reply, JSON.stringify(body).slice(0, 80)).toMatchObject({ ok: true });
      return reply.value;
    };
    await ok({ method: 'Vault.Create', params: { Protection: 'passphrase', Passphrase: 'chunk test passphrase' } });
    const { KeyId } = (await ok({ method: 'Kms.Call', params: { Action: 'CreateKey', Params: { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' } } })).KeyMetadata;
    const [{ KeyVersionId }] = (await ok({ method: 'Kms.Call', params: { Action: 'ListKeyVersions', Params: { KeyId } } })).KeyVersions.KeyVersion;
    const begin = async (): Promise<string> => (await ok({ method: 'Digest.Begin', params: { KeyId, KeyVersionId, Algorithm: 'ECDSA_SHA_256' } })).SessionId as string;
    const finish = async (SessionId: string) => JSON.parse((await api({ method: 'Digest.Finish', params: { SessionId } })).body) as { ok: boolean; error?: { Code: string } };

    // Cut off: 1 MiB of a declared 8 MiB, then the connection closes.
    const cut = await begin();
    await new Promise<void>((resolve) => {
      const req = httpRequest(chunkUrl('Digest.Update', cut), { method: 'POST', headers: { ...ui.headers(), ...octets, 'content-length': String(8 << 20) } });
      req.on('error', () => resolve());
      req.write(randomBytes(1 << 20), () => setTimeout(() => req.destroy(), 200));
      req.on('close', () => resolve());
    });
    await expect.poll(async () => (await finish(cut)).ok, { timeout: 5000 }).toBe(false);
    expect((await finish(cut)).error?.Code).toMatch(/^(InvalidParameter|Forbidden)/);

    // Longer than a part, sent without a length (chunked): refused once past the limit, session aborted.
    const long = await begin();
    const reply = await new Promise<Reply>((resolve, reject) => {
      const req = httpRequest(chunkUrl('Digest.Update', long), { method: 'POST', headers: { ...ui.headers(), ...octets, 'transfer-encoding': 'chunked' } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      });
      req.on('error', reject);
      const piece = Buffer.alloc(1 << 20);
      let sent = 0;
      const more = (): void => {
        while (sent <= STREAM_PART_MAX) {
          sent += piece.length;
          if (!req.write(piece)) {
            req.once('drain', more);
            return;
          }
        }
        req.end();
      };
      more();
    });
    expect(reply.status).toBe(413);
    expect(errorOf(reply).Code).toBe('RequestTooLarge');
    expect((await finish(long)).ok).toBe(false);

    // The same route still hashes a whole part into a session of its own.
    const whole = await begin();
    const bytes = randomBytes(5 << 20);
    expect(JSON.parse((await send(chunkUrl('Digest.Update', whole), { method: 'POST', headers: { ...ui.headers(), ...octets }, body: bytes })).body)).toEqual({ ok: true, value: { BytesHashed: bytes.length } });
    expect((await ok({ method: 'Digest.Finish', params: { SessionId: whole } })).Digest).toBe(createHash('sha256').update(bytes).digest('base64'));
  });

  it('asks what /api/call asks (session, Origin, POST) plus the octet-stream type, a chunk method, a session id and the size limit', async () => {
    const body = Buffer.from('abc');
    const post = (headers: Record<string, string | undefined>, url = chunkUrl('Digest.Update', '00000000-0000-4000-8000-000000000000'), payload: Uint8Array = body): Promise<Reply> =>
      send(url, { method: 'POST', headers: Object.fromEntries(Object.entries({ ...ui.headers(), ...octets, ...headers }).filter((e): e is [string, string] => e[1] !== undefined)), body: payload });
    const noSession = await post({ 'x-deskkms-session': undefined });
    expect(noSession.status).toBe(401);
    expect(errorOf(noSession).Code).toBe('Unauthorized.Session');
    expect((await post({ cookie: undefined })).status).toBe(401);
    expect((await post({ origin: 'http://evil.example' })).status).toBe(403);
    expect((await post({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await post({ 'content-type': 'application/json' })).status).toBe(415);
    expect((await post({ 'content-type': 'text/plain' })).status).toBe(415);
    expect((await send(chunkUrl('Digest.Update', 'x'), { headers: ui.headers() })).status).toBe(405);
    for (const method of ['Vault.Create', 'Kms.Call', 'Digest.Finish', '']) {
      const reply = await post({}, chunkUrl(method, '00000000-0000-4000-8000-000000000000'));
      expect(errorOf(reply), method).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringMatching(/^method: must be one of Digest.Update, Sign.Update/) });
    }
    const badSession = await post({}, chunkUrl('Sign.Update', 'not-a-session'));
    expect(errorOf(badSession)).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringMatching(/SessionId/) });
    const unknown = await post({});
    expect(JSON.parse(unknown.body)).toMatchObject({ ok: false });
    // Declared longer than a part may be: refused before a byte is read.
    const huge = await new Promise<Reply>((resolve, reject) => {
      const req = httpRequest(chunkUrl('Digest.Update', '00000000-0000-4000-8000-000000000000'), { method: 'POST', headers: { ...ui.headers(), ...octets, 'content-length': String(STREAM_PART_MAX + 1) } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
          req.destroy();
        });
      });
      req.on('error', reject);
      req.write(Buffer.alloc(1024));
    });
    expect(huge.status).toBe(413);
    expect(errorOf(huge).Code).toBe('RequestTooLarge');
    const preflightUrl = chunkUrl('Digest.Update', 'x');
    const preflight = await send(preflightUrl, { method: 'OPTIONS', headers: { origin: 'http://127.0.0.1:8080', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(405);
  });
});

describe('browser host: static files', () => {
  it('serves the renderer without a session (it holds no secret) and nothing outside it', async () => {
    const js = await send(`${server.origin}/assets/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['x-content-type-options']).toBe('nosniff');
    expect(js.headers['set-cookie']).toBeUndefined();
    for (const path of ['/assets/link.js', '/../secret.js', '/%2e%2e/secret.js', '/assets/%2e%2e/%2e%2e/secret.js', '/assets/missing.js', '/assets/', '/package.json%00.js']) {
      const reply = await send(`${server.origin}${path}`);
      expect([400, 404], path).toContain(reply.status);
      expect(reply.body, path).not.toContain('outside the renderer');
    }
    expect((await send(`${server.origin}/assets/app.js`, { method: 'DELETE' })).status).toBe(405);
  });
});

describe('deskkms ui (process)', () => {
  // On a fresh clone the renderer is not built yet: deskkms ui builds it first (Vite), once.
  it('prints its URL, serves the built renderer, and stops on SIGTERM', async () => {
    const cli = fileURLToPath(new URL('../../core/hosts/cli/deskkms.ts', import.meta.url));
    const ui = await spawnUntilFirstLine(process.execPath, [cli, 'ui', '--no-open', '--vault', join(dir.path, 'cli-vault')]);
    const line = ui.firstLine;
    const { Url, Vault } = JSON.parse(line) as { Url: string; Vault: string };
    expect(Vault).toBe(join(dir.path, 'cli-vault'));
    expect(Url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{43}$/);
    const page = await send(`${new URL(Url).origin}/`);
    expect(page.status).toBe(200);
    const opened = await openUiSession(Url);
    expect(JSON.parse((await opened.call(STATUS)).body)).toMatchObject({ ok: true, value: { Initialized: false } });
    expect(ui.stderr()).toMatch(/opens the app once, in one browser, within 5 minutes/);
    expect(page.body).toMatch(/<script type="module"[^>]* src="\.\/assets\/[^"]+\.js"/);
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline scripts under script-src 'self'
    expect(await ui.stop()).toBe(0);
    expect(ui.stderr()).toMatch(/SIGTERM: closing/);
  }, 120_000);

  it('--files DIR: the host shares DIR with the page (Files.List reaches it); a missing folder is refused before anything starts', async () => {
    const cli = fileURLToPath(new URL('../../core/hosts/cli/deskkms.ts', import.meta.url));
    const missing = spawnSync(process.execPath, [cli, 'ui', '--no-open', '--vault', join(dir.path, 'cli-vault'), '--files', join(dir.path, 'no-such-dir')], { encoding: 'utf8' });
    expect(missing.status).not.toBe(0);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain('no-such-dir cannot be shared (ENOENT)');
    const shared = join(dir.path, 'shared-folder');
    mkdirSync(shared);
    const ui = await spawnUntilFirstLine(process.execPath, [cli, 'ui', '--no-open', '--vault', join(dir.path, 'cli-vault'), '--files', shared]);
    expect(JSON.parse(ui.firstLine)).toMatchObject({ Files: shared });
    const opened = await openUiSession((JSON.parse(ui.firstLine) as { Url: string }).Url);
    // Shared (not UnsupportedOperation), and like every file grant only once a vault is unlocked.
    expect(JSON.parse((await opened.call({ method: 'Files.List', params: {} })).body)).toMatchObject({ ok: false, error: { Code: 'Vault.Locked' } });
    expect(await ui.stop()).toBe(0);
  }, 120_000);

  it('opens the browser through a launch page only this user can read: the token is never on a command line', async () => {
    const cli = fileURLToPath(new URL('../../core/hosts/cli/deskkms.ts', import.meta.url));
    const bin = join(dir.path, 'bin');
    mkdirSync(bin);
    // Stands in for the desktop's opener, only to record the command line the host gives it.
    writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$*" > '${join(dir.path, 'argv.txt')}'\n`, { mode: 0o755 });
    const ui = await spawnUntilFirstLine(process.execPath, [cli, 'ui', '--vault', join(dir.path, 'cli-vault')], {
      // A desktop: a display (this machine has none; without one deskkms ui opens nothing and prints the URL, start-display.test.ts).
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, DISPLAY: ':99' },
    });
    const line = ui.firstLine;
    const printed = JSON.parse(line) as { Url: string; Launcher: string };
    expect(printed.Url).not.toMatch(/token/);
    expect(ui.stderr()).not.toMatch(/token=/);
    const launcher = fileURLToPath(printed.Launcher);
    expect(statSync(launcher).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(launcher)).mode & 0o777).toBe(0o700);
    await new Promise((resolve) => setTimeout(resolve, 500)); // the opener runs detached
    const argv = readFileSync(join(dir.path, 'argv.txt'), 'utf8');
    expect(argv).toBe(launcher);
    const target = /url=([^"]+)"/.exec(readFileSync(launcher, 'utf8'))![1]!.replaceAll('&amp;', '&');
    expect(target).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{43}$/);
    expect((await openUiSession(target)).secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await ui.stop()).toBe(0);
    expect(existsSync(launcher)).toBe(false);
  }, 120_000);
});

