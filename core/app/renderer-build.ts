// Where the built renderer lives, and building it with Vite when it is missing (a fresh clone
// before `npm run build:renderer`). Vite is a development tool: it is imported only here, only
// when a build is needed.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type * as Vite from 'vite';
import { KmsError } from '../contract/errors.ts';

/** renderer/ at the repository root (this file is core/app/renderer-build.ts). */
export const RENDERER_ROOT = fileURLToPath(new URL('../../renderer/', import.meta.url));
export const RENDERER_DIST = fileURLToPath(new URL('../../renderer/dist/', import.meta.url));

export function rendererBuilt(dist = RENDERER_DIST): boolean {
  return existsSync(`${dist}index.html`);
}

/** Builds renderer/ into renderer/dist with the project's vite.config.ts. */
export async function buildRenderer(options: { quiet?: boolean } = {}): Promise<void> {
  let vite: typeof Vite;
  try {
    vite = await import('vite');
  } catch {
    throw new KmsError('InternalFailure', 'the renderer is not built and Vite is not installed: run npm ci, then npm run build:renderer');
  }
  await vite.build({
    configFile: `${RENDERER_ROOT}vite.config.ts`,
    root: RENDERER_ROOT,
    logLevel: options.quiet ? 'warn' : 'info',
  });
}
