// Finding the Electron binary without require('electron') (which would try to download it).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ELECTRON_PACKAGE_DIR, findElectronBinary } from '../../electron/electron-binary.ts';

describe('findElectronBinary', () => {
  let dir: string;
  let pkg: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'deskkms-electron-bin-'));
    pkg = join(dir, 'electron');
    mkdirSync(pkg);
    writeFileSync(join(pkg, 'package.json'), '{"name":"electron"}');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a missing package', () => {
    const found = findElectronBinary({ packageDir: join(dir, 'nope'), env: {} });
    expect(found).toMatchObject({ found: false, reason: expect.stringContaining('not installed') });
  });

  it('reports a download that never ran (no path.txt)', () => {
    expect(findElectronBinary({ packageDir: pkg, env: {} })).toMatchObject({ found: false, reason: expect.stringContaining('path.txt is missing') });
  });

  it('reports a path.txt whose executable is missing', () => {
    writeFileSync(join(pkg, 'path.txt'), 'electron');
    expect(findElectronBinary({ packageDir: pkg, env: {} })).toMatchObject({ found: false, reason: expect.stringContaining(join(pkg, 'dist', 'electron')) });
  });

  it('finds dist/<path.txt> when it exists', () => {
    writeFileSync(join(pkg, 'path.txt'), 'electron');
    mkdirSync(join(pkg, 'dist'));
    writeFileSync(join(pkg, 'dist', 'electron'), '');
    expect(findElectronBinary({ packageDir: pkg, env: {} })).toEqual({ found: true, path: join(pkg, 'dist', 'electron') });
  });

  it('honours ELECTRON_OVERRIDE_DIST_PATH, with or without path.txt', () => {
    const override = join(dir, 'override');
    mkdirSync(override);
    expect(findElectronBinary({ packageDir: pkg, env: { ELECTRON_OVERRIDE_DIST_PATH: override }, platform: 'linux' })).toMatchObject({ found: false });
    writeFileSync(join(override, 'electron'), '');
    expect(findElectronBinary({ packageDir: pkg, env: { ELECTRON_OVERRIDE_DIST_PATH: override }, platform: 'linux' })).toEqual({ found: true, path: join(override, 'electron') });
    writeFileSync(join(override, 'electron.exe'), '');
    expect(findElectronBinary({ packageDir: pkg, env: { ELECTRON_OVERRIDE_DIST_PATH: override }, platform: 'win32' })).toEqual({ found: true, path: join(override, 'electron.exe') });
  });

  it('looks at the project\'s own node_modules/electron by default', () => {
    expect(ELECTRON_PACKAGE_DIR).toMatch(/node_modules[/\\]electron[/\\]$/);
    const found = findElectronBinary({ env: {} });
    // Whatever this machine has, the answer is consistent with the files (no download attempted).
    if (found.found) expect(found.path.startsWith(join(ELECTRON_PACKAGE_DIR, 'dist'))).toBe(true);
    else expect(found.reason).toMatch(/path\.txt|missing|not installed/);
  });
});
