// Compiles the Electron entry points for Electron, which does not run TypeScript: Vite (Rolldown)
// bundles electron/main.ts with core/ into build/output/app/main.js (ESM, Node target), the key
// worker into key-worker.js beside it, and the sandboxed preload into one CommonJS file,
// preload.cjs, that requires nothing but 'electron' (a sandboxed preload cannot load other
// files). npm packages stay external: electron-builder ships the production node_modules.
import { builtinModules } from 'node:module';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const APP_OUT_DIR = fileURLToPath(new URL('./output/app/', import.meta.url));

const NODE_BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/** Everything that is not our own source: Node built-ins, electron, and npm packages. */
function isExternal(id: string): boolean {
  return NODE_BUILTINS.has(id) || id.startsWith('node:') || (!id.startsWith('.') && !id.startsWith('/') && !id.startsWith('\0'));
}

/** The key worker's file in the bundle, beside main.js. */
export const KEY_WORKER_FILE = 'key-worker.js';
const WORKER_URL_PLACEHOLDER = '__DESKKMS_KEY_WORKER_URL__';

/**
 * core/worker/prestart.ts names the worker for every client: `new URL('./key-worker.ts', import.meta.url)`;
 * in the bundle the worker is key-worker.js beside main.js, and prestart.ts may land in a chunk of
 * chunks/ (where the bundler puts it depends on who else imports what): the URL is written once
 * the chunk's place is known, relative to it.
 */
function workerUrlPlugin(): Plugin {
  return {
    name: 'deskkms-worker-url',
    enforce: 'pre',
    transform(code, id) {
      if (!id.endsWith('/core/worker/prestart.ts')) return null;
      const next = code.replace("new URL('./key-worker.ts', import.meta.url)", `new URL('${WORKER_URL_PLACEHOLDER}', import.meta.url)`);
      if (next === code) this.error('core/worker/prestart.ts no longer names ./key-worker.ts: update build/bundle-electron.ts');
      return { code: next, map: null };
    },
    renderChunk(code, chunk) {
      if (!code.includes(WORKER_URL_PLACEHOLDER)) return null;
      const relative = posix.relative(posix.dirname(chunk.fileName), KEY_WORKER_FILE);
      return { code: code.replaceAll(WORKER_URL_PLACEHOLDER, relative.startsWith('.') ? relative : `./${relative}`), map: null };
    },
  };
}

/**
 * The preload needs the channel constants of core/contract/app-api.ts (APP_CHANNEL, and
 * APP_PICK_CHANNEL for the host's file dialog), whose other exports build zod schemas at load time,
 * which a sandboxed preload could not require. For the preload bundle that module is replaced by
 * those lines, read from the real file (one definition).
 */
const PRELOAD_CONSTANTS = ['APP_CHANNEL', 'APP_PICK_CHANNEL'] as const;

function channelOnlyContractPlugin(): Plugin {
  return {
    name: 'deskkms-channel-only-contract',
    enforce: 'pre',
    async load(id) {
      if (!id.endsWith('/core/contract/app-api.ts')) return null;
      const { readFile } = await import('node:fs/promises');
      const source = await readFile(id, 'utf8');
      return PRELOAD_CONSTANTS.map((name) => {
        const line = new RegExp(`^export const ${name} = '[^']+';$`, 'm').exec(source);
        if (!line) this.error(`core/contract/app-api.ts no longer declares ${name} as a string literal: update build/bundle-electron.ts`);
        return line[0];
      }).join('\n');
    },
  };
}

export async function bundleElectron(options: { readonly quiet?: boolean } = {}): Promise<void> {
  const vite = await import('vite');
  const common = {
    configFile: false as const,
    root: ROOT,
    logLevel: options.quiet ? ('warn' as const) : ('info' as const),
    publicDir: false as const,
  };
  // Main process and key worker: ESM (package.json says "type": "module"), Node built-ins external.
  await vite.build({
    ...common,
    plugins: [workerUrlPlugin()],
    build: {
      ssr: true,
      target: 'node22',
      outDir: APP_OUT_DIR,
      emptyOutDir: true,
      minify: false,
      sourcemap: false,
      rolldownOptions: {
        input: { main: `${ROOT}electron/main.ts`, [KEY_WORKER_FILE.replace(/\.js$/, '')]: `${ROOT}core/worker/key-worker.ts` },
        external: isExternal,
        output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
      },
    },
  });
  // Sandboxed preload: one CommonJS file; only 'electron' is left as a require.
  await vite.build({
    ...common,
    plugins: [channelOnlyContractPlugin()],
    build: {
      ssr: true,
      target: 'node22',
      outDir: APP_OUT_DIR,
      emptyOutDir: false,
      minify: false,
      sourcemap: false,
      rolldownOptions: {
        input: { preload: `${ROOT}electron/preload.ts` },
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  });
}

if (import.meta.main) await bundleElectron();
