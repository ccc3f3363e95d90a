// The install is quiet and says once which Node runs DeskKMS (issue 17). npm runs on the system's
// Node and warns, five lines per package, about every "engines" it does not satisfy: on Node 20
// `npm ci` printed ~45 such lines and `npx deskkms` the block twice. The checkout's .npmrc keeps
// npm to errors; package.json's postinstall prints the one line. A full `npm ci` is too slow for
// the suite: npm's own engine check is run on a one-package project that wants a Node nobody has.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { installFacts, installNote, npmNodeVersion } from '../../build/install-note.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'deskkms-install-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// npm as a user runs it: none of the npm_config_* variables npm exports to the scripts it runs
// (under `npm test` they would carry the checkout's own settings), empty user and global configs.
const userRc = join(tmp, 'user-npmrc');
const globalRc = join(tmp, 'global-npmrc');
writeFileSync(userRc, '');
writeFileSync(globalRc, '');
const npmEnv: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name))),
  npm_config_userconfig: userRc,
  npm_config_globalconfig: globalRc,
  npm_config_cache: join(tmp, 'npm-cache'),
  npm_config_update_notifier: 'false',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  NO_COLOR: '1',
};

function npm(args: readonly string[], cwd: string): { status: number | null; output: string } {
  const run = spawnSync('npm', args, { cwd, env: npmEnv, encoding: 'utf8', timeout: 120_000 });
  if (run.error) throw run.error;
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('npm in the checkout', () => {
  it('reads the checkout .npmrc: errors only', () => {
    const got = npm(['config', 'get', 'loglevel'], ROOT);
    expect(got.status).toBe(0);
    expect(got.output.trim()).toBe('error');
  });

  it('prints no EBADENGINE block for an engine it does not satisfy, and still prints a real error', () => {
    const project = join(tmp, 'project');
    rmSync(project, { recursive: true, force: true });
    spawnSync('mkdir', ['-p', project]);
    copyFileSync(join(ROOT, '.npmrc'), join(project, '.npmrc'));
    const manifest = { name: 'engine-probe', version: '1.0.0', engines: { node: '>=999' } };
    writeFileSync(join(project, 'package.json'), JSON.stringify(manifest));
    writeFileSync(
      join(project, 'package-lock.json'),
      JSON.stringify({ name: manifest.name, version: manifest.version, lockfileVersion: 3, requires: true, packages: { '': manifest } }),
    );
    const quiet = npm(['ci', '--dry-run', '--offline'], project);
    expect(quiet.status, quiet.output).toBe(0);
    expect(quiet.output).not.toMatch(/EBADENGINE|npm warn/i);

    // The same check with the warnings asked for: npm did see the mismatch (the probe is real).
    const loud = npm(['ci', '--dry-run', '--offline', '--loglevel=warn'], project);
    expect(loud.output).toMatch(/npm warn EBADENGINE Unsupported engine/);

    // A real failure is an error: printed in full, and the command fails (here: no lockfile).
    rmSync(join(project, 'package-lock.json'));
    const broken = npm(['ci', '--dry-run', '--offline'], project);
    expect(broken.status).not.toBe(0);
    expect(broken.output).toMatch(/^npm error .*can only install with an existing package-lock\.json/m);
  }, 120_000);
});

describe('the postinstall line', () => {
  it('is package.json\'s postinstall, run by the pinned Node', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.postinstall).toBe('node build/install-note.ts');
  });

  it('says in one line which Node runs DeskKMS and which only runs npm', () => {
    const run = spawnSync(join(ROOT, 'node_modules/node/bin/node'), [join(ROOT, 'build/install-note.ts')], {
      cwd: ROOT,
      env: { ...npmEnv, npm_config_user_agent: 'npm/11.19.1 node/v20.20.2 linux x64 workspaces/false' },
      encoding: 'utf8',
    });
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    const pinned = (JSON.parse(readFileSync(join(ROOT, 'node_modules/node/package.json'), 'utf8')) as { version: string }).version;
    expect(run.stdout).toBe(`DeskKMS runs on its own Node v${pinned} (node_modules/node); the system Node v20.20.2 only runs npm. Try: ./bin/deskkms --help\n`);
  });

  it('reads the Node that ran npm from its user agent, and says what to do when the pinned Node is missing', () => {
    expect(npmNodeVersion('npm/11.19.1 node/v20.20.2 linux x64 workspaces/false')).toBe('v20.20.2');
    expect(npmNodeVersion(undefined)).toBeUndefined();
    expect(installFacts(ROOT, {}).binary).toBe(true);
    const missing = installNote(installFacts(join(tmp, 'no-checkout'), {}));
    expect(missing.stream).toBe('stderr');
    expect(missing.line).toMatch(/node_modules\/node\/bin\/node\) is not installed.*run "npm ci" again/);
    expect(installNote({ pinned: '24.21.0', binary: true, npmNode: undefined }).line).toMatch(/^DeskKMS runs on its own Node v24\.21\.0 .*the system Node only runs npm/);
  });
});

describe('bin/run-with-node', () => {
  // The launcher's own part of a fast `deskkms --help`: Node's compile cache, in a per-user directory.
  const launch = (env: NodeJS.ProcessEnv): void => {
    const run = spawnSync(join(ROOT, 'bin/deskkms'), ['--help'], { env, encoding: 'utf8', timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
  };
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(NODE_COMPILE_CACHE|NODE_DISABLE_COMPILE_CACHE|XDG_CACHE_HOME)$/.test(name)));

  it('keeps Node\'s compile cache in a directory only the user can open', () => {
    const home = join(tmp, 'home-cache');
    launch({ ...base, HOME: home });
    const cache = join(home, '.cache/deskkms/node-compile-cache');
    expect(statSync(cache).mode & 0o777).toBe(0o700);
    expect(readdirSync(cache).length).toBeGreaterThan(0); // Node wrote its cache there

    // XDG_CACHE_HOME wins over HOME; a directory others may write into is closed first.
    const xdg = join(tmp, 'xdg');
    mkdirSync(join(xdg, 'deskkms/node-compile-cache'), { recursive: true });
    chmodSync(join(xdg, 'deskkms/node-compile-cache'), 0o777);
    launch({ ...base, HOME: join(tmp, 'home-unused'), XDG_CACHE_HOME: xdg });
    expect(statSync(join(xdg, 'deskkms/node-compile-cache')).mode & 0o777).toBe(0o700);
    expect(readdirSync(join(xdg, 'deskkms/node-compile-cache')).length).toBeGreaterThan(0);
    expect(existsSync(join(tmp, 'home-unused'))).toBe(false);
  }, 240_000);

  it('leaves a cache the user chose, or turned off, alone', () => {
    const own = join(tmp, 'own-cache');
    launch({ ...base, HOME: join(tmp, 'home-own'), NODE_COMPILE_CACHE: own });
    expect(readdirSync(own).length).toBeGreaterThan(0);
    expect(existsSync(join(tmp, 'home-own'))).toBe(false);
    launch({ ...base, HOME: join(tmp, 'home-off'), NODE_DISABLE_COMPILE_CACHE: '1' });
    expect(existsSync(join(tmp, 'home-off'))).toBe(false);
  }, 240_000);
});
