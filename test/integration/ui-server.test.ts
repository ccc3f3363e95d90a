// The browser host over real HTTP: the launch token (URL once, then an HttpOnly cookie), Host and
// Origin checks, the API envelope, limits, static files without traversal, the security headers,
// and `deskkms ui` as a process that prints its URL and stops cleanly on SIGTERM.
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppSession } from '../../core/app/app-session.ts';
import { UI_CSP, startUiServer, type RunningUiServer } from '../../core/app/ui-server.ts';
import { spawnUntilFirstLine } from '../support/child-process.ts';
import { requireSecretService, tempDir } from './vault-helpers.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw request, so Host, Origin and Cookie are exactly what the test says (fetch would set some). */
function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
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

let dir: { path: string; remove(): void };
let session: AppSession;
let server: RunningUiServer;
let cookie: string;

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
  const login = await send(server.url);
  cookie = String(login.headers['set-cookie']).split(';')[0]!;
});

afterEach(async () => {
  await server.close();
  await session.close();
  dir.remove();
});

function api(body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return send(`${server.origin}/api/call`, {
    method: 'POST',
    headers: { cookie, origin: server.origin, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('browser host: the launch token', () => {
  it('binds 127.0.0.1 on a random port and trades the URL token for an HttpOnly SameSite=Strict cookie', async () => {
    expect(server.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.url).toMatch(/\/\?token=[A-Za-z0-9_-]{43}$/);
    // beforeEach made the exchange; a fresh host shows its answer.
    const fresh = await startUiServer({ call: (r) => session.call(r), staticDir: join(dir.path, 'dist') });
    try {
      const login = await send(fresh.url);
      expect(login.status).toBe(303);
      expect(login.headers.location).toBe('/');
      const setCookie = String(login.headers['set-cookie']);
      expect(setCookie).toMatch(new RegExp(`^deskkms_ui_${fresh.port}=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=/`));
      // The launch URL works once: a second browser (or a copy of the URL) is refused.
      const again = await send(fresh.url);
      expect(again.status).toBe(401);
      expect(again.body).toMatch(/already used/);
    } finally {
      await fresh.close();
    }
    const page = await send(`${server.origin}/`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>DeskKMS</title>');
    expect(page.headers['content-security-policy']).toBe(UI_CSP);
    expect(UI_CSP).toMatch(/default-src 'self'/);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['cache-control']).toBe('no-store');
  });

  it('refuses every request without the token, with a wrong token, or with another launch cookie', async () => {
    expect((await send(`${server.origin}/`)).status).toBe(401);
    expect((await send(`${server.origin}/assets/app.js`)).status).toBe(401);
    expect((await send(`${server.origin}/?token=${'A'.repeat(43)}`)).status).toBe(401);
    expect((await send(`${server.origin}/`, { headers: { cookie: `deskkms_ui_${server.port}=${'B'.repeat(43)}` } })).status).toBe(401);
    const noCookie = await api({ method: 'Vault.Status' }, { cookie: '' });
    expect(noCookie.status).toBe(401);
    expect(JSON.parse(noCookie.body)).toMatchObject({ ok: false, error: { Code: 'Forbidden.NoPermission' } });
  });

  it('refuses a foreign Host (DNS rebinding) even with the cookie', async () => {
    const rebound = await send(`${server.origin}/`, { headers: { cookie, host: `attacker.example:${server.port}` } });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toMatch(/Host/);
  });
});

describe('browser host: the API', () => {
  it('answers a valid call with the AppSession envelope', async () => {
    const reply = await api({ method: 'Vault.Status', params: {} });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ ok: true, value: { Initialized: false, Locked: true } });
  });

  it('refuses a missing or foreign Origin, a wrong method or content type, bad JSON and oversized bodies', async () => {
    const noOrigin = await send(`${server.origin}/api/call`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: '{"method":"Vault.Status"}',
    });
    expect(noOrigin.status).toBe(403);
    expect((await api({ method: 'Vault.Status' }, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await api({ method: 'Vault.Status' }, { origin: `http://localhost:${server.port}` })).status).toBe(403);
    expect((await send(`${server.origin}/api/call`, { headers: { cookie } })).status).toBe(405);
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

describe('browser host: static files', () => {
  it('serves the renderer and nothing outside it', async () => {
    const js = await send(`${server.origin}/assets/app.js`, { headers: { cookie } });
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['x-content-type-options']).toBe('nosniff');
    for (const path of ['/assets/link.js', '/../secret.js', '/%2e%2e/secret.js', '/assets/%2e%2e/%2e%2e/secret.js', '/assets/missing.js', '/assets/', '/package.json%00.js']) {
      const reply = await send(`${server.origin}${path}`, { headers: { cookie } });
      expect([400, 404], path).toContain(reply.status);
      expect(reply.body, path).not.toContain('outside the renderer');
    }
    expect((await send(`${server.origin}/assets/app.js`, { method: 'DELETE', headers: { cookie } })).status).toBe(405);
  });
});

describe('deskkms ui (process)', () => {
  // On a fresh clone the renderer is not built yet: deskkms ui builds it first (Vite), once.
  it('prints its URL, serves the built renderer, and stops on SIGTERM', async () => {
    const cli = fileURLToPath(new URL('../../core/cli/deskkms.ts', import.meta.url));
    const ui = await spawnUntilFirstLine(process.execPath, [cli, 'ui', '--no-open', '--vault', join(dir.path, 'cli-vault')]);
    const line = ui.firstLine;
    const { Url, Vault } = JSON.parse(line) as { Url: string; Vault: string };
    expect(Vault).toBe(join(dir.path, 'cli-vault'));
    const login = await send(Url);
    const launchCookie = String(login.headers['set-cookie']).split(';')[0]!;
    const page = await send(`${new URL(Url).origin}/`, { headers: { cookie: launchCookie } });
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/<script type="module"[^>]* src="\.\/assets\/[^"]+\.js"/);
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline scripts under script-src 'self'
    expect(await ui.stop()).toBe(0);
    expect(ui.stderr()).toMatch(/SIGTERM: closing/);
  }, 120_000);

  it('opens the browser through a launch page only this user can read: the token is never on a command line', async () => {
    const cli = fileURLToPath(new URL('../../core/cli/deskkms.ts', import.meta.url));
    const bin = join(dir.path, 'bin');
    mkdirSync(bin);
    // Stands in for the desktop's opener, only to record the command line the host gives it.
    writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$*" > '${join(dir.path, 'argv.txt')}'\n`, { mode: 0o755 });
    const ui = await spawnUntilFirstLine(process.execPath, [cli, 'ui', '--vault', join(dir.path, 'cli-vault')], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
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
    expect(target).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    expect((await send(target)).status).toBe(303);
    expect(await ui.stop()).toBe(0);
    expect(existsSync(launcher)).toBe(false);
  }, 120_000);
});

