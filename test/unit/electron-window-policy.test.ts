// The Electron window's security settings, asserted in Node: web preferences, CSP, the deny
// answers to navigation, new windows, permissions and remote requests, the app:// file mapping,
// and the application menu's development-only items.
import { describe, expect, it } from 'vitest';
import { UI_CSP } from '../../core/hosts/ui/ui-server.ts';
import { APP_ENTRY_URL, isAppUrl, resolveAppAsset } from '../../electron/app-protocol.ts';
import { menuTemplate } from '../../electron/menu.ts';
import {
  APP_CSP,
  appResponseHeaders,
  permissionCheckHandler,
  permissionRequestHandler,
  denyWindowOpen,
  isAllowedRequest,
  shouldBlockNavigation,
  webPreferencesFor,
  withCsp,
} from '../../electron/window-policy.ts';

describe('webPreferencesFor', () => {
  it('sandboxes and isolates the renderer, without Node or webviews', () => {
    for (const packaged of [true, false]) {
      const prefs = webPreferencesFor({ packaged, preload: '/app/preload.cjs' });
      expect(prefs).toMatchObject({
        preload: '/app/preload.cjs',
        sandbox: true,
        contextIsolation: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webviewTag: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        navigateOnDragDrop: false,
      });
    }
  });

  it('turns devTools off in the packaged app only', () => {
    expect(webPreferencesFor({ packaged: true, preload: 'p' }).devTools).toBe(false);
    expect(webPreferencesFor({ packaged: false, preload: 'p' }).devTools).toBe(true);
  });
});

describe('CSP', () => {
  it('is the browser host CSP: our own scripts and styles only, nothing inline or remote', () => {
    expect(APP_CSP).toBe(UI_CSP);
    expect(APP_CSP).toContain("default-src 'self'");
    expect(APP_CSP).toContain("script-src 'self'");
    expect(APP_CSP).toContain("object-src 'none'");
    expect(APP_CSP).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
  });

  it('replaces any CSP a response carried and keeps the other headers', () => {
    const headers = withCsp({ 'content-security-policy': ["default-src *"], 'Content-Type': 'text/html', 'X-A': ['1', '2'] });
    expect(headers).toEqual({ 'Content-Security-Policy': [UI_CSP], 'Content-Type': ['text/html'], 'X-A': ['1', '2'] });
    expect(withCsp(undefined)).toEqual({ 'Content-Security-Policy': [UI_CSP] });
  });

  it('is on every app:// response', () => {
    expect(appResponseHeaders('text/html')).toMatchObject({ 'content-security-policy': UI_CSP, 'x-content-type-options': 'nosniff' });
  });
});

describe('navigation and new windows', () => {
  it('blocks navigation away from the app page', () => {
    for (const url of ['https://evil.example/', 'http://127.0.0.1/', 'file:///etc/passwd', 'app://evil/index.html', 'app://deskkms/other.html', 'javascript:alert(1)', 'about:blank']) {
      expect(shouldBlockNavigation({ url, isSameDocument: false }, APP_ENTRY_URL), url).toBe(true);
    }
    // An in-page move claiming to be same-document on another origin is still refused.
    expect(shouldBlockNavigation({ url: 'https://evil.example/#x', isSameDocument: true }, APP_ENTRY_URL)).toBe(true);
  });

  it('lets the page reload itself and move within itself', () => {
    expect(shouldBlockNavigation({ url: APP_ENTRY_URL, isSameDocument: false }, APP_ENTRY_URL)).toBe(false);
    expect(shouldBlockNavigation({ url: `${APP_ENTRY_URL}#audit`, isSameDocument: true }, APP_ENTRY_URL)).toBe(false);
  });

  it('denies every new window', () => {
    expect(denyWindowOpen()).toEqual({ action: 'deny' });
  });
});

describe('permissions', () => {
  it('refuses every permission request and check but clipboard writes from our own page', () => {
    for (const permission of ['notifications', 'clipboard-read', 'geolocation', 'openExternal', 'fullscreen', 'hid', 'unknown']) {
      const answers: boolean[] = [];
      permissionRequestHandler({}, permission, (granted) => answers.push(granted), { requestingUrl: 'app://deskkms/index.html' });
      expect(answers, permission).toEqual([false]);
      expect(permissionCheckHandler({}, permission, 'app://deskkms'), permission).toBe(false);
    }
    expect(permissionCheckHandler()).toBe(false);
    // The Copy buttons (navigator.clipboard.writeText) need this one, from app://deskkms only.
    const granted: boolean[] = [];
    permissionRequestHandler({}, 'clipboard-sanitized-write', (g) => granted.push(g), { requestingUrl: 'app://deskkms/index.html' });
    permissionRequestHandler({}, 'clipboard-sanitized-write', (g) => granted.push(g), { requestingUrl: 'https://evil.example/' });
    permissionRequestHandler({}, 'clipboard-sanitized-write', (g) => granted.push(g));
    expect(granted).toEqual([true, false, false]);
    expect(permissionCheckHandler({}, 'clipboard-sanitized-write', 'app://deskkms')).toBe(true);
    expect(permissionCheckHandler({}, 'clipboard-sanitized-write', 'file://')).toBe(false);
  });

  it('lets our own page use the camera, video only (the Air gap view scans QR codes); never the microphone', () => {
    const answers: boolean[] = [];
    const ask = (url: string | undefined, mediaTypes?: string[]) =>
      permissionRequestHandler({}, 'media', (g) => answers.push(g), { ...(url ? { requestingUrl: url } : {}), ...(mediaTypes ? { mediaTypes } : {}) });
    ask('app://deskkms/index.html', ['video']);
    ask('app://deskkms/index.html', ['video', 'audio']);
    ask('app://deskkms/index.html', ['audio']);
    ask('app://deskkms/index.html', []);
    ask('app://deskkms/index.html');
    ask('https://evil.example/', ['video']);
    ask(undefined, ['video']);
    expect(answers).toEqual([true, false, false, false, false, false, false]);
    expect(permissionCheckHandler({}, 'media', 'app://deskkms', { mediaType: 'video' })).toBe(true);
    expect(permissionCheckHandler({}, 'media', 'app://deskkms', { mediaType: 'audio' })).toBe(false);
    expect(permissionCheckHandler({}, 'media', 'app://deskkms')).toBe(false);
    expect(permissionCheckHandler({}, 'media', 'file://', { mediaType: 'video' })).toBe(false);
  });
});

