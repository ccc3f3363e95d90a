// An OpenSSH server for tests (Debian's openssh-server): its own ed25519 host key, config and pid
// file in a directory of the test's, on 127.0.0.1 at a free unprivileged port, in the foreground
// (-D -e) so its log is read from stderr. Public-key logins only, for the users the
// AuthorizedKeysFile given names.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface TestSshd {
  readonly port: number;
  /** The host key's "SHA256:..." fingerprint (what ssh and the agent's confirmations show). */
  readonly hostFingerprint: string;
  /** What sshd logged so far (LogLevel VERBOSE: "Accepted publickey for USER ... ECDSA SHA256:..."). */
  log(): string;
  stop(): void;
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function startTestSshd(options: { readonly dir: string; readonly authorizedKeysFile: string; readonly extraConfig?: readonly string[] }): Promise<TestSshd> {
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  // Debian's sshd refuses to start without its privilege separation directory (the package's
  // service makes it at boot; a container that never ran the service has none).
  if (process.getuid?.() === 0 && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 });
  const hostKey = join(options.dir, 'ssh_host_ed25519_key');
  const made = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`ssh-keygen could not make the host key: ${made.stderr}`);
  const listed = spawnSync('ssh-keygen', ['-l', '-f', `${hostKey}.pub`], { encoding: 'utf8' });
  const hostFingerprint = listed.stdout.split(' ')[1] ?? '';
  const port = await freePort();
  const config = join(options.dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(options.dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${options.authorizedKeysFile}`,
      'StrictModes no',
      'UsePAM no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'LogLevel VERBOSE',
      ...(options.extraConfig ?? []),
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      log += d;
      if (log.includes(`Server listening on 127.0.0.1 port ${port}`)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`sshd exited ${code}:\n${log}`)));
  });
  return { port, hostFingerprint, log: () => log, stop: () => void child.kill('SIGTERM') };
}
