// The Electron main process: one window showing renderer/dist over app://deskkms/, the
// application menu, and the app API over one IPC channel into AppSession (which hosts the vault
// and its key worker in this process). Thin by design: the security decisions live in
// window-policy.ts, ipc-guard.ts and app-protocol.ts, which are tested in plain Node.
// Bundled to build/output/app/main.js by build/bundle-electron.ts (Electron does not run .ts).
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session } from 'electron';
import { join } from 'node:path';
import { AppSession } from '../core/app/app-session.ts';
import { APP_CHANNEL, APP_PICK_CHANNEL } from '../core/contract/app-api.ts';
import { appVaultDir } from './app-args.ts';
import { beforeReady } from './before-ready.ts';
import { APP_ENTRY_URL, APP_SCHEME, readAppAsset } from './app-protocol.ts';
import { handleAppCall, handlePickFile, senderOf } from './ipc-guard.ts';
import { menuTemplate } from './menu.ts';
import {
  appResponseHeaders,
  permissionCheckHandler,
  permissionRequestHandler,
  denyWindowOpen,
  isAllowedRequest,
  shouldBlockNavigation,
  webPreferencesFor,
  withCsp,
} from './window-policy.ts';

const log = (line: string): void => void process.stderr.write(`${line}\n`);

// Before ready, first thing: every renderer sandboxed (app.enableSandbox) and app:// privileged.
beforeReady(app, protocol);

let mainWindow: BrowserWindow | undefined;
const vaultDir = appVaultDir(process.argv.slice(1), process.cwd(), process.env);
const appSession = new AppSession({
  vaultDir,
  caller: 'app',
  onInternalError: (method, error) => log(`deskkms: internal failure in ${method}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
});

function rendererRoot(): string {
  return join(app.getAppPath(), 'renderer', 'dist');
}

function hardenSession(): void {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler(permissionRequestHandler);
  ses.setPermissionCheckHandler(permissionCheckHandler);
  ses.webRequest.onBeforeRequest((details, callback) => {
    const allowed = isAllowedRequest(details.url, { packaged: app.isPackaged });
    if (!allowed) log(`deskkms: blocked a request to ${details.url}`);
    callback({ cancel: !allowed });
  });
  ses.webRequest.onHeadersReceived((details, callback) => callback({ responseHeaders: withCsp(details.responseHeaders) }));
  protocol.handle(APP_SCHEME, async (request) => {
    const asset = await readAppAsset(request.url, rendererRoot());
    if (!asset) return new Response('not found', { status: 404, headers: appResponseHeaders('text/plain; charset=utf-8') });
    return new Response(new Uint8Array(asset.body), { headers: appResponseHeaders(asset.contentType) });
  });
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1200,
    height: 800,
    minWidth: 720,
    minHeight: 480,
    title: 'DeskKMS',
    show: false,
    backgroundColor: '#ffffff',
    icon: join(app.getAppPath(), 'assets', 'icon.png'),
    webPreferences: webPreferencesFor({ packaged: app.isPackaged, preload: join(import.meta.dirname, 'preload.cjs') }),
  });
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = undefined;
  });
  void win.loadURL(APP_ENTRY_URL);
  return win;
}

async function lockVault(): Promise<void> {
  const result = await appSession.call({ method: 'Vault.Lock', params: {} });
  if (!result.ok) log(`deskkms: lock failed: ${result.error.Code}: ${result.error.Message}`);
  // The page asks for the vault's status when it loads: a reload shows the unlock screen.
  mainWindow?.webContents.reload();
}

function about(): void {
  void dialog.showMessageBox({
    type: 'info',
    title: 'About DeskKMS',
    message: `DeskKMS ${app.getVersion()}`,
    detail: `Offline-first desktop key vault.\nVault: ${vaultDir}\nElectron ${process.versions.electron}, Node ${process.versions.node}`,
  });
}

if (!app.requestSingleInstanceLock()) {
  // Another DeskKMS window owns this user's session: it is focused by its second-instance handler.
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });

  // Every webContents, present and future: no navigation away, no new windows, no webviews.
  app.on('web-contents-created', (_event, contents) => {
    contents.setWindowOpenHandler(denyWindowOpen);
    const guard = (event: Electron.Event<{ url: string; isSameDocument: boolean }>): void => {
      if (shouldBlockNavigation(event, contents.getURL())) {
        event.preventDefault();
        log(`deskkms: blocked navigation to ${event.url}`);
      }
    };
    contents.on('will-navigate', guard);
    contents.on('will-frame-navigate', guard);
    contents.on('will-redirect', guard);
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });

  ipcMain.handle(APP_CHANNEL, (event, payload: unknown) => handleAppCall(appSession, senderOf(event, mainWindow?.webContents), payload, log));
  // The host's own file dialog: the file the user chose is read here (Digest/Sign.UpdateFile).
  ipcMain.handle(APP_PICK_CHANNEL, (event) =>
    handlePickFile(appSession, senderOf(event, mainWindow?.webContents), async () => {
      const chosen = mainWindow ? await dialog.showOpenDialog(mainWindow, { properties: ['openFile'] }) : undefined;
      return chosen && !chosen.canceled ? chosen.filePaths[0] : undefined;
    }, log),
  );

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  let closed = false;
  app.on('will-quit', (event) => {
    if (closed) return;
    // Lock the vault (wipes the key worker's keys) before the process goes.
    event.preventDefault();
    void appSession.close().finally(() => {
      closed = true;
      app.quit();
    });
  });

  void app.whenReady().then(() => {
    hardenSession();
    Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate({ packaged: app.isPackaged, platform: process.platform }, { lockVault: () => void lockVault(), about })));
    mainWindow = createWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow();
    });
  });
}
