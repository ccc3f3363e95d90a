// The endpoint's client side: the sockets a command tries, a DeskKMS agent told from other agents
// and other vaults, and format-signing.ts's route through the endpoint (an AgentSigner), which
// refuses a key version the agent does not serve before anything is read or signed.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseSigningKey, findSigningKeys, newestKeyVersion, signMessage, type AgentSigner, type SigningEndpoint, type VaultSigner } from '../../actions/format-signing.ts';
import { dispatch } from '../../actions/dispatch.ts';
import type { ActionName } from '../../contract/actions.ts';
import type { SigningKeyInfo } from '../../formats/format.ts';
import { KmsError } from '../../contract/errors.ts';
import { openpgpFingerprint } from '../../formats/openpgp.ts';
import { Vault } from '../../vault/vault.ts';
import { useActionVault, type MadeKey } from '../../../test/support/action-vault.ts';
import { AgentEndpointClient, findAgent, unsafeAgentSocket } from './agent-client.ts';
import { startAgentServer } from './agent-server.ts';
import { agentCandidates, defaultAgentSocket } from './agent-socket.ts';
import type { AgentPeer, EndpointContext, RunningAgent } from './agent-types.ts';
import { handleEndpoint } from './endpoint.ts';
import { PERL } from './peer-credentials.ts';
import { success } from './ssh-agent-wire.ts';
import { SshWriter } from '../../formats/ssh-wire.ts';

const fx = useActionVault('agent-client');
const peer: AgentPeer = { uid: 1000, pid: 4242, program: 'node' };

const chunks = (...parts: string[]): AsyncIterable<Uint8Array> => Readable.from(parts.map((part) => Buffer.from(part)));

/** The endpoint in this process (handleEndpoint itself), counting what a signer asks of it. */
function inProcessEndpoint(): { endpoint: SigningEndpoint; asked: string[] } {
  const asked: string[] = [];
  const ctx: EndpointContext = { vault: fx.vault, peer, confirmUse: () => Promise.resolve() };
  const request = async (json: unknown): Promise<unknown> => {
    const answer = await handleEndpoint(JSON.stringify(json), ctx);
    if (!answer.ok) throw new KmsError(answer.error.Code as 'InternalFailure', answer.error.Message);
    return answer.body;
  };
  const endpoint: SigningEndpoint = {
    async call(action: ActionName, params, command, format) {
      asked.push(action);
      return (await request({ Op: 'Call', Action: action, Params: params, Command: command, ...(format ? { Format: format } : {}) })) as Record<string, unknown>;
    },
    async identities() {
      asked.push('Identities');
      return ((await request({ Op: 'Identities' })) as { Identities: [] }).Identities;
    },
  };
  return { endpoint, asked };
}

let served: MadeKey; // EC_P256, its first version added
let rotated: MadeKey; // its first version added, then a newer version that is not
let rotatedNewest: string;
let other: MadeKey; // not in the agent

beforeAll(async () => {
  served = await fx.makeKey('EC_P256', 'SIGN/VERIFY');
  await fx.call('CreateAlias', { KeyId: served.keyId, AliasName: 'alias/client-served' });
  rotated = await fx.makeKey('EC_P256', 'SIGN/VERIFY');
  other = await fx.makeKey('EC_P256', 'SIGN/VERIFY');
  await fx.call('AddAgentIdentity', { KeyId: served.keyId, KeyVersionId: served.versionId });
  await fx.call('AddAgentIdentity', { KeyId: rotated.keyId, KeyVersionId: rotated.versionId });
  fx.now = new Date(fx.now.getTime() + 60_000);
  rotatedNewest = (await fx.call('CreateKeyVersion', { KeyId: rotated.keyId })).KeyVersion.KeyVersionId as string;
});

