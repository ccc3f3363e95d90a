// One `deskkms batch` run, spawn to exit, as the bench times it: the wall time, and the time from
// the first answer's arrival to the last's (the steady state: process start, unlock, the first
// request and exit left out). Shared by the signing (vault-batch.ts) and symmetric (envelope.ts)
// figures.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const BIN = resolve(import.meta.dirname, '../../core/hosts/cli/deskkms.ts');

export interface BatchRun {
  readonly seconds: number;
  /** From the first answer's arrival to the last's. */
  readonly answering: number;
  readonly lines: string[];
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `deskkms batch ARGS` with `input` on stdin. */
export function runBatch(args: readonly string[], env: NodeJS.ProcessEnv, input: string): Promise<BatchRun> {
  return new Promise((done, fail) => {
    const started = performance.now();
    let firstAnswer: number | undefined;
    let lastAnswer = started;
    const child = spawn(process.execPath, [BIN, 'batch', ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      lastAnswer = performance.now();
      firstAnswer ??= lastAnswer;
      out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', fail);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      const text = Buffer.concat(out).toString('utf8');
      const answering = (lastAnswer - (firstAnswer ?? lastAnswer)) / 1000;
      done({ seconds, answering, lines: text === '' ? [] : text.replace(/\n$/, '').split('\n'), code, stdout: text, stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.end(input);
  });
}

/** Answers per second after the first: (lines - 1) over the time from the first answer to the last. */
export function steadyRateOf(run: BatchRun): number {
  return (run.lines.length - 1) / Math.max(1e-3, run.answering);
}
