// Confirm on use in the desktop app: the agent (core/hosts/agent/agent-server.ts) asks through
// ConfirmQueue.prompt, the request waits here, and the renderer polls Agent.Pending and answers
// with Agent.Answer. A request ends exactly once: approved or denied by the user, 'timeout' at its
// expiresAt, or denied when the agent gives up on it (its signal aborts: the client hung up, the
// agent stops) or when the queue is cleared (the vault locks, the agent stops, the session closes).
// What the renderer sees of a request is a view in plain words; every text in it that came from
// outside (the login name, the namespace, the program) is escaped.
import { randomUUID } from 'node:crypto';
import type { AgentConfirmView } from '../contract/app-api.ts';
import { KmsError } from '../contract/errors.ts';
import { escapeText } from '../contract/escape-text.ts';
import type { AgentPeer, ConfirmAnswer, ConfirmPrompt, ConfirmRequest, SignedData } from '../hosts/agent/agent-types.ts';

/** More requests than this waiting at once are denied unasked (a client looping on a confirm key). */
export const CONFIRM_PENDING_MAX = 16;

/** How long a shown text from outside may be (a login name, a namespace, a program's name). */
const SHOWN_MAX = 64;

interface Pending {
  readonly request: ConfirmRequest;
  /** The queue's own id: what the renderer answers by (the request's id may be anything). */
  readonly id: string;
  readonly expires: number;
  readonly settle: (answer: ConfirmAnswer) => void;
}

export interface ConfirmQueueOptions {
  /** Milliseconds since the epoch (tests move it). */
  readonly now?: () => number;
  /** One line per request refused without asking (too many waiting). */
  readonly log?: (line: string) => void;
}

export class ConfirmQueue {
  private readonly waiting = new Map<string, Pending>();
  private readonly now: () => number;
  private readonly log: ((line: string) => void) | undefined;

  constructor(options: ConfirmQueueOptions = {}) {
    this.now = options.now ?? Date.now;
    this.log = options.log;
  }

  /** The ConfirmPrompt the agent is given: never rejects. */
  readonly prompt: ConfirmPrompt = (request, signal) => {
    if (signal.aborted) return Promise.resolve('denied');
    if (this.waiting.size >= CONFIRM_PENDING_MAX) {
      this.log?.(`confirmation for key ${request.keyId} from ${escapeText(request.peer.program, SHOWN_MAX)} (pid ${request.peer.pid}) denied: ${CONFIRM_PENDING_MAX} are waiting already`);
      return Promise.resolve('denied');
    }
    const parsed = Date.parse(request.expiresAt);
    const expires = Number.isFinite(parsed) ? parsed : this.now();
    const waiting = this.waiting;
    return new Promise<ConfirmAnswer>((resolve) => {
      const id = randomUUID();
      const settle = (answer: ConfirmAnswer): void => {
        if (!waiting.delete(id)) return;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(answer);
      };
      const onAbort = (): void => settle('denied');
      const timer = setTimeout(() => settle('timeout'), Math.max(0, expires - this.now()));
      waiting.set(id, { request, id, expires, settle });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  };

  /** The requests waiting for an answer, oldest first. */
  pending(): AgentConfirmView[] {
    const now = this.now();
    return [...this.waiting.values()].map((p) => confirmView(p.id, p.request, p.expires, now));
  }

  get size(): number {
    return this.waiting.size;
  }

  /** The user's answer to one request; refused when it is no longer waiting (answered, timed out, withdrawn). */
  answer(id: string, approve: boolean): void {
    const pending = this.waiting.get(id);
    if (!pending) {
      throw new KmsError('InvalidParameter', `Id: no confirmation ${escapeText(id, SHOWN_MAX)} is waiting (it was answered, timed out or withdrawn)`);
    }
    // Past its time but its timer not run yet: it is a timeout, whatever the answer.
    pending.settle(approve && this.now() < pending.expires ? 'approved' : approve ? 'timeout' : 'denied');
  }

  /** Denies every waiting request (the vault locks, the agent stops, the session closes). */
  clear(): void {
    for (const pending of [...this.waiting.values()]) pending.settle('denied');
  }
}

/** What the renderer shows of one request. */
export function confirmView(id: string, request: ConfirmRequest, expires: number, now: number): AgentConfirmView {
  return {
    Id: id,
    KeyId: request.keyId,
    KeyVersionId: request.keyVersionId,
    KeySpec: request.keySpec,
    Aliases: [...request.aliases],
    ...(request.sshFingerprint !== undefined ? { SshFingerprint: request.sshFingerprint } : {}),
    Program: escapeText(request.peer.program, SHOWN_MAX),
    Pid: request.peer.pid,
    Kind: request.what.kind,
    What: describeSigned(request.what, request.peer),
    ExpiresAt: new Date(expires).toISOString(),
    SecondsLeft: Math.max(0, Math.ceil((expires - now) / 1000)),
  };
}

/**
 * What is signed, in plain words. A DeskKMS command's request (through the endpoint) is a digest
 * the agent cannot read: its command and format are what the program says, and it is shown so.
 */
export function describeSigned(what: SignedData, peer?: AgentPeer): string {
  switch (what.kind) {
    case 'ssh-login': {
      const host = what.hostKeyFingerprint !== undefined ? `the host with key ${escapeText(what.hostKeyFingerprint, SHOWN_MAX)}` : 'a host (its key is not shown)';
      return `SSH login as ${escapeText(what.user, SHOWN_MAX)} to ${host}${what.forwarded ? ', through a forwarded agent' : ''}`;
    }
    case 'sshsig': {
      const namespace = escapeText(what.namespace, SHOWN_MAX);
      const thing = what.namespace === 'git' ? 'a git signature' : what.namespace === 'file' ? 'a file signature' : 'an SSH signature';
      return `${thing} (namespace ${namespace})`;
    }
    case 'deskkms':
      return (
        `a digest from ${peer ? `${escapeText(peer.program, SHOWN_MAX)} (pid ${peer.pid})` : 'a program'}, which says it is a ` +
        `\`deskkms ${escapeText(what.command, SHOWN_MAX)}\` signature in format ${escapeText(what.format, SHOWN_MAX)}; the agent cannot see what it signs`
      );
    case 'unknown':
      return `${what.bytes} bytes of data the agent cannot read as an SSH login or signature`;
  }
}
