// SO_PEERCRED through perl: a real client process (ssh-add) connects, and the kernel's answer names
// its pid, this uid and gid, and its program; the socket keeps working after the check.
import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/integration/vault-helpers.ts';
import { peerCredentials, programOf, type PeerCredentials } from './peer-credentials.ts';

let dir: ReturnType<typeof tempDir>;
beforeAll(() => {
  dir = tempDir('deskkms-peercred-');
});
afterAll(() => dir.remove());

describe('peerCredentials', () => {
  it.runIf(process.platform === 'linux')("names a connecting ssh-add's pid, uid, gid and program; the connection still works", async () => {
    const path = join(dir.path, 'peer.sock');
    let seen: PeerCredentials | undefined;
    const server = createServer({ pauseOnConnect: true }, (socket: Socket) => {
      void peerCredentials(socket).then((peer) => {
        seen = peer;
        socket.resume();
        // the client's REQUEST_IDENTITIES arrives after the check: answer "no identities"
        socket.once('data', () => socket.end(Uint8Array.of(0, 0, 0, 5, 12, 0, 0, 0, 0)));
      });
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const child = spawn('ssh-add', ['-L'], { env: { PATH: '/usr/bin:/bin', SSH_AUTH_SOCK: path }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const status = await new Promise<number | null>((resolve) => child.once('close', resolve));
    server.close();
    expect(seen).toEqual({ pid: child.pid, uid: process.getuid?.(), gid: process.getgid?.(), program: 'ssh-add' });
    expect(status).toBe(1);
    expect(stdout).toContain('The agent has no identities.');
  });

  it('programOf escapes and falls back to "?"', async () => {
    expect(await programOf(0)).toBe('?');
    expect(await programOf(2 ** 31 - 2)).toBe('?');
    expect(await programOf(process.pid)).not.toBe('?');
  });
});
