// deskkms agent: the vault as an ssh-agent (draft-miller-ssh-agent) on a Unix socket, in the
// foreground until SIGINT/SIGTERM, and the subcommands that choose which key versions it serves
// (add, remove, list: the local-only Actions AddAgentIdentity, RemoveAgentIdentity and
// ListAgentIdentities, audited like every call). The server itself is core/hosts/agent: this
// command opens the vault, keeps it open, and hands the server the vault, confirm on use through
// $SSH_ASKPASS (as OpenSSH's ssh-agent confirms `ssh-add -c` keys), and lock/unlock (ssh-add -x /
// -X) mapped onto the vault's own lock and passphrase.
import { resolve } from 'node:path';
import { invalidParameter, missingParameter } from '../../../contract/errors.ts';
import { escapeJsonText, escapeText, hasUnsafeText } from '../../../contract/escape-text.ts';
import { newestKeyVersion } from '../../../actions/format-signing.ts';
import { startAgentServer } from '../../agent/agent-server.ts';
import { defaultAgentSocket } from '../../agent/agent-socket.ts';
import { askpassConfirm } from '../../agent/askpass-confirm.ts';
import { CONFIRM_TIMEOUT_MS } from '../../agent/agent-types.ts';
import { Vault } from '../../../vault/vault.ts';
import { CLI_CALLER, callAction } from '../actions-cli.ts';
import { EXIT_OK, type CliIO, type Command, type FlagValues } from '../command.ts';
import { internalErrorReporter } from '../report-error.ts';
import { VAULT_FLAGS, passphraseOf, vaultDirOf, withVault } from '../vault-session.ts';
import { startSweeper, sweepDue } from '../../../actions/key-rotation.ts';
import { loadAllHandlers } from '../../../actions/table.ts';

const SUBCOMMANDS = ['add', 'remove', 'list'] as const;
const MAX_CONFIRM_SECONDS = 3600;

/** Which flags belong to which form; one given to another form is refused, never ignored. */
const FLAG_FORMS: Readonly<Record<string, readonly string[]>> = {
  socket: ['serve'],
  'confirm-timeout': ['serve'],
  sh: ['serve'],
  version: ['add', 'remove'],
  confirm: ['add'],
  ssh: ['list'],
};

function stringFlag(flags: FlagValues, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' ? value : undefined;
}

function assertFlagsFit(flags: FlagValues, form: string): void {
  for (const [flag, forms] of Object.entries(FLAG_FORMS)) {
    if (flags[flag] !== undefined && !forms.includes(form)) {
      const where = forms.map((f) => (f === 'serve' ? 'deskkms agent' : `deskkms agent ${f}`)).join(' and ');
      throw invalidParameter(`--${flag}`, `is for ${where}, not ${form === 'serve' ? 'deskkms agent' : `deskkms agent ${form}`}`);
    }
  }
}

function confirmTimeoutMs(flags: FlagValues): number {
  const text = stringFlag(flags, 'confirm-timeout');
  if (text === undefined) return CONFIRM_TIMEOUT_MS;
  const seconds = /^\d{1,4}$/.test(text) ? Number(text) : NaN;
  if (!(seconds >= 1 && seconds <= MAX_CONFIRM_SECONDS)) throw invalidParameter('--confirm-timeout', `must be a whole number of seconds from 1 to ${MAX_CONFIRM_SECONDS}`);
  return seconds * 1000;
}

/** A path as a POSIX shell word: bare when it is plain, else single-quoted. */
function shellWord(text: string): string {
  return /^[A-Za-z0-9_./+:@%=-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** One log line on stderr; the server's lines are escaped already, anything else is escaped here. */
function logLine(io: CliIO, line: string): void {
  io.stderr.write(`deskkms agent: ${hasUnsafeText(line) ? escapeText(line, 4000) : line}\n`);
}

function printJson(io: CliIO, value: unknown): void {
  io.stdout.write(`${escapeJsonText(JSON.stringify(value, null, 2))}\n`);
}

/** Resolves with the first of SIGINT, SIGTERM and SIGHUP (a closing terminal), as ssh-agent cleans up on each. */
function agentStopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    const stop = (signal: string): void => {
      for (const name of signals) process.removeListener(name, stop);
      resolve(signal);
    };
    for (const name of signals) process.once(name, stop);
  });
}

/**
 * Serves the vault until `stopped` resolves (SIGINT, SIGTERM or SIGHUP). A passphrase vault opened
 * without its passphrase starts locked: `ssh-add -X` unlocks it with the passphrase.
 */
