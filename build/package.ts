// npm run dist: the installable packages. Builds the renderer and the Electron bundles, then runs
// electron-builder with build/electron-builder.json (its afterPack hook, build/fuses.ts, flips the
// fuses). Extra arguments go to electron-builder, e.g. `npm run dist -- --linux AppImage` or
// `--dir` for an unpacked app. electron-builder downloads the Electron release it packages: run
// this on a machine with network access, one OS per package (see build/README.md).
import { spawn } from 'node:child_process';
import { buildRenderer } from '../core/app/renderer-build.ts';
import { bundleElectron, ROOT } from './bundle-electron.ts';

await buildRenderer({ quiet: true });
await bundleElectron({ quiet: true });
const child = spawn(
  process.execPath,
  [`${ROOT}node_modules/electron-builder/cli.js`, '--config', 'build/electron-builder.json', '--publish', 'never', ...process.argv.slice(2)],
  { cwd: ROOT, stdio: 'inherit' },
);
process.exitCode = await new Promise<number>((resolve, reject) => {
  child.once('error', reject);
  child.once('exit', (code) => resolve(code ?? 1));
});