describe('a signer through the endpoint (format-signing.ts)', () => {
  it('signs by alias with the newest version, audited as the agent caller with command and format', async () => {
    const { endpoint, asked } = inProcessEndpoint();
    const signer: AgentSigner = { agent: endpoint, caller: 'cli' };
    const { output, key } = await signMessage(signer, { key: 'alias/client-served', format: 'raw' }, chunks('release ', 'bytes'));
    expect(key).toMatchObject({ keyId: served.keyId, keyVersionId: served.versionId, newest: true });
    expect(asked.filter((a) => a === 'AsymmetricSign')).toHaveLength(1);
    const pem = fx.file('served.pem');
    const msg = fx.file('msg.bin');
    const sig = fx.file('msg.sig');
    writeFileSync(pem, served.pem);
    writeFileSync(msg, 'release bytes');
    writeFileSync(sig, output);
    expect(execFileSync('openssl', ['dgst', '-sha256', '-verify', pem, '-signature', sig, msg], { encoding: 'utf8' })).toMatch(/Verified OK/);
    const entries = await dispatch(fx.vault, 'ListAuditEntries', { KeyId: served.keyId, Action: 'AsymmetricSign', NewestFirst: true, Limit: 1 }, 'test');
    expect(entries.ok && entries.body.Entries[0]?.caller).toBe('ssh-agent[node 4242]:cli:raw');
  });

  it('refuses a key the agent does not serve before asking it anything but its identities', async () => {
    const { endpoint, asked } = inProcessEndpoint();
    const signer: AgentSigner = { agent: endpoint, caller: 'cli' };
    for (const ref of [other.keyId, 'alias/no-such-alias', '00000000-0000-4000-8000-000000000000']) {
      await expect(chooseSigningKey(signer, ref)).rejects.toMatchObject({ code: 'Agent.KeyNotAdded' });
      await expect(newestKeyVersion(signer, ref)).rejects.toMatchObject({ code: 'Agent.KeyNotAdded' });
    }
    await expect(chooseSigningKey(signer, served.keyId, other.versionId)).rejects.toMatchObject({ code: 'Agent.KeyNotAdded' });
    expect(new Set(asked)).toEqual(new Set(['Identities']));
  });

  it("refuses the key's newest version when the agent serves only an older one: the vault signs with the newest", async () => {
    const { endpoint, asked } = inProcessEndpoint();
    const signer: AgentSigner = { agent: endpoint, caller: 'cli' };
    const message = chunks('never read');
    let read = false;
    const watched = (async function* () {
      read = true;
      yield* message;
    })();
    await expect(signMessage(signer, { key: rotated.keyId, format: 'ssh' }, watched)).rejects.toMatchObject({ code: 'Agent.KeyNotAdded' });
    expect(read).toBe(false);
    expect(asked).not.toContain('AsymmetricSign');
    // Named, the served version signs; the vault's own signer takes the newest.
    await expect(chooseSigningKey(signer, rotated.keyId, rotated.versionId)).resolves.toMatchObject({ keyVersionId: rotated.versionId, newest: false });
    const vaultSigner: VaultSigner = { vault: fx.vault, caller: 'cli' };
    await expect(chooseSigningKey(vaultSigner, rotated.keyId)).resolves.toMatchObject({ keyVersionId: rotatedNewest });
  });

  it("finds signing keys among the agent's identities with the vault's public facts", async () => {
    const { endpoint } = inProcessEndpoint();
    const signer: AgentSigner = { agent: endpoint, caller: 'gpg' };
    const throughAgent = await findSigningKeys(signer, (k) => k.keyId === served.keyId || k.keyId === other.keyId);
    const inVault = await findSigningKeys(fx.vault, (k) => k.keyId === served.keyId);
    expect(throughAgent.map((k) => k.keyVersionId)).toEqual([served.versionId]);
    const facts = (k: SigningKeyInfo) => ({ ...k, spki: Buffer.from(k.spki).toString('base64'), created: k.created.toISOString() });
    expect(facts(throughAgent[0]!)).toEqual(facts(inVault[0]!));
    // The OpenPGP fingerprint hangs on the creation time: the same through both.
    expect(openpgpFingerprint(throughAgent[0]!)).toBe(openpgpFingerprint(inVault[0]!));
  });
});

