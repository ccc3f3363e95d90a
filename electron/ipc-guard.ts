// Who may call the app API over IPC: only the top frame of our main window, showing our own
// app:// page. Every ipcMain.handle call goes through handleAppCall, which refuses anything else
// before the payload is even looked at, then hands the payload to AppSession.call (runtime
// validation with zod, the { ok, ... } envelope, never a stack or a secret). Plain Node: the
// Electron objects are read through their types only, so the checks are tested without Electron.
import type { IpcMainInvokeEvent, WebContents } from 'electron';
import type { AppResult, PickedFileView } from '../core/contract/app-api.ts';
import { toKmsError } from '../core/contract/errors.ts';
import { isAppUrl } from './app-protocol.ts';

/** What the guard needs to know about the frame that sent an IPC message. */
export interface SenderInfo {
  /** The sending frame's URL; undefined when the frame is gone (navigated or destroyed). */
  readonly frameUrl: string | undefined;
  /** The frame is the top frame of its page (no parent). */
  readonly isMainFrame: boolean;
  /** The message came from our main window's webContents (not another window or a webview). */
  readonly fromMainWindow: boolean;
}

export type SenderVerdict = { readonly trusted: true } | { readonly trusted: false; readonly reason: string };

export function checkSender(sender: SenderInfo): SenderVerdict {
  if (!sender.fromMainWindow) return { trusted: false, reason: 'the message did not come from the DeskKMS window' };
  if (sender.frameUrl === undefined) return { trusted: false, reason: 'the sending frame is gone' };
  if (!sender.isMainFrame) return { trusted: false, reason: 'the message came from a subframe' };
  if (!isAppUrl(sender.frameUrl)) return { trusted: false, reason: 'the sending page is not the DeskKMS app' };
  return { trusted: true };
}

export function isTrustedSender(sender: SenderInfo): boolean {
  return checkSender(sender).trusted;
}

/** Reads the sender of an ipcMain.handle event: senderFrame is null once the frame navigated away. */
export function senderOf(event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>, mainWindow: Pick<WebContents, 'id'> | undefined): SenderInfo {
  const frame = event.senderFrame;
  return {
    frameUrl: frame?.url,
    isMainFrame: frame !== null && frame.parent === null,
    fromMainWindow: mainWindow !== undefined && event.sender.id === mainWindow.id,
  };
}

export interface AppCaller {
  call(request: unknown): Promise<AppResult<unknown>>;
}

/**
 * The body of the IPC handler: the sender check first, then AppSession.call. A refusal is an
 * envelope like any other answer, so a hostile frame learns nothing more than its refusal.
 */
export async function handleAppCall(session: AppCaller, sender: SenderInfo, payload: unknown, log?: (line: string) => void): Promise<AppResult<unknown>> {
  const verdict = checkSender(sender);
  if (!verdict.trusted) {
    log?.(`deskkms: IPC call refused: ${verdict.reason} (${sender.frameUrl ?? 'no frame'})`);
    return { ok: false, error: { Code: 'Forbidden.NoPermission', Message: `IPC: ${verdict.reason}` } };
  }
  return session.call(payload);
}

export interface FileGranter {
  grantFile(path: string): Promise<PickedFileView>;
}

/**
 * The body of the file-dialog handler: the sender check first, then the dialog (`choose`: main's
 * own, the path never comes from the renderer), then the grant. The renderer gets the chosen
 * file's handle, name and size, or null when the user cancelled.
 */
export async function handlePickFile(session: FileGranter, sender: SenderInfo, choose: () => Promise<string | undefined>, log?: (line: string) => void): Promise<AppResult<PickedFileView | null>> {
  const verdict = checkSender(sender);
  if (!verdict.trusted) {
    log?.(`deskkms: file dialog refused: ${verdict.reason} (${sender.frameUrl ?? 'no frame'})`);
    return { ok: false, error: { Code: 'Forbidden.NoPermission', Message: `IPC: ${verdict.reason}` } };
  }
  try {
    const path = await choose();
    return { ok: true, value: path === undefined ? null : await session.grantFile(path) };
  } catch (error) {
    return { ok: false, error: toKmsError(error).toWire() };
  }
}
