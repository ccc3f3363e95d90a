// The agent server at the protocol level, with a client speaking raw frames (what OpenSSH clients
// never send: SHA-1 and rsa-sha2-512 RSA requests, unknown keys and messages, oversized frames,
// session binds, the DeskKMS extension on a forwarded connection), the peer check with an injected
// peerOf (another uid, a failing check), confirmations handed to an in-process ConfirmPrompt
// (its request, the hang-up and close aborts), a locked vault, a disabled key audited by dispatch.
// The real OpenSSH peers are in test/interop/ssh-agent.test.ts.
import { createHash, createPublicKey, generateKeyPairSync, sign as cryptoSign, verify, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../actions/dispatch.ts';
import { putAgentIdentity } from '../../vault/agent-identities.ts';
import { SshReader, SshWriter, bytesToBigint } from '../../formats/ssh-wire.ts';
import { useActionVault, type MadeKey } from '../../../test/support/action-vault.ts';
import { startAgentServer } from './agent-server.ts';
import { DESKKMS_EXTENSION, type AgentPeer, type AgentServerOptions, type ConfirmAnswer, type ConfirmRequest, type RunningAgent } from './agent-types.ts';
import {
  FrameReader,
  MAX_FRAME,
  MSG,
  SESSION_BIND_EXTENSION,
  extensionRequest,
  frame,
  parseIdentitiesAnswer,
  parseSignResponse,
  signRequest,
} from './ssh-agent-wire.ts';

const fx = useActionVault('agent-server');

interface Identity extends MadeKey {
  readonly blob: Uint8Array;
}

let ec: Identity;
let rsa: Identity;
let agents: RunningAgent[] = [];
let logLines: string[] = [];
let sockets = 0;

/** A client on the agent's socket: send frames, read answer frames, see the close. */
class Client {
  private readonly reader = new FrameReader();
  private readonly frames: Uint8Array[] = [];
  private waiting: (() => void) | undefined;
  closed = false;
  readonly socket: Socket;

  constructor(path: string) {
    this.socket = connect(path);
    this.socket.on('data', (chunk) => {
      this.frames.push(...this.reader.push(chunk));
      this.waiting?.();
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.closed = true;
      this.waiting?.();
    });
  }

  send(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next answer, or undefined when the agent closed the connection first. */
  async next(): Promise<Uint8Array | undefined> {
    while (this.frames.length === 0 && !this.closed) await new Promise<void>((resolve) => (this.waiting = resolve));
    return this.frames.shift();
  }

  async ask(bytes: Uint8Array): Promise<Uint8Array | undefined> {
    this.send(bytes);
    return this.next();
  }

  end(): void {
    this.socket.destroy();
  }
}

async function agent(options: Partial<AgentServerOptions> = {}): Promise<{ path: string; running: RunningAgent }> {
  const dir = fx.file(`agent-${++sockets}`);
  mkdirSync(dir, { mode: 0o700 });
  const path = join(dir, 'agent.sock');
  const running = await startAgentServer({ socketPath: path, vault: () => fx.vault, log: (line) => logLines.push(line), ...options });
  agents.push(running);
  return { path, running };
}

async function identity(made: MadeKey, confirm = false): Promise<Identity> {
  const added = await fx.call('AddAgentIdentity', { KeyId: made.keyId, KeyVersionId: made.versionId, Confirm: confirm });
  const line = (added.Identity as { SshPublicKey: string }).SshPublicKey;
  return { ...made, blob: new Uint8Array(Buffer.from(line.split(' ')[1]!, 'base64')) };
}

const sign = (key: Identity, data: Uint8Array | string, flags: number): Uint8Array =>
  signRequest({ keyBlob: key.blob, data: typeof data === 'string' ? Buffer.from(data) : data, flags });

const type = (answer: Uint8Array | undefined): number | undefined => answer?.[0];

/** A host's ed25519 key: its SSH blob, and session binds it signs (or a forgery it does not). */
const host = (() => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  return { privateKey, blob: new SshWriter().string('ssh-ed25519').string(raw).bytes() };
})();

function sessionBind(sessionId: Uint8Array, forwarding: boolean, signer: KeyObject = host.privateKey, hostKey: Uint8Array = host.blob): Uint8Array {
  const signature = new SshWriter().string('ssh-ed25519').string(cryptoSign(null, sessionId, signer)).bytes();
  return frame(MSG.EXTENSION, new SshWriter().string(SESSION_BIND_EXTENSION).string(hostKey).string(sessionId).string(signature).raw(Uint8Array.of(forwarding ? 1 : 0)).bytes());
}

/** An SSH publickey login request's signed data for `key` over `sessionId`. */
const loginData = (key: Identity, sessionId: Uint8Array, user = 'git'): Uint8Array =>
  new SshWriter().string(sessionId).raw(Uint8Array.of(50)).string(user).string('ssh-connection').string('publickey').raw(Uint8Array.of(1)).string('ecdsa-sha2-nistp256').string(key.blob).bytes();

const fingerprint = (blob: Uint8Array): string => `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;

beforeAll(async () => {
  ec = await identity(await fx.makeKey('EC_P256', 'SIGN/VERIFY'));
  rsa = await identity(await fx.makeKey('RSA_2048', 'SIGN/VERIFY'));
});

afterAll(async () => {
  for (const a of agents) await a.close();
  agents = [];
});

describe('identities and signatures', () => {
  it('lists RSA and EC_P256 identities, oldest first, with their deskkms comments', async () => {
    const { path } = await agent();
    const client = new Client(path);
    const listed = parseIdentitiesAnswer((await client.ask(frame(MSG.REQUEST_IDENTITIES)))!);
    expect(listed.map((i) => i.comment)).toEqual([`deskkms:${ec.keyId}:${ec.versionId}`, `deskkms:${rsa.keyId}:${rsa.versionId}`]);
    expect(Buffer.from(listed[0]!.keyBlob).equals(ec.blob)).toBe(true);
    client.end();
  });

  it('signs rsa-sha2-256 (flag 2) with the vault key: RSASSA-PKCS1-v1_5 over SHA-256 of the data', async () => {
    const { path } = await agent();
    const client = new Client(path);
    const answer = parseSignResponse((await client.ask(sign(rsa, 'data to sign', 2)))!);
    expect(answer.algorithm).toBe('rsa-sha2-256');
    expect(verify('sha256', Buffer.from('data to sign'), createPublicKey(rsa.pem), answer.blob)).toBe(true);
    client.end();
  });

  it('signs ecdsa-sha2-nistp256 as string(mpint r, mpint s)', async () => {
    const { path } = await agent();
    const client = new Client(path);
    const answer = parseSignResponse((await client.ask(sign(ec, 'ec data', 0)))!);
    expect(answer.algorithm).toBe('ecdsa-sha2-nistp256');
    const reader = new SshReader(answer.blob, 'the signature');
    const [r, s] = [reader.mpint('r', 32), reader.mpint('s', 32)];
    reader.end();
    const ieee = Buffer.concat([r, s].map((n) => Buffer.from(Buffer.from(n).toString('hex').padStart(64, '0'), 'hex')));
    expect(verify('sha256', Buffer.from('ec data'), { key: createPublicKey(ec.pem), dsaEncoding: 'ieee-p1363' }, ieee)).toBe(true);
    expect(bytesToBigint(r)).toBeGreaterThan(0n);
    client.end();
  });

  it('the signature is audited as AsymmetricSign by ssh-agent[PROGRAM PID]', async () => {
    const outcome = await dispatch(fx.vault, 'ListAuditEntries', { KeyId: ec.keyId, Action: 'AsymmetricSign', Limit: 5 }, 'test');
    if (!outcome.ok) throw new Error(outcome.error.Message);
    expect(outcome.body.Entries[0]).toMatchObject({ code: 'OK', keyVersionId: ec.versionId });
    expect(outcome.body.Entries[0]!.caller).toMatch(new RegExp(`^ssh-agent\\[\\S+ ${process.pid}\\]$`));
  });

  it('refuses SHA-1 ssh-rsa (no flag), rsa-sha2-512 (flag 4), both flags, and any flag on an EC key: one log line each', async () => {
    const { path } = await agent();
    const client = new Client(path);
    logLines = [];
    expect(type(await client.ask(sign(rsa, 'x', 0)))).toBe(MSG.FAILURE);
    expect(type(await client.ask(sign(rsa, 'x', 4)))).toBe(MSG.FAILURE);
    expect(type(await client.ask(sign(rsa, 'x', 6)))).toBe(MSG.FAILURE);
    expect(type(await client.ask(sign(ec, 'x', 2)))).toBe(MSG.FAILURE);
    expect(logLines).toHaveLength(4);
    expect(logLines[0]).toContain('an ssh-rsa signature (SHA-1), which the agent refuses');
    expect(logLines[1]).toContain('an rsa-sha2-512 signature, which the vault key cannot make');
    expect(logLines[2]).toContain('flags 6, which the agent does not know');
    expect(logLines[3]).toContain('was asked with flags 2, which apply to RSA keys only');
    client.end();
  });

  it('refuses a key it does not serve, naming its fingerprint', async () => {
    const { path } = await agent();
    const client = new Client(path);
    logLines = [];
    const other = new SshWriter().string('ecdsa-sha2-nistp256').string('nistp256').string(new Uint8Array(65).fill(4)).bytes();
    expect(type(await client.ask(signRequest({ keyBlob: other, data: Buffer.from('x'), flags: 0 })))).toBe(MSG.FAILURE);
    expect(logLines[0]).toMatch(/key SHA256:\S+ is not one of the agent's identities/);
    client.end();
  });

  it('a disabled key is not listed, and its sign request is refused by dispatch (audited Rejected.Disabled)', async () => {
    const { path } = await agent();
    const client = new Client(path);
    await fx.call('DisableKey', { KeyId: ec.keyId });
    try {
      const listed = parseIdentitiesAnswer((await client.ask(frame(MSG.REQUEST_IDENTITIES)))!);
      expect(listed.map((i) => i.comment)).toEqual([`deskkms:${rsa.keyId}:${rsa.versionId}`]);
      logLines = [];
      expect(type(await client.ask(sign(ec, 'x', 0)))).toBe(MSG.FAILURE);
      expect(logLines[0]).toMatch(/refused SIGN_REQUEST from \S+: Rejected\.Disabled: .*\(RequestId [0-9a-f-]{36}\)/);
      const requestId = /RequestId ([0-9a-f-]{36})/.exec(logLines[0]!)![1]!;
      expect(fx.auditOf(requestId)).toMatchObject({ action: 'AsymmetricSign', code: 'Rejected.Disabled', keyId: ec.keyId });
    } finally {
      await fx.call('EnableKey', { KeyId: ec.keyId });
    }
    client.end();
  });

  it('a locked vault lists nothing and signs nothing; an absent one too', async () => {
    let present = true;
    const { path } = await agent({ vault: () => (present ? fx.vault : undefined) });
    const client = new Client(path);
    await fx.vault.lock();
    try {
      expect(parseIdentitiesAnswer((await client.ask(frame(MSG.REQUEST_IDENTITIES)))!)).toEqual([]);
      logLines = [];
      expect(type(await client.ask(sign(ec, 'x', 0)))).toBe(MSG.FAILURE);
      expect(logLines[0]).toContain('the vault is locked or not open');
    } finally {
      await fx.vault.unlockWith(Buffer.from('agent-server passphrase'));
    }
    present = false;
    expect(parseIdentitiesAnswer((await client.ask(frame(MSG.REQUEST_IDENTITIES)))!)).toEqual([]);
    expect(type(await client.ask(sign(ec, 'x', 0)))).toBe(MSG.FAILURE);
    present = true;
    expect(parseIdentitiesAnswer((await client.ask(frame(MSG.REQUEST_IDENTITIES)))!)).toHaveLength(2);
    client.end();
  });
});

describe('messages it refuses', () => {
  it('identity management, LOCK/UNLOCK without the host allowing them, unknown messages and extensions: FAILURE, and the connection goes on', async () => {
    const { path } = await agent();
    const client = new Client(path);
    logLines = [];
    for (const t of [MSG.ADD_IDENTITY, MSG.ADD_ID_CONSTRAINED, MSG.REMOVE_IDENTITY, MSG.REMOVE_ALL_IDENTITIES, MSG.ADD_SMARTCARD_KEY, MSG.REMOVE_SMARTCARD_KEY]) {
      expect(type(await client.ask(frame(t, new Uint8Array(8))))).toBe(MSG.FAILURE);
    }
    expect(type(await client.ask(frame(MSG.LOCK, new SshWriter().string('pw').bytes())))).toBe(MSG.FAILURE);
    expect(type(await client.ask(frame(MSG.UNLOCK, new SshWriter().string('pw').bytes())))).toBe(MSG.FAILURE);
    expect(type(await client.ask(frame(99)))).toBe(MSG.FAILURE);
    expect(type(await client.ask(extensionRequest('query', '')))).toBe(MSG.FAILURE);
    // malformed: trailing bytes after REQUEST_IDENTITIES, a truncated SIGN_REQUEST
    expect(type(await client.ask(frame(MSG.REQUEST_IDENTITIES, Uint8Array.of(0))))).toBe(MSG.FAILURE);
    expect(type(await client.ask(frame(MSG.SIGN_REQUEST, new SshWriter().uint32(10).bytes())))).toBe(MSG.FAILURE);
    expect(logLines).toHaveLength(12);
    expect(logLines[0]).toMatch(/^refused ADD_IDENTITY from \S+: keys are managed in the vault/);
    expect(logLines[6]).toContain('refused LOCK');
    expect(logLines[8]).toContain('refused message type 99');
    expect(logLines[9]).toContain('refused extension query');
    expect(logLines[10]).toContain('has 1 trailing bytes');
    expect(parseIdentitiesAnswer((await client.ask(frame(MSG.REQUEST_IDENTITIES)))!)).toHaveLength(2);
    client.end();
  });

  it('answers pipelined requests in order', async () => {
    const { path } = await agent();
    const client = new Client(path);
    const many = Array.from({ length: 12 }, (_, i) => (i % 3 === 0 ? frame(MSG.REQUEST_IDENTITIES) : i % 3 === 1 ? frame(99) : sign(ec, `m${i}`, 0)));
    client.send(Buffer.concat(many));
    const types: (number | undefined)[] = [];
    for (let i = 0; i < many.length; i++) types.push(type(await client.next()));
    expect(types).toEqual(Array.from({ length: 12 }, (_, i) => [MSG.IDENTITIES_ANSWER, MSG.FAILURE, MSG.SIGN_RESPONSE][i % 3]));
    client.end();
  });

  it('closes the connection on a frame over 256 KiB, unanswered', async () => {
    const { path } = await agent();
    const client = new Client(path);
    logLines = [];
    client.send(new SshWriter().uint32(MAX_FRAME + 1).raw(new Uint8Array(16)).bytes());
    expect(await client.next()).toBeUndefined();
    expect(logLines[0]).toMatch(/closed the connection of \S+: an ssh-agent message of 262145 bytes \(more than 262144\)/);
  });

  it('remembers a session bind whose host key signed its session id (SUCCESS), refuses a malformed or forged one, and refuses the DeskKMS extension on a forwarded connection', async () => {
    const { path } = await agent();
    const client = new Client(path);
    const sessionId = new Uint8Array(32).fill(1);
    logLines = [];
    const malformed = sessionBind(sessionId, true);
    malformed[malformed.length - 1] = 2;
    expect(type(await client.ask(malformed))).toBe(MSG.FAILURE);
    expect(logLines[0]).toContain('its is_forwarding is 2, not a boolean');
    // signed by another key than the host key it names: refused, and not remembered (not forwarded)
    expect(type(await client.ask(sessionBind(sessionId, true, generateKeyPairSync('ed25519').privateKey)))).toBe(MSG.FAILURE);
    expect(logLines[1]).toMatch(/^refused session-bind@openssh\.com from \S+: its signature does not verify with the host key it names \(SHA256:/);
    expect(type(await client.ask(extensionRequest(DESKKMS_EXTENSION, JSON.stringify({ Op: 'Hello' }))))).toBe(MSG.SUCCESS);
    expect(type(await client.ask(sessionBind(sessionId, true)))).toBe(MSG.SUCCESS);
    expect(type(await client.ask(extensionRequest(DESKKMS_EXTENSION, JSON.stringify({ Op: 'Hello' }))))).toBe(MSG.FAILURE);
    expect(logLines[2]).toContain('forwarded agent');
    client.end();
  });
});

describe('session binds label the login (review F3)', () => {
  let confirmKey: Identity;
  beforeAll(async () => {
    confirmKey = await identity(await fx.makeKey('EC_P256', 'SIGN/VERIFY'), true);
  });

  it('a verified bind names its host; a forged one (another host key claimed) is refused and labels nothing; an all-zero session id matches nothing', async () => {
    const asked: ConfirmRequest[] = [];
    const { path } = await agent({ confirm: (request) => (asked.push(request), Promise.resolve('approved')) });
    const client = new Client(path);
    const bound = new Uint8Array(32).fill(7);
    const forgedId = new Uint8Array(32).fill(9);
    const otherHost = generateKeyPairSync('ed25519');
    const otherBlob = new SshWriter().string('ssh-ed25519').string(Buffer.from(otherHost.publicKey.export({ format: 'jwk' }).x!, 'base64url')).bytes();
    expect(type(await client.ask(sessionBind(bound, false)))).toBe(MSG.SUCCESS);
    // claims the host key `host.blob` but is signed by another key
    expect(type(await client.ask(sessionBind(forgedId, false, otherHost.privateKey, host.blob)))).toBe(MSG.FAILURE);
    expect(type(await client.ask(sign(confirmKey, loginData(confirmKey, bound), 0)))).toBe(MSG.SIGN_RESPONSE);
    expect(type(await client.ask(sign(confirmKey, loginData(confirmKey, forgedId), 0)))).toBe(MSG.SIGN_RESPONSE);
    expect(type(await client.ask(sign(confirmKey, loginData(confirmKey, new Uint8Array(32)), 0)))).toBe(MSG.SIGN_RESPONSE);
    expect(asked.map((r) => r.what)).toEqual([
      { kind: 'ssh-login', user: 'git', hostKeyFingerprint: fingerprint(host.blob), forwarded: false },
      { kind: 'ssh-login', user: 'git', forwarded: false },
      { kind: 'ssh-login', user: 'git', forwarded: false },
    ]);
    expect(fingerprint(otherBlob)).not.toBe(fingerprint(host.blob));
    client.end();
  });
});

describe('the DeskKMS extension (endpoint.ts)', () => {
  const ask = async (client: Client, request: unknown): Promise<{ ok: boolean; body?: any; error?: { Code: string } }> => {
    const answer = (await client.ask(extensionRequest(DESKKMS_EXTENSION, JSON.stringify(request))))!;
    expect(answer[0]).toBe(MSG.SUCCESS);
    const reader = new SshReader(answer.subarray(1), 'the answer');
    const json = reader.text('JSON');
    reader.end();
    return JSON.parse(json) as { ok: boolean };
  };

  it('answers SUCCESS + string(JSON): Hello names the vault; locked, Vault.Locked', async () => {
    const { path } = await agent();
    const client = new Client(path);
    expect(await ask(client, { Op: 'Hello' })).toMatchObject({ ok: true, body: { VaultId: fx.vault.vaultId, Locked: false } });
    await fx.vault.lock();
    try {
      expect(await ask(client, { Op: 'Hello' })).toMatchObject({ ok: false, error: { Code: 'Vault.Locked' } });
    } finally {
      await fx.vault.unlockWith(Buffer.from('agent-server passphrase'));
    }
    client.end();
  });

  it("an AsymmetricSign goes through confirmUse: the prompt sees what the command makes, a version that is no identity is Agent.KeyNotAdded", async () => {
    const made = await fx.makeKey('EC_P256', 'SIGN/VERIFY');
    await identity(made, true);
    const asked: ConfirmRequest[] = [];
    const { path } = await agent({
      confirm: (request) => {
        asked.push(request);
        return Promise.resolve('denied');
      },
    });
    const client = new Client(path);
    const call = (versionId: string): Promise<{ ok: boolean; error?: { Code: string } }> =>
      ask(client, {
        Op: 'Call',
        Action: 'AsymmetricSign',
        Command: 'cli',
        Format: 'ssh',
        Params: { KeyId: made.keyId, KeyVersionId: versionId, Algorithm: 'ECDSA_SHA_256', Digest: Buffer.alloc(32).toString('base64') },
      });
    expect(await call(made.versionId)).toMatchObject({ ok: false, error: { Code: 'Agent.Denied' } });
    expect(asked[0]).toMatchObject({ keyVersionId: made.versionId, what: { kind: 'deskkms', command: 'cli', format: 'ssh' } });
    expect(await call(ec.versionId)).toMatchObject({ ok: false, error: { Code: 'Agent.KeyNotAdded' } });
    await fx.call('RemoveAgentIdentity', { KeyId: made.keyId });
    client.end();
  });
});

describe('the peer check', () => {
  it('closes a connection from another uid unanswered, and logs it', async () => {
    const other = (process.getuid?.() ?? 0) + 1;
    const { path } = await agent({ peerOf: () => Promise.resolve({ uid: other, pid: 4242, program: 'intruder' }) });
    const client = new Client(path);
    logLines = [];
    expect(await client.ask(frame(MSG.REQUEST_IDENTITIES))).toBeUndefined();
    expect(logLines).toEqual([`refused a connection from uid ${other} (intruder[4242]): only uid ${process.getuid?.()}, the agent's own user, may use it`]);
  });

  it('closes a connection whose peer cannot be told, and logs it', async () => {
    const { path } = await agent({ peerOf: () => Promise.reject(new Error('no credentials')) });
    const client = new Client(path);
    logLines = [];
    expect(await client.ask(frame(MSG.REQUEST_IDENTITIES))).toBeUndefined();
    expect(logLines).toHaveLength(1);
    expect(logLines[0]).toMatch(/^refused a connection: /);
  });

  it('the real check (SO_PEERCRED) lets this user in, naming this process', async () => {
    const { path } = await agent();
    const client = new Client(path);
    expect(type(await client.ask(frame(MSG.REQUEST_IDENTITIES)))).toBe(MSG.IDENTITIES_ANSWER);
    client.end();
  });
});

