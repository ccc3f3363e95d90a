// Where the agent's socket lives and how it is made safe: $DESKKMS_AGENT_SOCK, else
// $XDG_RUNTIME_DIR/deskkms/agent.sock, else TMPDIR/deskkms-UID/agent.sock. Its directory is made
// 0700 (a plain mkdir of the last component; parents only below a directory of this user's that
// no one else can write to) and must be a real directory owned by this user with no group or
// other bits, checked through an O_NOFOLLOW descriptor (else Agent.SocketUnsafe: someone else
// could swap the socket, or a planted link would be followed); the socket is chmod 0600 right after
// listen. A socket left at the path by an agent that died is removed (connect refused); one that
// answers is another agent's and is left alone (Agent.SocketUnsafe). The file modes are only the
// first fence: agent-server.ts checks every peer's uid (peer-credentials.ts).
import { chmodSync, closeSync, constants, fchmodSync, fstatSync, lstatSync, mkdirSync, openSync, unlinkSync } from 'node:fs';
import { createConnection, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { KmsError } from '../../contract/errors.ts';
import { escapeText } from '../../contract/escape-text.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** The socket path the agent listens on when the user names none (and where commands look for it). */
export function defaultAgentSocket(env: Env): string {
  if (env.DESKKMS_AGENT_SOCK) return env.DESKKMS_AGENT_SOCK;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'deskkms', 'agent.sock');
  return join(tmpdir(), `deskkms-${process.getuid?.() ?? 'user'}`, 'agent.sock');
}

/** Whether DESKKMS_NO_AGENT tells the commands to open the vault themselves. */
export function agentDisabled(env: Env): boolean {
  const value = env.DESKKMS_NO_AGENT;
  return value !== undefined && value !== '' && value !== '0';
}

/** The sockets a command tries, in order: $DESKKMS_AGENT_SOCK alone, else $SSH_AUTH_SOCK and the default socket. */
export function agentCandidates(env: Env): string[] {
  if (agentDisabled(env)) return [];
  if (env.DESKKMS_AGENT_SOCK) return [env.DESKKMS_AGENT_SOCK];
  const candidates = [env.SSH_AUTH_SOCK, defaultAgentSocket(env)].filter((path): path is string => path !== undefined && path !== '');
  return [...new Set(candidates)];
}

/**
 * Whether anything is at the DeskKMS agent's socket ($DESKKMS_AGENT_SOCK, else the default one;
 * none under DESKKMS_NO_AGENT): lstat only, whether it serves the vault is found out by
 * connecting (agent-client.ts findAgent). Where nothing is, a signing command starts its key
 * worker early (core/hosts/cli/early-worker.ts). $SSH_AUTH_SOCK is not looked at, though
 * findAgent tries it: on most desktops it is another agent (OpenSSH's, gnome-keyring's), and
 * counting it would take the early start from nearly everyone; a DeskKMS agent listens on the
 * default socket unless told otherwise.
 */
export function agentSocketPresent(env: Env): boolean {
  if (agentDisabled(env)) return false;
  try {
    lstatSync(defaultAgentSocket(env));
    return true;
  } catch {
    return false;
  }
}

const unsafe = (message: string): KmsError => new KmsError('Agent.SocketUnsafe', message);
const shown = (path: string): string => escapeText(path, 512);

const uidOf = (): number | undefined => process.getuid?.();
const codeOf = (error: unknown): string => escapeText((error as NodeJS.ErrnoException).code ?? (error as Error).message, 64);

/**
 * Creates the directories above the socket's directory that are missing, one by one (mkdir 0700,
 * never recursive), and only below an existing directory of this user's that no one else can
 * write to (a real directory: not a symbolic link): there no one else can plant a link or swap a
 * directory. Below any other directory (a shared /tmp, another user's, a missing
 * $XDG_RUNTIME_DIR's parent) a missing parent is refused: make it first, or name another socket.
 */
