// npm start: the desktop app. Builds the renderer when it is missing, bundles the Electron entry
// points, and launches Electron with the arguments given (--vault DIR). Where the Electron binary
// is not installed (its download cannot run on offline build machines), it says so in one line on
// stderr and starts the browser host instead (`deskkms ui`, same arguments: --vault, --port,
// --no-open), which prints {"Url": ...} on stdout.
import { spawn } from 'node:child_process';
import { bundleElectron, ROOT } from '../build/bundle-electron.ts';
import { buildRenderer, rendererBuilt } from '../core/app/renderer-build.ts';
import { runCli } from '../core/hosts/cli/run.ts';
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

async function main(args: readonly string[]): Promise<number> {
  if (!rendererBuilt()) {
    process.stderr.write('deskkms: building the renderer (once)\n');
    await buildRenderer({ quiet: true });
  }
  const binary = args.includes('--browser') ? { found: false as const, reason: '--browser was given' } : findElectronBinary();
  if (!binary.found) {
    process.stderr.write(`deskkms: the Electron binary is unavailable (${binary.reason}); starting the browser host instead\n`);
    const uiArgs = args.filter((arg) => arg !== '--browser');
    return runCli(['ui', ...uiArgs], { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, cwd: process.cwd(), env: process.env });
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
