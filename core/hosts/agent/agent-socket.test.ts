// Where the socket lives and when the agent refuses to listen: the default path's three sources,
// the directory made 0700 and refused when others could reach it (group/other bits, another
// owner, a symbolic link, not absolute), a stale socket removed, a live agent's socket and a
// plain file left alone; the socket 0600 while listening, removed on close.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsError } from '../../contract/errors.ts';
import { tempDir } from '../../../test/integration/vault-helpers.ts';
import { defaultAgentSocket, listenOnSocket, secureSocketDirectory, unlinkOwnSocket } from './agent-socket.ts';
import { PERL } from './peer-credentials.ts';

let dir: ReturnType<typeof tempDir>;
beforeAll(() => {
  dir = tempDir('deskkms-agent-socket-');
});
afterAll(() => dir.remove());

async function refusal(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (error) {
    expect(error).toBeInstanceOf(KmsError);
    expect((error as KmsError).code).toBe('Agent.SocketUnsafe');
    return (error as KmsError).message;
  }
  throw new Error('expected Agent.SocketUnsafe');
}

describe('defaultAgentSocket', () => {
  it('$DESKKMS_AGENT_SOCK, else $XDG_RUNTIME_DIR/deskkms/agent.sock, else TMPDIR/deskkms-UID/agent.sock', () => {
    expect(defaultAgentSocket({ DESKKMS_AGENT_SOCK: '/x/a.sock', XDG_RUNTIME_DIR: '/run/user/1' })).toBe('/x/a.sock');
    expect(defaultAgentSocket({ XDG_RUNTIME_DIR: '/run/user/1' })).toBe('/run/user/1/deskkms/agent.sock');
    expect(defaultAgentSocket({})).toBe(join(tmpdir(), `deskkms-${process.getuid?.()}`, 'agent.sock'));
  });
});

describe('the directory', () => {
  it('is made 0700 (parents too) when missing', () => {
    const socket = join(dir.path, 'made', 'deeper', 'agent.sock');
    secureSocketDirectory(socket);
    expect(statSync(join(dir.path, 'made', 'deeper')).mode & 0o777).toBe(0o700);
  });

  it('is refused with group or other bits, as a symbolic link, owned by another user, or as a relative path', async () => {
    const open = join(dir.path, 'open');
    mkdirSync(open, { mode: 0o700 });
    chmodSync(open, 0o750);
    expect(await refusal(() => secureSocketDirectory(join(open, 's')))).toContain('has mode 750: it must be 700');
    const real = join(dir.path, 'real');
    mkdirSync(real, { mode: 0o700 });
    symlinkSync(real, join(dir.path, 'link'));
    expect(await refusal(() => secureSocketDirectory(join(dir.path, 'link', 's')))).toContain('is not a directory');
    expect(await refusal(() => secureSocketDirectory('relative/agent.sock'))).toContain('is not an absolute path');
    if (process.getuid?.() === 0) {
      const theirs = join(dir.path, 'theirs');
      mkdirSync(theirs, { mode: 0o700 });
      chownSync(theirs, 65534, 65534);
      expect(await refusal(() => secureSocketDirectory(join(theirs, 's')))).toContain('belongs to uid 65534, not to this user (uid 0)');
    }
  });
});

describe('listening', () => {
  it('chmods the socket 0600 and it is removed on close', async () => {
    const path = join(dir.path, 'listen', 'agent.sock');
    const server = createServer();
    const ino = await listenOnSocket(server, path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    unlinkOwnSocket(path, ino);
    expect(existsSync(path)).toBe(false);
  });

  it('removes a stale socket (nobody listens), refuses one an agent answers on and a path that is no socket', async () => {
    const sub = join(dir.path, 'stale');
    mkdirSync(sub, { mode: 0o700 });
    const path = join(sub, 'agent.sock');
    // A socket file whose process is gone: bound by a process that exits without removing it.
    const bound = spawnSync(PERL, ['-e', 'use Socket; socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die; bind($s, pack_sockaddr_un($ARGV[0])) or die "$!"', path]);
    expect(bound.status).toBe(0);
    expect(statSync(path).isSocket()).toBe(true);
    const first = createServer();
    await listenOnSocket(first, path);
    expect(await refusal(() => listenOnSocket(createServer(), path))).toBe(`an agent already listens on ${path}`);
    await new Promise<void>((resolve) => first.close(() => resolve()));
    writeFileSync(path, 'not a socket');
    expect(await refusal(() => listenOnSocket(createServer(), path))).toContain('exists and is not a socket');
  });
});
