// The shape the README's "Adding an Action" promises: every Action of the contract has a request
// schema and a response schema, one operation file core/actions/<kebab-name>.ts exporting
// <camelName>, which is the table's entry, and a test file beside it that drives it through
// dispatch. A new Action missing any of them fails here (tsc already refuses a missing schema or
// table entry; this catches the file names and the test).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HANDLER_LOADERS, HANDLERS } from '../../core/actions/table.ts';
import { ACTION_NAMES, ACTION_SCHEMAS } from '../../core/contract/actions.ts';
import { RESPONSE_SCHEMAS } from '../../core/contract/responses.ts';
import { HANDLER_MODULES, operationFileName } from '../support/action-files.ts';
import { loadedModules, moduleLoadHook } from '../support/module-loads.ts';

const ACTIONS_DIR = join(import.meta.dirname, '../../core/actions');


describe('one Action: one schema entry, one operation file, one test beside it', () => {
  it('names files as the README says', () => {
    expect(operationFileName('ListAliasesByKeyId')).toBe('list-aliases-by-key-id');
    expect(operationFileName('CreateCertificateSigningRequest')).toBe('create-certificate-signing-request');
  });

  it.each(ACTION_NAMES)('%s', async (action) => {
    expect(Object.hasOwn(ACTION_SCHEMAS, action)).toBe(true);
    expect(Object.hasOwn(RESPONSE_SCHEMAS, action)).toBe(true);
    const base = join(ACTIONS_DIR, operationFileName(action));
    expect(existsSync(`${base}.ts`), `${base}.ts`).toBe(true);
    const module = (await import(`${base}.ts`)) as Record<string, unknown>;
    const exported = action[0]!.toLowerCase() + action.slice(1);
    expect(module[exported], `${base}.ts exports ${exported}`).toBeTypeOf('function');
    expect(await HANDLER_LOADERS[action](), `table.ts maps ${action} to ${exported}`).toBe(module[exported]);
    expect(HANDLERS[action], `table.ts has a handler for ${action}`).toBeTypeOf('function');
    expect(existsSync(`${base}.test.ts`), `${base}.test.ts`).toBe(true);
    // The test drives the operation through dispatch and names the Action it calls.
    const test = readFileSync(`${base}.test.ts`, 'utf8');
    expect(test).toContain(`'${action}'`);
  });
});

describe('the handler table loads a handler at its first call, or all of them for a server', () => {
  it('importing the table loads no handler; startLoadingHandler(action) that one; loadAllHandlers() all 63', () => {
    const dir = mkdtempSync(join(tmpdir(), 'deskkms-table-'));
    try {
      const table = JSON.stringify(new URL('../../core/actions/table.ts', import.meta.url).href);
      const loads = (code: string): string[] => {
        const run = spawnSync(process.execPath, ['--import', moduleLoadHook(dir), '--input-type=module', '-e', code], { encoding: 'utf8' });
        expect(run.status, run.stderr).toBe(0);
        return loadedModules(run.stderr).filter((f) => HANDLER_MODULES.has(f));
      };
      expect(loads(`await import(${table});`)).toEqual([]);
      expect(new Set(loads(`await (await import(${table})).loadAllHandlers();`))).toEqual(HANDLER_MODULES);
      // dispatch starts one Action's load before it waits for the unlock
      expect(loads(`(await import(${table})).startLoadingHandler('ListKeys'); await new Promise((done) => setTimeout(done, 2000));`)).toEqual(['/core/actions/list-keys.ts']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
