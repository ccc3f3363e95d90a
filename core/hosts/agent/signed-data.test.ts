// What a SIGN_REQUEST's data is. The SSHSIG case uses the bytes a real `ssh-keygen -Y sign`
// sends to an agent (the stock OpenSSH ssh-agent holding a file key, with a recording relay
// between them); the SSH login cases are built to RFC 4252 section 7 and OpenSSH's
// publickey-hostbound-v00 layout (the interop test sees a real ssh login classified through the
// confirm prompt). Almost-matching data is "unknown"; text from the data is escaped.
import { spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshWriter, blobFingerprint } from '../../formats/ssh-wire.ts';
import { tempDir } from '../../../test/integration/vault-helpers.ts';
import { classifySignedData, describeSignedData, verifySessionBind } from './signed-data.ts';
import { FrameReader, MSG, parseRequest, type SessionBind, type SignRequest } from './ssh-agent-wire.ts';

const KEY = new SshWriter().string('ecdsa-sha2-nistp256').string('nistp256').string(new Uint8Array(65).fill(4)).bytes();
const HOST_KEY = new SshWriter().string('ssh-ed25519').string(new Uint8Array(32).fill(9)).bytes();
const SESSION = new Uint8Array(32).fill(0x5a);

function userauth(options: { user?: string; method?: string; service?: string; hasSignature?: number; key?: Uint8Array; hostKey?: Uint8Array; type?: number; session?: Uint8Array } = {}): Uint8Array {
  const w = new SshWriter()
    .string(options.session ?? SESSION)
    .raw(Uint8Array.of(options.type ?? 50))
    .string(options.user ?? 'alice')
    .string(options.service ?? 'ssh-connection')
    .string(options.method ?? 'publickey')
    .raw(Uint8Array.of(options.hasSignature ?? 1))
    .string('ecdsa-sha2-nistp256')
    .string(options.key ?? KEY);
  if (options.hostKey) w.string(options.hostKey);
  return w.bytes();
}

const bind = (forwarding: boolean, sessionId: Uint8Array = SESSION): SessionBind => ({ hostKey: HOST_KEY, sessionId, signature: new Uint8Array(8), forwarding });

describe('SSH logins', () => {
  it('publickey: the user, no host unless a session bind names the session', () => {
    expect(classifySignedData(userauth(), KEY)).toEqual({ kind: 'ssh-login', user: 'alice', forwarded: false });
    expect(classifySignedData(userauth(), KEY, [bind(false)])).toEqual({ kind: 'ssh-login', user: 'alice', hostKeyFingerprint: blobFingerprint(HOST_KEY), forwarded: false });
    expect(classifySignedData(userauth(), KEY, [bind(false, new Uint8Array(32))])).toEqual({ kind: 'ssh-login', user: 'alice', forwarded: false });
  });

  it('publickey-hostbound-v00@openssh.com: the host key only when its session is bound to that key; a forwarded connection says so', () => {
    const data = userauth({ method: 'publickey-hostbound-v00@openssh.com', hostKey: HOST_KEY });
    expect(classifySignedData(data, KEY, [bind(true, new Uint8Array(32))])).toEqual({ kind: 'ssh-login', user: 'alice', forwarded: true });
    expect(classifySignedData(data, KEY, [bind(false)])).toEqual({ kind: 'ssh-login', user: 'alice', hostKeyFingerprint: blobFingerprint(HOST_KEY), forwarded: false });
    const otherHost = userauth({ method: 'publickey-hostbound-v00@openssh.com', hostKey: KEY });
    expect(classifySignedData(otherHost, KEY, [bind(false)])).toEqual({ kind: 'ssh-login', user: 'alice', forwarded: false });
    expect(describeSignedData(classifySignedData(data, KEY, [bind(true)]))).toBe(`an SSH login as alice to the host with key ${blobFingerprint(HOST_KEY)} through a forwarded agent`);
  });

  it('escapes the user name', () => {
    const what = classifySignedData(userauth({ user: 'root\u001b[2J\u202e' }), KEY);
    expect(what).toMatchObject({ kind: 'ssh-login', user: 'root\\x1B[2J\\u202E' });
  });

  it('almost a login is unknown: another key, message type, service, method, no signature flag, trailing bytes, a hostbound request without its host key', () => {
    const cases = [
      userauth({ key: HOST_KEY }),
      userauth({ type: 51 }),
      userauth({ service: 'ssh-userauth' }),
      userauth({ method: 'password' }),
      userauth({ hasSignature: 0 }),
      Buffer.concat([userauth(), Uint8Array.of(0)]),
      userauth({ method: 'publickey-hostbound-v00@openssh.com' }),
      userauth({ hostKey: HOST_KEY }),
      userauth({ session: new Uint8Array(0) }),
      userauth({ session: new Uint8Array(65) }),
      userauth({ user: '\uFFFD' }).subarray(0, 40),
    ];
    for (const data of cases) expect(classifySignedData(data, KEY)).toEqual({ kind: 'unknown', bytes: data.length });
  });
});

