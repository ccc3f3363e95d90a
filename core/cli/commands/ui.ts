// deskkms ui: the desktop app's renderer in a browser, served on 127.0.0.1 with a per-launch
// token, for stations where Electron cannot run (and for the end-to-end tests).
import { spawn } from 'node:child_process';
import { AppSession } from '../../app/app-session.ts';
import { RENDERER_DIST, buildRenderer, rendererBuilt } from '../../app/renderer-build.ts';
import { startUiServer } from '../../app/ui-server.ts';
import { invalidParameter } from '../../contract/errors.ts';
import { EXIT_OK, type CliIO, type Command, type FlagValues } from '../command.ts';
import { VAULT_FLAGS, vaultDirOf } from '../vault-session.ts';
import { shutdownSignal } from './serve.ts';

function parsePort(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'string' || !/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw invalidParameter('--port', 'must be a port number 0-65535 (0 picks a free one)');
  }
  return Number(value);
}

/** Opens `url` in the desktop's browser; a failure only means the user opens it by hand. */
function openBrowser(url: string, io: CliIO): void {
  const [command, args]: [string, string[]] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.on('error', () => io.stderr.write(`deskkms ui: could not start ${command}; open the URL above by hand\n`));
    child.unref();
  } catch {
    io.stderr.write(`deskkms ui: could not start ${command}; open the URL above by hand\n`);
  }
}

export async function runUi(flags: FlagValues, io: CliIO, stopped: Promise<string> = shutdownSignal()): Promise<number> {
  const port = parsePort(flags.port);
  if (!rendererBuilt()) {
    io.stderr.write('deskkms ui: the renderer is not built yet; building it with Vite (once)\n');
    await buildRenderer({ quiet: true });
  }
  const session = new AppSession({
    vaultDir: vaultDirOf(flags, io),
    caller: 'ui',
    onInternalError: (method, error) => io.stderr.write(`deskkms ui: internal failure in ${method}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`),
  });
  try {
    const server = await startUiServer({
      call: (request) => session.call(request),
      staticDir: RENDERER_DIST,
      port,
      log: (line) => io.stderr.write(`${line}\n`),
    });
    io.stdout.write(`${JSON.stringify({ Url: server.url, Vault: vaultDirOf(flags, io) })}\n`);
    io.stderr.write(`deskkms ui: open ${server.url}\n`);
    if (flags['no-open'] !== true) openBrowser(server.url, io);
    const signal = await stopped;
    io.stderr.write(`deskkms ui: ${signal}: closing\n`);
    await server.close();
    return EXIT_OK;
  } finally {
    await session.close();
  }
}

export const uiCommand: Command = {
  name: 'ui',
  summary: 'Serve the desktop app in a browser on 127.0.0.1 (where Electron cannot run)',
  usage: 'deskkms ui [--vault DIR] [--port N] [--no-open]',
  flags: {
    vault: VAULT_FLAGS.vault!,
    port: { type: 'string', value: 'N', description: 'port on 127.0.0.1 (default: a free one)' },
    'no-open': { type: 'boolean', description: 'print the URL but do not launch a browser' },
  },
  details:
    'Prints {"Url": ...} on stdout: the URL carries a random per-launch token, traded on first load for a cookie; ' +
    'every request must carry it. The vault is created, unlocked and locked from the page. SIGINT/SIGTERM stop it.',
  run: (flags, io) => runUi(flags, io),
};
