// Long-running CLI processes in tests (deskkms ui, deskkms serve, npm start): start one, wait for
// the first line it prints on stdout (its URL or endpoint), keep its stderr for failure messages,
// and stop it with a signal.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface RunningProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** The first stdout line. */
  readonly firstLine: string;
  /** Everything written to stderr so far. */
  readonly stderr: () => string;
  /** SIGTERM (SIGKILL after 10 s); resolves with the exit code. */
  readonly stop: () => Promise<number | null>;
}

export async function spawnUntilFirstLine(
  command: string,
  args: readonly string[],
  options: { readonly env?: NodeJS.ProcessEnv; readonly cwd?: string; readonly timeoutMs?: number } = {},
): Promise<RunningProcess> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...(options.env ? { env: options.env } : {}), ...(options.cwd ? { cwd: options.cwd } : {}) });
  child.stdin.end();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const timeoutMs = options.timeoutMs ?? 100_000;
  const firstLine = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')}: no output line within ${timeoutMs} ms; stderr:\n${stderr}`)), timeoutMs);
    timer.unref();
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited ${code}; stderr:\n${stderr}`));
    });
  });
  return {
    child,
    firstLine,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        killer.unref();
        const code = await exited;
        clearTimeout(killer);
        return code;
      }
      return exited;
    },
  };
}
