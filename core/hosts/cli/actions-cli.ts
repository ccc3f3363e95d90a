// `deskkms <Action> --Param value ...`: every Action of the handler table, in the aliyun CLI's
// style. Flags other than --vault and --passphrase-file become the request's parameters, as
// strings; the handler table validates them like any transport's.
import { ACTION_SCHEMAS, type ActionName } from '../../contract/actions.ts';
import { KmsError } from '../../contract/errors.ts';
import { escapeJsonText } from '../../contract/escape-text.ts';
import { dispatch, type ApiOutcome } from '../../actions/dispatch.ts';
import type { Vault } from '../../vault/vault.ts';
import { EXIT_NEGATIVE, EXIT_OK, EXIT_USAGE, exitStatusOf, refusedCall, type CliIO } from './command.ts';
import { didYouMean } from './suggest.ts';
import { VAULT_FLAGS, withVault } from './vault-session.ts';
import { internalErrorReporter, writeFailure } from './report-error.ts';

export const CLI_CALLER = 'cli';

/** Splits `--Name value` / `--Name=value` pairs; vault flags apart. Throws a usage KmsError. */
export function parseActionArgs(argv: readonly string[]): { params: Record<string, string>; vaultFlags: Record<string, string> } {
  const params: Record<string, string> = {};
  const vaultFlags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    const m = /^--([A-Za-z][A-Za-z0-9-]*)(?:=(.*))?$/s.exec(token);
    if (!m) throw new KmsError('InvalidParameter', `unexpected argument "${token}"; parameters are given as --Name value`);
    const name = m[1]!;
    let value = m[2];
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || /^--[A-Za-z]/.test(next)) throw new KmsError('InvalidParameter', `--${name} needs a value`);
      value = next;
      i++;
    }
    const target = Object.hasOwn(VAULT_FLAGS, name) ? vaultFlags : params;
    if (Object.hasOwn(target, name)) throw new KmsError('InvalidParameter', `--${name} is given twice`);
    target[name] = value;
  }
  return { params, vaultFlags };
}

/** Runs an Action for a CLI command; a failure becomes a KmsError that keeps its RequestId. */
export async function callAction(io: CliIO, vault: Vault, action: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
  const outcome = await dispatch(vault, action, params, CLI_CALLER, { onInternalError: internalErrorReporter(io) });
  if (!outcome.ok) throw refusedCall(new KmsError(outcome.error.Code, `${action}: ${outcome.error.Message} (RequestId ${outcome.error.RequestId})`));
  return outcome.body;
}

/** The response as JSON, bidi and other invisible characters written as \u escapes (same value). */
export function writeOutcome(io: CliIO, outcome: ApiOutcome): number {
  if (outcome.ok) {
    io.stdout.write(`${escapeJsonText(JSON.stringify(outcome.body, null, 2))}\n`);
    return EXIT_OK;
  }
  io.stderr.write(`${escapeJsonText(JSON.stringify(outcome.error))}\n`);
  return EXIT_NEGATIVE;
}

/**
 * The command line's parameter names against the Action's: an unknown one (a typo, a wrong case)
 * or a missing required one is a usage error, raised before the vault is opened. Values are
 * checked by dispatch, like any transport's (a refused call is audited and has a RequestId).
 */
export function checkActionParams(action: ActionName, params: Readonly<Record<string, string>>): void {
  const shape = ACTION_SCHEMAS[action].shape as Record<string, { safeParse(v: unknown): { success: boolean } }>;
  const known = Object.keys(shape);
  for (const name of Object.keys(params)) {
    if (!Object.hasOwn(shape, name)) {
      const hint = didYouMean(name, [...known, ...Object.keys(VAULT_FLAGS)]);
      throw new KmsError('InvalidParameter', `--${name} is not a parameter of ${action}${hint}; run "deskkms ${action} --help"`);
    }
  }
  for (const name of known) {
    if (!Object.hasOwn(params, name) && !shape[name]!.safeParse(undefined).success) {
      throw new KmsError('MissingParameter', `--${name} is required; run "deskkms ${action} --help"`);
    }
  }
}

export async function runAction(action: ActionName, argv: readonly string[], io: CliIO): Promise<number> {
  let parsed: ReturnType<typeof parseActionArgs>;
  try {
    parsed = parseActionArgs(argv);
    checkActionParams(action, parsed.params);
  } catch (error) {
    io.stderr.write(`${JSON.stringify((error as KmsError).toWire())}\n`);
    return EXIT_USAGE;
  }
  try {
    const outcome = await withVault(parsed.vaultFlags, io, (vault) => dispatch(vault, action, parsed.params, CLI_CALLER, { onInternalError: internalErrorReporter(io) }));
    return writeOutcome(io, outcome);
  } catch (error) {
    // The vault could not be opened (or its passphrase file read): nothing was called, so there
    // is no RequestId.
    writeFailure(io, error);
    return exitStatusOf(error);
  }
}
