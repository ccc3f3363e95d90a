// The agent: the ssh-agent protocol (draft-miller-ssh-agent) on a Unix socket, for the key
// versions the user added to it (agent_identities). Per connection:
//   1. the peer's uid is read from the kernel (SO_PEERCRED, peer-credentials.ts) before one byte
//      is read; another uid, or a peer the OS does not tell, is closed unanswered and logged;
//   2. messages are read one at a time, framed by ssh-agent-wire.ts (256 KiB at most; a larger
//      frame closes the connection);
//   3. REQUEST_IDENTITIES lists the Enabled RSA and EC_P256 identities (comment
//      deskkms:KEYID:VERSIONID), nothing when the vault is absent or locked;
//   4. SIGN_REQUEST signs SHA-256 of the data through dispatch (AsymmetricSign, ECDSA_SHA_256 or
//      RSA_PKCS1_SHA_256, audited with caller agentCaller(peer)), after the user's approval when
//      the identity's Confirm is on; RSA signs only rsa-sha2-256 (flag 2): SHA-1 ssh-rsa (no flag),
//      rsa-sha2-512 (flag 4) and unknown flags are refused;
//      several identities with one key blob (refused by AddAgentIdentity, but older vaults may
//      hold them): an Enabled one signs, and the user is asked when ANY of them has Confirm on;
//   5. ADD/REMOVE identity and smartcard messages are refused (keys are managed in the vault);
//      LOCK and UNLOCK lock and unlock the vault when the host allows it, never on a forwarded
//      connection (ssh-add -x before ssh -A must keep the remote host out). The UNLOCK rule: for a
//      passphrase vault the password is the vault's passphrase (options.unlock checks it); for any
//      other vault (keychain) it must be the password of the LOCK that locked it, kept in memory
//      as a salted scrypt hash and compared in constant time before options.unlock runs (no LOCK
//      remembered: refused). Each failed UNLOCK is answered after a delay growing with the failures
//      (0.5 s x failures, at most 10 s), one UNLOCK at a time across connections, as OpenSSH does;
//   6. EXTENSION session-bind@openssh.com is remembered for the connection (the host key it names
//      and whether the agent was forwarded) only when its signature over the session id verifies
//      with that host key (signed-data.ts verifySessionBind); an unverified bind is refused
//      (FAILURE, as OpenSSH's agent does) and logged. The DeskKMS extension goes to endpoint.ts,
//      never on a forwarded connection;
//   7. backpressure: a connection is not read while MAX_QUEUED frames wait or its answers are not
//      being read (socket.writableLength over WRITE_LIMIT); what arrived stays in its FrameReader;
//   8. at most CONFIRM_MAX confirmations wait at once, CONFIRM_PER_PID per peer process: more are
//      refused at once (Agent.Denied, audited) so a looping client cannot stack dialogs.
// Every refusal is one escaped log line. The agent holds no private material: signatures come
// from dispatch, which reaches the key worker.
import { createHash, randomBytes, randomUUID, scrypt, timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { dispatch, recordEvent } from '../../actions/dispatch.ts';
import { agentIdentityView, sshComment } from '../../actions/agent-identities.ts';
import { decodeBase64 } from '../../contract/base64.ts';
import { KmsError, toKmsError } from '../../contract/errors.ts';
import { escapeText } from '../../contract/escape-text.ts';
import type { AgentIdentity } from '../../contract/responses.ts';
import { verifyDigest } from '../../crypto/public-key.ts';
import { SshWriter, blobFingerprint, decodeBase64Strict, parseSshKeyBlob, sshSignatureBody, type SshKeyType } from '../../formats/ssh-wire.ts';
import { getAgentIdentity, listAgentIdentities, type AgentIdentityRow } from '../../vault/agent-identities.ts';
import type { Vault } from '../../vault/vault.ts';
import {
  CONFIRM_TIMEOUT_MS,
  DESKKMS_EXTENSION,
  agentCaller,
  type AgentPeer,
  type AgentServerOptions,
  type AgentStats,
  type ConfirmAnswer,
  type ConfirmRequest,
  type EndpointAnswer,
  type EndpointContext,
  type RunningAgent,
  type SignedData,
} from './agent-types.ts';
import { listenOnSocket, unlinkOwnSocket } from './agent-socket.ts';
import { handleEndpoint } from './endpoint.ts';
import { peerCredentials } from './peer-credentials.ts';
import { classifySignedData, describeSignedData, verifySessionBind } from './signed-data.ts';
import {
  FrameReader,
  MSG,
  SESSION_BIND_EXTENSION,
  SIGN_FLAGS,
  failure,
  identitiesAnswer,
  parseJsonExtension,
  parseRequest,
  parseSessionBind,
  signResponse,
  success,
  type SessionBind,
  type SignRequest,
} from './ssh-agent-wire.ts';

/** OpenSSH's ssh-agent keeps at most this many session binds per connection; so does this one. */
const MAX_BINDS = 16;
/** Frames a client may send ahead of the answers before the agent stops reading from it. */
const MAX_QUEUED = 8;
/** Answer bytes waiting for a client to read them before the agent stops reading from it. */
const WRITE_LIMIT = 64 * 1024;
/** Confirmations waiting at once, in all and per peer process (the app's ConfirmQueue also caps at 16). */
const CONFIRM_MAX = 16;
const CONFIRM_PER_PID = 2;
/** The delay after each failed UNLOCK: this times the failures so far, at most UNLOCK_DELAY_MAX_MS. */
const UNLOCK_DELAY_MS = 500;
const UNLOCK_DELAY_MAX_MS = 10_000;

/** scrypt of a LOCK password (N = 2^14), for the UNLOCK of a vault without a passphrase. */
const lockHash = (password: Uint8Array, salt: Uint8Array): Promise<Buffer> =>
  new Promise((resolve, reject) => scrypt(password, salt, 32, { N: 1 << 14, r: 8, p: 1 }, (error, key) => (error ? reject(error) : resolve(key))));

const REFUSED_MANAGEMENT: Readonly<Record<number, string>> = {
  [MSG.ADD_IDENTITY]: 'ADD_IDENTITY',
  [MSG.ADD_ID_CONSTRAINED]: 'ADD_ID_CONSTRAINED',
  [MSG.REMOVE_IDENTITY]: 'REMOVE_IDENTITY',
  [MSG.REMOVE_ALL_IDENTITIES]: 'REMOVE_ALL_IDENTITIES',
  [MSG.ADD_SMARTCARD_KEY]: 'ADD_SMARTCARD_KEY',
  [MSG.ADD_SMARTCARD_KEY_CONSTRAINED]: 'ADD_SMARTCARD_KEY_CONSTRAINED',
  [MSG.REMOVE_SMARTCARD_KEY]: 'REMOVE_SMARTCARD_KEY',
};

/** An identity the agent serves to SSH clients: its row, its view and its OpenSSH key blob. */
interface Served {
  readonly row: AgentIdentityRow;
  readonly view: AgentIdentity;
  readonly type: SshKeyType;
  readonly blob: Uint8Array;
}

const peerName = (peer: AgentPeer): string => `${peer.program}[${peer.pid}]`;

/** Starts the agent on options.socketPath (Linux only, unless a test hands its own peer check). */
export async function startAgentServer(options: AgentServerOptions): Promise<RunningAgent> {
  if (process.platform !== 'linux' && !options.peerOf) {
    throw new KmsError('Agent.Unsupported', `the agent runs on Linux only: it checks every peer's uid with SO_PEERCRED, which ${process.platform} does not offer here`);
  }
  const agent = new Agent(options);
  await agent.listen();
  return { socketPath: options.socketPath, close: () => agent.close(), stats: () => agent.stats() };
}

class Agent {
  private readonly options: AgentServerOptions;
  private readonly server: Server;
  private readonly connections = new Set<Connection>();
  /** Every confirmation waiting for the user: aborted (denied) on close and on LOCK. */
  readonly pendingConfirms = new Set<AbortController>();
  /** Waiting confirmations per peer pid. */
  private readonly confirmsByPid = new Map<number, number>();
  /** The salted hash of the password of the LOCK that locked a vault without a passphrase. */
  private lockSecret: { readonly salt: Uint8Array; readonly hash: Buffer } | undefined;
  private unlockFailures = 0;
  /** UNLOCKs run one at a time, each failure's delay included, across all connections. */
  private unlockChain: Promise<unknown> = Promise.resolve();
  /** Counters for AgentStats. */
  maxQueued = 0;
  maxWritable = 0;
  handled = 0;
  private ino = -1;
  private closing: Promise<void> | undefined;

  constructor(options: AgentServerOptions) {
    this.options = options;
    this.server = createServer({ pauseOnConnect: true }, (socket) => void this.accept(socket));
  }

  stats(): AgentStats {
    let queued = 0;
    for (const c of this.connections) queued += c.queued;
    return { queued, maxQueued: this.maxQueued, maxWritable: this.maxWritable, handled: this.handled, connections: this.connections.size };
  }

  log(line: string): void {
    try {
      this.options.log?.(line);
    } catch {
      // a host's log that fails must not stop the agent answering
    }
  }

  async listen(): Promise<void> {
    this.ino = await listenOnSocket(this.server, this.options.socketPath);
  }

  private async accept(socket: Socket): Promise<void> {
    socket.on('error', () => undefined);
    if (this.closing) {
      socket.destroy();
      return;
    }
    let peer: AgentPeer;
    try {
      peer = await (this.options.peerOf ?? peerCredentials)(socket);
    } catch (error) {
      this.log(`refused a connection: ${toKmsError(error).message}`);
      socket.destroy();
      return;
    }
    const uid = process.getuid?.();
    if (peer.uid !== uid) {
      this.log(`refused a connection from uid ${peer.uid} (${peerName(peer)}): only uid ${uid}, the agent's own user, may use it`);
      socket.destroy();
      return;
    }
    if (this.closing || socket.destroyed) {
      socket.destroy();
      return;
    }
    const connection = new Connection(this, socket, peer);
    this.connections.add(connection);
    socket.once('close', () => this.connections.delete(connection));
    socket.resume();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const c of this.pendingConfirms) c.abort();
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const connection of this.connections) connection.destroy();
      await closed;
      unlinkOwnSocket(this.options.socketPath, this.ino);
    })();
    return this.closing;
  }

  /** The vault when it is there, not locked and unlocks (else undefined: the agent serves nothing). */
  async unlockedVault(): Promise<Vault | undefined> {
    const vault = this.options.vault();
    if (!vault || vault.isLocked) return undefined;
    try {
      await vault.ensureUnlocked();
      return vault;
    } catch {
      return undefined;
    }
  }

  /** The identities OpenSSH can use (RSA, EC_P256), oldest first; a row that fails to read is logged and skipped. */
  served(vault: Vault): Served[] {
    const db = vault.store.db;
    let rows: AgentIdentityRow[];
    try {
      rows = listAgentIdentities(db);
    } catch (error) {
      this.log(`cannot list the agent's identities: ${toKmsError(error).message}`);
      return [];
    }
    const out: Served[] = [];
    for (const row of rows) {
      try {
        const view = agentIdentityView(db, row);
        if (view.SshPublicKey === undefined) continue;
        const [type, base64] = view.SshPublicKey.split(' ');
        out.push({ row, view, type: type as SshKeyType, blob: decodeBase64Strict(base64!, 'the SSH public key') });
      } catch (error) {
        this.log(`skipped agent identity ${row.key_version_id}: ${toKmsError(error).message}`);
      }
    }
    return out;
  }

  /**
   * Resolves when the identity may sign now: at once unless its Confirm is on, else after the
   * user approved. Throws Agent.NoConfirmation, Agent.Denied or Agent.ConfirmTimeout.
   */
  async confirm(vault: Vault, connection: Connection, view: AgentIdentity, confirmOn: boolean, what: SignedData): Promise<void> {
    if (!confirmOn) return;
    const prompt = this.options.confirm;
    const key = `${view.KeyId}:${view.KeyVersionId}`;
    const via = what.kind === 'deskkms' ? `${what.command}:${what.format}` : undefined;
    // A refused use is in the audit log as the AsymmetricSign it would have been, with its key and
    // why as its Code (dispatch is never reached, so nothing else records it).
    const refuse = async (refusal: KmsError): Promise<never> => {
      await recordEvent(vault, 'AsymmetricSign', refusal.code, agentCaller(connection.peer, via), { keyId: view.KeyId, keyVersionId: view.KeyVersionId }).catch((error: unknown) =>
        this.log(`could not audit a refused use of ${key}: ${toKmsError(error).message}`),
      );
      throw refusal;
    };
    if (!prompt) {
      return refuse(new KmsError('Agent.NoConfirmation', `key version ${key} needs confirmation on each use, and this agent has no way to ask (the CLI agent asks through SSH_ASKPASS)`));
    }
    const asked = `${peerName(connection.peer)} to use ${key} for ${describeSignedData(what, connection.peer)}`;
    const pid = connection.peer.pid;
    const ofPid = this.confirmsByPid.get(pid) ?? 0;
    if (this.pendingConfirms.size >= CONFIRM_MAX || ofPid >= CONFIRM_PER_PID) {
      const why = ofPid >= CONFIRM_PER_PID ? `${ofPid} confirmations from pid ${pid} are waiting already` : `${this.pendingConfirms.size} confirmations are waiting already`;
      return refuse(new KmsError('Agent.Denied', `the confirmation for ${asked} was refused unasked: ${why}`));
    }
    const timeoutMs = this.options.confirmTimeoutMs ?? CONFIRM_TIMEOUT_MS;
    const controller = new AbortController();
    const request: ConfirmRequest = {
      id: randomUUID(),
      keyId: view.KeyId,
      keyVersionId: view.KeyVersionId,
      keySpec: view.KeySpec,
      aliases: view.Aliases.map((a) => escapeText(a, 256)),
      ...(view.SshFingerprint ? { sshFingerprint: view.SshFingerprint } : {}),
      peer: connection.peer,
      what,
      expiresAt: new Date(Date.now() + timeoutMs).toISOString(),
    };
    const onHangUp = (): void => controller.abort();
    connection.signal.addEventListener('abort', onHangUp, { once: true });
    this.pendingConfirms.add(controller);
    this.confirmsByPid.set(pid, ofPid + 1);
    let timer: NodeJS.Timeout | undefined;
    let answer: ConfirmAnswer;
    try {
      if (connection.signal.aborted || this.closing) controller.abort();
      answer = await Promise.race([
        prompt(request, controller.signal).catch((): ConfirmAnswer => 'denied'),
        new Promise<ConfirmAnswer>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
        new Promise<ConfirmAnswer>((resolve) => {
          if (controller.signal.aborted) resolve('denied');
          controller.signal.addEventListener('abort', () => resolve('denied'), { once: true });
        }),
      ]);
    } finally {
      clearTimeout(timer);
      controller.abort();
      this.pendingConfirms.delete(controller);
      const left = (this.confirmsByPid.get(pid) ?? 1) - 1;
      if (left > 0) this.confirmsByPid.set(pid, left);
      else this.confirmsByPid.delete(pid);
      connection.signal.removeEventListener('abort', onHangUp);
    }
    if (answer === 'approved' && !connection.signal.aborted && !this.closing) {
      this.log(`approved ${asked}`);
      return;
    }
    return refuse(
      answer === 'timeout'
        ? new KmsError('Agent.ConfirmTimeout', `no one answered the confirmation for ${asked} within ${timeoutMs} ms: refused`)
        : new KmsError('Agent.Denied', `the confirmation for ${asked} was denied`),
    );
  }

  /** Whether UNLOCK's password is the vault's passphrase (else it must be the LOCK's password). */
  private passphraseVault(): boolean {
    return this.options.vault()?.protectionKind === 'passphrase';
  }

  async lock(connection: Connection, password: Uint8Array): Promise<Uint8Array> {
    try {
      if (connection.forwarded) {
        this.log(`refused LOCK from ${peerName(connection.peer)}: the connection comes through a forwarded agent`);
        return failure();
      }
      if (!this.options.lock) {
        this.log(`refused LOCK from ${peerName(connection.peer)}: this agent follows its vault (lock it where it was unlocked)`);
        return failure();
      }
      for (const c of this.pendingConfirms) c.abort();
      try {
        const salt = randomBytes(16);
        const secret = this.passphraseVault() ? undefined : { salt, hash: await lockHash(password, salt) };
        await this.options.lock();
        this.lockSecret = secret;
        this.log(`locked the vault at the request of ${peerName(connection.peer)}`);
        return success();
      } catch (error) {
        this.log(`LOCK from ${peerName(connection.peer)} failed: ${toKmsError(error).message}`);
        return failure();
      }
    } finally {
      password.fill(0);
    }
  }

  /** UNLOCK, one at a time across connections; a failure is answered after the growing delay. */
  unlock(connection: Connection, password: Uint8Array): Promise<Uint8Array> {
    if (connection.forwarded) {
      password.fill(0);
      this.log(`refused UNLOCK from ${peerName(connection.peer)}: the connection comes through a forwarded agent`);
      return Promise.resolve(failure());
    }
    if (!this.options.unlock) {
      password.fill(0);
      this.log(`refused UNLOCK from ${peerName(connection.peer)}: this agent does not unlock its vault through the protocol`);
      return Promise.resolve(failure());
    }
    const unlock = this.options.unlock;
    const attempt = async (): Promise<Uint8Array> => {
      if (await this.tryUnlock(connection, unlock, password)) {
        this.unlockFailures = 0;
        return success();
      }
      this.unlockFailures++;
      const delay = Math.min(UNLOCK_DELAY_MS * this.unlockFailures, UNLOCK_DELAY_MAX_MS);
      await (this.options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))))(delay);
      return failure();
    };
    const answer = this.unlockChain.then(attempt, attempt);
    this.unlockChain = answer.catch(() => undefined);
    return answer;
  }

  private async tryUnlock(connection: Connection, unlock: (password: Uint8Array) => Promise<boolean>, password: Uint8Array): Promise<boolean> {
    try {
      if (connection.signal.aborted) {
        this.log(`dropped an UNLOCK from ${peerName(connection.peer)}: it hung up`);
        return false;
      }
      if (!this.passphraseVault()) {
        const secret = this.lockSecret;
        if (!secret) {
          this.log(`refused UNLOCK from ${peerName(connection.peer)}: the vault has no passphrase and was not locked with ssh-add -x here, so no password can unlock it through the agent`);
          return false;
        }
        const hash = await lockHash(password, secret.salt);
        if (!timingSafeEqual(hash, secret.hash)) {
          this.log(`refused UNLOCK from ${peerName(connection.peer)}: the password is not the one the vault was locked with`);
          return false;
        }
      }
      if (await unlock(password)) {
        this.lockSecret = undefined;
        this.log(`unlocked the vault at the request of ${peerName(connection.peer)}`);
        return true;
      }
      this.log(`refused UNLOCK from ${peerName(connection.peer)}: the passphrase did not unlock the vault`);
    } catch (error) {
      this.log(`refused UNLOCK from ${peerName(connection.peer)}: ${toKmsError(error).message}`);
    } finally {
      password.fill(0);
    }
    return false;
  }
}

