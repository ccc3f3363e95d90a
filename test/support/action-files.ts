// Where an Action's operation lives, as the README's "Adding an Action" names it: core/actions/
// <kebab-name>.ts, exporting <camelName> (test/unit/action-layout.test.ts holds every Action to it).
import { ACTION_NAMES } from '../../core/contract/actions.ts';

/** The operation file's name without .ts: ListAliasesByKeyId -> list-aliases-by-key-id. */
export function operationFileName(action: string): string {
  return action.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

/** Every Action's handler module as test/support/module-loads.ts lists loaded files ("/core/actions/x.ts"). */
export const HANDLER_MODULES: ReadonlySet<string> = new Set(ACTION_NAMES.map((action) => `/core/actions/${operationFileName(action)}.ts`));
