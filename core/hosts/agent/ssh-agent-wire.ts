// The ssh-agent protocol's framing and messages (draft-miller-ssh-agent, OpenSSH PROTOCOL.agent):
// every message is uint32 length, byte type, contents. Frames over MAX_FRAME (OpenSSH's own
// AGENT_MAX_LEN, 256 KiB) are refused and the connection closed: no identity or signature request
// needs more. Contents are read with ssh-wire.ts's strict SshReader (Format.Malformed on anything
// short, long or otherwise off) and written with its SshWriter: this module adds only the agent's
// message numbers and layouts, no second SSH codec.
import { KmsError } from '../../contract/errors.ts';
import { SshReader, SshWriter, malformed } from '../../formats/ssh-wire.ts';

export const MSG = {
  FAILURE: 5,
  SUCCESS: 6,
  REQUEST_IDENTITIES: 11,
  IDENTITIES_ANSWER: 12,
  SIGN_REQUEST: 13,
  SIGN_RESPONSE: 14,
  ADD_IDENTITY: 17,
  REMOVE_IDENTITY: 18,
  REMOVE_ALL_IDENTITIES: 19,
  ADD_SMARTCARD_KEY: 20,
  REMOVE_SMARTCARD_KEY: 21,
  LOCK: 22,
  UNLOCK: 23,
  ADD_ID_CONSTRAINED: 25,
  ADD_SMARTCARD_KEY_CONSTRAINED: 26,
  EXTENSION: 27,
  EXTENSION_FAILURE: 28,
} as const;

/** SIGN_REQUEST flags (draft-miller-ssh-agent section 4.5.1). */
export const SIGN_FLAGS = { RSA_SHA2_256: 2, RSA_SHA2_512: 4 } as const;

/** The largest frame (length field excluded) the agent reads: OpenSSH's AGENT_MAX_LEN. */
export const MAX_FRAME = 256 * 1024;

/** The name OpenSSH's ssh client binds its connection to a session with (PROTOCOL.agent). */
export const SESSION_BIND_EXTENSION = 'session-bind@openssh.com';

/**
 * Collects frames from a byte stream. push() answers the complete frames (type byte and contents,
 * without the length); a length of 0 or over MAX_FRAME throws Format.Malformed (close the connection).
 * A reader that must bound what it holds (the agent) uses append() and shift() instead: one frame
 * at a time, the rest stays buffered.
 */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Uint8Array): Uint8Array[] {
    this.append(chunk);
    const frames: Uint8Array[] = [];
    for (let f = this.shift(); f !== undefined; f = this.shift()) frames.push(f);
    return frames;
  }

  /** Adds received bytes (copied: the caller may wipe its chunk). */
  append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.pending.length === 0) {
      this.pending = Buffer.from(chunk);
      return;
    }
    const joined = Buffer.concat([this.pending, chunk]);
    this.pending.fill(0);
    this.pending = joined;
  }

  /** The next complete frame, or undefined when none is whole yet. */
  shift(): Uint8Array | undefined {
    if (this.pending.length < 4) return undefined;
    const length = this.pending.readUInt32BE(0);
    if (length === 0) throw malformed('an ssh-agent message of length 0');
    if (length > MAX_FRAME) throw malformed(`an ssh-agent message of ${length} bytes (more than ${MAX_FRAME})`);
    if (this.pending.length < 4 + length) return undefined;
    const f = new Uint8Array(this.pending.subarray(4, 4 + length));
    // The copy is the frame's only one: what was read is overwritten (an UNLOCK carries a password).
    this.pending.fill(0, 0, 4 + length);
    this.pending = this.pending.subarray(4 + length);
    return f;
  }

  /** Bytes received and not yet a whole frame. */
  get buffered(): number {
    return this.pending.length;
  }

  /** Overwrites what is buffered (an UNLOCK's password may be in it). */
  wipe(): void {
    this.pending.fill(0);
    this.pending = Buffer.alloc(0);
  }
}

/** One message as a frame: uint32 length, byte type, contents. */
export function frame(type: number, contents: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (1 + contents.length > MAX_FRAME) throw new KmsError('InternalFailure', 'an ssh-agent answer over the frame limit');
  return new SshWriter()
    .uint32(1 + contents.length)
    .raw(Uint8Array.of(type))
    .raw(contents)
    .bytes();
}

// --- requests ---

export interface SignRequest {
  readonly keyBlob: Uint8Array;
  readonly data: Uint8Array;
  readonly flags: number;
}

export interface ExtensionRequest {
  readonly name: string;
  /** What follows the name (its layout is the extension's). */
  readonly contents: Uint8Array;
}

export interface SessionBind {
  readonly hostKey: Uint8Array;
  readonly sessionId: Uint8Array;
  readonly signature: Uint8Array;
  readonly forwarding: boolean;
}

export type AgentRequest =
  | { readonly type: typeof MSG.REQUEST_IDENTITIES }
  | { readonly type: typeof MSG.SIGN_REQUEST; readonly sign: SignRequest }
  | { readonly type: typeof MSG.LOCK | typeof MSG.UNLOCK; readonly password: Uint8Array }
  | { readonly type: typeof MSG.EXTENSION; readonly extension: ExtensionRequest }
  /** Any other type (ADD_IDENTITY and the like are refused without reading their contents). */
  | { readonly type: number; readonly other: true };

