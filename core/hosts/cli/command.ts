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
  'Exit status: 0 success; 1 the answer is negative (an invalid signature) or the vault or a call failed ' +
  '({"Code","Message"} on stderr, with the RequestId of a call: Vault.Corrupt, Forbidden.KeyNotFound, an ' +
  'Action refused with InvalidParameter...); 2 a usage error: the command line or a file it names was refused ' +
  '(InvalidParameter, MissingParameter: an unknown command, flag or parameter, a missing or bad value) before ' +
  'any vault was opened.';

/** The usage Codes: exit 2 when raised before a vault is opened. */
const USAGE_CODES: ReadonlySet<string> = new Set(['InvalidParameter', 'MissingParameter']);
/** Errors raised once the vault was opened (by the vault, or by a call on it). */
const afterVault = new WeakSet<object>();

/** Marks `error` as raised by the vault or a call on it (never a usage error); returns it. */
export function raisedByVault(error: unknown): unknown {
  if (typeof error === 'object' && error !== null) afterVault.add(error);
  return error;
}

/** The exit status for a command's failure: 2 for a usage Code raised before the vault, else 1. */
export function exitStatusOf(error: unknown): number {
  return error instanceof KmsError && USAGE_CODES.has(error.code) && !afterVault.has(error) ? EXIT_USAGE : EXIT_NEGATIVE;
}
