// Fixed-time throughput measurement: runs `op` in batches until `seconds` have passed.
import { say } from './summary.ts';

export function opsPerSecond(op: () => unknown, seconds = 1): number {
  for (let i = 0; i < 3; i++) op(); // warm-up
  const start = performance.now();
  let n = 0;
  let batch = 1;
  while (performance.now() - start < seconds * 1000) {
    for (let i = 0; i < batch; i++) op();
    n += batch;
    batch = Math.min(batch * 2, 256);
  }
  return n / ((performance.now() - start) / 1000);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1);
}

export function printTable(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  say(`\n${title}`);
  for (const [k, row] of cells.entries()) {
    say(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
    if (k === 0) say(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}