export async function runAgent(flags: FlagValues, io: CliIO, stopped: Promise<string> = agentStopSignal()): Promise<number> {
  const given = stringFlag(flags, 'socket');
  if (given === '') throw invalidParameter('--socket', 'is empty');
  const socketPath = given !== undefined ? resolve(io.cwd, given) : defaultAgentSocket(io.env);
  const timeoutMs = confirmTimeoutMs(flags);
  const passphrase = await passphraseOf(flags, io);
  const vault = Vault.open(vaultDirOf(flags, io), passphrase ? { passphrase } : {});
  try {
    if (vault.protectionKind === 'passphrase' && !passphrase) {
      await vault.lock();
      logLine(io, 'the vault is protected by a passphrase and none was given (--passphrase-file): it stays locked until ssh-add -X unlocks it');
    } else {
      await vault.ensureUnlocked(); // a wrong passphrase or a missing keychain entry fails now, not at the first request
      await sweepDue(vault);
    }
    startSweeper(vault);
    await loadAllHandlers(); // the first signature does not wait for its handler's module
    const confirm = askpassConfirm(io.env);
    if (!confirm) logLine(io, 'SSH_ASKPASS is not set to an absolute path: keys added with --confirm are refused (Agent.NoConfirmation)');
    const agent = await startAgentServer({
      socketPath,
      vault: () => vault,
      ...(confirm ? { confirm } : {}),
      confirmTimeoutMs: timeoutMs,
      log: (line) => logLine(io, line),
      // ssh-add -X: a passphrase vault's passphrase unlocks it; a keychain vault unlocks from the
      // keychain once the server has matched the password against the one ssh-add -x locked with.
      unlock: async (password) => {
        if (vault.protectionKind === 'passphrase') {
          await vault.unlockWith(password); // owns and wipes it
        } else {
          password.fill(0);
          await vault.unlockWith();
        }
        return true;
      },
      lock: () => vault.lock(),
    });
    try {
      if (flags.sh === true) {
        const word = shellWord(agent.socketPath);
        io.stdout.write(`SSH_AUTH_SOCK=${word}; export SSH_AUTH_SOCK;\nSSH_AGENT_PID=${process.pid}; export SSH_AGENT_PID;\n`);
      } else {
        io.stdout.write(`${escapeJsonText(JSON.stringify({ Socket: agent.socketPath, Pid: process.pid }))}\n`);
      }
      logLine(io, `listening on ${escapeText(agent.socketPath, 1000)} for vault ${escapeText(vault.store.dir, 1000)}; SIGINT, SIGTERM or SIGHUP stops it`);
      const signal = await stopped;
      logLine(io, `${signal}: closing the socket`);
    } finally {
      await agent.close();
    }
    return EXIT_OK;
  } finally {
    await vault.close(); // flushes queued audit entries
  }
}

async function add(flags: FlagValues, io: CliIO, keyRef: string): Promise<number> {
  const versionGiven = stringFlag(flags, 'version');
  return withVault(flags, io, async (vault) => {
    let versionId = versionGiven;
    if (versionId === undefined) {
      const signer = { vault, caller: CLI_CALLER, dispatchOptions: { onInternalError: internalErrorReporter(io) } };
      versionId = (await newestKeyVersion(signer, keyRef)).KeyVersionId;
    }
    const answer = await callAction(io, vault, 'AddAgentIdentity', { KeyId: keyRef, KeyVersionId: versionId, Confirm: flags.confirm === true });
    if (versionGiven === undefined) {
      const { KeyId } = answer.Identity as { KeyId: string };
      io.stderr.write(`deskkms: added key ${escapeText(KeyId, 200)} version ${escapeText(versionId, 200)} (its newest; give --version to choose)\n`);
    }
    printJson(io, answer);
    return EXIT_OK;
  });
}

async function remove(flags: FlagValues, io: CliIO, keyRef: string): Promise<number> {
  const versionId = stringFlag(flags, 'version');
  return withVault(flags, io, async (vault) => {
    printJson(io, await callAction(io, vault, 'RemoveAgentIdentity', { KeyId: keyRef, ...(versionId !== undefined ? { KeyVersionId: versionId } : {}) }));
    return EXIT_OK;
  });
}

async function list(flags: FlagValues, io: CliIO): Promise<number> {
  return withVault(flags, io, async (vault) => {
    const answer = await callAction(io, vault, 'ListAgentIdentities', {});
    if (flags.ssh === true) {
      // As ssh-add -L prints them (for authorized_keys): only the identities OpenSSH has a key type for.
      const identities = answer.Identities as { SshPublicKey?: string }[];
      for (const identity of identities) if (identity.SshPublicKey !== undefined) io.stdout.write(`${identity.SshPublicKey}\n`);
      return EXIT_OK;
    }
    printJson(io, answer);
    return EXIT_OK;
  });
}

