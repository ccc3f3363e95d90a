// The bench's machine-readable summary (`npm run bench -- --json`) and its quick mode
// (`--quick`, under a minute: shorter windows, fewer runs, the goal figures only).
// Each figure is a ratio against a baseline measured in the same run; the summary names both.
import os from 'node:os';

export const QUICK = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
export const JSON_OUTPUT = process.argv.includes('--json');

export interface Figure {
  /** Stable id, e.g. "p256.sign.ratio". */
  readonly id: string;
  readonly what: string;
  readonly value: number;
  /** What the value is a ratio to, or its unit when it is not a ratio. */
  readonly against: string;
  /** The goal for it, when it has one: value >= atLeast or value <= atMost. */
  readonly goal?: { readonly atLeast?: number; readonly atMost?: number };
}

const figures: Figure[] = [];

export function record(figure: Figure): void {
  figures.push(figure);
}

export function meetsGoal(f: Figure): boolean | undefined {
  if (!f.goal || !Number.isFinite(f.value)) return undefined;
  if (f.goal.atLeast !== undefined && f.value < f.goal.atLeast) return false;
  if (f.goal.atMost !== undefined && f.value > f.goal.atMost) return false;
  return true;
}

/** Tables go to stderr in --json mode, so stdout is the JSON document alone. */
export function say(line: string): void {
  if (JSON_OUTPUT) process.stderr.write(`${line}\n`);
  else console.log(line);
}

export function summary(startedAt: number): Record<string, unknown> {
  return {
    node: process.version,
    cpus: os.cpus().length,
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
    quick: QUICK,
    seconds: Number(((performance.now() - startedAt) / 1000).toFixed(1)),
    figures: figures.map((f) => ({ ...f, value: Number(f.value.toFixed(4)), ...(f.goal ? { meetsGoal: meetsGoal(f) } : {}) })),
  };
}