function makeMissingParents(parent: string, socketPath: string): void {
  const missing: string[] = [];
  let at = parent;
  let st;
  for (;;) {
    try {
      st = lstatSync(at);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw unsafe(`the agent socket's directory ${shown(at)}: ${codeOf(error)}`);
      missing.unshift(at);
      const up = dirname(at);
      if (up === at) throw unsafe(`the agent socket ${shown(socketPath)}: no directory above it exists`);
      at = up;
    }
  }
  if (missing.length === 0) return;
  const uid = uidOf();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o022) !== 0) {
    throw unsafe(
      `the agent socket's directory ${shown(dirname(socketPath))} cannot be made: ${shown(missing[0]!)} is missing and ${shown(at)} is not a directory of this user that only it can write to; create the directories first (0700) or name a socket in an existing one`,
    );
  }
  for (const path of missing) {
    try {
      mkdirSync(path, { mode: 0o700 });
    } catch (error) {
      // EEXIST: made meanwhile, and in a directory only this user can write to, by this user.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw unsafe(`cannot make ${shown(path)}: ${codeOf(error)}`);
    }
  }
}

/**
 * Creates the socket's directory 0700 if needed and refuses one that others could write to or that is not ours.
 * The last component is made with a plain mkdir (no recursion, which would accept a planted link);
 * the directory is then opened O_DIRECTORY|O_NOFOLLOW and checked (and, when this call made it,
 * fchmod 0700 against the umask) through that descriptor, never through a path a link could redirect.
 * Missing parents: see makeMissingParents.
 */
export function secureSocketDirectory(socketPath: string): void {
  if (!isAbsolute(socketPath)) throw unsafe(`the agent socket ${shown(socketPath)} is not an absolute path`);
  const dir = dirname(socketPath);
  makeMissingParents(dirname(dir), socketPath);
  let created = false;
  try {
    mkdirSync(dir, { mode: 0o700 });
    created = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw unsafe(`cannot make the agent socket's directory ${shown(dir)}: ${codeOf(error)}`);
  }
  let fd: number;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR') throw unsafe(`the agent socket's directory ${shown(dir)} is not a directory (a symbolic link or a file)`);
    throw unsafe(`the agent socket's directory ${shown(dir)}: ${codeOf(error)}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isDirectory()) throw unsafe(`the agent socket's directory ${shown(dir)} is not a directory (a symbolic link or a file)`);
    const uid = uidOf();
    if (uid !== undefined && st.uid !== uid) throw unsafe(`the agent socket's directory ${shown(dir)} belongs to uid ${st.uid}, not to this user (uid ${uid})`);
    if (created && (st.mode & 0o777) !== 0o700) fchmodSync(fd, 0o700);
    else if ((st.mode & 0o077) !== 0) {
      throw unsafe(`the agent socket's directory ${shown(dir)} has mode ${(st.mode & 0o777).toString(8)}: it must be 700 (no group or other access), so that no one else can replace the socket`);
    }
  } finally {
    closeSync(fd);
  }
}

/** Removes a socket left by an agent that is gone; refuses a path that is no socket or one an agent answers on. */
export async function clearStaleSocket(socketPath: string): Promise<void> {
  let st;
  try {
    st = lstatSync(socketPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw unsafe(`the agent socket ${shown(socketPath)}: ${(error as Error).message}`);
  }
  if (!st.isSocket()) throw unsafe(`${shown(socketPath)} exists and is not a socket: remove it or name another path`);
  const answers = await new Promise<boolean>((resolve, reject) => {
    const probe = createConnection(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') resolve(false);
      else reject(unsafe(`the agent socket ${shown(socketPath)}: ${error.message}`));
    });
  });
  if (answers) throw unsafe(`an agent already listens on ${shown(socketPath)}`);
  try {
    unlinkSync(socketPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw unsafe(`the stale agent socket ${shown(socketPath)} cannot be removed: ${(error as Error).message}`);
  }
}

/** Listens on the path (directory secured, stale socket removed), chmod 0600; answers the socket's inode for unlinkOwnSocket. */
export async function listenOnSocket(server: Server, socketPath: string): Promise<number> {
  secureSocketDirectory(socketPath);
  await clearStaleSocket(socketPath);
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(error.code === 'EADDRINUSE' ? unsafe(`an agent already listens on ${shown(socketPath)}`) : unsafe(`cannot listen on ${shown(socketPath)}: ${error.message}`));
    };
    server.once('error', onError);
    server.listen(socketPath, () => {
      server.off('error', onError);
      resolve();
    });
  });
  chmodSync(socketPath, 0o600);
  return lstatSync(socketPath).ino;
}

/** Removes the socket if it is still the one this agent made (another agent may have replaced it). */
export function unlinkOwnSocket(socketPath: string, ino: number): void {
  try {
    if (lstatSync(socketPath).ino === ino) unlinkSync(socketPath);
  } catch {
    // gone already
  }
}
