// What the preload lets through: two channels (the allow-list: the app API, and the host's own
// file dialog, which takes nothing) and one request shape. The main
// process checks the sender and validates the payload again; this keeps the preload from ever
// being a general ipcRenderer proxy. Imported by the sandboxed preload: no node:* here.
import { APP_CHANNEL, APP_PICK_CHANNEL } from '../core/contract/app-api.ts';

export const ALLOWED_CHANNELS: readonly string[] = [APP_CHANNEL, APP_PICK_CHANNEL];

/** The channel the bridge invokes, checked against the allow-list. */
export function invokeChannel(channel: string = APP_CHANNEL): string {
  if (!ALLOWED_CHANNELS.includes(channel)) throw new Error(`deskkms preload: channel ${channel} is not allowed`);
  return channel;
}

/** A plain { method, params } copy: no functions or prototypes cross the IPC boundary. */
export function bridgeRequest(method: unknown, params: unknown): { method: string; params: unknown } {
  if (typeof method !== 'string') throw new TypeError('deskkms.call: method must be a string');
  return { method, params: params ?? {} };
}