describe('finding the agent', () => {
  const env = (extra: Record<string, string>): Record<string, string> => ({ XDG_RUNTIME_DIR: '/nonexistent-runtime', ...extra });

  it('tries $DESKKMS_AGENT_SOCK alone, else SSH_AUTH_SOCK and the default socket; none with DESKKMS_NO_AGENT', () => {
    expect(agentCandidates(env({ DESKKMS_AGENT_SOCK: '/a/sock', SSH_AUTH_SOCK: '/b/sock' }))).toEqual(['/a/sock']);
    expect(agentCandidates(env({ SSH_AUTH_SOCK: '/b/sock' }))).toEqual(['/b/sock', '/nonexistent-runtime/deskkms/agent.sock']);
    expect(agentCandidates(env({ SSH_AUTH_SOCK: '/nonexistent-runtime/deskkms/agent.sock' }))).toEqual(['/nonexistent-runtime/deskkms/agent.sock']);
    expect(agentCandidates(env({}))).toEqual([defaultAgentSocket(env({}))]);
    expect(agentCandidates(env({ DESKKMS_NO_AGENT: '1', DESKKMS_AGENT_SOCK: '/a/sock' }))).toEqual([]);
    expect(agentCandidates(env({ DESKKMS_NO_AGENT: '0', DESKKMS_AGENT_SOCK: '/a/sock' }))).toEqual(['/a/sock']);
  });

  describe('on real sockets', () => {
    let dir: string;
    let agent: RunningAgent | undefined;
    let stock: ChildProcess | undefined;
    let silent: Server | undefined;
    const silentConnections: Socket[] = [];

    beforeAll(async () => {
      dir = fx.file('sockets');
      mkdirSync(dir, { mode: 0o700 });
      dir = realpathSync(dir);
      agent = await startAgentServer({ socketPath: join(dir, 'deskkms', 'agent.sock'), vault: () => fx.vault });
      // A stock OpenSSH agent, which answers FAILURE to an extension it does not know.
      stock = spawn('ssh-agent', ['-D', '-a', join(dir, 'stock.sock')], { stdio: 'ignore' });
      for (let i = 0; i < 100 && !existsSync(join(dir, 'stock.sock')); i++) await new Promise((r) => setTimeout(r, 50));
      // Something that accepts and never answers.
      silent = createServer((socket) => silentConnections.push(socket));
      await new Promise<void>((resolve) => silent!.listen(join(dir, 'silent.sock'), resolve));
    });
    afterAll(async () => {
      await agent?.close();
      stock?.kill();
      for (const socket of silentConnections) socket.destroy();
      await new Promise((resolve) => silent?.close(resolve));
    });

    it('uses the DeskKMS agent that serves this vault (by real path) and speaks to it on one connection', async () => {
      const link = join(dir, 'vault-link');
      symlinkSync(fx.dir, link);
      const client = await findAgent(link, { DESKKMS_AGENT_SOCK: agent!.socketPath });
      expect(client).toBeInstanceOf(AgentEndpointClient);
      try {
        const identities = await client!.identities();
        expect(identities.map((i) => i.KeyVersionId)).toContain(served.versionId);
        const signer: AgentSigner = { agent: client!, caller: 'cli' };
        const { key } = await signMessage(signer, { key: served.keyId, version: served.versionId, format: 'ssh', options: { namespace: 'file' } }, chunks('x'));
        expect(key.keyVersionId).toBe(served.versionId);
        expect(client!.signAttempted).toBe(true);
        await expect(client!.call('CreateKey', {}, 'cli')).rejects.toMatchObject({ code: 'Agent.Unsupported' });
        // An Action the endpoint runs but the agent's policy refuses: the agent's answer, with its RequestId.
        await expect(client!.call('DescribeKey', { KeyId: other.keyId }, 'cli')).rejects.toMatchObject({ code: 'Forbidden.NoPermission', message: expect.stringMatching(/through the DeskKMS agent.*RequestId [0-9a-f-]{36}/) });
      } finally {
        client?.close();
      }
    });

    it('skips a socket that serves another vault, a stock ssh-agent, nothing, or something that never answers', async () => {
      const otherVault = join(fx.file('other'), 'vault');
      const made = await Vault.init(otherVault, { passphrase: Buffer.from('other'), kdfN: 2 ** 14 });
      await made.close();
      expect(await findAgent(otherVault, { DESKKMS_AGENT_SOCK: agent!.socketPath })).toBeUndefined();
      expect(await findAgent(fx.dir, { DESKKMS_AGENT_SOCK: join(dir, 'stock.sock') })).toBeUndefined();
      expect(await findAgent(fx.dir, { DESKKMS_AGENT_SOCK: join(dir, 'nothing.sock') })).toBeUndefined();
      expect(await findAgent(join(dir, 'no-such-vault'), { DESKKMS_AGENT_SOCK: agent!.socketPath })).toBeUndefined();
      expect(await findAgent(fx.dir, { DESKKMS_AGENT_SOCK: join(dir, 'silent.sock') })).toBeUndefined();
      expect(silentConnections).toHaveLength(1);
      // The stock agent on SSH_AUTH_SOCK is passed over for the DeskKMS agent on the default socket.
      const found = await findAgent(fx.dir, { SSH_AUTH_SOCK: join(dir, 'stock.sock'), XDG_RUNTIME_DIR: dir });
      expect(found?.socketPath).toBe(agent!.socketPath);
      found?.close();
      // DESKKMS_NO_AGENT: not even a connection.
      expect(await findAgent(fx.dir, { DESKKMS_NO_AGENT: '1', DESKKMS_AGENT_SOCK: join(dir, 'silent.sock') })).toBeUndefined();
      expect(silentConnections).toHaveLength(1);
    });

    it('skips a socket that answers the extension with something that is not an endpoint answer', async () => {
      const answers: Record<string, Uint8Array> = {
        // SUCCESS with a JSON string that is no EndpointAnswer
        notAnswer: Buffer.concat([Buffer.from([0, 0, 0, 12, 6, 0, 0, 0, 7]), Buffer.from('{"a":1}')]),
        // SUCCESS whose string is not JSON
        notJson: Buffer.concat([Buffer.from([0, 0, 0, 8, 6, 0, 0, 0, 3]), Buffer.from('{{{')]),
        // a frame longer than any agent message may be
        oversized: Buffer.from([0x7f, 0, 0, 0, 6]),
        // IDENTITIES_ANSWER to an extension request
        wrongType: Buffer.from([0, 0, 0, 5, 12, 0, 0, 0, 0]),
      };
      for (const [name, answer] of Object.entries(answers)) {
        const path = join(dir, `${name}.sock`);
        const server = createServer((socket) => socket.once('data', () => socket.write(answer)));
        await new Promise<void>((resolve) => server.listen(path, resolve));
        try {
          await expect(AgentEndpointClient.connect(path).then((c) => c.hello().finally(() => c.close()))).rejects.toMatchObject({ code: 'Agent.Unavailable' });
          expect(await findAgent(fx.dir, { DESKKMS_AGENT_SOCK: path }), name).toBeUndefined();
        } finally {
          await new Promise((resolve) => server.close(resolve));
        }
      }
    });

    it('skips an agent whose vault is locked', async () => {
      await fx.vault.lock();
      try {
        expect(await findAgent(fx.dir, { DESKKMS_AGENT_SOCK: agent!.socketPath })).toBeUndefined();
      } finally {
        await fx.vault.unlockWith(Buffer.from('agent-client passphrase'));
      }
      const again = await findAgent(fx.dir, { DESKKMS_AGENT_SOCK: agent!.socketPath });
      expect(again).toBeDefined();
      again?.close();
    });
  });
});

