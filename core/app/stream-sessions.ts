// Streamed messages for the app: the renderer reads a file in chunks and sends each one, and the
// host feeds them to a state that hashes them (a digest for AsymmetricSign, or a release-format
// signature in progress). Sessions are few, bounded in idle time and cleared when the vault locks;
// they hold hash states and public facts only, nothing secret.
import { randomUUID } from 'node:crypto';
import { KmsError } from '../contract/errors.ts';

export const MAX_SESSIONS = 8;
export const IDLE_MS = 10 * 60_000;

/** What a session feeds its chunks to. */
export interface StreamState {
  update(chunk: Uint8Array): void;
}

/** How refusals name the sessions: the method that opens them and what they hold. */
export interface StreamKind {
  /** "Digest.Begin", "Sign.Begin". */
  readonly begin: string;
  /** "digest", "signature". */
  readonly noun: string;
}

interface Session<T> {
  readonly state: T;
  bytes: number;
  lastUsed: number;
}

export class StreamSessions<T extends StreamState> {
  private readonly sessions = new Map<string, Session<T>>();
  private readonly kind: StreamKind;
  private readonly clock: () => number;
  /** Counts clear()s (locks, close): a Begin that awaited across one must not open its session. */
  private clears = 0;

  constructor(kind: StreamKind, clock: () => number = Date.now) {
    this.kind = kind;
    this.clock = clock;
  }

  /** Refuses when MAX_SESSIONS are in progress (after dropping the idle ones); call before making the state. */
  assertRoom(): void {
    this.expire();
    if (this.sessions.size >= MAX_SESSIONS) {
      throw new KmsError('InvalidParameter', `${this.kind.begin}: ${MAX_SESSIONS} ${this.kind.noun}s are already in progress; finish or abort one`);
    }
  }

  /** Take it before a Begin's first await and hand it to open(): a lock in between refuses the session. */
  get epoch(): number {
    return this.clears;
  }

  /**
   * Stores a new session. `since` is the epoch read when its Begin started: if the sessions were
   * cleared (the vault locked) while it awaited, it is refused as Vault.Locked rather than stored
   * to outlive the lock and finish after the next unlock.
   */
  open(state: T, since: number = this.clears): string {
    if (since !== this.clears) {
      throw new KmsError('Vault.Locked', `${this.kind.begin}: the vault was locked while the ${this.kind.noun} was starting; unlock and begin again`);
    }
    this.assertRoom();
    const id = randomUUID();
    this.sessions.set(id, { state, bytes: 0, lastUsed: this.clock() });
    return id;
  }

  update(id: string, chunk: Uint8Array): { BytesHashed: number } {
    const session = this.get(id);
    session.state.update(chunk);
    session.bytes += chunk.length;
    session.lastUsed = this.clock();
    return { BytesHashed: session.bytes };
  }

  /** How many bytes the session has hashed: where its next part starts. */
  position(id: string): number {
    return this.get(id).bytes;
  }

  /** Ends the session and hands over its state: a failure after this leaves nothing behind. */
  take(id: string): { state: T; bytes: number } {
    const session = this.get(id);
    this.sessions.delete(id);
    return { state: session.state, bytes: session.bytes };
  }

  abort(id: string): boolean {
    return this.sessions.delete(id);
  }

  clear(): void {
    this.clears++;
    this.sessions.clear();
  }

  get size(): number {
    return this.sessions.size;
  }

  private get(id: string): Session<T> {
    this.expire();
    const session = this.sessions.get(id);
    if (!session) throw new KmsError('InvalidParameter', `SessionId: no ${this.kind.noun} in progress with id ${id} (finished, aborted, expired or locked)`);
    return session;
  }

  private expire(): void {
    const now = this.clock();
    for (const [id, s] of this.sessions) if (now - s.lastUsed > IDLE_MS) this.sessions.delete(id);
  }
}
