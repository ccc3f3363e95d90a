// npm start on a machine that cannot open a browser (issue 17): it said "opening ... in your
// browser" and nothing happened. Now, without a display (or without xdg-open) it says so, how to
// open the app by hand and that --no-open skips the attempt, and serves as with --no-open (the
// one-time URL on stdout, as for anyone who asks for --no-open); with an opener that works it opens
// the launch page as before. The process keeps running until SIGINT, which stops it cleanly.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { browserOpener, onPath, runOpener } from '../../core/hosts/ui/browser-opener.ts';
import { browserHostPlan } from '../../electron/start.ts';
import { openUiSession } from '../support/ui-session.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'deskkms-start-display-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const TOKEN_URL = /^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{43}$/;

interface Started {
  readonly firstLine: string;
  readonly stderr: () => string;
  /** Waits for stderr to match (the host writes it just after the stdout line); bounded by the test's timeout. */
  readonly stderrMatching: (pattern: RegExp) => Promise<string>;
  /** SIGINT, as Ctrl-C in the terminal; resolves with the exit code. */
  readonly interrupt: () => Promise<number | null>;
}

/** `node electron/start.ts` with no display variables, a PATH of `path` only, a temp HOME, no Electron. */
async function npmStart(name: string, path: string, extraEnv: NodeJS.ProcessEnv = {}, entry: readonly string[] = ['electron/start.ts']): Promise<Started> {
  const home = join(tmp, `${name}-home`);
  mkdirSync(home, { recursive: true });
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(DISPLAY|WAYLAND_DISPLAY|BROWSER)$/.test(key)));
  const child = spawn(process.execPath, [...entry, '--vault', join(tmp, `${name}-vault`)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    // A dist path with no binary: the browser host, also on a machine that does have Electron.
    env: { ...env, PATH: path, HOME: home, ELECTRON_OVERRIDE_DIST_PATH: join(tmp, 'no-electron'), ...extraEnv },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const firstLine = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    void exited.then((code) => reject(new Error(`npm start exited ${code}; stderr:\n${stderr}`)));
  });
  return {
    firstLine,
    stderr: () => stderr,
    stderrMatching: async (pattern) => {
      while (!pattern.test(stderr)) await new Promise((resolve) => setTimeout(resolve, 50));
      return stderr;
    },
    interrupt: () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}

const nodeOnly = dirname(process.execPath); // the pinned Node's bin: node and nothing else

describe('npm start where no browser can be opened', () => {
  it('without a display: says how to open the app and that --no-open skips the attempt, and serves it', async () => {
    const start = await npmStart('no-display', nodeOnly);
    try {
      const lines = start.stderr().split('\n');
      expect(lines.some((line) => /Electron binary is unavailable/.test(line))).toBe(true);
      const notice = lines.filter((line) => line.includes('no browser is opened'));
      expect(notice).toHaveLength(1);
      expect(notice[0]).toMatch(/^deskkms: no display \(DISPLAY and WAYLAND_DISPLAY are unset\), so no browser is opened here\./);
      expect(notice[0]).toMatch(/paste the "Url" printed on stdout into a browser on this machine \(it works once, within 5 minutes/);
      expect(notice[0]).toContain('`npm start -- --no-open` skips this attempt');

      // The URL is printed as --no-open prints it: on stdout only, with --no-open's own warning.
      const { Url } = JSON.parse(start.firstLine) as { Url: string };
      expect(Url).toMatch(TOKEN_URL);
      await start.stderrMatching(/the URL on stdout opens the app once, in one browser, within 5 minutes/);
      expect(start.stderr()).not.toMatch(/opening .* in your browser/);
      expect(start.stderr()).not.toContain('token=');
      const ui = await openUiSession(Url);
      expect(JSON.parse((await ui.call({ method: 'Vault.Status', params: {} })).body)).toMatchObject({ ok: true });
    } finally {
      expect(await start.interrupt()).toBe(0);
    }
    expect(start.stderr()).toMatch(/SIGINT: closing/);
  }, 240_000);

  it('with a display but no xdg-open: says so in the same way', async () => {
    const start = await npmStart('no-opener', nodeOnly, { DISPLAY: ':99' });
    try {
      expect(start.stderr()).toMatch(/^deskkms: no xdg-open on PATH to start a browser with, so no browser is opened here\. .*`npm start -- --no-open` skips this attempt\.$/m);
      expect((JSON.parse(start.firstLine) as { Url: string }).Url).toMatch(TOKEN_URL);
    } finally {
      expect(await start.interrupt()).toBe(0);
    }
  }, 240_000);
});

describe('npm start with a display and an opener', () => {
  it('opens the launch page as before: no notice, no token on stdout or stderr', async () => {
    const bin = join(tmp, 'opener-bin');
    mkdirSync(bin, { recursive: true });
    const argv = join(tmp, 'opener-argv.txt');
    // Stands in for the desktop's opener: records what it is given and succeeds.
    writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$*" > '${argv}'\n`, { mode: 0o755 });
    const start = await npmStart('opener', `${bin}:${nodeOnly}:/usr/bin:/bin`, { WAYLAND_DISPLAY: 'wayland-0' });
    try {
      const printed = JSON.parse(start.firstLine) as { Url: string; Launcher: string };
      expect(printed.Url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      await start.stderrMatching(/deskkms ui: opening http:\/\/127\.0\.0\.1:\d+\/ in your browser \(launch page: file:\/\/.*\)/);
      expect(start.stderr()).not.toContain('no browser is opened');
      expect(start.stderr()).not.toContain('token=');
      // The opener runs detached: wait for its record (bounded by the test's timeout).
      while (!existsSync(argv)) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(readFileSync(argv, 'utf8')).toBe(fileURLToPath(printed.Launcher));
    } finally {
      expect(await start.interrupt()).toBe(0);
    }
  }, 240_000);
});

describe('deskkms ui itself', () => {
  const ui = ['core/hosts/cli/deskkms.ts', 'ui'];

  it('without a display: the same notice, naming deskkms ui --no-open, and the URL as --no-open prints it', async () => {
    const start = await npmStart('ui-no-display', nodeOnly, {}, ui);
    try {
      expect((JSON.parse(start.firstLine) as { Url: string }).Url).toMatch(TOKEN_URL);
      const notice = start.stderr().split('\n').filter((line) => line.includes('no browser is opened'));
      expect(notice).toHaveLength(1);
      expect(notice[0]).toContain('`deskkms ui --no-open` skips this attempt');
      expect(start.stderr()).not.toMatch(/opening .* in your browser/);
    } finally {
      expect(await start.interrupt()).toBe(0);
    }
  }, 240_000);

  it('reports an opener that runs but finds no browser (xdg-open exits 3) and says how to open the page by hand', async () => {
    const bin = join(tmp, 'opener-bin-fails');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'xdg-open'), '#!/bin/sh\nexit 3\n', { mode: 0o755 });
    const start = await npmStart('ui-opener-fails', `${bin}:${nodeOnly}:/usr/bin:/bin`, { DISPLAY: ':99' }, ui);
    try {
      const { Launcher } = JSON.parse(start.firstLine) as { Launcher: string };
      const said = await start.stderrMatching(/xdg-open exited with status 3/);
      expect(said).toContain(`deskkms ui: xdg-open exited with status 3; open ${Launcher} in a browser on this machine, or run with --no-open for the URL`);
      expect(said).not.toContain('token=');
    } finally {
      expect(await start.interrupt()).toBe(0);
    }
  }, 240_000);
});

