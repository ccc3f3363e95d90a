// deskkms ui: the desktop app's renderer in a browser, served on 127.0.0.1 with a single-use
// launch token (traded by the page for a per-session secret; see core/hosts/ui/ui-server.ts), for
// stations where Electron cannot run (and for the end-to-end tests).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AppSession } from '../../../app/app-session.ts';
import { HostFolder } from '../../../app/host-folder.ts';
import { RENDERER_DIST, buildRenderer, rendererBuilt } from '../../../app/renderer-build.ts';
import { LAUNCH_TTL_MS, startUiServer } from '../../ui/ui-server.ts';
import { browserOpener, openByHandNotice, runOpener, type BrowserOpener } from '../../ui/browser-opener.ts';
import { invalidParameter } from '../../../contract/errors.ts';
import { EXIT_OK, type CliIO, type Command, type FlagValues } from '../command.ts';
import { VAULT_FLAGS, vaultDirOf } from '../vault-session.ts';
import { shutdownSignal } from './serve.ts';
import { loadAllHandlers } from '../../../actions/table.ts';

function parsePort(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'string' || !/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw invalidParameter('--port', 'must be a port number 0-65535 (0 picks a free one)');
  }
  return Number(value);
}

/**
 * Opens `url` in the desktop's browser without putting the token on a command line (which other
 * local users can read in the process list): the browser is given a launcher page, readable by
 * this user only, that redirects to the URL. An opener that cannot start or exits non-zero
 * (xdg-open exits 3 when it finds no browser) is reported: the user then opens the page by hand.
 */
async function openBrowser(url: string, io: CliIO, opener: Extract<BrowserOpener, { ok: true }>): Promise<{ launcher: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'deskkms-ui-')); // mode 0700
  const launcher = join(dir, 'open-deskkms.html');
  const target = url.replaceAll('&', '&amp;').replaceAll('"', '&quot;');
  await writeFile(launcher, `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${target}"><title>DeskKMS</title>\n`, { mode: 0o600 });
  runOpener(opener, launcher, (reason) =>
    io.stderr.write(`deskkms ui: ${reason}; open ${pathToFileURL(launcher).href} in a browser on this machine, or run with --no-open for the URL\n`),
  );
  return { launcher, remove: () => rm(dir, { recursive: true, force: true }) };
}

export async function runUi(flags: FlagValues, io: CliIO, stopped: Promise<string> = shutdownSignal()): Promise<number> {
  const port = parsePort(flags.port);
  const files = typeof flags.files === 'string' ? await HostFolder.open(flags.files) : undefined;
  if (!rendererBuilt()) {
    io.stderr.write('deskkms ui: the renderer is not built yet; building it with Vite (once)\n');
    await buildRenderer({ quiet: true });
  }
  const session = new AppSession({
    vaultDir: vaultDirOf(flags, io),
    caller: 'ui',
    ...(files ? { files } : {}),
    onInternalError: (method, error) => io.stderr.write(`deskkms ui: internal failure in ${method}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`),
  });
  try {
    await loadAllHandlers(); // the app's first call does not wait for its handler's module
    const server = await startUiServer({
      call: (request) => session.call(request),
      staticDir: RENDERER_DIST,
      port,
      log: (line) => io.stderr.write(`${line}\n`),
    });
    let launched: { launcher: string; remove(): Promise<void> } | undefined;
    // Without a display or an opener (an SSH session, a server) no browser can be opened: say how
    // to open the app by hand and print the URL as --no-open does.
    const opener = flags['no-open'] === true ? undefined : browserOpener();
    if (opener && !opener.ok) io.stderr.write(`${openByHandNotice(opener.reason, 'deskkms ui --no-open')}\n`);
    if (!opener?.ok) {
      // The caller opens it (a script, a test): the token URL goes to stdout only.
      io.stdout.write(`${JSON.stringify({ Url: server.url, Vault: vaultDirOf(flags, io), ...(files ? { Files: flags.files } : {}) })}\n`);
      io.stderr.write(
        `deskkms ui: the URL on stdout opens the app once, in one browser, within ${LAUNCH_TTL_MS / 60_000} minutes; ` +
          'keep it to yourself until then (afterwards it is worth nothing)\n',
      );
    } else {
      launched = await openBrowser(server.url, io, opener);
      io.stdout.write(`${JSON.stringify({ Url: `${server.origin}/`, Launcher: pathToFileURL(launched.launcher).href, Vault: vaultDirOf(flags, io), ...(files ? { Files: flags.files } : {}) })}\n`);
      io.stderr.write(`deskkms ui: opening ${server.origin}/ in your browser (launch page: ${pathToFileURL(launched.launcher).href})\n`);
    }
    const signal = await stopped;
    io.stderr.write(`deskkms ui: ${signal}: closing\n`);
    await server.close();
    await launched?.remove();
    return EXIT_OK;
  } finally {
    await session.close();
  }
}

export const uiCommand: Command = {
  name: 'ui',
  usage: 'deskkms ui [--vault DIR] [--port N] [--no-open] [--files DIR]',
  flags: {
    vault: VAULT_FLAGS.vault!,
    port: { type: 'string', value: 'N', description: 'port on 127.0.0.1 (default: a free one)' },
    'no-open': { type: 'boolean', description: 'print the URL but do not launch a browser' },
    files: { type: 'string', value: 'DIR', description: 'share DIR with the page: files chosen in it are read by the host itself (signing a large file at disk speed)' },
  },
  details:
    'Opens the app in your browser through a launch page only you can read (the token never appears on a command line). ' +
    'With --no-open it prints {"Url": ...} on stdout instead. The URL carries a random launch token in its #fragment, ' +
    `good for one trade within ${LAUNCH_TTL_MS / 60_000} minutes: the page trades it for a per-session secret that every ` +
    'API call must carry in a header, together with a browser-binding cookie. The vault is created, unlocked and locked from the page. ' +
    'With --files DIR the page may list DIR and choose a file in it, which the host reads and hashes itself instead of the browser ' +
    'uploading it (Chromium uploads at a fraction of the speed of hashing); nothing outside DIR is reached, links included. ' +
    'SIGINT/SIGTERM stop it.',
  run: (flags, io) => runUi(flags, io),
};
