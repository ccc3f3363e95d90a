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
  /** Each chunk of answers as it arrived: its time (ms, performance.now) and the answers read so far. */
  readonly arrivals: readonly { readonly at: number; readonly answers: number }[];
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
    const arrivals: { at: number; answers: number }[] = [];
    let answers = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      lastAnswer = performance.now();
      firstAnswer ??= lastAnswer;
      out.push(chunk);
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) answers++;
      arrivals.push({ at: lastAnswer, answers });
    });
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', fail);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      const text = Buffer.concat(out).toString('utf8');
      const answering = (lastAnswer - (firstAnswer ?? lastAnswer)) / 1000;
      done({ seconds, answering, arrivals, lines: text === '' ? [] : text.replace(/\n$/, '').split('\n'), code, stdout: text, stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.end(input);
  });
}

/** Answers per second after the first: (lines - 1) over the time from the first answer to the last. */
export function steadyRateOf(run: BatchRun): number {
  return (run.lines.length - 1) / Math.max(1e-3, run.answering);
}

/**
 * Answers per second once the process is warm: those after the first third, over the time from the
 * chunk that completed the first third to the last answer. A batch is a new process, whose first
 * second or so also compiles the pipeline (V8's tiers); the engine it is compared with is measured
 * in the long-running bench process, warm.
 */
export function warmRateOf(run: BatchRun): number {
  const third = Math.ceil(run.lines.length / 3);
  const from = run.arrivals.find((a) => a.answers >= third);
  const last = run.arrivals.at(-1);
  if (from === undefined || last === undefined || last.answers <= from.answers) return steadyRateOf(run);
  return (last.answers - from.answers) / Math.max(1e-6, (last.at - from.at) / 1000);
}
