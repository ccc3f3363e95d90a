// The packaged app's fuses and electron-builder configuration, read as data: each fuse the issue
// names, every fuse decided explicitly, the afterPack hook wired, the targets and the icons.
import { FuseState, FuseV1Options, FuseVersion, getCurrentFuseWire } from '@electron/fuses';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodePng, ICON_SIZE, iconPixels, iconSvg } from '../../build/make-icon.ts';
import * as fuses from '../../build/fuses.ts';

/** @electron/fuses' marker before the fuse wire in Electron's binaries (its constants.js). */
const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';

const ROOT = new URL('../../', import.meta.url);
const config = JSON.parse(readFileSync(new URL('build/electron-builder.json', ROOT), 'utf8'));

describe('fuses', () => {
  it('the afterPack hook flips them in an executable carrying Electron\'s fuse wire', async () => {
    // No Electron binary here: a file with the fuse wire as Electron embeds it (the sentinel, wire
    // version 1, the wire length, every fuse at its Electron default), amid other bytes.
    const dir = mkdtempSync(join(tmpdir(), 'deskkms-fuses-'));
    try {
      const count = Object.values(FuseV1Options).filter((v) => typeof v === 'number').length;
      const defaults = Buffer.alloc(count, FuseState.ENABLE);
      defaults[FuseV1Options.LoadBrowserProcessSpecificV8Snapshot] = FuseState.DISABLE;
      defaults[FuseV1Options.EnableCookieEncryption] = FuseState.DISABLE;
      defaults[FuseV1Options.EnableEmbeddedAsarIntegrityValidation] = FuseState.DISABLE;
      defaults[FuseV1Options.OnlyLoadAppFromAsar] = FuseState.DISABLE;
      const executable = join(dir, 'deskkms');
      writeFileSync(executable, Buffer.concat([randomBytes(4096), Buffer.from(SENTINEL), Buffer.from([1, count]), defaults, randomBytes(4096)]));
      await fuses.afterPack({ appOutDir: dir, electronPlatformName: 'linux', packager: { appInfo: { productFilename: 'DeskKMS' }, executableName: 'deskkms' } } as never);
      const wire = await getCurrentFuseWire(executable);
      for (const option of Object.values(FuseV1Options).filter((v): v is number => typeof v === 'number')) {
        const wanted = fuses.FUSES[option as keyof typeof fuses.FUSES];
        expect(wire[option as FuseV1Options], FuseV1Options[option]).toBe(wanted ? FuseState.ENABLE : FuseState.DISABLE);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('turns off RunAsNode, NODE_OPTIONS and --inspect', () => {
    expect(fuses.FUSES[FuseV1Options.RunAsNode]).toBe(false);
    expect(fuses.FUSES[FuseV1Options.EnableNodeOptionsEnvironmentVariable]).toBe(false);
    expect(fuses.FUSES[FuseV1Options.EnableNodeCliInspectArguments]).toBe(false);
  });

  it('turns on cookie encryption, ASAR integrity and only-load-from-ASAR', () => {
    expect(fuses.FUSES[FuseV1Options.EnableCookieEncryption]).toBe(true);
    expect(fuses.FUSES[FuseV1Options.EnableEmbeddedAsarIntegrityValidation]).toBe(true);
    expect(fuses.FUSES[FuseV1Options.OnlyLoadAppFromAsar]).toBe(true);
  });

  it('decides every fuse @electron/fuses knows, and requires that', () => {
    expect(fuses.FUSES.version).toBe(FuseVersion.V1);
    expect(fuses.FUSES.strictlyRequireAllFuses).toBe(true);
    const known = Object.values(FuseV1Options).filter((v): v is number => typeof v === 'number');
    expect(known.length).toBeGreaterThanOrEqual(9);
    for (const fuse of known) expect(typeof (fuses.FUSES as Record<number, unknown>)[fuse], FuseV1Options[fuse]).toBe('boolean');
  });

  it('finds the packaged executable of each platform', () => {
    const packager = { appInfo: { productFilename: 'DeskKMS' }, executableName: 'deskkms' };
    expect(fuses.packagedExecutable({ appOutDir: '/out/linux-unpacked', electronPlatformName: 'linux', packager })).toBe('/out/linux-unpacked/deskkms');
    expect(fuses.packagedExecutable({ appOutDir: '/out/mac', electronPlatformName: 'darwin', packager })).toBe('/out/mac/DeskKMS.app');
    expect(fuses.packagedExecutable({ appOutDir: '/out/win-unpacked', electronPlatformName: 'win32', packager })).toBe('/out/win-unpacked/DeskKMS.exe');
  });
});

describe('electron-builder configuration', () => {
  it('names the app and runs the fuses hook after packing', () => {
    expect(config.appId).toBe('dev.deskkms.app');
    expect(config.productName).toBe('DeskKMS');
    expect(config.asar).toBe(true);
    expect(config.afterPack).toBe('./build/fuses.ts');
    expect(typeof fuses.afterPack).toBe('function');
  });

  it('builds AppImage and deb, dmg, and nsis', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.win.target).toEqual(['nsis']);
  });

  it('packs the compiled main process, the built renderer and package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8'));
    expect(pkg.main).toBe('build/output/app/main.js');
    expect(config.files).toEqual(expect.arrayContaining(['package.json', 'build/output/app/**/*', 'renderer/dist/**/*']));
  });

  it('uses icons that exist in assets/', () => {
    for (const platform of ['linux', 'mac', 'win']) {
      expect(config[platform].icon).toBe('assets/icon.png');
    }
    const png = readFileSync(new URL('assets/icon.png', ROOT));
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(512);
    expect(png.readUInt32BE(20)).toBe(512);
  });
});

describe('the app icon', () => {
  it('is what build/make-icon.ts draws (PNG and SVG), so the files never drift from their source', () => {
    expect(readFileSync(new URL('assets/icon.png', ROOT)).equals(encodePng(iconPixels(), ICON_SIZE))).toBe(true);
    expect(readFileSync(new URL('assets/icon.svg', ROOT), 'utf8')).toBe(iconSvg());
  });

  it('decodes to the pixels drawn: transparent corners, opaque key colour at the ring', () => {
    const png = encodePng(iconPixels(), ICON_SIZE);
    // One IDAT chunk after IHDR (8 + 25 bytes): length at 33, data at 41.
    const length = png.readUInt32BE(33);
    expect(png.subarray(37, 41).toString('latin1')).toBe('IDAT');
    const raw = inflateSync(png.subarray(41, 41 + length));
    const stride = ICON_SIZE * 4 + 1;
    expect(raw.length).toBe(stride * ICON_SIZE);
    const pixel = (x: number, y: number): number[] => [...raw.subarray(y * stride + 1 + x * 4, y * stride + 1 + x * 4 + 4)];
    expect(pixel(0, 0)[3]).toBe(0);
    expect(pixel(176 - 67, 256)).toEqual([0xf2, 0xc1, 0x4e, 255]);
    expect(pixel(256, 100)).toEqual([0x1e, 0x3a, 0x5f, 255]);
  });
});
