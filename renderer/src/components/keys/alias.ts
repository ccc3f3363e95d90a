// Alias checks before a call (the vault checks again): the contract's own pattern, and whether the
// inventory already has the name.
import { aliasNameParam } from '../../../../core/contract/actions.ts';

/** "" when the alias is acceptable (or absent), else why not. */
export function aliasProblem(alias: string, taken: (alias: string) => boolean): string {
  if (alias === '') return '';
  const parsed = aliasNameParam.safeParse(alias);
  if (!parsed.success) return `Alias ${parsed.error.issues[0]?.message ?? 'is malformed'}`;
  return taken(alias) ? `${alias} already names a key` : '';
}