// F1 (review 14): another local user must not be able to stand in for the agent. A fake agent
// here is a perl program that answers every request with a Hello naming this test's vault,
// unlocked: were it trusted, findAgent would return it (the control). It prints "conn" per
// connection and "req" per request, so a skip before connecting (or before sending) is seen.
describe('an agent socket that is not this user\'s alone is skipped', () => {
  const root = process.getuid?.() === 0;
  const FAKE =
    'use strict; use Socket; $| = 1; my ($path, $hex) = @ARGV; my $answer = pack("H*", $hex); ' +
    'socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die "socket: $!"; bind($s, pack_sockaddr_un($path)) or die "bind: $!"; listen($s, 8) or die "listen: $!"; ' +
    'print "ready\\n"; while (accept(my $c, $s)) { print "conn\\n"; while (sysread($c, my $buf, 65536)) { print "req\\n"; syswrite($c, $answer); } close($c); }';
  let base: string;
  let answerHex: string;
  const fakes: { child: ChildProcess; out: () => string }[] = [];

  /** A fake agent listening at `path` (as uid 65534 with `asNobody`); resolves once it listens. */
  async function fake(path: string, asNobody = false): Promise<() => string> {
    const argv = ['-e', FAKE, path, answerHex];
    const child = asNobody ? spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', PERL, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn(PERL, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    for (let i = 0; i < 200 && !out.includes('ready'); i++) await new Promise((r) => setTimeout(r, 25));
    expect(out).toContain('ready');
    const read = (): string => out.replace('ready\n', '');
    fakes.push({ child, out: read });
    return read;
  }

  const skipped = async (vaultDir: string, env: Record<string, string>): Promise<string[]> => {
    const reasons: string[] = [];
    const found = await findAgent(vaultDir, env, (path, why) => reasons.push(`${path}: ${why}`));
    found?.close();
    expect(found, 'the fake agent was trusted').toBeUndefined();
    return reasons;
  };

  beforeAll(() => {
    base = realpathSync(mkdtempSync(join(tmpdir(), 'deskkms-client-trust-')));
    chmodSync(base, 0o711); // uid 65534 reaches its own directory below
    const hello = { ok: true, body: { VaultId: 'fake', VaultPath: realpathSync(fx.dir), Locked: false } };
    answerHex = Buffer.from(success(new SshWriter().string(JSON.stringify(hello)).bytes())).toString('hex');
  });
  afterAll(() => {
    for (const f of fakes) f.child.kill();
    rmSync(base, { recursive: true, force: true });
  });

  it('the control: a fake agent of this user, in its 0700 directory, is trusted (so the skips below are the checks)', async () => {
    const ours = join(base, 'ours');
    mkdirSync(ours, { mode: 0o700 });
    const out = await fake(join(ours, 'agent.sock'));
    const found = await findAgent(fx.dir, { DESKKMS_AGENT_SOCK: join(ours, 'agent.sock') });
    expect(found).toBeInstanceOf(AgentEndpointClient);
    found?.close();
    expect(out()).toBe('conn\nreq\n');
  });

  it('a symbolic link as the socket or as its directory, a directory others can write to, the default directory not 700', async () => {
    const real = join(base, 'real');
    mkdirSync(real, { mode: 0o700 });
    const out = await fake(join(real, 'agent.sock'));
    symlinkSync(join(real, 'agent.sock'), join(real, 'link.sock'));
    expect(await skipped(fx.dir, { DESKKMS_AGENT_SOCK: join(real, 'link.sock') })).toEqual([`${join(real, 'link.sock')}: is not a socket (a symbolic link or a file)`]);
    symlinkSync(real, join(base, 'linked'));
    expect(await skipped(fx.dir, { DESKKMS_AGENT_SOCK: join(base, 'linked', 'agent.sock') })).toEqual([
      `${join(base, 'linked', 'agent.sock')}: its directory ${join(base, 'linked')} is not a directory (a symbolic link or a file)`,
    ]);
    // The same through SSH_AUTH_SOCK (the default socket missing: nothing to say about it).
    expect(await skipped(fx.dir, { SSH_AUTH_SOCK: join(real, 'link.sock'), XDG_RUNTIME_DIR: join(base, 'no-runtime') })).toHaveLength(1);
    chmodSync(real, 0o777);
    expect((await skipped(fx.dir, { DESKKMS_AGENT_SOCK: join(real, 'agent.sock') }))[0]).toMatch(/has mode 777: others can write to it$/);
    chmodSync(real, 0o720);
    expect((await skipped(fx.dir, { SSH_AUTH_SOCK: join(real, 'agent.sock') }))[0]).toMatch(/has mode 720: others can write to it$/);
    expect(out()).toBe(''); // never connected
    // The default socket's directory must be 700 exactly; a named one 750 is fine.
    const runtime = join(base, 'runtime');
    mkdirSync(join(runtime, 'deskkms'), { recursive: true, mode: 0o700 });
    const outDefault = await fake(join(runtime, 'deskkms', 'agent.sock'));
    chmodSync(join(runtime, 'deskkms'), 0o750);
    expect((await skipped(fx.dir, { XDG_RUNTIME_DIR: runtime }))[0]).toMatch(/deskkms has mode 750, not 700 as the agent makes it$/);
    expect(outDefault()).toBe('');
    const named = await findAgent(fx.dir, { DESKKMS_AGENT_SOCK: join(runtime, 'deskkms', 'agent.sock') });
    expect(named).toBeInstanceOf(AgentEndpointClient);
    named?.close();
    expect(unsafeAgentSocket('relative/agent.sock', false)).toBe('is not an absolute path');
    expect(unsafeAgentSocket(join(base, 'nothing', 'agent.sock'), true)).toBe('missing');
  });

  it.skipIf(!root)('a socket or a directory owned by another user (uid 65534)', async () => {
    const ours = join(base, 'ours-2');
    mkdirSync(ours, { mode: 0o700 });
    const out = await fake(join(ours, 'agent.sock'));
    chownSync(join(ours, 'agent.sock'), 65534, 65534);
    expect(await skipped(fx.dir, { DESKKMS_AGENT_SOCK: join(ours, 'agent.sock') })).toEqual([`${join(ours, 'agent.sock')}: belongs to uid 65534, not to this user (uid 0)`]);
    chownSync(join(ours, 'agent.sock'), 0, 0);
    chownSync(ours, 65534, 65534);
    expect(await skipped(fx.dir, { DESKKMS_AGENT_SOCK: join(ours, 'agent.sock') })).toEqual([`${join(ours, 'agent.sock')}: its directory ${ours} belongs to uid 65534, not to this user (uid 0)`]);
    expect(out()).toBe('');
  });

  it.skipIf(!root)("a socket and directory that pass lstat, served by another user's process: SO_PEERCRED refuses it before anything is sent", async () => {
    const theirs = join(base, 'theirs');
    mkdirSync(theirs, { mode: 0o700 });
    chownSync(theirs, 65534, 65534);
    const out = await fake(join(theirs, 'agent.sock'), true);
    // Moved into a directory of ours and made ours: only the server's credentials tell.
    const ours = join(base, 'ours-3');
    mkdirSync(ours, { mode: 0o700 });
    renameSync(join(theirs, 'agent.sock'), join(ours, 'agent.sock'));
    chownSync(join(ours, 'agent.sock'), 0, 0);
    expect(unsafeAgentSocket(join(ours, 'agent.sock'), false)).toBeUndefined();
    expect(await skipped(fx.dir, { DESKKMS_AGENT_SOCK: join(ours, 'agent.sock') })).toEqual([
      `${join(ours, 'agent.sock')}: the agent socket ${join(ours, 'agent.sock')} is served by uid 65534, not by this user (uid 0)`,
    ]);
    await expect(AgentEndpointClient.connect(join(ours, 'agent.sock'))).rejects.toMatchObject({ code: 'Agent.SocketUnsafe' });
    expect(out()).toBe('conn\nconn\n'); // connected, never asked
  });
});
