// What the main process does before the app is ready, as one plain function that a Node test runs
// against a recording stand-in of Electron's app and protocol (Electron ignores, or throws on,
// both calls once the app is ready). main.ts calls it first thing, at module load.
import type { App, CustomScheme, Protocol } from 'electron';
import { KmsError } from '../core/contract/errors.ts';
import { APP_SCHEME } from './app-protocol.ts';

/**
 * app:// behaves like https (standard URL parsing, secure context, fetch). Vite emits
 * <script type="module" crossorigin>, fetched in CORS mode: the scheme must allow it (our
 * responses carry no Access-Control-Allow-Origin, so no other origin can read them).
 */
export const APP_SCHEME_PRIVILEGES: readonly CustomScheme[] = [
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true } },
];

export function beforeReady(app: Pick<App, 'enableSandbox' | 'isReady'>, protocol: Pick<Protocol, 'registerSchemesAsPrivileged'>): void {
  if (app.isReady()) throw new KmsError('InternalFailure', 'beforeReady: must run before the app is ready (app.enableSandbox would not apply)');
  // Every renderer sandboxed, whatever its webPreferences say: ours say sandbox: true already
  // (window-policy.ts); this also covers any webContents created without them.
  app.enableSandbox();
  protocol.registerSchemesAsPrivileged([...APP_SCHEME_PRIVILEGES]);
}