export const agentCommand: Command = {
  name: 'agent',
  usage:
    'deskkms agent [--socket PATH] [--confirm-timeout SECONDS] [--sh] [--vault DIR] [--passphrase-file FILE]\n' +
    '       deskkms agent add KEY [--version V] [--confirm]\n' +
    '       deskkms agent remove KEY [--version V]\n' +
    '       deskkms agent list [--ssh]',
  flags: {
    ...VAULT_FLAGS,
    socket: {
      type: 'string',
      value: 'PATH',
      description: 'agent: the socket to listen on (default: $DESKKMS_AGENT_SOCK, else $XDG_RUNTIME_DIR/deskkms/agent.sock, else TMPDIR/deskkms-UID/agent.sock)',
    },
    'confirm-timeout': { type: 'string', value: 'SECONDS', description: `agent: how long a confirmation waits before it is refused (default ${CONFIRM_TIMEOUT_MS / 1000})` },
    sh: { type: 'boolean', description: 'agent: print SSH_AUTH_SOCK=PATH; export SSH_AUTH_SOCK; (and SSH_AGENT_PID) as ssh-agent does, instead of JSON' },
    version: { type: 'string', value: 'V', description: "add: the KeyVersionId (default: the key's newest version, named on stderr); remove: only this version (default: every version of the key)" },
    confirm: { type: 'boolean', description: 'add: every use of the key needs the user\'s approval ($SSH_ASKPASS for this agent, a dialog in the app); add again without it to turn it off' },
    ssh: { type: 'boolean', description: 'list: print only the OpenSSH public-key lines, as ssh-add -L does (for authorized_keys)' },
  },
  positionals: ['[add KEY | remove KEY | list]'],
  details:
    'deskkms agent stays in the foreground: once it listens it prints {"Socket","Pid"} on stdout (--sh: shell assignments), logs to stderr, ' +
    'and SIGINT, SIGTERM or SIGHUP closes and removes the socket. Point SSH_AUTH_SOCK at the socket: ssh-add -L lists the RSA and EC_P256 keys added to it, ' +
    'ssh logs in with them and ssh-keygen -Y sign (so git with gpg.format=ssh) signs with them; every signature is an AsymmetricSign in the audit log ' +
    'with the caller ssh-agent[PROGRAM PID]. RSA keys answer rsa-sha2-256 requests only. ssh-add cannot add or remove keys (they are managed here); ' +
    'ssh-add -x locks the vault and ssh-add -X unlocks it (a passphrase vault with its passphrase, one opened without --passphrase-file starts locked; a keychain vault with the lock\'s password). ' +
    'Keys added with --confirm ask $SSH_ASKPASS (SSH_ASKPASS_PROMPT=confirm; exit 0 approves) before each use. ' +
    'Only this user can connect: the socket is 0600 in a 0700 directory and every peer\'s uid is checked (SO_PEERCRED; Linux only). ' +
    'deskkms sign and the git and cosign programs use a running agent that serves their vault (DESKKMS_NO_AGENT=1: never). ' +
    'add, remove and list are the Actions AddAgentIdentity, RemoveAgentIdentity and ListAgentIdentities (audited); nothing to remove is Agent.KeyNotAdded. ' +
    'Exit status: 0 ok, 2 usage error or refusal ({"Code","Message"} on stderr).',
  async run(flags, io, positionals = []) {
    const [sub, keyRef, ...extra] = positionals;
    if (sub === undefined) {
      assertFlagsFit(flags, 'serve');
      return runAgent(flags, io);
    }
    if (!(SUBCOMMANDS as readonly string[]).includes(sub)) throw invalidParameter('agent', `"${escapeText(sub, 64)}" is not a subcommand: give add KEY, remove KEY or list (or nothing, to serve)`);
    assertFlagsFit(flags, sub);
    if (sub === 'list') {
      if (keyRef !== undefined) throw invalidParameter('agent list', 'takes no KEY');
      return list(flags, io);
    }
    if (keyRef === undefined || keyRef === '') throw missingParameter(`KEY (deskkms agent ${sub} KEY: a KeyId, alias/NAME or ARN)`);
    if (extra.length > 0) throw invalidParameter(`agent ${sub}`, 'takes one KEY');
    return sub === 'add' ? add(flags, io, keyRef) : remove(flags, io, keyRef);
  },
};
