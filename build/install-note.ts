// The last line of `npm ci` / `npm install` (package.json "postinstall"): which Node runs DeskKMS.
// npm runs on the system's Node (any version >= 20) and checks every package's "engines" against
// it; DeskKMS runs on its own Node 24, the `node` devDependency (node_modules/node/bin/node), which
// is what npm scripts, `npx deskkms` and bin/* start. .npmrc keeps npm's engine warnings out
// (loglevel=error); this says once, in one line, why they do not matter.
//
// Run by the pinned Node itself (node_modules/.bin is first on PATH in npm scripts); it only reads
// and prints, and never fails the install.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('../', import.meta.url).pathname;

/** The Node that ran npm, from npm's user agent ("npm/11.19.1 node/v20.20.2 linux x64 ..."). */
export function npmNodeVersion(userAgent: string | undefined): string | undefined {
  return /(?:^|\s)node\/(v\d+\.\d+\.\d+)(?:\s|$)/.exec(userAgent ?? '')?.[1];
}

export interface InstallFacts {
  /** Version of the `node` devDependency's package, or undefined when it is not installed. */
  pinned: string | undefined;
  /** Whether its binary is there. */
  binary: boolean;
  /** The Node that ran npm. */
  npmNode: string | undefined;
}

export function installFacts(root: string = ROOT, env: NodeJS.ProcessEnv = process.env): InstallFacts {
  let pinned: string | undefined;
  try {
    pinned = (JSON.parse(readFileSync(join(root, 'node_modules/node/package.json'), 'utf8')) as { version?: unknown }).version as string | undefined;
  } catch {
    pinned = undefined;
  }
  return { pinned: typeof pinned === 'string' ? pinned : undefined, binary: existsSync(join(root, 'node_modules/node/bin/node')), npmNode: npmNodeVersion(env.npm_config_user_agent) };
}

/** The one line: on stdout when all is well, on stderr (with what to do) when the pinned Node is missing. */
export function installNote(facts: InstallFacts): { stream: 'stdout' | 'stderr'; line: string } {
  if (facts.pinned === undefined || !facts.binary) {
    return {
      stream: 'stderr',
      line: 'deskkms: the project\'s own Node 24 (node_modules/node/bin/node) is not installed, so bin/deskkms and npm start cannot run; run "npm ci" again without --ignore-scripts',
    };
  }
  const npm = facts.npmNode === undefined ? 'the system Node only runs npm' : `the system Node ${facts.npmNode} only runs npm`;
  return { stream: 'stdout', line: `DeskKMS runs on its own Node v${facts.pinned} (node_modules/node); ${npm}. Try: ./bin/deskkms --help` };
}

if (import.meta.main) {
  const { stream, line } = installNote(installFacts());
  process[stream].write(`${line}\n`);
}
