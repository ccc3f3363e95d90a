// The main process's steps before the app is ready, against a recording stand-in of Electron's app
// and protocol: the whole app sandboxed (app.enableSandbox) and app:// privileged, and refused
// once the app is ready (Electron would no longer apply them). That main.ts really runs them at
// load, before anything waits for ready, is checked on its bundle in electron-start.test.ts.
import { describe, expect, it } from 'vitest';
import { APP_SCHEME } from '../../electron/app-protocol.ts';
import { APP_SCHEME_PRIVILEGES, beforeReady } from '../../electron/before-ready.ts';

function standIn(ready: boolean) {
  const calls: string[] = [];
  const schemes: unknown[] = [];
  const app = {
    isReady: () => ready,
    enableSandbox: () => void calls.push('enableSandbox'),
  };
  const protocol = {
    registerSchemesAsPrivileged: (list: unknown[]) => {
      calls.push('registerSchemesAsPrivileged');
      schemes.push(...list);
    },
  };
  return { app, protocol, calls, schemes };
}

describe('beforeReady', () => {
  it('sandboxes every renderer and makes app:// a secure standard scheme', () => {
    const s = standIn(false);
    beforeReady(s.app, s.protocol);
    expect(s.calls).toEqual(['enableSandbox', 'registerSchemesAsPrivileged']);
    expect(s.schemes).toEqual([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true } }]);
    expect(s.schemes).toEqual(APP_SCHEME_PRIVILEGES);
  });

  it('refuses to run once the app is ready, when enableSandbox would no longer apply', () => {
    const s = standIn(true);
    expect(() => beforeReady(s.app, s.protocol)).toThrow(expect.objectContaining({ code: 'InternalFailure', message: expect.stringMatching(/before the app is ready/) }));
    expect(s.calls).toEqual([]);
  });
});
