// Where the agent's socket lives and how it is made safe: $DESKKMS_AGENT_SOCK, else
// $XDG_RUNTIME_DIR/deskkms/agent.sock, else TMPDIR/deskkms-UID/agent.sock. Its directory is made
// 0700 and must be a real directory owned by this user with no group or other bits (else
// Agent.SocketUnsafe: someone else could swap the socket); the socket is chmod 0600 right after
// listen. A socket left at the path by an agent that died is removed (connect refused); one that
// answers is another agent's and is left alone (Agent.SocketUnsafe). The file modes are only the
// first fence: agent-server.ts checks every peer's uid (peer-credentials.ts).
import { lstatSync, mkdirSync, unlinkSync, chmodSync } from 'node:fs';
import { createConnection, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { KmsError } from '../../contract/errors.ts';
import { escapeText } from '../../contract/escape-text.ts';

/** The socket path the agent listens on when the user names none (and where commands look for it). */
export function defaultAgentSocket(env: Readonly<Record<string, string | undefined>>): string {
  if (env.DESKKMS_AGENT_SOCK) return env.DESKKMS_AGENT_SOCK;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'deskkms', 'agent.sock');
  return join(tmpdir(), `deskkms-${process.getuid?.() ?? 'user'}`, 'agent.sock');
}

const unsafe = (message: string): KmsError => new KmsError('Agent.SocketUnsafe', message);
const shown = (path: string): string => escapeText(path, 512);

/** Creates the socket's directory 0700 if needed and refuses one that others could write to or that is not ours. */
export function secureSocketDirectory(socketPath: string): void {
  if (!isAbsolute(socketPath)) throw unsafe(`the agent socket ${shown(socketPath)} is not an absolute path`);
  const dir = dirname(socketPath);
  let created = false;
  try {
    lstatSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw unsafe(`the agent socket's directory ${shown(dir)}: ${(error as Error).message}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    created = true;
  }
  if (created) chmodSync(dir, 0o700);
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw unsafe(`the agent socket's directory ${shown(dir)} is not a directory (a symbolic link or a file)`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw unsafe(`the agent socket's directory ${shown(dir)} belongs to uid ${st.uid}, not to this user (uid ${uid})`);
  if ((st.mode & 0o077) !== 0) {
    throw unsafe(`the agent socket's directory ${shown(dir)} has mode ${(st.mode & 0o777).toString(8)}: it must be 700 (no group or other access), so that no one else can replace the socket`);
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
