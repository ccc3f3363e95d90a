// The deskkms command line: parses flags with node:util parseArgs (strict: unknown flags are
// usage errors, with the nearest flag suggested), prints help generated from each command's flag
// table, and turns every thrown error into {"Code","Message"} on stderr with the exit status
// command.ts defines (2 usage, 1 vault or call failure). Only light modules are imported here:
// a command's module is loaded when it runs or prints its help, and the vault and the request
// schemas only for a command or an Action that needs them.
import { parseArgs } from 'node:util';
import { KmsError } from '../../contract/errors.ts';
import { EXIT_CODES_HELP, EXIT_OK, EXIT_USAGE, exitStatusOf, type CliIO, type Command, type FlagValues } from './command.ts';
import { COMMAND_INDEX, findCommand, vaultPassphraseFlagOf, type CommandEntry } from './command-index.ts';
import { CLI_ACTION_NAMES, isCliActionName } from './action-examples.ts';
import { closestName, didYouMean } from './suggest.ts';

export const VERSION = '0.1.0';

export function commandHelp(entry: CommandEntry, command: Command): string {
  const names = Object.keys(command.flags);
  const width = Math.max(0, ...names.map((n) => n.length + (command.flags[n]!.value?.length ?? 0) + 1));
  const lines = names.map((name) => {
    const flag = command.flags[name]!;
    const left = `--${name}${flag.value ? ` ${flag.value}` : ''}`;
    return `  ${left.padEnd(width + 3)}  ${flag.description}${flag.required ? ' (required)' : ''}`;
  });
  return [
    `${entry.summary}.`,
    '',
    `Usage: ${command.usage}`,
    '',
    ...(lines.length ? ['Options:', ...lines, `  ${'--help'.padEnd(width + 3)}  show this help`, ''] : []),
    ...(command.details ? [command.details, ''] : []),
  ].join('\n');
}

export function mainHelp(): string {
  const width = Math.max(...COMMAND_INDEX.map((c) => c.name.length));
  return [
    'deskkms — offline-first desktop key vault (Alibaba Cloud KMS vocabulary)',
    '',
    'Usage: deskkms <command> [options]',
    '',
    'Commands:',
    ...COMMAND_INDEX.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Vault actions (Alibaba Cloud KMS API names; deskkms <Action> --Param value ...):',
    ...wrap(CLI_ACTION_NAMES.join(', '), 76).map((line) => `  ${line}`),
    '',
    'Run "deskkms <command> --help" or "deskkms <Action> --help" for options, parameters and an example.',
    '',
    ...wrap(EXIT_CODES_HELP, 96),
    '',
  ].join('\n');
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function writeError(io: CliIO, error: KmsError): void {
  io.stderr.write(`${JSON.stringify(error.toWire())}\n`);
}

/** parseArgs's message with the flag it names, and the nearest known flag. */
function flagProblem(error: unknown, known: readonly string[]): string {
  const reason = error instanceof Error ? error.message : String(error);
  const unknown = /^Unknown option '--?([^']+)'/.exec(reason);
  return unknown ? `${reason}${didYouMean(unknown[1]!, known)}` : reason;
}

/** Starts the key worker of a command that opens a vault, before its modules load (early-worker.ts). */
async function prestartFor(io: CliIO, args: readonly string[], opensVault: true | 'unless-agent', passphraseFlag: string | false): Promise<void> {
  const early = await import('./early-worker.ts');
  if (opensVault === 'unless-agent') await early.prestartUnlessAgent(io, args, passphraseFlag);
  else await early.prestartVaultWorker(io, args, passphraseFlag);
}

export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' && rest[0] !== undefined ? findCommand(rest[0]) : undefined;
    io.stdout.write(topic ? commandHelp(topic, await topic.load()) : mainHelp());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '--version') {
    io.stdout.write(`${VERSION}\n`);
    return EXIT_OK;
  }
  // Help only: no vault is opened (and no key worker started for one).
  const asksHelp = rest.includes('--help') || rest.includes('-h');
  if (isCliActionName(name)) {
    if (asksHelp) {
      const { actionHelp } = await import('./action-help.ts');
      io.stdout.write(actionHelp(name));
      return EXIT_OK;
    }
    await prestartFor(io, rest, true, 'passphrase-file');
    const { runAction } = await import('./actions-cli.ts');
    return runAction(name, rest, io);
  }
  const entry = findCommand(name);
  if (!entry) {
    const near = closestName(name, [...COMMAND_INDEX.map((c) => c.name), ...CLI_ACTION_NAMES]);
    const hint = near === undefined ? '' : ` (did you mean "${near}"?)`;
    writeError(io, new KmsError('InvalidParameter', `unknown command "${name}"${hint}; run "deskkms --help" for the list`));
    return EXIT_USAGE;
  }
  // Its key worker loads on the other core while this thread loads the command (~0.2 s sooner).
  if (entry.opensVault && !asksHelp) {
    await prestartFor(io, rest, entry.opensVault, vaultPassphraseFlagOf(entry, rest));
  }
  const command = await entry.load();
  let values: FlagValues;
  let positionals: string[];
  try {
    const options = Object.fromEntries(
      Object.entries(command.flags).map(([flag, spec]) => [flag, { type: spec.type, ...(spec.multiple ? { multiple: true } : {}), ...(spec.short ? { short: spec.short } : {}) }]),
    );
    ({ values, positionals } = parseArgs({
      args: [...rest],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: command.positionals !== undefined,
    }));
  } catch (error) {
    writeError(io, new KmsError('InvalidParameter', `${flagProblem(error, Object.keys(command.flags))}; run "deskkms ${command.name} --help"`));
    return EXIT_USAGE;
  }
  if (values.help === true) {
    io.stdout.write(commandHelp(entry, command));
    return EXIT_OK;
  }
  try {
    return await command.run(values, io, positionals);
  } catch (error) {
    const { writeFailure } = await import('./report-error.ts');
    writeFailure(io, error);
    return exitStatusOf(error);
  }
}
