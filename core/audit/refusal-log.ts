// Audit entries for requests refused before they became calls (bad protocol parameters, unknown
// access key, wrong signature, ...), with a bound on how fast a flood of them can grow the log.
// Anyone who can reach `deskkms serve` can send such requests, and each audit entry is an fsync'd
// row: one row per refusal would let an unauthenticated client fill the disk.
//
// Per fixed window of time (windowMs, aligned to the clock; default 60 s) and per reason (the
// refusal's Code), the first `perWindow` refusals (default 10) are recorded one by one, as before:
//   action = the Action sent (escaped), code, caller = "<prefix>:<AccessKeyId sent (escaped)>".
// Further refusals of that reason in that window are only counted, and once the window is over
// one summary entry records how many there were:
//   action = "(refusal summary)", code, caller = "<prefix>:(N more since <window start, ISO>)".
// Text from a request is escaped (core/contract/escape-text.ts), which escapes a leading "(", so
// a request cannot make its own entry look like a summary. Every refusal is therefore accounted
// for: individual entries plus the counts of the summaries equal the refusals, once flushed.
//
// Bound: a window adds at most codes x (perWindow + 1) entries, whatever the request rate, where
// codes is the number of distinct Codes refused in it (about a dozen can occur before a request
// is authenticated). Summaries are written by a timer when the window ends, with the next
// refusal's entry if that comes first, and by close(); a write that fails is retried with the next.
import { randomUUID } from 'node:crypto';
import { escapeField } from '../contract/escape-text.ts';
import type { AuditEntryInput } from './audit-log.ts';

export interface RefusalLogOptions {
  /** Appends the entries in one write transaction (the call fails if it throws). */
  readonly append: (entries: AuditEntryInput[]) => Promise<void>;
  /** Recorded callers are "<callerPrefix>:...", e.g. "api-unauthenticated". */
  readonly callerPrefix: string;
  readonly windowMs?: number;
  readonly perWindow?: number;
  readonly now?: () => number;
  /** A summary the timer could not write (it is kept and retried). */
  readonly onError?: (error: unknown) => void;
}

export interface RefusedRequest {
  /** The RequestId the refusal was answered with (one is made up if absent). */
  readonly requestId?: string;
  /** As sent, untrusted. */
  readonly action?: unknown;
  /** As sent, untrusted: who the request claimed to be. */
  readonly who?: unknown;
  readonly code: string;
}

export const REFUSAL_SUMMARY_ACTION = '(refusal summary)';
const DEFAULT_WINDOW_MS = 60_000;
const DEFAULT_PER_WINDOW = 10;
const MAX_ACTION = 64;
const MAX_WHO = 64;

export class RefusalLog {
  private readonly options: RefusalLogOptions;
  private readonly windowMs: number;
  private readonly perWindow: number;
  private readonly now: () => number;
  private windowStart = Number.NEGATIVE_INFINITY;
  /** Per Code in the current window: refusals recorded one by one, and those only counted. */
  private readonly counts = new Map<string, { recorded: number; counted: number }>();
  /** Summaries of ended windows not written yet. */
  private pending: AuditEntryInput[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(options: RefusalLogOptions) {
    this.options = options;
    this.windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
    this.perWindow = options.perWindow ?? DEFAULT_PER_WINDOW;
    this.now = options.now ?? Date.now;
    if (!(this.windowMs > 0) || !Number.isSafeInteger(this.perWindow) || this.perWindow < 0) throw new RangeError('RefusalLog: bad windowMs or perWindow');
  }

  /** Records one refusal: resolves once its entry (if it gets one) is written. */
  async record(refusal: RefusedRequest): Promise<void> {
    const now = this.now();
    this.roll(now, false);
    let count = this.counts.get(refusal.code);
    if (count === undefined) {
      count = { recorded: 0, counted: 0 };
      this.counts.set(refusal.code, count);
    }
    // Once closed (no timer any more), every refusal gets its own entry.
    if (count.recorded >= this.perWindow && !this.closed) {
      count.counted++;
      this.arm();
      return;
    }
    count.recorded++;
    const entry: AuditEntryInput = {
      action: escapeField(refusal.action, MAX_ACTION),
      code: refusal.code,
      caller: `${this.options.callerPrefix}:${escapeField(refusal.who, MAX_WHO)}`,
      requestId: refusal.requestId ?? randomUUID(),
      time: new Date(now),
    };
    await this.write([entry]);
  }

  /** Writes the summaries of ended windows (and, with `all`, of the current one so far). */
  async flush(all = false): Promise<void> {
    this.roll(this.now(), all);
    await this.write([]);
  }

  /** Writes every summary owed, including the current window's, and stops the timer. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush(true);
  }

  /** Moves the current window's counts into pending summaries when it has ended (or when `all`). */
  private roll(now: number, all: boolean): void {
    const start = Math.floor(now / this.windowMs) * this.windowMs;
    if (start === this.windowStart && !all) return;
    for (const [code, { counted }] of this.counts) {
      if (counted === 0) continue;
      this.pending.push({
        action: REFUSAL_SUMMARY_ACTION,
        code,
        caller: `${this.options.callerPrefix}:(${counted} more since ${new Date(this.windowStart).toISOString()})`,
        requestId: randomUUID(),
        time: new Date(now),
      });
    }
    this.counts.clear();
    this.windowStart = start;
  }

  private async write(entries: AuditEntryInput[]): Promise<void> {
    // Taken synchronously, so concurrent writers never both write the same summary.
    const summaries = this.pending;
    this.pending = [];
    const all = [...summaries, ...entries];
    if (all.length === 0) return;
    try {
      await this.options.append(all);
    } catch (error) {
      this.pending = [...summaries, ...this.pending];
      throw error;
    }
  }

  /** A timer at the end of the window, so its summaries are written even if no request follows. */
  private arm(): void {
    if (this.timer || this.closed) return;
    const delay = Math.max(0, this.windowStart + this.windowMs - this.now()) + 10;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush()
        .catch((error: unknown) => this.options.onError?.(error))
        .finally(() => {
          // Early by a clock step, or the write failed: try again later.
          if (this.pending.length > 0 || [...this.counts.values()].some((c) => c.counted > 0)) this.arm();
        });
    }, delay);
    this.timer.unref();
  }
}
