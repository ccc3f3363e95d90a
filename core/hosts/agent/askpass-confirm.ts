// Confirm on use for the CLI agent, as OpenSSH's ssh-agent confirms a key added with `ssh-add -c`:
// it runs $SSH_ASKPASS with SSH_ASKPASS_PROMPT=confirm and the question as its one argument; exit
// status 0 is yes, anything else (another status, a signal, a failure to start) is no. The program
// is killed when the request expires ('timeout') or the agent aborts it ('denied'). Only an
// absolute SSH_ASKPASS is run (a relative one would depend on the agent's working directory and
// PATH): otherwise, as without SSH_ASKPASS, there is no prompt and confirm keys are refused.
import { spawn } from 'node:child_process';
import { isAbsolute } from 'node:path';
import { describeSignedData } from './signed-data.ts';
import type { ConfirmAnswer, ConfirmPrompt, ConfirmRequest } from './agent-types.ts';

/** The question the program shows (every part from outside is escaped already). */
export function confirmQuestion(request: ConfirmRequest): string {
  const key = request.aliases.length > 0 ? `${request.aliases.join(', ')} (${request.keyId})` : request.keyId;
  return (
    `Allow ${request.peer.program} (pid ${request.peer.pid}) to use the DeskKMS key ${key}` +
    `${request.sshFingerprint ? `, fingerprint ${request.sshFingerprint}` : ''}, for ${describeSignedData(request.what, request.peer)}?`
  );
}

/** The ConfirmPrompt of $SSH_ASKPASS, or undefined when it is unset or not an absolute path. */
export function askpassConfirm(env: Readonly<Record<string, string | undefined>>): ConfirmPrompt | undefined {
  const program = env.SSH_ASKPASS;
  if (!program || !isAbsolute(program)) return undefined;
  const childEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) childEnv[name] = value;
  childEnv.SSH_ASKPASS_PROMPT = 'confirm';
  return (request, signal) =>
    new Promise<ConfirmAnswer>((resolve) => {
      let settled = false;
      let outcome: ConfirmAnswer | undefined;
      const settle = (answer: ConfirmAnswer): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(answer);
      };
      // Its own process group, so that a script's children (a dialog, a sleep) are stopped with it.
      const child = spawn(program, [confirmQuestion(request)], { stdio: 'ignore', env: childEnv, detached: true });
      const stop = (answer: ConfirmAnswer): void => {
        outcome ??= answer;
        try {
          if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGTERM');
        } catch {
          child.kill('SIGTERM');
        }
        // A program that ignores SIGTERM is not waited for: the answer stands.
        settle(outcome);
      };
      const onAbort = (): void => stop('denied');
      const timer = setTimeout(() => stop('timeout'), Math.max(0, Date.parse(request.expiresAt) - Date.now()));
      timer.unref?.();
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) onAbort();
      child.once('error', () => settle('denied'));
      child.once('exit', (code) => settle(code === 0 ? 'approved' : 'denied'));
    });
}