class Connection {
  readonly peer: AgentPeer;
  private readonly agent: Agent;
  private readonly socket: Socket;
  private readonly reader = new FrameReader();
  private readonly queue: Uint8Array[] = [];
  private readonly hangUp = new AbortController();
  private readonly binds: SessionBind[] = [];
  private running = false;

  constructor(agent: Agent, socket: Socket, peer: AgentPeer) {
    this.agent = agent;
    this.socket = socket;
    this.peer = peer;
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    // The peer gone (its end, or the socket closed): nothing it sent is worth answering.
    socket.once('end', () => this.gone());
    socket.once('close', () => this.gone());
    socket.on('drain', () => this.flow());
  }

  /** Frames waiting to be handled. */
  get queued(): number {
    return this.queue.length;
  }

  private gone(): void {
    this.hangUp.abort();
    this.reader.wipe();
    for (const f of this.queue) f.fill(0);
    this.queue.length = 0;
    if (!this.socket.destroyed) this.socket.destroy();
  }

  /** Aborts when the client hangs up or the agent stops. */
  get signal(): AbortSignal {
    return this.hangUp.signal;
  }

  get forwarded(): boolean {
    return this.binds.some((b) => b.forwarding);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private received(chunk: Buffer): void {
    this.reader.append(chunk);
    chunk.fill(0);
    this.flow();
  }

  /** Moves whole frames from the reader to the queue while there is room, reads only while there is, and runs the queue. */
  private flow(): void {
    if (this.hangUp.signal.aborted) return;
    try {
      while (this.queue.length < MAX_QUEUED) {
        const f = this.reader.shift();
        if (f === undefined) break;
        this.queue.push(f);
      }
    } catch (error) {
      this.agent.log(`closed the connection of ${peerName(this.peer)}: ${toKmsError(error).message}`);
      this.reader.wipe();
      this.socket.destroy();
      return;
    }
    this.agent.maxQueued = Math.max(this.agent.maxQueued, this.queue.length);
    const full = this.queue.length >= MAX_QUEUED || this.socket.writableLength > WRITE_LIMIT;
    if (full && !this.socket.isPaused()) this.socket.pause();
    else if (!full && this.socket.isPaused()) this.socket.resume();
    void this.run();
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      // An answer the client does not read stops the loop; 'drain' runs it again (flow).
      while (this.socket.writableLength <= WRITE_LIMIT) {
        const f = this.queue.shift();
        if (f === undefined) break;
        let answer: Uint8Array;
        try {
          answer = await this.handle(f);
        } catch (error) {
          this.agent.log(`request from ${peerName(this.peer)} failed: ${toKmsError(error).message}`);
          answer = failure();
        } finally {
          f.fill(0);
        }
        this.agent.handled++;
        if (this.socket.destroyed || this.hangUp.signal.aborted) return;
        this.socket.write(answer);
        this.agent.maxWritable = Math.max(this.agent.maxWritable, this.socket.writableLength);
      }
    } finally {
      this.running = false;
    }
    if (!this.hangUp.signal.aborted && this.socket.writableLength <= WRITE_LIMIT && (this.queue.length > 0 || this.socket.isPaused())) {
      // Room again: take what the reader kept, and read again.
      this.flow();
    }
  }

