// Where the vault lives: --vault DIR, else $DESKKMS_VAULT, else the platform's per-user data dir.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function defaultVaultDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = env.HOME ?? homedir();
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'DeskKMS');
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'DeskKMS');
  return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'deskkms');
}

export function resolveVaultDir(flag: string | undefined, cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(cwd, flag);
  if (env.DESKKMS_VAULT) return resolve(cwd, env.DESKKMS_VAULT);
  return defaultVaultDir(env);
}
