// The agent's contract between its parts (issue 14). The agent serves the ssh-agent protocol
// (draft-miller-ssh-agent) on a Unix socket, for the key versions the user added to it
// (AddAgentIdentity), and one vendor extension, the local signing endpoint of DeskKMS's own
// commands. Its parts:
//   agent-server.ts       the socket, peer credentials, the ssh-agent messages, confirm on use
//   ssh-agent-wire.ts     the protocol's framing and messages
//   signed-data.ts        what a SIGN_REQUEST's data is (SSH login, SSHSIG), for the confirm dialog
//   peer-credentials.ts   who connected (SO_PEERCRED on Linux): uid, pid, program
//   agent-socket.ts       where the socket lives (0700 directory, 0600 socket, stale socket removal)
//   endpoint.ts           the extension's server side: DeskKMS's commands sign through the agent
//   agent-client.ts       the extension's client side, and the Signer over it
//   askpass-confirm.ts    confirm on use for the CLI agent, through $SSH_ASKPASS
// The desktop app answers confirmations with its own ConfirmPrompt (core/app/agent-confirm.ts).
import type { Socket } from 'node:net';
import type { ServedKeyVersion } from '../../actions/format-signing.ts';
import type { Vault } from '../../vault/vault.ts';

/** Who is on the other end of a connection, from the OS (never from what the peer says). */
export interface AgentPeer {
  readonly uid: number;
  readonly pid: number;
  /** The program's name (/proc/PID/comm), escaped for logs and the audit (escapeText). */
  readonly program: string;
}

/**
 * What a SIGN_REQUEST (or an endpoint AsymmetricSign) asks to sign, as far as its bytes show it.
 * signed-data.ts reads it from the data; the endpoint says which format its command makes.
 */
export type SignedData =
  /** An SSH user authentication (RFC 4252 section 7): the login and, when it shows, the server's host key. */
  | { readonly kind: 'ssh-login'; readonly user: string; readonly hostKeyFingerprint?: string; readonly forwarded: boolean }
  /** An SSHSIG (PROTOCOL.sshsig) signature: ssh-keygen -Y sign, git with gpg.format=ssh ("git"), files ("file"). */
  | { readonly kind: 'sshsig'; readonly namespace: string; readonly hashAlgorithm: string }
  /** A DeskKMS command through the local signing endpoint: its name ("cli", "gpg"...) and format. */
  | { readonly kind: 'deskkms'; readonly command: string; readonly format: string }
  /** Anything else: only its size is known. */
  | { readonly kind: 'unknown'; readonly bytes: number };

/** One confirmation the agent asks for before a key that needs it signs. */
export interface ConfirmRequest {
  /** Random, unique per request (the app answers by it). */
  readonly id: string;
  readonly keyId: string;
  readonly keyVersionId: string;
  readonly keySpec: string;
  readonly aliases: readonly string[];
  /** SHA256:... of the SSH key blob, for RSA and EC_P256 keys. */
  readonly sshFingerprint?: string;
  readonly peer: AgentPeer;
  readonly what: SignedData;
  /** When it is refused unanswered (ISO 8601). */
  readonly expiresAt: string;
}

export type ConfirmAnswer = 'approved' | 'denied' | 'timeout';

/**
 * Asks the user. Resolves 'timeout' at request.expiresAt at the latest, and 'denied' when `signal`
 * aborts (the client hung up, the agent stops, the vault locks). Never rejects.
 */
export type ConfirmPrompt = (request: ConfirmRequest, signal: AbortSignal) => Promise<ConfirmAnswer>;

