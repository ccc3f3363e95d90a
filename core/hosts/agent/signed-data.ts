// What a SIGN_REQUEST's data is, for the confirm dialog and the log: an SSH user authentication
// (RFC 4252 section 7, and OpenSSH's publickey-hostbound-v00@openssh.com, PROTOCOL section 2.5),
// an SSHSIG preimage (PROTOCOL.sshsig: ssh-keygen -Y sign, git's gpg.format=ssh), or unknown.
// Parsing is strict (ssh-wire.ts's SshReader, read to the end, exact field values): data that is
// almost one of them is "unknown", never guessed. Text from the data (user name, namespace, hash
// name) is escaped (escapeText) before it leaves this module. Nothing here is verified: the data
// only says what the requesting process claims it is signing; the dialog shows it as such.
import { escapeText } from '../../contract/escape-text.ts';
import { SshReader, blobFingerprint } from '../../formats/ssh-wire.ts';
import type { SignedData } from './agent-types.ts';
import type { SessionBind } from './ssh-agent-wire.ts';

const SSH_MSG_USERAUTH_REQUEST = 50;
const SSHSIG_MAGIC = Buffer.from('SSHSIG');
const HASH_LENGTHS: Readonly<Record<string, number>> = { sha256: 32, sha512: 64 };
const USERAUTH_METHODS = new Set(['publickey', 'publickey-hostbound-v00@openssh.com']);
/** OpenSSH's SSH_DIGEST_MAX_LENGTH: a session id is a hash, never longer. */
const MAX_SESSION_ID = 64;

/**
 * The data classified. `keyBlob` is the key asked to sign: a login request names its key, and one
 * naming another key is not taken for a login. `binds` are the connection's session-bind
 * extensions (the host key when the data's session id is one of them, and whether the agent
 * connection was forwarded).
 */
export function classifySignedData(data: Uint8Array, keyBlob: Uint8Array, binds: readonly SessionBind[] = []): SignedData {
  const forwarded = binds.some((b) => b.forwarding);
  return sshsig(data) ?? userauth(data, keyBlob, binds, forwarded) ?? { kind: 'unknown', bytes: data.length };
}

function sshsig(data: Uint8Array): SignedData | undefined {
  if (data.length < SSHSIG_MAGIC.length || !SSHSIG_MAGIC.equals(data.subarray(0, SSHSIG_MAGIC.length))) return undefined;
  try {
    const reader = new SshReader(data.subarray(SSHSIG_MAGIC.length), 'the SSHSIG data');
    const namespace = reader.text('namespace');
    const reserved = reader.string('reserved');
    const hashAlgorithm = reader.text('hash algorithm');
    const hash = reader.string('hash');
    reader.end();
    if (namespace.length === 0 || reserved.length !== 0 || HASH_LENGTHS[hashAlgorithm] !== hash.length) return undefined;
    return { kind: 'sshsig', namespace: escapeText(namespace, 128), hashAlgorithm };
  } catch {
    return undefined;
  }
}

function userauth(data: Uint8Array, keyBlob: Uint8Array, binds: readonly SessionBind[], forwarded: boolean): SignedData | undefined {
  try {
    const reader = new SshReader(data, 'the SSH user authentication');
    const sessionId = reader.string('session id');
    if (sessionId.length === 0 || sessionId.length > MAX_SESSION_ID) return undefined;
    if (reader.raw(1, 'message type')[0] !== SSH_MSG_USERAUTH_REQUEST) return undefined;
    const user = reader.text('user name');
    const service = reader.text('service');
    const method = reader.text('method');
    if (!USERAUTH_METHODS.has(method) || service !== 'ssh-connection') return undefined;
    if (reader.raw(1, 'has signature')[0] !== 1) return undefined;
    reader.text('algorithm');
    const blob = reader.string('key blob');
    if (!Buffer.from(blob).equals(keyBlob)) return undefined;
    let hostKey: Uint8Array | undefined;
    if (method === 'publickey-hostbound-v00@openssh.com') {
      hostKey = reader.string('server host key');
      if (hostKey.length === 0) return undefined;
    }
    reader.end();
    hostKey ??= binds.find((b) => Buffer.from(b.sessionId).equals(sessionId))?.hostKey;
    return {
      kind: 'ssh-login',
      user: escapeText(user, 128),
      ...(hostKey ? { hostKeyFingerprint: blobFingerprint(hostKey) } : {}),
      forwarded,
    };
  } catch {
    return undefined;
  }
}

/** One line for logs and the askpass prompt (its parts are escaped already). */
export function describeSignedData(what: SignedData): string {
  switch (what.kind) {
    case 'ssh-login':
      return `an SSH login as ${what.user}${what.hostKeyFingerprint ? ` to the host with key ${what.hostKeyFingerprint}` : ' (host not shown)'}${what.forwarded ? ' through a forwarded agent' : ''}`;
    case 'sshsig':
      return `an SSH signature (ssh-keygen -Y sign) in namespace "${what.namespace}"${what.namespace === 'git' ? ' (git)' : ''}`;
    case 'deskkms':
      return `a signature by deskkms ${what.command} (${what.format})`;
    case 'unknown':
      return `${what.bytes} bytes of unknown data`;
  }
}