describe('SSHSIG', () => {
  const sshsig = (namespace: string, reserved: string, hash: string, h: Uint8Array): Uint8Array =>
    new SshWriter().raw('SSHSIG').string(namespace).string(reserved).string(hash).string(h).bytes();

  it('built by the layout: namespace and hash algorithm; wrong lengths, reserved data, empty namespace are unknown', () => {
    expect(classifySignedData(sshsig('file', '', 'sha256', new Uint8Array(32)), KEY)).toEqual({ kind: 'sshsig', namespace: 'file', hashAlgorithm: 'sha256' });
    for (const data of [sshsig('file', '', 'sha256', new Uint8Array(64)), sshsig('file', 'x', 'sha512', new Uint8Array(64)), sshsig('', '', 'sha512', new Uint8Array(64)), sshsig('file', '', 'md5', new Uint8Array(16))]) {
      expect(classifySignedData(data, KEY).kind).toBe('unknown');
    }
    expect(classifySignedData(sshsig('a\nb', '', 'sha512', new Uint8Array(64)), KEY)).toMatchObject({ namespace: 'a\\x0Ab' });
  });

  describe('the bytes ssh-keygen -Y sign sends to an agent', () => {
    let dir: ReturnType<typeof tempDir>;
    let agent: ReturnType<typeof spawn> | undefined;
    let relay: Server | undefined;
    const requests: SignRequest[] = [];

    beforeAll(async () => {
      dir = tempDir('deskkms-signed-data-');
      const agentSock = join(dir.path, 'ssh-agent.sock');
      const relaySock = join(dir.path, 'relay.sock');
      agent = spawn('ssh-agent', ['-D', '-a', agentSock], { stdio: 'ignore' });
      for (let i = 0; i < 100 && !existsSync(agentSock); i++) await new Promise((resolve) => setTimeout(resolve, 100));
      const env = { PATH: '/usr/bin:/bin', HOME: dir.path, SSH_AUTH_SOCK: agentSock };
      await run('ssh-keygen', ['-q', '-t', 'ecdsa', '-b', '256', '-N', '', '-f', join(dir.path, 'key')], env);
      await run('ssh-add', ['-q', join(dir.path, 'key')], env);
      copyFileSync(join(dir.path, 'key.pub'), join(dir.path, 'only.pub'));
      relay = createServer((client) => {
        const upstream = connect(agentSock);
        const frames = new FrameReader();
        client.on('data', (chunk) => {
          for (const f of frames.push(chunk)) if (f[0] === MSG.SIGN_REQUEST) requests.push((parseRequest(f) as { sign: SignRequest }).sign);
          upstream.write(chunk);
        });
        upstream.pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      await new Promise<void>((resolve) => relay!.listen(relaySock, resolve));
      writeFileSync(join(dir.path, 'message'), 'a commit\n');
      await run('ssh-keygen', ['-Y', 'sign', '-f', join(dir.path, 'only.pub'), '-n', 'git', join(dir.path, 'message')], { ...env, SSH_AUTH_SOCK: relaySock });
    });

    afterAll(() => {
      relay?.close();
      agent?.kill();
      dir?.remove();
    });

    it('classify as an SSHSIG in namespace git with sha512, H being SHA-512 of the message', () => {
      expect(requests).toHaveLength(1);
      const { data, keyBlob } = requests[0]!;
      expect(classifySignedData(data, keyBlob)).toEqual({ kind: 'sshsig', namespace: 'git', hashAlgorithm: 'sha512' });
      const expected = new SshWriter().raw('SSHSIG').string('git').string('').string('sha512').string(createHash('sha512').update('a commit\n').digest()).bytes();
      expect(Buffer.from(data).equals(expected)).toBe(true);
      expect(describeSignedData(classifySignedData(data, keyBlob))).toBe('an SSH signature (ssh-keygen -Y sign) in namespace "git" (git)');
    });
  });
});

function run(command: string, args: readonly string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}: ${stderr}`))));
  });
}

describe('verifySessionBind (review F3)', () => {
  const session = new Uint8Array(32).fill(0x42);
  const mpint = (bytes: Uint8Array): Uint8Array => new SshWriter().mpint(bytes).bytes();

  /** A host key of each type OpenSSH sends, its SSH blob and its signature over `data` in SSH form. */
  function hostKey(kind: 'ed25519' | 'p256' | 'p384' | 'p521' | 'rsa'): { blob: Uint8Array; sign: (data: Uint8Array, algorithm?: string) => Uint8Array } {
    if (kind === 'ed25519') {
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
      return { blob: new SshWriter().string('ssh-ed25519').string(raw).bytes(), sign: (data) => new SshWriter().string('ssh-ed25519').string(sign(null, data, privateKey)).bytes() };
    }
    if (kind === 'rsa') {
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const jwk = publicKey.export({ format: 'jwk' });
      const blob = new SshWriter().string('ssh-rsa').mpint(Buffer.from(jwk.e!, 'base64url')).mpint(Buffer.from(jwk.n!, 'base64url')).bytes();
      return {
        blob,
        sign: (data, algorithm = 'rsa-sha2-256') =>
          new SshWriter().string(algorithm).string(sign(algorithm === 'rsa-sha2-512' ? 'sha512' : algorithm === 'ssh-rsa' ? 'sha1' : 'sha256', data, privateKey)).bytes(),
      };
    }
    const curve = { p256: ['prime256v1', 'nistp256', 'sha256', 32], p384: ['secp384r1', 'nistp384', 'sha384', 48], p521: ['secp521r1', 'nistp521', 'sha512', 66] } as const;
    const [named, ssh, hash, size] = curve[kind];
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: named });
    const jwk = publicKey.export({ format: 'jwk' });
    const point = Buffer.concat([Buffer.of(4), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
    return {
      blob: new SshWriter().string(`ecdsa-sha2-${ssh}`).string(ssh).string(point).bytes(),
      sign: (data) => {
        const rs = sign(hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
        return new SshWriter().string(`ecdsa-sha2-${ssh}`).string(Buffer.concat([mpint(rs.subarray(0, size)), mpint(rs.subarray(size))])).bytes();
      },
    };
  }

  it.each(['ed25519', 'p256', 'p384', 'p521', 'rsa'] as const)('%s: a signature over the session id verifies; another session id, another key or a flipped bit does not', (kind) => {
    const host = hostKey(kind);
    const other = hostKey(kind);
    const signature = host.sign(session);
    expect(verifySessionBind({ hostKey: host.blob, sessionId: session, signature, forwarding: false })).toBe(true);
    expect(verifySessionBind({ hostKey: host.blob, sessionId: new Uint8Array(32), signature, forwarding: false })).toBe(false);
    expect(verifySessionBind({ hostKey: host.blob, sessionId: session, signature: other.sign(session), forwarding: false })).toBe(false);
    const flipped = Uint8Array.from(signature);
    flipped[flipped.length - 5]! ^= 1;
    expect(verifySessionBind({ hostKey: host.blob, sessionId: session, signature: flipped, forwarding: false })).toBe(false);
  });

  it('rsa-sha2-512 verifies; SHA-1 ssh-rsa host signatures, unknown key types and garbage are refused', () => {
    const host = hostKey('rsa');
    expect(verifySessionBind({ hostKey: host.blob, sessionId: session, signature: host.sign(session, 'rsa-sha2-512'), forwarding: false })).toBe(true);
    expect(verifySessionBind({ hostKey: host.blob, sessionId: session, signature: host.sign(session, 'ssh-rsa'), forwarding: false })).toBe(false);
    expect(verifySessionBind({ hostKey: HOST_KEY, sessionId: session, signature: new Uint8Array(8), forwarding: false })).toBe(false);
    expect(verifySessionBind({ hostKey: new SshWriter().string('ssh-dss').bytes(), sessionId: session, signature: new Uint8Array(0), forwarding: false })).toBe(false);
  });
});
