// The layering arrows of DESIGN.md section 2 are enforced by ESLint; this proves the rule fires.
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import config, { layering } from '../../eslint.config.js';

const eslint = new ESLint({
  cwd: new URL('../..', import.meta.url).pathname,
  overrideConfigFile: true,
  overrideConfig: [{ files: ['**/*.ts', '**/*.tsx'], languageOptions: { parser: tseslint.parser } }, ...layering],
});

async function layeringErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layering lint rule', () => {
  it.each([
    ['core/crypto/x.ts', "import { app } from 'electron';", /must not import electron/],
    ['core/crypto/x.ts', "import type { BrowserWindow } from 'electron';", /must not import electron/],
    ['core/hosts/cli/x.ts', "import { main } from '../../electron/main.ts';", /must not import electron/],
    ['core/store/x.ts', "import { App } from '../../renderer/src/App.tsx';", /must not import electron\/, renderer/],
    ['core/contract/x.ts', "import { createHash } from 'node:crypto';", /no node:\* imports/],
    ['core/contract/x.ts', "import { sign } from '../crypto/engine.ts';", /only other contract modules/],
    ['renderer/src/x.ts', "import { generateKey } from '../../core/crypto/engine.ts';", /only core\/contract/],
    ['renderer/src/x.tsx', "import { readFile } from 'node:fs';", /no node:\* imports/],
    ['renderer/src/x.ts', "import { ipcRenderer } from 'electron';", /preload API/],
    ['electron/main.ts', "import { App } from '../renderer/src/App.tsx';", /over IPC only/],
  ])('%s: %s is refused', async (file, code, message) => {
    const errors = await layeringErrors(file, code);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join('\n')).toMatch(message);
  });

  it.each([
    ['core/crypto/x.ts', "import { KEY_SPECS } from '../contract/specs.ts';"],
    ['core/crypto/x.ts', "import { createHash } from 'node:crypto';"],
    ['core/contract/x.ts', "import { KmsError } from './errors.ts';"],
    ['renderer/src/x.ts', "import { KEY_SPECS } from '../../core/contract/specs.ts';"],
    ['electron/main.ts', "import { runCli } from '../core/hosts/cli/run.ts';"],
  ])('%s: %s is allowed', async (file, code) => {
    expect(await layeringErrors(file, code)).toEqual([]);
  });

  it('is part of the project configuration that `npm run lint` uses', () => {
    for (const entry of layering) expect(config).toContain(entry);
  });
});
