// The preload: exposes exactly one object, window.deskkms = { call(method, params), pickFile() }, the typed
// DeskKmsBridge of core/contract/app-api.ts, and nothing else (no ipcRenderer, no event objects).
// It runs sandboxed, where only require('electron') works, so it is bundled into one CommonJS
// file (build/output/app/preload.cjs) by build/bundle-electron.ts.
import { contextBridge, ipcRenderer } from 'electron';
import { APP_PICK_CHANNEL, type DeskKmsBridge } from '../core/contract/app-api.ts';
import { bridgeRequest, invokeChannel } from './bridge-policy.ts';

const bridge: DeskKmsBridge = {
  call: (method, params) => ipcRenderer.invoke(invokeChannel(), bridgeRequest(method, params)),
  pickFile: () => ipcRenderer.invoke(invokeChannel(APP_PICK_CHANNEL)),
};

contextBridge.exposeInMainWorld('deskkms', bridge);