describe('requests', () => {
  it('lets only the app origin load in the packaged app', () => {
    expect(isAllowedRequest('app://deskkms/assets/index.js', { packaged: true })).toBe(true);
    for (const url of ['https://cdn.example/react.js', 'http://127.0.0.1:1234/', 'ws://127.0.0.1/', 'file:///etc/passwd', 'app://other/x.js', 'devtools://devtools/bundled/inspector.html']) {
      expect(isAllowedRequest(url, { packaged: true }), url).toBe(false);
    }
  });

  it('lets DevTools load in development only', () => {
    expect(isAllowedRequest('devtools://devtools/bundled/inspector.html', { packaged: false })).toBe(true);
    expect(isAllowedRequest('https://cdn.example/react.js', { packaged: false })).toBe(false);
  });
});

describe('app:// files', () => {
  const root = '/opt/deskkms/renderer/dist';

  it('maps app:// paths into renderer/dist', () => {
    expect(resolveAppAsset('app://deskkms/index.html', root)).toEqual({ file: `${root}/index.html`, contentType: 'text/html; charset=utf-8' });
    expect(resolveAppAsset('app://deskkms/', root)?.file).toBe(`${root}/index.html`);
    expect(resolveAppAsset('app://deskkms/assets/index-abc.js?v=1', root)).toEqual({ file: `${root}/assets/index-abc.js`, contentType: 'text/javascript; charset=utf-8' });
  });

  it('refuses paths that climb out, other hosts and types it does not serve', () => {
    for (const url of [
      'app://deskkms/assets/..%2f..%2fsecret.js',
      'app://deskkms/assets/..%5c..%5csecret.js',
      'app://deskkms/assets//index.js',
      'app://deskkms/index.html%00.js',
      'app://deskkms/vault.sqlite',
      'app://other/index.html',
      'file:///opt/deskkms/renderer/dist/index.html',
      'app://deskkms/%E0%A4%A',
    ]) {
      expect(resolveAppAsset(url, root), url).toBeUndefined();
    }
  });

  it('keeps dot segments, encoded or not, inside renderer/dist', () => {
    expect(resolveAppAsset('app://deskkms/%2e%2e/%2e%2e/secret.html', root)?.file).toBe(`${root}/secret.html`);
    expect(resolveAppAsset('app://deskkms/assets/../../../etc/x.js', root)?.file).toBe(`${root}/etc/x.js`);
  });

  it('recognises only our origin', () => {
    expect(isAppUrl(APP_ENTRY_URL)).toBe(true);
    expect(isAppUrl('app://deskkms:8080/index.html')).toBe(false);
    expect(isAppUrl('app://user:pw@deskkms/index.html')).toBe(false);
  });
});

describe('application menu', () => {
  const actions = { lockVault: () => undefined, about: () => undefined };
  const roles = (template: ReturnType<typeof menuTemplate>): string[] =>
    template.flatMap((menu) => (Array.isArray(menu.submenu) ? menu.submenu : []).map((item) => item.role ?? item.label ?? item.type ?? ''));

  it('has Lock vault and Quit, the clipboard roles and About', () => {
    const items = roles(menuTemplate({ packaged: true, platform: 'linux' }, actions));
    expect(items).toEqual(expect.arrayContaining(['Lock vault', 'quit', 'cut', 'copy', 'paste', 'selectAll', 'About DeskKMS']));
  });

  it('offers reload and DevTools only when not packaged', () => {
    expect(roles(menuTemplate({ packaged: true, platform: 'linux' }, actions))).not.toEqual(expect.arrayContaining(['reload']));
    expect(roles(menuTemplate({ packaged: true, platform: 'linux' }, actions))).not.toContain('toggleDevTools');
    expect(roles(menuTemplate({ packaged: false, platform: 'linux' }, actions))).toEqual(expect.arrayContaining(['reload', 'toggleDevTools']));
  });

  it('runs the Lock vault action from the File menu', () => {
    let locked = 0;
    const file = menuTemplate({ packaged: true, platform: 'linux' }, { ...actions, lockVault: () => locked++ })[0]!;
    const lock = (file.submenu as { label?: string; click?: () => void }[]).find((item) => item.label === 'Lock vault')!;
    lock.click!();
    expect(locked).toBe(1);
  });
});