  private refuse(what: string, why: string): Uint8Array {
    this.agent.log(`refused ${what} from ${peerName(this.peer)}: ${why}`);
    return failure();
  }

  private async handle(frameBytes: Uint8Array): Promise<Uint8Array> {
    let request;
    try {
      request = parseRequest(frameBytes);
    } catch (error) {
      return this.refuse(`a malformed message ${frameBytes[0]}`, toKmsError(error).message);
    }
    if ('other' in request) {
      const name = REFUSED_MANAGEMENT[request.type];
      if (name) return this.refuse(name, 'keys are managed in the vault, not through the agent (deskkms agent add KEY, deskkms agent remove KEY)');
      return this.refuse(`message type ${request.type}`, 'unknown or unsupported message');
    }
    switch (request.type) {
      case MSG.REQUEST_IDENTITIES:
        return this.identities();
      case MSG.SIGN_REQUEST:
        return this.sign(request.sign);
      case MSG.LOCK:
        return this.agent.lock(this, Uint8Array.from(request.password));
      case MSG.UNLOCK:
        // A copy: the frame is wiped after this, and unlock() owns (and wipes) what it is given.
        return this.agent.unlock(this, Uint8Array.from(request.password));
      case MSG.EXTENSION:
        return this.extension(request.extension.name, request.extension.contents);
    }
  }

