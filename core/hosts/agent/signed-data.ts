// What a SIGN_REQUEST's data is, for the confirm dialog and the log: an SSH user authentication
// (RFC 4252 section 7, and OpenSSH's publickey-hostbound-v00@openssh.com, PROTOCOL section 2.5),
// an SSHSIG preimage (PROTOCOL.sshsig: ssh-keygen -Y sign, git's gpg.format=ssh), or unknown.
// Parsing is strict (ssh-wire.ts's SshReader, read to the end, exact field values): data that is
// almost one of them is "unknown", never guessed. Text from the data (user name, namespace, hash
// name) is escaped (escapeText) before it leaves this module. The data only says what the
// requesting process claims it is signing; the dialog shows it as such. The one thing checked is a
// session bind (verifySessionBind): its host key signed its session id, as OpenSSH's ssh-agent
// checks, so a host fingerprint the dialog shows from a bind is one a server proved it holds.
// A DeskKMS command through the endpoint sends a digest the agent cannot read: the dialog says so,
// and names the program that sent it (its "command" and "format" are only what it says).
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { escapeText } from '../../contract/escape-text.ts';
import { SshReader, blobFingerprint } from '../../formats/ssh-wire.ts';
import type { AgentPeer, SignedData } from './agent-types.ts';
import type { SessionBind } from './ssh-agent-wire.ts';

const SSH_MSG_USERAUTH_REQUEST = 50;
const SSHSIG_MAGIC = Buffer.from('SSHSIG');
const HASH_LENGTHS: Readonly<Record<string, number>> = { sha256: 32, sha512: 64 };
const USERAUTH_METHODS = new Set(['publickey', 'publickey-hostbound-v00@openssh.com']);
/** OpenSSH's SSH_DIGEST_MAX_LENGTH: a session id is a hash, never longer. */
const MAX_SESSION_ID = 64;

/**
 * The data classified. `keyBlob` is the key asked to sign: a login request names its key, and one
 * naming another key is not taken for a login. `binds` are the connection's VERIFIED session-bind
 * extensions (the host key when the data's session id is one of them, and whether the agent
 * connection was forwarded); the host key a hostbound request names is shown only when it is its
 * session's bound one.
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
    let claimed: Uint8Array | undefined;
    if (method === 'publickey-hostbound-v00@openssh.com') {
      claimed = reader.string('server host key');
      if (claimed.length === 0) return undefined;
    }
    reader.end();
    // The host is shown only from a bind of this session (binds are verified when they are
    // received: the server proved it holds that key); a hostbound request naming another key shows none.
    const bound = binds.find((b) => Buffer.from(b.sessionId).equals(sessionId))?.hostKey;
    const hostKey = bound && (!claimed || Buffer.from(claimed).equals(bound)) ? bound : undefined;
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

const ECDSA_CURVES: Readonly<Record<string, { readonly crv: string; readonly hash: string; readonly size: number }>> = {
  nistp256: { crv: 'P-256', hash: 'sha256', size: 32 },
  nistp384: { crv: 'P-384', hash: 'sha384', size: 48 },
  nistp521: { crv: 'P-521', hash: 'sha512', size: 66 },
};

const b64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

/** A big-endian magnitude left-padded with zeros to `size` bytes (undefined when it is longer). */
function padded(bytes: Uint8Array, size: number): Uint8Array | undefined {
  if (bytes.length > size) return undefined;
  const out = new Uint8Array(size);
  out.set(bytes, size - bytes.length);
  return out;
}

/**
 * Whether a session bind's signature over its session id verifies with its host key
 * (PROTOCOL.agent: ssh-ed25519, ecdsa-sha2-nistp256/384/521, rsa-sha2-256/512). SHA-1 ssh-rsa host
 * signatures, other key types and anything malformed are false.
 */
export function verifySessionBind(bind: SessionBind): boolean {
  try {
    const key = new SshReader(bind.hostKey, 'the host key');
    const keyType = key.text('key type');
    const sig = new SshReader(bind.signature, 'the host signature');
    const sigType = sig.text('signature type');
    const sigBlob = sig.string('signature blob');
    sig.end();
    let jwk: JsonWebKey;
    let hash: string | null;
    let signature: Uint8Array;
    let dsaEncoding: 'ieee-p1363' | undefined;
    if (keyType === 'ssh-ed25519') {
      const point = key.string('ed25519 key');
      key.end();
      if (sigType !== 'ssh-ed25519' || point.length !== 32 || sigBlob.length !== 64) return false;
      jwk = { kty: 'OKP', crv: 'Ed25519', x: b64url(point) };
      hash = null;
      signature = sigBlob;
    } else if (keyType.startsWith('ecdsa-sha2-')) {
      const curveName = key.text('curve');
      const point = key.string('EC point');
      key.end();
      const curve = ECDSA_CURVES[curveName];
      if (!curve || keyType !== `ecdsa-sha2-${curveName}` || sigType !== keyType) return false;
      if (point.length !== 1 + 2 * curve.size || point[0] !== 4) return false;
      jwk = { kty: 'EC', crv: curve.crv, x: b64url(point.subarray(1, 1 + curve.size)), y: b64url(point.subarray(1 + curve.size)) };
      const rs = new SshReader(sigBlob, 'the ECDSA signature');
      const r = padded(rs.mpint('r', curve.size + 1), curve.size);
      const s = padded(rs.mpint('s', curve.size + 1), curve.size);
      rs.end();
      if (!r || !s) return false;
      signature = Buffer.concat([r, s]);
      hash = curve.hash;
      dsaEncoding = 'ieee-p1363';
    } else if (keyType === 'ssh-rsa') {
      const e = key.mpint('RSA exponent', 8);
      const n = key.mpint('RSA modulus', 2048);
      key.end();
      if (sigType === 'rsa-sha2-256') hash = 'sha256';
      else if (sigType === 'rsa-sha2-512') hash = 'sha512';
      else return false; // ssh-rsa (SHA-1) or unknown
      jwk = { kty: 'RSA', n: b64url(n), e: b64url(e) };
      signature = sigBlob;
    } else {
      return false;
    }
    const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
    return verify(hash, bind.sessionId, dsaEncoding ? { key: publicKey, dsaEncoding } : publicKey, signature);
  } catch {
    return false;
  }
}

/**
 * One line for logs and the askpass prompt (its parts are escaped already). `peer` names the
 * program behind a DeskKMS endpoint request (whose digest the agent cannot read).
 */
export function describeSignedData(what: SignedData, peer?: AgentPeer): string {
  switch (what.kind) {
    case 'ssh-login':
      return `an SSH login as ${what.user}${what.hostKeyFingerprint ? ` to the host with key ${what.hostKeyFingerprint}` : ' (host not shown)'}${what.forwarded ? ' through a forwarded agent' : ''}`;
    case 'sshsig':
      return `an SSH signature (ssh-keygen -Y sign) in namespace "${what.namespace}"${what.namespace === 'git' ? ' (git)' : ''}`;
    case 'deskkms':
      return `a digest from ${peer ? `${peer.program} (pid ${peer.pid})` : 'a program'}, which says it is a \`deskkms ${what.command}\` signature in format ${what.format}; the agent cannot see what it signs`;
    case 'unknown':
      return `${what.bytes} bytes of unknown data`;
  }
}
