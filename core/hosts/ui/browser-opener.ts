// Can this session open a browser window at all? Asked before the browser host tries (npm start,
// deskkms ui), so that a machine without a display (an SSH session, a server, a container) is told
// how to open the app instead of "opening ... in your browser" followed by nothing.
//
// macOS and Windows always have a desktop for the user's own session and their openers (`open`,
// `start`) are part of the system. Elsewhere a window needs an X11 or Wayland display, named by
// DISPLAY or WAYLAND_DISPLAY, and the freedesktop opener, xdg-open.
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { LAUNCH_TTL_MS } from './ui-server.ts';

export type BrowserOpener =
  | { readonly ok: true; readonly command: string; readonly args: (launcher: string) => string[] }
  | {
      readonly ok: false;
      /** False when there is no display at all (an Electron window cannot show either). */
      readonly display: boolean;
      /** Why, in words for the user: "no display (DISPLAY and WAYLAND_DISPLAY are unset)". */
      readonly reason: string;
    };

/** `command` as the shell would find it on `path`, or undefined. */
export function onPath(command: string, path: string | undefined): string | undefined {
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function browserOpener(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): BrowserOpener {
  if (platform === 'darwin') return { ok: true, command: 'open', args: (launcher) => [launcher] };
  if (platform === 'win32') return { ok: true, command: 'cmd', args: (launcher) => ['/c', 'start', '""', launcher] };
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return { ok: false, display: false, reason: 'no display (DISPLAY and WAYLAND_DISPLAY are unset)' };
  if (onPath('xdg-open', env.PATH) === undefined) return { ok: false, display: true, reason: 'no xdg-open on PATH to start a browser with' };
  return { ok: true, command: 'xdg-open', args: (launcher) => [launcher] };
}

/**
 * What the browser host says when it will not try to open a browser: how to open the app by hand.
 * The URL itself is printed by `deskkms ui --no-open` (stdout, {"Url": ...}), as it is for anyone
 * who asks for --no-open; this line never carries it.
 */
export function openByHandNotice(reason: string, noOpen = 'npm start -- --no-open'): string {
  return (
    `deskkms: ${reason}, so no browser is opened here. To open the app, paste the "Url" printed on stdout ` +
    `into a browser on this machine (it works once, within ${LAUNCH_TTL_MS / 60_000} minutes; from another computer, ` +
    `forward the port first: ssh -L PORT:127.0.0.1:PORT). \`${noOpen}\` skips this attempt.`
  );
}

/**
 * Starts the opener on `launcher` (detached: a browser it starts outlives us) and reports its
 * failure, when it cannot start or exits non-zero (xdg-open exits 3 when it finds no browser),
 * through `failed` with a reason in words. For `deskkms ui`'s openBrowser, which today notices only
 * an opener that cannot start.
 */
export function runOpener(opener: Extract<BrowserOpener, { ok: true }>, launcher: string, failed: (reason: string) => void): void {
  try {
    const child = spawn(opener.command, opener.args(launcher), { stdio: 'ignore', detached: true });
    child.once('error', (error) => failed(`could not start ${opener.command} (${error.message})`));
    child.once('exit', (code, signal) => {
      if (code !== 0) failed(`${opener.command} ${signal ? `was stopped by ${signal}` : `exited with status ${code}`}`);
    });
    child.unref();
  } catch (error) {
    failed(`could not start ${opener.command} (${error instanceof Error ? error.message : String(error)})`);
  }
}
