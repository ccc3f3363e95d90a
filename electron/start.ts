// npm start: the desktop app. Builds the renderer when it is missing, bundles the Electron entry
// points, and launches Electron with the arguments given (--vault DIR). Where the Electron binary
// is not installed (its download cannot run on offline build machines), it says so in one line on
// stderr and starts the browser host instead (`deskkms ui`, same arguments: --vault, --port,
// --no-open), which prints {"Url": ...} on stdout. Where no browser can be opened (Linux without
// DISPLAY/WAYLAND_DISPLAY or without xdg-open) it says so and how to open the app by hand, and runs
// the browser host as with --no-open; without a display it does not try Electron's window either.
import { spawn } from 'node:child_process';
import { bundleElectron, ROOT } from '../build/bundle-electron.ts';
import { buildRenderer, rendererBuilt } from '../core/app/renderer-build.ts';
import { runCli } from '../core/hosts/cli/run.ts';
import { browserOpener, openByHandNotice, type BrowserOpener } from '../core/hosts/ui/browser-opener.ts';
import { findElectronBinary } from './electron-binary.ts';

/** Flags of `deskkms ui` that mean nothing to the Electron app. */
const BROWSER_ONLY_FLAGS = new Set(['--no-open']);
const BROWSER_ONLY_VALUE_FLAGS = new Set(['--port']);

export function electronArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (BROWSER_ONLY_FLAGS.has(arg)) continue;
    if (BROWSER_ONLY_VALUE_FLAGS.has(arg)) {
      i++;
      continue;
    }
    if ([...BROWSER_ONLY_VALUE_FLAGS].some((flag) => arg.startsWith(`${flag}=`))) continue;
    out.push(arg);
  }
  return out;
}

/**
 * The `deskkms ui` arguments npm start passes on, and the line to print first. Where no browser can
 * be opened the host runs as with --no-open: the one-time URL goes to stdout exactly as for a user
 * who asks for --no-open, and the notice (which never carries the URL) says what to do with it.
 */
export function browserHostPlan(args: readonly string[], opener: BrowserOpener): { args: string[]; notice?: string } {
  const uiArgs = args.filter((arg) => arg !== '--browser');
  if (opener.ok || uiArgs.includes('--no-open')) return { args: uiArgs };
  return { args: [...uiArgs, '--no-open'], notice: openByHandNotice(opener.reason) };
}

async function main(args: readonly string[]): Promise<number> {
  if (!rendererBuilt()) {
    process.stderr.write('deskkms: building the renderer (once)\n');
    await buildRenderer({ quiet: true });
  }
  const opener = browserOpener();
  const binary = args.includes('--browser') ? { found: false as const, reason: '--browser was given' } : findElectronBinary();
  // Electron needs a display for its window as much as a browser does.
  const noWindow = binary.found && !opener.ok && !opener.display ? opener.reason : undefined;
  if (!binary.found || noWindow !== undefined) {
    process.stderr.write(
      binary.found
        ? `deskkms: Electron cannot show a window here (${noWindow}); starting the browser host instead\n`
        : `deskkms: the Electron binary is unavailable (${binary.reason}); starting the browser host instead\n`,
    );
    const plan = browserHostPlan(args, opener);
    if (plan.notice !== undefined) process.stderr.write(`${plan.notice}\n`);
    return runCli(['ui', ...plan.args], { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, cwd: process.cwd(), env: process.env });
  }
  await bundleElectron({ quiet: true });
  const child = spawn(binary.path, [ROOT, ...electronArgs(args)], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
