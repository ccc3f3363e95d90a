// The refusal log's bound on unauthenticated entries, on a fake clock: per window and Code, the
// first few refusals one entry each, the rest counted into one summary written when the window
// ends (by the timer, the next refusal, or close), escaped text, and summaries kept for a retry
// when a write fails.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuditEntryInput } from '../../core/audit/audit-log.ts';
import { REFUSAL_SUMMARY_ACTION, RefusalLog } from '../../core/audit/refusal-log.ts';

const WINDOW = 60_000;
let now: number;
let written: AuditEntryInput[][];
let failNext: boolean;

function refusalLog(perWindow = 3): RefusalLog {
  return new RefusalLog({
    callerPrefix: 'api-unauthenticated',
    perWindow,
    windowMs: WINDOW,
    now: () => now,
    append: (entries) => {
      if (failNext) {
        failNext = false;
        return Promise.reject(new Error('disk full'));
      }
      written.push(entries);
      return Promise.resolve();
    },
  });
}

function all(): AuditEntryInput[] {
  return written.flat();
}

beforeEach(() => {
  vi.useFakeTimers();
  now = 10 * WINDOW + 1_000; // a second into a window
  vi.setSystemTime(now);
  written = [];
  failNext = false;
});
afterEach(() => vi.useRealTimers());

describe('RefusalLog', () => {
  it('records the first refusals of each Code one by one, counts the rest, and sums them up when the window ends', async () => {
    const log = refusalLog(3);
    for (let i = 0; i < 10; i++) await log.record({ action: 'ListKeys', who: `DKMS${i}`, code: 'InvalidAccessKeyId.NotFound', requestId: `r${i}` });
    for (let i = 0; i < 2; i++) await log.record({ action: 'ListKeys', code: 'MissingParameter' });
    expect(all().map((e) => [e.code, e.caller, e.requestId])).toEqual([
      ['InvalidAccessKeyId.NotFound', 'api-unauthenticated:DKMS0', 'r0'],
      ['InvalidAccessKeyId.NotFound', 'api-unauthenticated:DKMS1', 'r1'],
      ['InvalidAccessKeyId.NotFound', 'api-unauthenticated:DKMS2', 'r2'],
      ['MissingParameter', 'api-unauthenticated:(none)', expect.any(String)],
      ['MissingParameter', 'api-unauthenticated:(none)', expect.any(String)],
    ]);
    // The window ends: the timer writes one summary for the 7 only counted.
    now += WINDOW;
    await vi.advanceTimersByTimeAsync(WINDOW);
    const summary = all().at(-1)!;
    expect(summary).toMatchObject({ action: REFUSAL_SUMMARY_ACTION, code: 'InvalidAccessKeyId.NotFound', caller: `api-unauthenticated:(7 more since ${new Date(10 * WINDOW).toISOString()})` });
    expect(all()).toHaveLength(6);
    // A new window: single entries again.
    await log.record({ action: 'ListKeys', who: 'DKMSnew', code: 'InvalidAccessKeyId.NotFound' });
    expect(all().at(-1)).toMatchObject({ caller: 'api-unauthenticated:DKMSnew' });
    await log.close();
    expect(all()).toHaveLength(7);
  });

  it('a flood adds at most perWindow + 1 entries per Code and window, and every refusal is accounted for', async () => {
    const log = refusalLog(10);
    const codes = ['InvalidAccessKeyId.NotFound', 'SignatureDoesNotMatch', 'MissingParameter'];
    let sent = 0;
    for (let window = 0; window < 3; window++) {
      for (let i = 0; i < 5000; i++, sent++) await log.record({ action: 'A', who: 'x', code: codes[i % 3]! });
      now += WINDOW;
    }
    await log.close();
    expect(all().length).toBeLessThanOrEqual(3 * codes.length * 11);
    const counted = all()
      .filter((e) => e.action === REFUSAL_SUMMARY_ACTION)
      .reduce((sum, e) => sum + Number(/\((\d+) more/.exec(e.caller)![1]), 0);
    const single = all().filter((e) => e.action !== REFUSAL_SUMMARY_ACTION).length;
    expect(single + counted).toBe(sent);
  });

  it('the next refusal writes the summaries owed, with its own entry; close() writes the current window too', async () => {
    const log = refusalLog(1);
    await log.record({ code: 'MissingParameter' });
    await log.record({ code: 'MissingParameter' });
    await log.record({ code: 'MissingParameter' });
    now += WINDOW;
    await log.record({ code: 'MissingParameter' }); // before the timer fires
    expect(written.at(-1)!.map((e) => e.action)).toEqual([REFUSAL_SUMMARY_ACTION, '(none)']);
    expect(written.at(-1)![0]!.caller).toMatch(/^api-unauthenticated:\(2 more since /);
    await log.record({ code: 'MissingParameter' });
    await log.close();
    expect(all().at(-1)!.caller).toMatch(/^api-unauthenticated:\(1 more since /);
    // After close, nothing is only counted any more.
    await log.record({ code: 'MissingParameter', who: 'late' });
    expect(all().at(-1)!.caller).toBe('api-unauthenticated:late');
  });

  it('escapes what the request sent; a request cannot make its entry look like a summary', async () => {
    const log = refusalLog(5);
    await log.record({ action: 'X\u0001', who: '\u202Eevil', code: 'InvalidAccessKeyId.NotFound' });
    await log.record({ action: REFUSAL_SUMMARY_ACTION, who: '(99 more since 2026-01-01T00:00:00.000Z)', code: 'InvalidAccessKeyId.NotFound' });
    await log.record({ action: ['array'], who: 7, code: 'InvalidAccessKeyId.NotFound' });
    await log.record({ action: 'A'.repeat(1000), who: 'B'.repeat(1000), code: 'InvalidAccessKeyId.NotFound' });
    expect(all().map((e) => [e.action, e.caller])).toEqual([
      ['X\\x01', 'api-unauthenticated:\\u202Eevil'],
      ['\\(refusal summary)', 'api-unauthenticated:\\(99 more since 2026-01-01T00:00:00.000Z)'],
      ['(array)', 'api-unauthenticated:(number)'],
      [`${'A'.repeat(62)}\\…`, `api-unauthenticated:${'B'.repeat(62)}\\…`],
    ]);
  });

  it('a failed write fails the call that needed it; summaries it carried are kept and written with the next', async () => {
    const log = refusalLog(1);
    await log.record({ code: 'MissingParameter' });
    await log.record({ code: 'MissingParameter' });
    now += WINDOW;
    failNext = true;
    await expect(log.record({ code: 'MissingParameter' })).rejects.toThrow('disk full');
    expect(all()).toHaveLength(1);
    await log.record({ code: 'SignatureDoesNotMatch' });
    expect(written.at(-1)!.map((e) => e.code)).toEqual(['MissingParameter', 'SignatureDoesNotMatch']);
    expect(written.at(-1)![0]!.caller).toMatch(/\(1 more since /);
  });
});
