// The notices' timing (issue 17), with fake timers: a success goes away OK_NOTICE_MS after it
// came and not before; an error stays; holding the notices (pointer over them, focus in them)
// stops every success from going until the last hold lets go, then each gets a full period again;
// dismissing by hand or dropping the oldest over MAX_NOTICES leaves no timer behind; the oldest
// success is dropped before any error; reset clears timers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_NOTICES, OK_NOTICE_MS, resetUiStore, useUiStore } from '../../renderer/src/stores/ui-store.ts';

const texts = () => useUiStore.getState().notices.map((n) => n.text);
const { notify, dismiss, hold } = useUiStore.getState();

beforeEach(() => {
  vi.useFakeTimers();
  resetUiStore();
});
afterEach(() => {
  resetUiStore();
  vi.useRealTimers();
});

describe('notices', () => {
  it('a success goes away after OK_NOTICE_MS, not before; an error stays', () => {
    notify('ok', 'saved');
    notify('error', 'refused', 'Rejected.Disabled');
    vi.advanceTimersByTime(OK_NOTICE_MS - 1);
    expect(texts()).toEqual(['saved', 'refused']);
    vi.advanceTimersByTime(1);
    expect(texts()).toEqual(['refused']);
    vi.advanceTimersByTime(OK_NOTICE_MS * 100);
    expect(useUiStore.getState().notices).toEqual([expect.objectContaining({ kind: 'error', text: 'refused', code: 'Rejected.Disabled' })]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('each success has its own period', () => {
    notify('ok', 'first');
    vi.advanceTimersByTime(OK_NOTICE_MS / 2);
    notify('ok', 'second');
    vi.advanceTimersByTime(OK_NOTICE_MS / 2);
    expect(texts()).toEqual(['second']);
    vi.advanceTimersByTime(OK_NOTICE_MS / 2);
    expect(texts()).toEqual([]);
  });

  it('held by hover or focus, nothing goes; let go, each success gets a full period again', () => {
    notify('ok', 'saved');
    vi.advanceTimersByTime(OK_NOTICE_MS - 10);
    hold('hover', true);
    vi.advanceTimersByTime(OK_NOTICE_MS * 10);
    notify('ok', 'while held');
    hold('focus', true);
    hold('hover', false);
    // Focus still holds them.
    vi.advanceTimersByTime(OK_NOTICE_MS * 10);
    expect(texts()).toEqual(['saved', 'while held']);
    hold('focus', false);
    vi.advanceTimersByTime(OK_NOTICE_MS - 1);
    expect(texts()).toEqual(['saved', 'while held']);
    vi.advanceTimersByTime(1);
    expect(texts()).toEqual([]);
  });

  it('the same hold twice, or letting go of what was not held, changes nothing', () => {
    hold('hover', true);
    const holds = useUiStore.getState().holds;
    hold('hover', true);
    expect(useUiStore.getState().holds).toBe(holds);
    hold('focus', false);
    expect(useUiStore.getState().holds).toEqual(['hover']);
  });

  it('dismissed by hand, a success leaves no timer behind', () => {
    notify('ok', 'saved');
    expect(vi.getTimerCount()).toBe(1);
    dismiss(useUiStore.getState().notices[0]!.id);
    expect(vi.getTimerCount()).toBe(0);
    expect(texts()).toEqual([]);
  });

  it(`keeps at most ${MAX_NOTICES}, dropping the oldest success before any error`, () => {
    notify('error', 'e1');
    notify('ok', 'o1');
    notify('error', 'e2');
    notify('ok', 'o2');
    notify('error', 'e3');
    notify('error', 'e4');
    expect(texts()).toEqual(['e1', 'e2', 'o2', 'e3', 'e4']);
    expect(vi.getTimerCount()).toBe(1);
    notify('error', 'e5');
    expect(texts()).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
    expect(vi.getTimerCount()).toBe(0);
    notify('error', 'e6');
    expect(texts()).toEqual(['e2', 'e3', 'e4', 'e5', 'e6']);
  });

  it('reset (the vault locked) drops notices, holds and timers', () => {
    notify('ok', 'saved');
    hold('hover', true);
    notify('ok', 'held');
    hold('hover', false);
    resetUiStore();
    expect(useUiStore.getState().notices).toEqual([]);
    expect(useUiStore.getState().holds).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
