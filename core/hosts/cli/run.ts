// The deskkms command line: parses flags with node:util parseArgs (strict: unknown flags are
// usage errors), prints help generated from each command's flag table, and turns every thrown
// error into {"Code","Message"} on stderr with exit status 2.
import { parseArgs } from 'node:util';
import { KmsError } from '../../contract/errors.ts';
import { EXIT_OK, EXIT_USAGE, type CliIO, type Command, type FlagValues } from './command.ts';
import { digestCommand } from './commands/digest.ts';
import { specsCommand } from './commands/specs.ts';
import { verifyCommand } from './commands/verify.ts';
import { signCommand } from './commands/sign.ts';
import { auditCommand, batchCommand, initCommand, statusCommand } from './commands/vault.ts';
import { accessKeyCommand } from './commands/access-key.ts';
import { remoteCommand } from './commands/remote.ts';
import { serveCommand } from './commands/serve.ts';
import { csrCommand } from './commands/csr.ts';
import { pubkeyCommand } from './commands/pubkey.ts';
import { exportCommand, importCommand } from './commands/transfer.ts';
import { certCommand } from './commands/cert.ts';
import { uiCommand } from './commands/ui.ts';
import { backupCommand } from './commands/backup.ts';
import { vaultCommand } from './commands/protection.ts';
import { agentCommand } from './commands/agent.ts';
import { requestCommand } from './commands/request.ts';
import { ACTION_NAMES, isActionName } from '../../contract/actions.ts';
import { runAction } from './actions-cli.ts';
import { writeFailure } from './report-error.ts';

export const COMMANDS: readonly Command[] = [
  initCommand,
  statusCommand,
  batchCommand,
  auditCommand,
  backupCommand,
  vaultCommand,
  serveCommand,
  agentCommand,
  uiCommand,
  accessKeyCommand,
  remoteCommand,
  csrCommand,
  pubkeyCommand,
  exportCommand,
  importCommand,
  certCommand,
  signCommand,
  verifyCommand,
  requestCommand,
  digestCommand,
  specsCommand,
];

export const VERSION = '0.1.0';

export function commandHelp(command: Command): string {
  const names = Object.keys(command.flags);
  const width = Math.max(0, ...names.map((n) => n.length + (command.flags[n]!.value?.length ?? 0) + 1));
  const lines = names.map((name) => {
    const flag = command.flags[name]!;
    const left = `--${name}${flag.value ? ` ${flag.value}` : ''}`;
    return `  ${left.padEnd(width + 3)}  ${flag.description}${flag.required ? ' (required)' : ''}`;
  });
  return [
    `${command.summary}.`,
    '',
    `Usage: ${command.usage}`,
    '',
    ...(lines.length ? ['Options:', ...lines, `  ${'--help'.padEnd(width + 3)}  show this help`, ''] : []),
    ...(command.details ? [command.details, ''] : []),
  ].join('\n');
}

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'deskkms — offline-first desktop key vault (Alibaba Cloud KMS vocabulary)',
    '',
    'Usage: deskkms <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Vault actions (Alibaba Cloud KMS API names; deskkms <Action> --Param value ...):',
    ...wrap(ACTION_NAMES.join(', '), 76).map((line) => `  ${line}`),
    '',
    'Run "deskkms <command> --help" or "deskkms <Action> --help" for options and parameters.',
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

export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    io.stdout.write(topic ? commandHelp(topic) : mainHelp());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '--version') {
    io.stdout.write(`${VERSION}\n`);
    return EXIT_OK;
  }
  if (isActionName(name)) return runAction(name, rest, io);
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    writeError(io, new KmsError('InvalidParameter', `unknown command "${name}"; run "deskkms --help" for the list`));
    return EXIT_USAGE;
  }
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
    const reason = error instanceof Error ? error.message : String(error);
    writeError(io, new KmsError('InvalidParameter', `${reason}; run "deskkms ${command.name} --help"`));
    return EXIT_USAGE;
  }
  if (values.help === true) {
    io.stdout.write(commandHelp(command));
    return EXIT_OK;
  }
  try {
    return await command.run(values, io, positionals);
  } catch (error) {
    writeFailure(io, error);
    return EXIT_USAGE;
  }
}
