// A CLI command: its flags (which generate --help), and a run function that returns an exit code.
// Exit codes (EXIT_CODES_HELP, the one text that states them): 0 success, 1 a negative answer or a
// failure of the vault or of a call, 2 a usage error. Errors go to stderr as {"Code","Message"},
// the same shape every transport uses.
import type { Writable } from 'node:stream';
import { KmsError } from '../../contract/errors.ts';

export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly description: string;
  /** Placeholder shown in help, e.g. FILE. */
  readonly value?: string;
  readonly required?: boolean;
  /** The flag may be repeated; its values arrive as an array. */
  readonly multiple?: boolean;
  /** A one-letter alias, e.g. o for -o. */
  readonly short?: string;
}

export interface CliIO {
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable & { isTTY?: boolean };
  readonly stdin: NodeJS.ReadableStream;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

export interface Command {
  readonly name: string;
  readonly usage: string;
  readonly flags: Readonly<Record<string, FlagSpec>>;
  /** Extra help text after the flag list (exit codes, examples). */
  readonly details?: string;
  /** Names of positional arguments, shown in help; absent means none are accepted. */
  readonly positionals?: readonly string[];
  run(flags: FlagValues, io: CliIO, positionals?: readonly string[]): Promise<number>;
}

export const EXIT_OK = 0;
export const EXIT_NEGATIVE = 1;
export const EXIT_USAGE = 2;

/** The exit codes, as every help prints them. */
export const EXIT_CODES_HELP =
  'Exit status: 0 success; 1 a negative answer (verify: invalid; audit verify: broken), or the vault or a call on it failed: ' +
  'the vault would not open (Vault.Corrupt, Vault.Locked...) or an Action was refused, by the vault or a running agent ({"Code","Message","RequestId"} on stderr: ' +
  'Forbidden.KeyNotFound, Rejected.Disabled, Agent.Denied, InvalidParameter of a value...); 2 a usage or input error ({"Code","Message"}): ' +
  'an unknown command, flag or parameter, a missing or bad flag value, a file that cannot be read or parsed; nothing was called.';

/** The usage Codes: raised by a command while the vault is open they are its own (exit 2), not the vault's. */
const USAGE_CODES: ReadonlySet<string> = new Set(['InvalidParameter', 'MissingParameter']);
/** Failures of the vault or of a call on it (exit 1). */
const vaultFailures = new WeakSet<object>();

function isUsage(error: unknown): boolean {
  return error instanceof KmsError && USAGE_CODES.has(error.code);
}

/** Marks a failure raised while the vault is open as the vault's, unless it is a usage Code (a command's own check). */
export function raisedByVault(error: unknown): unknown {
  if (typeof error === 'object' && error !== null && !isUsage(error)) vaultFailures.add(error);
  return error;
}

/** Marks a refused Action (its answer, whatever its Code), or a vault that would not open, as the vault's failure. */
export function refusedCall(error: KmsError): KmsError {
  vaultFailures.add(error);
  return error;
}

/**
 * The exit status for a command's failure (the one rule, EXIT_CODES_HELP): 1 for a failure of the
 * vault (a Vault.* Code, or anything but a usage Code raised while it is open), a refused Action
 * and a bug; 2 for everything else, the command line's and its files' problems.
 */
export function exitStatusOf(error: unknown): number {
  if (!(error instanceof KmsError)) return EXIT_NEGATIVE;
  return vaultFailures.has(error) || error.code.startsWith('Vault.') ? EXIT_NEGATIVE : EXIT_USAGE;
}