  private async identities(): Promise<Uint8Array> {
    const vault = await this.agent.unlockedVault();
    if (!vault) return identitiesAnswer([]);
    const listed = this.agent
      .served(vault)
      .filter((s) => s.view.KeyState === 'Enabled')
      .map((s) => ({ keyBlob: s.blob, comment: sshComment(s.row.key_id, s.row.key_version_id) }));
    return identitiesAnswer(listed);
  }

  private async sign(request: SignRequest): Promise<Uint8Array> {
    const what = 'SIGN_REQUEST';
    const vault = await this.agent.unlockedVault();
    if (!vault) return this.refuse(what, 'the vault is locked or not open');
    // Every served identity with this blob, Enabled or not: an Enabled one signs (else the first,
    // and dispatch refuses and audits a key that may not sign), confirmed when any of them asks for it.
    const twins = this.agent.served(vault).filter((s) => Buffer.from(s.blob).equals(request.keyBlob));
    const served = twins.find((s) => s.view.KeyState === 'Enabled') ?? twins[0];
    if (!served) return this.refuse(what, `key ${blobFingerprint(request.keyBlob)} is not one of the agent's identities`);
    const confirmOn = twins.some((s) => s.row.confirm === 1);
    const keyName = `${served.row.key_id}:${served.row.key_version_id}`;
    let algorithm: 'ECDSA_SHA_256' | 'RSA_PKCS1_SHA_256';
    if (served.type === 'ssh-rsa') {
      if (request.flags !== SIGN_FLAGS.RSA_SHA2_256) {
        const asked =
          request.flags === 0
            ? 'an ssh-rsa signature (SHA-1), which the agent refuses'
            : request.flags === SIGN_FLAGS.RSA_SHA2_512
              ? 'an rsa-sha2-512 signature, which the vault key cannot make (it signs RSA_PKCS1_SHA_256 only: use rsa-sha2-256, e.g. ssh -o PubkeyAcceptedAlgorithms=rsa-sha2-256)'
              : `flags ${request.flags}, which the agent does not know`;
        return this.refuse(what, `key ${keyName} was asked for ${asked}`);
      }
      algorithm = 'RSA_PKCS1_SHA_256';
    } else {
      if (request.flags !== 0) return this.refuse(what, `key ${keyName} (ecdsa-sha2-nistp256) was asked with flags ${request.flags}, which apply to RSA keys only`);
      algorithm = 'ECDSA_SHA_256';
    }
    const signed = classifySignedData(request.data, request.keyBlob, this.binds);
    try {
      await this.agent.confirm(vault, this, served.view, confirmOn, signed);
    } catch (error) {
      return this.refuse(what, toKmsError(error).message);
    }
    const digest = createHash('sha256').update(request.data).digest();
    const caller = agentCaller(this.peer);
    const params = { KeyId: served.row.key_id, KeyVersionId: served.row.key_version_id, Algorithm: algorithm, Digest: digest.toString('base64') };
    const outcome = await dispatch(vault, 'AsymmetricSign', params, caller, {
      onInternalError: (action, requestId, error) => this.agent.log(`${action} ${requestId} failed inside: ${escapeText(String(error), 500)}`),
    });
    if (!outcome.ok) return this.refuse(what, `${outcome.error.Code}: ${outcome.error.Message} (RequestId ${outcome.error.RequestId})`);
    const value = decodeBase64(outcome.body.Value, 'Value');
    // Checked before it leaves, as the release formats check theirs: a faulty signature is never answered.
    if (!verifyDigest(parseSshKeyBlob(served.blob, 'the identity').key, algorithm, digest, value)) {
      return this.refuse(what, `AsymmetricSign answered a signature that does not verify with key ${keyName} (RequestId ${outcome.body.RequestId})`);
    }
    const signature = sshSignatureBody(served.type, value);
    return signResponse(signature.algorithm, signature.blob);
  }