export interface AgentServerOptions {
  /** The socket to listen on (agent-socket.ts's defaultAgentSocket when the user names none). */
  readonly socketPath: string;
  /**
   * The vault the agent serves, as it stands now: undefined or locked means the agent lists no
   * identity and signs nothing ("lock/unlock follow the vault").
   */
  readonly vault: () => Vault | undefined;
  /** How a key that needs confirmation is confirmed; absent: such keys are refused (Agent.NoConfirmation). */
  readonly confirm?: ConfirmPrompt;
  /** How long a confirmation waits before it is refused. Default CONFIRM_TIMEOUT_MS. */
  readonly confirmTimeoutMs?: number;
  /** One line per event worth a log (a refused peer, a refused request); escaped text only. */
  readonly log?: (line: string) => void;
  /**
   * SSH_AGENTC_UNLOCK: unlock the vault with the password given (a passphrase vault's passphrase).
   * Absent: UNLOCK is refused (the app unlocks its vault in its own window).
   */
  readonly unlock?: (password: Uint8Array) => Promise<boolean>;
  /** SSH_AGENTC_LOCK: lock the vault. Absent: LOCK is refused. */
  readonly lock?: () => Promise<void>;
  /** Test seam: the peer check (default: SO_PEERCRED through peer-credentials.ts). */
  readonly peerOf?: (socket: Socket) => Promise<AgentPeer>;
  /** Test seam: how the agent waits after a failed UNLOCK (default: a timer of that many ms). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Test seam: what the agent's connections hold (for the backpressure tests). */
export interface AgentStats {
  /** Frames waiting to be handled now, over all connections. */
  readonly queued: number;
  /** The most frames one connection ever had waiting. */
  readonly maxQueued: number;
  /** The most answer bytes one connection ever had waiting in its socket's userland buffer. */
  readonly maxWritable: number;
  /** Frames handled since the agent started. */
  readonly handled: number;
  /** Connections open now. */
  readonly connections: number;
}

export interface RunningAgent {
  readonly socketPath: string;
  /** Stops listening, ends every connection (pending confirmations are denied) and removes the socket. */
  close(): Promise<void>;
  /** Test seam: counters of the agent's connections. */
  readonly stats?: () => AgentStats;
}

/** A confirmation is refused after this long unanswered, unless the agent is told otherwise. */
export const CONFIRM_TIMEOUT_MS = 30_000;

/**
 * The audit caller of a signature the agent makes: "ssh-agent[PROGRAM PID]" for an ssh-agent
 * client, and "ssh-agent[PROGRAM PID]:COMMAND:FORMAT" for a DeskKMS command through the endpoint
 * (e.g. "ssh-agent[node 4242]:cli:ssh"). PROGRAM is escaped and cut so the whole fits the audit
 * log's caller column.
 */
export function agentCaller(peer: AgentPeer, via?: string): string {
  const program = peer.program.replace(/[^\x21-\x7e]/g, '?').slice(0, 32);
  return `ssh-agent[${program} ${peer.pid}]${via ? `:${via}` : ''}`;
}

// --- The local signing endpoint (SSH_AGENTC_EXTENSION) ---

/**
 * The extension's name. Vendor extensions are name@domain (draft-miller-ssh-agent section 3.8);
 * ".invalid" (RFC 2606) can never be someone else's domain.
 */
export const DESKKMS_EXTENSION = 'deskkms-v1@deskkms.invalid';

/** The Actions a DeskKMS command may run through the endpoint (on the agent's keys only). */
export const ENDPOINT_ACTIONS = ['DescribeKeyVersion', 'ListKeyVersions', 'DescribeKey', 'GetPublicKey', 'AsymmetricSign'] as const;
export type EndpointAction = (typeof ENDPOINT_ACTIONS)[number];

/**
 * The extension's request: `string DESKKMS_EXTENSION, string JSON` where JSON is one of these.
 * The answer is SSH_AGENT_SUCCESS followed by `string JSON` (EndpointAnswer), or SSH_AGENT_FAILURE
 * when the connection may not use the endpoint (a forwarded agent connection).
 */
export type EndpointRequest =
  /** The agent's vault and state: a command uses the agent only when it serves the vault it would open. */
  | { readonly Op: 'Hello' }
  /** The identities with their public facts (the public key as base64 SPKI DER). */
  | { readonly Op: 'Identities' }
  /** One Action, on a key the agent serves, audited as agentCaller(peer, Command[:Format]). */
  | { readonly Op: 'Call'; readonly Action: EndpointAction; readonly Params: Record<string, unknown>; readonly Command: string; readonly Format?: string };

/** What the server hands endpoint.ts for one extension request (agent-server.ts builds it). */
export interface EndpointContext {
  /** The agent's vault, unlocked (the server answers Vault.Locked itself when it is not). */
  readonly vault: Vault;
  readonly peer: AgentPeer;
  /**
   * Before an AsymmetricSign: resolves when the version is an agent identity that may sign now
   * (asked the user first when its Confirm is on); throws KmsError Agent.KeyNotAdded,
   * Agent.Denied, Agent.ConfirmTimeout or Agent.NoConfirmation otherwise.
   */
  readonly confirmUse: (keyVersionId: string, what: SignedData) => Promise<void>;
  readonly log?: (line: string) => void;
}

export interface EndpointHello {
  readonly VaultId: string;
  /** The vault directory's real path. */
  readonly VaultPath: string;
  readonly Locked: boolean;
}

/** An identity as the endpoint lists it: the public facts a signer reads (format-signing's ServedKeyVersion), and its Confirm. */
export interface EndpointIdentity extends ServedKeyVersion {
  readonly Confirm: boolean;
}

export type EndpointAnswer =
  | { readonly ok: true; readonly body: unknown }
  | { readonly ok: false; readonly error: { readonly Code: string; readonly Message: string; readonly RequestId?: string } };
