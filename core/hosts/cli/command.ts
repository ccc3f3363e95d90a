// A CLI command: its flags (which generate --help), and a run function that returns an exit code.
// Exit codes: 0 success, 1 an operation's negative answer (e.g. an invalid signature), 2 usage or
// input error. Errors go to stderr as {"Code","Message"}, the same shape every transport uses.
import type { Writable } from 'node:stream';

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
  readonly summary: string;
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