  private async extension(name: string, contents: Uint8Array): Promise<Uint8Array> {
    if (name === SESSION_BIND_EXTENSION) {
      let bind: SessionBind;
      try {
        bind = parseSessionBind(contents);
      } catch (error) {
        return this.refuse(SESSION_BIND_EXTENSION, toKmsError(error).message);
      }
      if (this.binds.length >= MAX_BINDS) return this.refuse(SESSION_BIND_EXTENSION, `more than ${MAX_BINDS} session binds on one connection`);
      if (!verifySessionBind(bind)) {
        return this.refuse(SESSION_BIND_EXTENSION, `its signature does not verify with the host key it names (${blobFingerprint(bind.hostKey)}), or the key type is not one the agent checks`);
      }
      this.binds.push(bind);
      return success();
    }
    if (name === DESKKMS_EXTENSION) return this.endpoint(contents);
    return this.refuse(`extension ${escapeText(name, 128)}`, 'unknown extension');
  }

  private async endpoint(contents: Uint8Array): Promise<Uint8Array> {
    if (this.forwarded) return this.refuse(DESKKMS_EXTENSION, 'the connection comes through a forwarded agent: the DeskKMS endpoint serves local commands only');
    let json: string;
    try {
      json = parseJsonExtension(contents, DESKKMS_EXTENSION);
    } catch (error) {
      return this.refuse(DESKKMS_EXTENSION, toKmsError(error).message);
    }
    const vault = await this.agent.unlockedVault();
    let answer: EndpointAnswer;
    if (!vault) {
      answer = { ok: false, error: { Code: 'Vault.Locked', Message: "the agent's vault is locked or not open" } };
    } else {
      const ctx: EndpointContext = {
        vault,
        peer: this.peer,
        confirmUse: (keyVersionId, what) => this.confirmUse(vault, keyVersionId, what),
        log: (line) => this.agent.log(line),
      };
      answer = await handleEndpoint(json, ctx);
    }
    return success(new SshWriter().string(JSON.stringify(answer)).bytes());
  }

  /** The endpoint's check before an AsymmetricSign: the version is an identity, confirmed when it must be. */
  private async confirmUse(vault: Vault, keyVersionId: string, what: SignedData): Promise<void> {
    const db = vault.store.db;
    const row = getAgentIdentity(db, keyVersionId);
    if (!row) throw new KmsError('Agent.KeyNotAdded', `key version ${escapeText(keyVersionId, 128)} is not one of the agent's identities (deskkms agent add KEY --version VERSION)`);
    // Confirmed when any identity with the same key asks for it (as a SIGN_REQUEST would be).
    const blob = this.agent.served(vault).find((s) => s.row.key_version_id === row.key_version_id)?.blob;
    const twinConfirms = blob !== undefined && this.agent.served(vault).some((s) => s.row.confirm === 1 && Buffer.from(s.blob).equals(blob));
    await this.agent.confirm(vault, this, agentIdentityView(db, row), row.confirm === 1 || twinConfirms, what);
  }
}