/** A frame read into a request; Format.Malformed when a known message's contents do not parse exactly. */
export function parseRequest(frameBytes: Uint8Array): AgentRequest {
  const type = frameBytes[0]!;
  const reader = new SshReader(frameBytes.subarray(1), `the ssh-agent message ${type}`);
  switch (type) {
    case MSG.REQUEST_IDENTITIES:
      reader.end();
      return { type };
    case MSG.SIGN_REQUEST: {
      const keyBlob = reader.string('key blob');
      const data = reader.string('data');
      const flags = reader.uint32('flags');
      reader.end();
      return { type, sign: { keyBlob, data, flags } };
    }
    case MSG.LOCK:
    case MSG.UNLOCK: {
      const password = reader.string('passphrase');
      reader.end();
      return { type, password };
    }
    case MSG.EXTENSION: {
      const name = reader.text('extension name');
      return { type, extension: { name, contents: reader.raw(reader.remaining, 'extension contents') } };
    }
    default:
      return { type, other: true };
  }
}

/** session-bind@openssh.com's contents: string hostkey, string session_id, string signature, bool is_forwarding. */
export function parseSessionBind(contents: Uint8Array): SessionBind {
  const reader = new SshReader(contents, `the ${SESSION_BIND_EXTENSION} extension`);
  const hostKey = reader.string('host key');
  const sessionId = reader.string('session id');
  const signature = reader.string('signature');
  const forwarding = reader.raw(1, 'is_forwarding')[0]!;
  reader.end();
  if (forwarding > 1) throw malformed(`the ${SESSION_BIND_EXTENSION} extension: its is_forwarding is ${forwarding}, not a boolean`);
  if (hostKey.length === 0 || sessionId.length === 0) throw malformed(`the ${SESSION_BIND_EXTENSION} extension has an empty host key or session id`);
  // Copies: the fields are views into the frame, which is wiped once it is handled.
  return { hostKey: Uint8Array.from(hostKey), sessionId: Uint8Array.from(sessionId), signature: Uint8Array.from(signature), forwarding: forwarding === 1 };
}

/** The DeskKMS extension's contents: string JSON (UTF-8). */
export function parseJsonExtension(contents: Uint8Array, name: string): string {
  const reader = new SshReader(contents, `the ${name} extension`);
  const json = reader.text('JSON');
  reader.end();
  return json;
}

// --- answers ---

export interface IdentityEntry {
  readonly keyBlob: Uint8Array;
  readonly comment: string;
}

export function identitiesAnswer(identities: readonly IdentityEntry[]): Uint8Array {
  const w = new SshWriter().uint32(identities.length);
  for (const id of identities) w.string(id.keyBlob).string(id.comment);
  return frame(MSG.IDENTITIES_ANSWER, w.bytes());
}

/** SIGN_RESPONSE: string signature, where signature = string algorithm, string blob. */
export function signResponse(algorithm: string, blob: Uint8Array): Uint8Array {
  return frame(MSG.SIGN_RESPONSE, new SshWriter().string(new SshWriter().string(algorithm).string(blob).bytes()).bytes());
}

export const failure = (): Uint8Array => frame(MSG.FAILURE);
export const success = (contents?: Uint8Array): Uint8Array => frame(MSG.SUCCESS, contents);

// --- the client side (tests and agent-client.ts) ---

/** SSH_AGENTC_EXTENSION with a name and string-wrapped contents (the DeskKMS extension's layout). */
export function extensionRequest(name: string, contents: Uint8Array | string): Uint8Array {
  return frame(MSG.EXTENSION, new SshWriter().string(name).string(contents).bytes());
}

/** SSH_AGENTC_SIGN_REQUEST. */
export function signRequest(request: SignRequest): Uint8Array {
  return frame(MSG.SIGN_REQUEST, new SshWriter().string(request.keyBlob).string(request.data).uint32(request.flags).bytes());
}

/** An IDENTITIES_ANSWER frame read back (strict). */
export function parseIdentitiesAnswer(frameBytes: Uint8Array): IdentityEntry[] {
  if (frameBytes[0] !== MSG.IDENTITIES_ANSWER) throw malformed(`expected IDENTITIES_ANSWER, got message ${frameBytes[0]}`);
  const reader = new SshReader(frameBytes.subarray(1), 'the identities answer');
  const count = reader.uint32('count');
  const out: IdentityEntry[] = [];
  for (let i = 0; i < count; i++) out.push({ keyBlob: reader.string('key blob'), comment: reader.text('comment') });
  reader.end();
  return out;
}

/** A SIGN_RESPONSE frame read back: the algorithm and the signature blob (strict). */
export function parseSignResponse(frameBytes: Uint8Array): { readonly algorithm: string; readonly blob: Uint8Array } {
  if (frameBytes[0] !== MSG.SIGN_RESPONSE) throw malformed(`expected SIGN_RESPONSE, got message ${frameBytes[0]}`);
  const outer = new SshReader(frameBytes.subarray(1), 'the sign response');
  const signature = outer.string('signature');
  outer.end();
  const inner = new SshReader(signature, 'the signature');
  const algorithm = inner.text('algorithm');
  const blob = inner.string('blob');
  inner.end();
  return { algorithm, blob };
}
