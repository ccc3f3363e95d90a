// The local signing endpoint's client side: DeskKMS's own commands find a running DeskKMS agent
// that serves the vault they would open, and sign through it (format-signing.ts's AgentSigner)
// instead of opening the vault and unlocking it themselves.
//
// The wire is one ssh-agent message (draft-miller-ssh-agent): SSH_AGENTC_EXTENSION (27) with
// string DESKKMS_EXTENSION, string JSON (an EndpointRequest); the answer is SSH_AGENT_SUCCESS (6)
// with string JSON (an EndpointAnswer). SSH_AGENT_FAILURE (5) or SSH_AGENT_EXTENSION_FAILURE (28)
// means the socket is not a DeskKMS agent (a stock ssh-agent) or refuses this connection the
// endpoint (a forwarded one): it is skipped.
//
// Discovery: DESKKMS_NO_AGENT=1 never looks. Otherwise the candidates are $DESKKMS_AGENT_SOCK alone
// when it is set, else $SSH_AUTH_SOCK and defaultAgentSocket() (deduplicated); the first whose Hello
// answers within 2 s with VaultPath equal to the vault directory's real path and Locked false is
// used, on one connection for every request of the command. A Call waits as long as a confirmation
// can take (the user is asked in the app or through SSH_ASKPASS), up to 10 minutes.
//
// Whom the commands trust (another local user must not be able to stand in for the agent: it
// would sign with its own keys and see every digest): before connecting, the candidate's directory
// must be a real directory (lstat: no symbolic link) owned by this user that no one else can write
// to (for the default socket: mode exactly 700, as the agent makes it), and the socket a socket
// (no link) owned by this user (unsafeAgentSocket). Once connected, and before anything is sent,
// the server's SO_PEERCRED uid (peer-credentials.ts, the agent's own check of its peers) must be
// this user's. A candidate failing either is skipped like one that is not an agent: the command
// opens the vault itself. Linux only, as the agent is.
import { lstatSync, realpathSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { dirname, isAbsolute } from 'node:path';
import { z } from 'zod';
import type { SigningEndpoint } from '../../actions/format-signing.ts';
import type { ActionName } from '../../contract/actions.ts';
import { KmsError, isErrorCode } from '../../contract/errors.ts';
import { escapeText } from '../../contract/escape-text.ts';
import { agentCandidates, defaultAgentSocket } from './agent-socket.ts';
import { DESKKMS_EXTENSION, ENDPOINT_ACTIONS, type EndpointHello, type EndpointIdentity, type EndpointRequest } from './agent-types.ts';
import { peerCredentials } from './peer-credentials.ts';
import { FrameReader, MSG, extensionRequest, parseJsonExtension } from './ssh-agent-wire.ts';

/** Connecting and the Hello, together. */
export const HELLO_TIMEOUT_MS = 2_000;
/** Identities and the reads of a Call. */
export const REQUEST_TIMEOUT_MS = 60_000;
/** An AsymmetricSign, which may wait for the user's confirmation (the app's or SSH_ASKPASS's timeout is shorter). */
export const SIGN_TIMEOUT_MS = 10 * 60_000;

type Env = Readonly<Record<string, string | undefined>>;

const answerSchema = z.union([
  z.strictObject({ ok: z.literal(true), body: z.unknown() }),
  z.strictObject({ ok: z.literal(false), error: z.strictObject({ Code: z.string(), Message: z.string(), RequestId: z.string().optional() }) }),
]);

const helloSchema = z.strictObject({ VaultId: z.string(), VaultPath: z.string(), Locked: z.boolean() });
const identitiesSchema = z.strictObject({
  Identities: z.array(
    z.strictObject({
      KeyId: z.string(),
      KeyVersionId: z.string(),
      KeySpec: z.string(),
      PublicKey: z.string(),
      CreationDate: z.string(),
      Aliases: z.array(z.string()),
      Confirm: z.boolean(),
    }),
  ),
});

const unavailable = (socketPath: string, why: string): KmsError => new KmsError('Agent.Unavailable', `the agent socket ${escapeText(socketPath, 256)}: ${why}`);

/**
 * Why the commands must not connect to `socketPath` (another user could have made it, or could
 * swap it), or undefined when the directory and the socket are this user's alone. `missing` when
 * there is nothing there (no agent: not a warning). `isDefault`: the default socket, whose
 * directory the agent makes 0700, must have exactly that mode; any other only no group/other write bit.
 */
export function unsafeAgentSocket(socketPath: string, isDefault: boolean): string | undefined {
  const uid = process.getuid?.();
  if (uid === undefined || process.platform !== 'linux') return `the DeskKMS agent runs on Linux only (${process.platform})`;
  if (!isAbsolute(socketPath)) return 'is not an absolute path';
  const dir = dirname(socketPath);
  const shownDir = escapeText(dir, 256);
  let st;
  try {
    st = lstatSync(dir);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : `its directory ${shownDir}: ${escapeText((error as NodeJS.ErrnoException).code ?? 'cannot be read', 32)}`;
  }
  if (!st.isDirectory()) return `its directory ${shownDir} is not a directory (a symbolic link or a file)`;
  if (st.uid !== uid) return `its directory ${shownDir} belongs to uid ${st.uid}, not to this user (uid ${uid})`;
  const mode = st.mode & 0o777;
  if (isDefault && mode !== 0o700) return `its directory ${shownDir} has mode ${mode.toString(8)}, not 700 as the agent makes it`;
  if ((mode & 0o022) !== 0) return `its directory ${shownDir} has mode ${mode.toString(8)}: others can write to it`;
  try {
    st = lstatSync(socketPath);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : escapeText((error as NodeJS.ErrnoException).code ?? 'cannot be read', 32);
  }
  if (!st.isSocket()) return 'is not a socket (a symbolic link or a file)';
  if (st.uid !== uid) return `belongs to uid ${st.uid}, not to this user (uid ${uid})`;
  return undefined;
}

/** Refuses a server whose SO_PEERCRED uid (as it was when it listened) is not this user's. */
async function requireOwnServer(socketPath: string, socket: Socket): Promise<void> {
  const uid = process.getuid?.();
  const credentials = await peerCredentials(socket);
  if (credentials.uid !== uid) {
    throw new KmsError('Agent.SocketUnsafe', `the agent socket ${escapeText(socketPath, 256)} is served by uid ${credentials.uid}, not by this user (uid ${uid ?? '?'})`);
  }
}

/** One connection to a DeskKMS agent's endpoint: requests are sent one at a time, in order. */
export class AgentEndpointClient implements SigningEndpoint {
  readonly socketPath: string;
  private readonly socket: Socket;
  private readonly reader = new FrameReader();
  private waiting: { resolve: (frame: Uint8Array) => void; reject: (error: KmsError) => void } | undefined;
  private closedBy: KmsError | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private served: Promise<readonly EndpointIdentity[]> | undefined;
  private signing = false;

  private constructor(socketPath: string, socket: Socket) {
    this.socketPath = socketPath;
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      let frames: Uint8Array[];
      try {
        frames = this.reader.push(chunk);
      } catch {
        this.fail(unavailable(socketPath, 'answered something that is not an ssh-agent message'));
        return;
      }
      for (const frame of frames) {
        const waiting = this.waiting;
        this.waiting = undefined;
        if (!waiting) {
          this.fail(unavailable(socketPath, 'answered a request it was not asked'));
          return;
        }
        waiting.resolve(frame);
      }
    });
    socket.on('error', () => this.fail(unavailable(socketPath, 'the connection failed')));
    socket.on('close', () => this.fail(unavailable(socketPath, 'the agent closed the connection')));
  }

  /**
   * Connects; throws Agent.Unavailable when nothing listens there within `timeoutMs`, and
   * Agent.SocketUnsafe (before anything is sent) when the server is not this user's process (SO_PEERCRED).
   */
  static connect(socketPath: string, timeoutMs: number = HELLO_TIMEOUT_MS): Promise<AgentEndpointClient> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ path: socketPath });
      let settled = false;
      const fail = (error: KmsError): void => {
        clearTimeout(timer);
        socket.destroy();
        if (settled) return;
        settled = true;
        reject(error);
      };
      const timer = setTimeout(() => fail(unavailable(socketPath, `no answer in ${timeoutMs} ms`)), timeoutMs);
      socket.once('error', (error: NodeJS.ErrnoException) => fail(unavailable(socketPath, escapeText(error.code ?? 'cannot connect', 32))));
      socket.once('close', () => fail(unavailable(socketPath, 'the agent closed the connection')));
      socket.once('connect', () => {
        // The check has its own bound (peer-credentials.ts); a loaded machine must not make it skip the agent.
        clearTimeout(timer);
        requireOwnServer(socketPath, socket).then(
          () => {
            if (settled) return;
            settled = true;
            socket.removeAllListeners('error');
            socket.removeAllListeners('close');
            const client = new AgentEndpointClient(socketPath, socket);
            // Handing the socket to the check's child paused it (child_process stops reading a stdio stream it passes on).
            socket.resume();
            resolve(client);
          },
          (error: unknown) => fail(error instanceof KmsError ? error : unavailable(socketPath, "its server's owner could not be checked")),
        );
      });
    });
  }

  /** Whether an AsymmetricSign was sent (then a refusal is no reason to sign again elsewhere). */
  get signAttempted(): boolean {
    return this.signing;
  }

  private fail(error: KmsError): void {
    this.closedBy ??= error;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(error);
    this.socket.destroy();
  }

  close(): void {
    this.fail(unavailable(this.socketPath, 'closed'));
  }

  /** One request and its answer's body; a refusal throws its KmsError (the message names the RequestId). */
  request(request: EndpointRequest, timeoutMs: number): Promise<unknown> {
    const run = this.queue.then(() => this.exchange(request, timeoutMs));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async exchange(request: EndpointRequest, timeoutMs: number): Promise<unknown> {
    if (this.closedBy) throw this.closedBy;
    const frame = await new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(unavailable(this.socketPath, `no answer in ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      this.waiting = {
        resolve: (answer) => {
          clearTimeout(timer);
          resolve(answer);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.socket.write(extensionRequest(DESKKMS_EXTENSION, JSON.stringify(request)));
    });
    const type = frame[0];
    if (type === MSG.FAILURE || type === MSG.EXTENSION_FAILURE) throw unavailable(this.socketPath, 'is not a DeskKMS agent (it refused the DeskKMS extension)');
    if (type !== MSG.SUCCESS) throw unavailable(this.socketPath, `answered message ${type} to the DeskKMS extension`);
    let answer: z.output<typeof answerSchema>;
    try {
      const parsed = answerSchema.safeParse(JSON.parse(parseJsonExtension(frame.subarray(1), DESKKMS_EXTENSION)));
      if (!parsed.success) throw new Error('not an EndpointAnswer');
      answer = parsed.data;
    } catch {
      throw unavailable(this.socketPath, 'answered the DeskKMS extension with something that is not an endpoint answer');
    }
    if (answer.ok) return answer.body;
    const { Code, Message, RequestId } = answer.error;
    const what = request.Op === 'Call' ? request.Action : request.Op;
    const message = `${what} through the DeskKMS agent: ${Message}${RequestId !== undefined ? ` (RequestId ${escapeText(RequestId, 64)})` : ''}`;
    throw new KmsError(isErrorCode(Code) ? Code : 'Agent.Unavailable', isErrorCode(Code) ? message : `${message} (code ${escapeText(Code, 64)})`);
  }

  async hello(timeoutMs: number = HELLO_TIMEOUT_MS): Promise<EndpointHello> {
    const parsed = helloSchema.safeParse(await this.request({ Op: 'Hello' }, timeoutMs));
    if (!parsed.success) throw unavailable(this.socketPath, 'answered Hello with something else');
    return parsed.data;
  }

  /** The key versions the agent serves, read once. */
  identities(): Promise<readonly EndpointIdentity[]> {
    this.served ??= this.request({ Op: 'Identities' }, REQUEST_TIMEOUT_MS).then((body) => {
      const parsed = identitiesSchema.safeParse(body);
      if (!parsed.success) throw unavailable(this.socketPath, 'answered Identities with something else');
      return parsed.data.Identities;
    });
    return this.served;
  }

  async call(action: ActionName, params: Record<string, unknown>, command: string, format?: string): Promise<Record<string, unknown>> {
    const endpointAction = ENDPOINT_ACTIONS.find((a) => a === action);
    if (endpointAction === undefined) throw new KmsError('Agent.Unsupported', `${action} is not run through the DeskKMS agent; the vault must be opened for it`);
    const signs = endpointAction === 'AsymmetricSign';
    if (signs) this.signing = true;
    const body = await this.request(
      { Op: 'Call', Action: endpointAction, Params: params, Command: command, ...(format !== undefined ? { Format: format } : {}) },
      signs ? SIGN_TIMEOUT_MS : REQUEST_TIMEOUT_MS,
    );
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw unavailable(this.socketPath, `answered ${action} with something that is not an object`);
    return body as Record<string, unknown>;
  }
}

/**
 * A running DeskKMS agent serving the vault in `vaultDir`, unlocked, connected; undefined when none
 * fits (no socket, another program's agent, another vault, a locked one, DESKKMS_NO_AGENT, a socket
 * or a server that is not this user's alone). `onUnsafe` hears each candidate skipped as unsafe
 * (path and why, escaped), for a warning.
 */
export async function findAgent(vaultDir: string, env: Env, onUnsafe?: (socketPath: string, why: string) => void): Promise<AgentEndpointClient | undefined> {
  const candidates = agentCandidates(env);
  if (candidates.length === 0) return undefined;
  let vaultPath: string;
  try {
    vaultPath = realpathSync(vaultDir);
  } catch {
    return undefined; // no such vault: opening it says why
  }
  const defaultSocket = env.DESKKMS_AGENT_SOCK ? undefined : defaultAgentSocket(env);
  for (const socketPath of candidates) {
    const why = unsafeAgentSocket(socketPath, socketPath === defaultSocket);
    if (why !== undefined) {
      if (why !== 'missing') onUnsafe?.(escapeText(socketPath, 256), why);
      continue;
    }
    let client: AgentEndpointClient | undefined;
    try {
      client = await AgentEndpointClient.connect(socketPath, HELLO_TIMEOUT_MS);
      const hello = await client.hello(HELLO_TIMEOUT_MS);
      if (hello.VaultPath === vaultPath && !hello.Locked) return client;
    } catch (error) {
      if (!(error instanceof KmsError)) throw error;
      if (error.code === 'Agent.SocketUnsafe') onUnsafe?.(escapeText(socketPath, 256), error.message);
    }
    client?.close();
  }
  return undefined;
}
