// The command line of the Electron app (and of npm start, which forwards it): --vault DIR picks
// the vault like the CLI's --vault, else $DESKKMS_VAULT, else the platform's per-user data dir.
import { resolveVaultDir } from '../core/vault/paths.ts';

/** The value of `--name V` or `--name=V` in argv, if present. */
export function flagValue(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === `--${name}`) return argv[i + 1];
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}

export function appVaultDir(argv: readonly string[], cwd: string, env: NodeJS.ProcessEnv): string {
  return resolveVaultDir(flagValue(argv, 'vault'), cwd, env);
}