describe('confirm on use', () => {
  let confirmKey: Identity;

  beforeAll(async () => {
    confirmKey = await identity(await fx.makeKey('EC_P256', 'SIGN/VERIFY'), true);
  });

  it('asks with the key, the peer, what is signed and when it expires; approved signs', async () => {
    const asked: ConfirmRequest[] = [];
    const { path } = await agent({
      confirm: (request) => {
        asked.push(request);
        return Promise.resolve('approved');
      },
      confirmTimeoutMs: 60_000,
    });
    const client = new Client(path);
    const data = new SshWriter().raw('SSHSIG').string('git').string('').string('sha512').string(createHash('sha512').update('commit').digest()).bytes();
    expect(type(await client.ask(sign(confirmKey, data, 0)))).toBe(MSG.SIGN_RESPONSE);
    expect(asked).toHaveLength(1);
    const request = asked[0]!;
    expect(request).toMatchObject({ keyId: confirmKey.keyId, keyVersionId: confirmKey.versionId, keySpec: 'EC_P256', aliases: [], what: { kind: 'sshsig', namespace: 'git', hashAlgorithm: 'sha512' } });
    expect(request.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(request.peer.pid).toBe(process.pid);
    expect(request.sshFingerprint).toMatch(/^SHA256:/);
    expect(Number.isNaN(Date.parse(request.expiresAt))).toBe(false);
    // a key without Confirm is not asked about
    expect(type(await client.ask(sign(ec, 'x', 0)))).toBe(MSG.SIGN_RESPONSE);
    expect(asked).toHaveLength(1);
    client.end();
  });

  it('denied and timed-out answers refuse the signature', async () => {
    for (const answer of ['denied', 'timeout'] as ConfirmAnswer[]) {
      const { path } = await agent({ confirm: () => Promise.resolve(answer) });
      const client = new Client(path);
      logLines = [];
      expect(type(await client.ask(sign(confirmKey, 'x', 0)))).toBe(MSG.FAILURE);
      expect(logLines[0]).toContain(answer === 'denied' ? 'was denied' : 'no one answered the confirmation');
      client.end();
    }
  });

  it('a prompt that never answers is refused at confirmTimeoutMs, and its signal aborts', async () => {
    let signal: AbortSignal | undefined;
    const { path } = await agent({
      confirm: (_request, s) => {
        signal = s;
        return new Promise<ConfirmAnswer>(() => undefined);
      },
      confirmTimeoutMs: 200,
    });
    const client = new Client(path);
    logLines = [];
    expect(type(await client.ask(sign(confirmKey, 'x', 0)))).toBe(MSG.FAILURE);
    expect(logLines[0]).toContain('within 200 ms: refused');
    expect(signal?.aborted).toBe(true);
    client.end();
  });

  it('the client hanging up aborts the prompt (denied)', async () => {
    let client: Client | undefined;
    const aborted = new Promise<void>((resolve, reject) => {
      void agent({
        confirm: (_request, signal) => {
          client!.end();
          return new Promise<ConfirmAnswer>((answer) => {
            signal.addEventListener('abort', () => {
              answer('denied');
              resolve();
            });
          });
        },
      })
        .then(({ path }) => {
          client = new Client(path);
          client.send(sign(confirmKey, 'x', 0));
        })
        .catch(reject);
    });
    await aborted;
    expect(client!.closed || client!.socket.destroyed).toBe(true);
  });

  it('closing the agent aborts a pending prompt and removes the socket', async () => {
    let signal: AbortSignal | undefined;
    let asked: () => void = () => undefined;
    const prompted = new Promise<void>((resolve) => (asked = resolve));
    const { path, running } = await agent({
      confirm: (_request, s) => {
        signal = s;
        asked();
        return new Promise<ConfirmAnswer>((answer) => s.addEventListener('abort', () => answer('denied')));
      },
    });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const client = new Client(path);
    client.send(sign(confirmKey, 'x', 0));
    await prompted;
    await running.close();
    expect(signal?.aborted).toBe(true);
    expect(await client.next()).toBeUndefined();
    expect(existsSync(path)).toBe(false);
  });
});

describe('LOCK and UNLOCK (review F2)', () => {
  const pw = (text: string): Uint8Array => new SshWriter().string(text).bytes();

  it('are refused on a forwarded connection, before the host is asked', async () => {
    const calls: string[] = [];
    const { path } = await agent({ lock: () => (calls.push('lock'), Promise.resolve()), unlock: () => (calls.push('unlock'), Promise.resolve(true)) });
    const client = new Client(path);
    expect(type(await client.ask(sessionBind(new Uint8Array(32).fill(3), true)))).toBe(MSG.SUCCESS);
    logLines = [];
    expect(type(await client.ask(frame(MSG.LOCK, pw('x'))))).toBe(MSG.FAILURE);
    expect(type(await client.ask(frame(MSG.UNLOCK, pw('x'))))).toBe(MSG.FAILURE);
    expect(calls).toEqual([]);
    expect(logLines).toEqual([expect.stringMatching(/^refused LOCK from \S+: the connection comes through a forwarded agent$/), expect.stringMatching(/^refused UNLOCK .*forwarded agent$/)]);
    client.end();
  });

  it('each failed UNLOCK waits longer (0.5 s x failures, at most 10 s), one UNLOCK at a time across connections; a success starts over', async () => {
    const events: string[] = [];
    let release: (() => void)[] = [];
    const { path } = await agent({
      unlock: (password) => {
        const text = Buffer.from(password).toString();
        events.push(`try ${text}`);
        return Promise.resolve(text === 'right');
      },
      sleep: (ms) => {
        events.push(`sleep ${ms}`);
        return new Promise<void>((resolve) => release.push(resolve));
      },
    });
    const clients = [new Client(path), new Client(path), new Client(path)];
    const answers = clients.map((c, i) => c.ask(frame(MSG.UNLOCK, pw(`wrong${i}`))));
    // the first guess is tried, then its delay holds every other guess back
    for (let i = 0; i < 3; i++) {
      while (release.length === 0) await new Promise((r) => setTimeout(r, 5));
      expect(events.filter((e) => e.startsWith('try'))).toHaveLength(i + 1);
      release.shift()!();
    }
    expect((await Promise.all(answers)).map(type)).toEqual([MSG.FAILURE, MSG.FAILURE, MSG.FAILURE]);
    // the three connections race to the server, so the order of the guesses is theirs; the delays are not
    expect(events.map((e) => e.replace(/^try wrong\d$/, 'try'))).toEqual(['try', 'sleep 500', 'try', 'sleep 1000', 'try', 'sleep 1500']);
    expect(events.filter((e) => e.startsWith('try')).sort()).toEqual(['try wrong0', 'try wrong1', 'try wrong2']);
    events.length = 0;
    expect(type(await clients[0]!.ask(frame(MSG.UNLOCK, pw('right'))))).toBe(MSG.SUCCESS);
    const next = clients[1]!.ask(frame(MSG.UNLOCK, pw('wrong')));
    while (release.length === 0) await new Promise((r) => setTimeout(r, 5));
    release.shift()!();
    expect(type(await next)).toBe(MSG.FAILURE);
    expect(events).toEqual(['try right', 'try wrong', 'sleep 500']);
    // capped at 10 s
    release = [];
    events.length = 0;
    for (let i = 0; i < 22; i++) {
      const answer = clients[2]!.ask(frame(MSG.UNLOCK, pw('wrong')));
      while (release.length === 0) await new Promise((r) => setTimeout(r, 1));
      release.shift()!();
      await answer;
    }
    expect(events.filter((e) => e.startsWith('sleep')).slice(-3)).toEqual(['sleep 10000', 'sleep 10000', 'sleep 10000']);
    for (const c of clients) c.end();
  });

  it('a vault without a passphrase (keychain) unlocks only with the password of the LOCK that locked it', async () => {
    // The same vault seen as a keychain vault: the server reads protectionKind.
    const keychainVault = new Proxy(fx.vault, {
      get: (target, name) => {
        if (name === 'protectionKind') return 'keychain';
        const value = Reflect.get(target, name, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const unlocked: string[] = [];
    const sleeps: number[] = [];
    const { path } = await agent({
      vault: () => keychainVault,
      lock: () => Promise.resolve(),
      unlock: (password) => (unlocked.push(Buffer.from(password).toString()), Promise.resolve(true)),
      sleep: (ms) => (sleeps.push(ms), Promise.resolve()),
    });
    const client = new Client(path);
    // never locked through the agent: no password unlocks it
    expect(type(await client.ask(frame(MSG.UNLOCK, pw('anything'))))).toBe(MSG.FAILURE);
    expect(type(await client.ask(frame(MSG.LOCK, pw('lock pw'))))).toBe(MSG.SUCCESS);
    logLines = [];
    expect(type(await client.ask(frame(MSG.UNLOCK, pw('anything'))))).toBe(MSG.FAILURE);
    expect(type(await client.ask(frame(MSG.UNLOCK, pw('lock pw!'))))).toBe(MSG.FAILURE);
    expect(logLines[0]).toContain('the password is not the one the vault was locked with');
    expect(unlocked).toEqual([]);
    expect(sleeps).toEqual([500, 1000, 1500]);
    expect(type(await client.ask(frame(MSG.UNLOCK, pw('lock pw'))))).toBe(MSG.SUCCESS);
    expect(unlocked).toEqual(['lock pw']);
    // the lock password is forgotten once used: the next UNLOCK has nothing to match
    expect(type(await client.ask(frame(MSG.UNLOCK, pw('lock pw'))))).toBe(MSG.FAILURE);
    client.end();
  });
});

describe('backpressure (review F4)', () => {
  it('a client that floods requests and never reads does not grow the queue past its bound; its hang-up drops the queue', async () => {
    const { path, running } = await agent();
    const client = new Client(path);
    client.socket.pause(); // never reads
    const count = 40_000;
    client.send(Buffer.concat(Array.from({ length: count }, () => frame(MSG.REQUEST_IDENTITIES))));
    // wait until the agent stops making progress (it waits for the client to read)
    let last = -1;
    for (let still = 0; still < 10; ) {
      await new Promise((r) => setTimeout(r, 50));
      const { handled } = running.stats!();
      still = handled === last ? still + 1 : 0;
      last = handled;
    }
    const stats = running.stats!();
    expect(stats.maxQueued).toBeLessThanOrEqual(8);
    expect(stats.handled).toBeLessThan(count);
    // one answer over the limit at most
    expect(stats.maxWritable).toBeLessThan(64 * 1024 + 4096);
    client.end();
    while (running.stats!().connections > 0) await new Promise((r) => setTimeout(r, 10));
    expect(running.stats!().queued).toBe(0);
    const handledAtHangUp = running.stats!().handled;
    await new Promise((r) => setTimeout(r, 100));
    expect(running.stats!().handled).toBe(handledAtHangUp);
  });
});

describe('one key blob in several identities (review F5)', () => {
  /** A second key holding the same private key as `of` (exported, imported), added to the agent as an older vault could (the Action refuses it now). */
  async function twin(of: MadeKey, confirm: boolean): Promise<MadeKey> {
    const pass = Buffer.from('a long export passphrase 1234567890').toString('base64');
    const exported = await fx.call('ExportKeyVersion', { KeyId: of.keyId, KeyVersionId: of.versionId, Passphrase: pass });
    const other = await fx.makeKey('EC_P256', 'SIGN/VERIFY');
    const imported = await fx.call('ImportKeyVersion', { KeyId: other.keyId, EncryptedPrivateKey: exported.EncryptedPrivateKey, Passphrase: pass });
    const versionId = (imported.KeyVersion as { KeyVersionId: string }).KeyVersionId;
    const refused = await dispatch(fx.vault, 'AddAgentIdentity', { KeyId: other.keyId, KeyVersionId: versionId }, 'test');
    expect(refused.ok ? undefined : refused.error.Message).toContain(`the same public key as agent identity ${of.keyId} version ${of.versionId}`);
    putAgentIdentity(fx.vault.store.db, { key_version_id: versionId, key_id: other.keyId, confirm: confirm ? 1 : 0, added_date: '2026-11-22T12:00:00Z' });
    return { ...other, versionId };
  }

  it('signs with an Enabled one and asks when any of them has Confirm on', async () => {
    const a = await identity(await fx.makeKey('EC_P256', 'SIGN/VERIFY', { Exportable: true }));
    const b = await twin(a, true);
    const asked: ConfirmRequest[] = [];
    const { path } = await agent({ confirm: (request) => (asked.push(request), Promise.resolve('approved')) });
    const client = new Client(path);
    // a (no confirm) is listed first, b (confirm) shares its blob: asked
    expect(type(await client.ask(sign(a, 'x', 0)))).toBe(MSG.SIGN_RESPONSE);
    expect(asked).toHaveLength(1);
    // a disabled: b (enabled) signs, still asked
    await fx.call('DisableKey', { KeyId: a.keyId });
    try {
      expect(type(await client.ask(sign(a, 'y', 0)))).toBe(MSG.SIGN_RESPONSE);
      expect(asked).toHaveLength(2);
      expect(asked[1]!.keyVersionId).toBe(b.versionId);
    } finally {
      await fx.call('EnableKey', { KeyId: a.keyId });
      await fx.call('RemoveAgentIdentity', { KeyId: a.keyId });
      await fx.call('RemoveAgentIdentity', { KeyId: b.keyId });
    }
    client.end();
  });
});

describe('pending confirmations are capped (review F9)', () => {
  it('at most 2 per peer pid and 16 in all; more are refused at once with Agent.Denied, audited', async () => {
    const confirmKey = await identity(await fx.makeKey('EC_P256', 'SIGN/VERIFY'), true);
    const waiting: ((answer: ConfirmAnswer) => void)[] = [];
    let connections = 0;
    let base = 1000;
    const { path } = await agent({
      peerOf: () => Promise.resolve<AgentPeer>({ uid: process.getuid!(), pid: base + Math.floor(connections++ / 3), program: 'flood' }),
      confirm: (_request, signal) =>
        new Promise<ConfirmAnswer>((resolve) => {
          waiting.push(resolve);
          signal.addEventListener('abort', () => resolve('denied'));
        }),
    });
    // 3 connections per pid (pid = floor(n / 3)); 24 connections: 8 pids
    const clients = Array.from({ length: 24 }, () => new Client(path));
    logLines = [];
    const answers = clients.map((c) => c.ask(sign(confirmKey, 'x', 0)));
    // 8 refused at once (the third of each pid), then 16 wait
    const refusedAtOnce = (): string[] => logLines.filter((l) => l.includes('refused unasked'));
    while (waiting.length < 16 || refusedAtOnce().length < 8) await new Promise<void>((resolve) => setTimeout(resolve, 10));
    expect(refusedAtOnce()).toHaveLength(8);
    // the third of a pid (or, when 16 wait, any): refused without a prompt
    for (const line of refusedAtOnce()) expect(line).toMatch(/(2 confirmations from pid \d+|16 confirmations) are waiting already/);
    expect(refusedAtOnce().some((line) => /2 confirmations from pid \d+ are waiting already/.test(line))).toBe(true);
    // one more from a new pid: 16 waiting in all
    base = 3000;
    const extra = new Client(path);
    expect(type(await extra.ask(sign(confirmKey, 'x', 0)))).toBe(MSG.FAILURE);
    expect(logLines.at(-1)).toMatch(/refused unasked: 16 confirmations are waiting already/);
    expect(waiting).toHaveLength(16);
    for (const answer of waiting) answer('approved');
    const types = (await Promise.all(answers)).map(type);
    expect(types.filter((t) => t === MSG.SIGN_RESPONSE)).toHaveLength(16);
    expect(types.filter((t) => t === MSG.FAILURE)).toHaveLength(8);
    const audit = await dispatch(fx.vault, 'ListAuditEntries', { KeyId: confirmKey.keyId, Action: 'AsymmetricSign', Limit: 100 }, 'test');
    if (!audit.ok) throw new Error(audit.error.Message);
    const codes = audit.body.Entries.map((e) => e.code);
    expect(codes.filter((c) => c === 'Agent.Denied')).toHaveLength(9);
    for (const c of [...clients, extra]) c.end();
  });
});
