// Electron fuses of the packaged app, flipped in electron-builder's afterPack hook (before code
// signing, so the OS's signature check keeps them flipped). The configuration is exported as data
// and asserted fuse by fuse in test/unit/electron-fuses.test.ts.
import { flipFuses, FuseV1Options, FuseVersion, type FuseV1Config } from '@electron/fuses';
import { join } from 'node:path';
import type { AfterPackContext } from 'electron-builder';

/**
 * Every fuse this @electron/fuses knows is set explicitly (strictlyRequireAllFuses): an Electron
 * upgrade that adds one fails the package build until someone decides its value here.
 */
export const FUSES = {
  version: FuseVersion.V1,
  strictlyRequireAllFuses: true,
  /** ELECTRON_RUN_AS_NODE would turn the signed app into a general Node interpreter. */
  [FuseV1Options.RunAsNode]: false,
  /** Cookies and other Chromium storage encrypted with the OS keychain. */
  [FuseV1Options.EnableCookieEncryption]: true,
  /** NODE_OPTIONS could preload code into the main process. */
  [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
  /** --inspect and friends would open a debugger on the process that hosts the key worker. */
  [FuseV1Options.EnableNodeCliInspectArguments]: false,
  /** The app.asar is checked against the hash embedded at package time (macOS, Windows). */
  [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
  /** Only app.asar is loaded, never a loose app/ folder someone dropped beside it. */
  [FuseV1Options.OnlyLoadAppFromAsar]: true,
  [FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]: false,
  /** The page is served over app://, so file:// needs none of its legacy privileges. */
  [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
  /** Electron's default: WebAssembly trap handlers stay on. */
  [FuseV1Options.WasmTrapHandlers]: true,
} as const satisfies FuseV1Config;

/** The packaged Electron executable inside appOutDir, per platform. */
export function packagedExecutable(context: Pick<AfterPackContext, 'appOutDir' | 'electronPlatformName'> & { packager: { appInfo: { productFilename: string }; executableName?: string } }): string {
  const { appOutDir, electronPlatformName, packager } = context;
  if (electronPlatformName === 'darwin' || electronPlatformName === 'mas') return join(appOutDir, `${packager.appInfo.productFilename}.app`);
  if (electronPlatformName === 'win32') return join(appOutDir, `${packager.appInfo.productFilename}.exe`);
  return join(appOutDir, packager.executableName ?? packager.appInfo.productFilename);
}

/** electron-builder's afterPack hook (build/electron-builder.json: "afterPack"). */
export async function afterPack(context: AfterPackContext): Promise<void> {
  const executable = packagedExecutable(context);
  // On Apple silicon a binary whose bytes changed must be ad-hoc signed again before it runs
  // (the real signature comes later, over the flipped fuses).
  await flipFuses(executable, { ...FUSES, resetAdHocDarwinSignature: context.electronPlatformName === 'darwin' });
}

export default afterPack;
