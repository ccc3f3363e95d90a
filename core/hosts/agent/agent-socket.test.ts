// Where the socket lives and when the agent refuses to listen: the default path's three sources,
// the directory made 0700 and refused when others could reach it (group/other bits, another
// owner, a symbolic link, not absolute), never made through a planted link (the review's F6
// race), missing parents made only below a directory of ours, a stale socket removed, a live agent's socket and a
// plain file left alone; the socket 0600 while listening, removed on close.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, rmSync, rmdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
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
  it('is made 0700 when missing; missing parents too, but only below a directory of ours closed to others', async () => {
    const socket = join(dir.path, 'made', 'deeper', 'agent.sock');
    secureSocketDirectory(socket);
    expect(statSync(join(dir.path, 'made')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir.path, 'made', 'deeper')).mode & 0o777).toBe(0o700);
    secureSocketDirectory(socket); // again: it exists, it is fine
    // Below a directory others can write to (a shared /tmp): the socket's own directory is made, missing parents are not.
    const shared = join(dir.path, 'shared');
    mkdirSync(shared, { mode: 0o700 });
    chmodSync(shared, 0o1777);
    secureSocketDirectory(join(shared, 'deskkms-1', 'agent.sock'));
    expect(lstatSync(join(shared, 'deskkms-1')).mode & 0o777).toBe(0o700);
    expect(await refusal(() => secureSocketDirectory(join(shared, 'a', 'b', 'agent.sock')))).toContain(`${join(shared, 'a')} is missing and ${shared} is not a directory of this user that only it can write to`);
    expect(existsSync(join(shared, 'a'))).toBe(false);
    // Nor through a link (it could be repointed between the check and the mkdir).
    symlinkSync(join(dir.path, 'made'), join(dir.path, 'made-link'));
    expect(await refusal(() => secureSocketDirectory(join(dir.path, 'made-link', 'x', 'y', 'agent.sock')))).toContain('is not a directory of this user');
  });

  it('a link planted where the directory goes is never followed: refused, and its target keeps its mode (F6)', async () => {
    const target = join(dir.path, 'target');
    mkdirSync(target, { mode: 0o755 });
    chmodSync(target, 0o755);
    const race = join(dir.path, 'race');
    mkdirSync(race, { mode: 0o700 });
    chmodSync(race, 0o1777);
    const planted = join(race, 'deskkms-0');
    symlinkSync(target, planted);
    expect(await refusal(() => secureSocketDirectory(join(planted, 'agent.sock')))).toContain('is not a directory (a symbolic link or a file)');
    rmSync(planted);
    // The race the review ran: a link planted and removed in a loop while the agent makes its directory.
    const attacker = spawn(PERL, ['-e', 'my ($l, $t) = @ARGV; my $end = time + 3; while (time < $end) { symlink($t, $l); unlink($l); }', planted, target], { stdio: 'ignore' });
    const exited = new Promise((resolve) => attacker.once('exit', resolve));
    const outcomes: Record<string, number> = {};
    try {
      for (let i = 0; i < 20_000 && attacker.exitCode === null; i++) {
        try {
          secureSocketDirectory(join(planted, 'agent.sock'));
          outcomes.made = (outcomes.made ?? 0) + 1;
        } catch (error) {
          const key = error instanceof KmsError ? error.code : String(error);
          outcomes[key] = (outcomes[key] ?? 0) + 1;
        }
        try {
          if (lstatSync(planted).isDirectory()) rmdirSync(planted);
        } catch {
          // the attacker's link, or nothing
        }
        expect(statSync(target).mode & 0o777, JSON.stringify(outcomes)).toBe(0o755);
        if (i % 200 === 0) await new Promise((r) => setImmediate(r));
      }
    } finally {
      attacker.kill();
      await exited;
    }
    expect(Object.keys(outcomes).every((k) => k === 'made' || k === 'Agent.SocketUnsafe'), JSON.stringify(outcomes)).toBe(true);
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
