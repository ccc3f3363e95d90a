// The session's Secret Service as test/setup/with-secret-service.sh runs it: which process holds
// its bus name, and asking the bus to start it (its service file starts gnome-keyring-daemon with
// the login keyring unlocked, the first time and after the daemon died).
import { spawnSync } from 'node:child_process';

const SECRETS_NAME = 'org.freedesktop.secrets';

function busCall(method: string, args: readonly string[], timeoutMs = 10_000): string | undefined {
  const r = spawnSync(
    'dbus-send',
    ['--session', '--print-reply=literal', `--reply-timeout=${timeoutMs}`, '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', `org.freedesktop.DBus.${method}`, ...args],
    { encoding: 'utf8', timeout: timeoutMs + 5_000, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return r.status === 0 ? r.stdout : undefined;
}

/** The pid of the process holding org.freedesktop.secrets on the session bus (undefined: none). */
export function secretServiceOwner(): number | undefined {
  const reply = busCall('GetConnectionUnixProcessID', [`string:${SECRETS_NAME}`]);
  const pid = Number(reply?.trim().split(/\s+/).pop());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/** Asks the bus to start the Secret Service if no one holds its name; the owner after. */
export function startSecretService(): number | undefined {
  busCall('StartServiceByName', [`string:${SECRETS_NAME}`, 'uint32:0'], 20_000);
  return secretServiceOwner();
}