describe('browserOpener and the plan', () => {
  it('assumes a desktop on macOS and Windows; elsewhere needs a display and xdg-open', () => {
    expect(browserOpener('darwin', {})).toMatchObject({ ok: true, command: 'open' });
    expect(browserOpener('win32', {})).toMatchObject({ ok: true, command: 'cmd' });
    expect(browserOpener('linux', { PATH: nodeOnly })).toMatchObject({ ok: false, display: false });
    expect(browserOpener('freebsd', { DISPLAY: ':0', PATH: nodeOnly })).toMatchObject({ ok: false, display: true });
    const bin = join(tmp, 'opener-bin-2');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'xdg-open'), '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(join(bin, 'not-executable'), '', { mode: 0o644 });
    expect(browserOpener('linux', { WAYLAND_DISPLAY: 'wayland-0', PATH: `${nodeOnly}:${bin}` })).toMatchObject({ ok: true, command: 'xdg-open' });
    expect(onPath('not-executable', bin)).toBeUndefined();
  });

  it('adds --no-open only where no browser can be opened, and never twice', () => {
    const none = browserOpener('linux', { PATH: '' });
    expect(browserHostPlan(['--browser', '--vault', '/v'], none).args).toEqual(['--vault', '/v', '--no-open']);
    expect(browserHostPlan(['--no-open', '--vault', '/v'], none)).toEqual({ args: ['--no-open', '--vault', '/v'] });
    expect(browserHostPlan(['--vault', '/v'], browserOpener('darwin', {}))).toEqual({ args: ['--vault', '/v'] });
  });
});

describe('runOpener (for deskkms ui)', () => {
  it('reports an opener that exits non-zero or cannot start, and nothing when it succeeds', async () => {
    const bin = join(tmp, 'opener-bin-3');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'fails'), '#!/bin/sh\nexit 3\n', { mode: 0o755 });
    writeFileSync(join(bin, 'works'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const outcome = (command: string): Promise<string> =>
      new Promise((resolve) => {
        runOpener({ ok: true, command: join(bin, command), args: (launcher) => [launcher] }, '/tmp/launch.html', resolve);
        if (command === 'works') setTimeout(() => resolve('no failure reported'), 2000);
      });
    expect(await outcome('fails')).toBe(`${join(bin, 'fails')} exited with status 3`);
    expect(await outcome('missing')).toMatch(/^could not start .*missing \(spawn .*ENOENT\)$/);
    expect(await outcome('works')).toBe('no failure reported');
  });
});
