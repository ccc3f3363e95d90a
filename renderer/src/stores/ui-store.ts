// Which view is shown, and the notices (success and error messages with their Code). A success
// goes away by itself OK_NOTICE_MS after it came, unless the person holds the notices (pointer
// over them, or focus in them): then none goes away until they let go, and each success left
// gets a full OK_NOTICE_MS again. Errors stay until dismissed. At most MAX_NOTICES are kept:
// the oldest success goes first, an error only when there is no success left to drop.
import { create } from 'zustand';

export type View = 'keys' | 'sign' | 'crypto' | 'audit' | 'backup' | 'agent' | 'airgap';

export interface Notice {
  readonly id: number;
  readonly kind: 'ok' | 'error';
  readonly text: string;
  readonly code?: string;
}

/** Why the notices are held (not timed out): the pointer is over them, or focus is in them. */
export type NoticeHold = 'hover' | 'focus';

export interface UiState {
  readonly view: View;
  readonly notices: readonly Notice[];
  /** What holds the notices now; successes time out only while this is empty. */
  readonly holds: readonly NoticeHold[];
  readonly show: (view: View) => void;
  readonly notify: (kind: Notice['kind'], text: string, code?: string) => void;
  readonly dismiss: (id: number) => void;
  readonly hold: (reason: NoticeHold, held: boolean) => void;
}

/** How long a success stays (not held). */
export const OK_NOTICE_MS = 5000;
export const MAX_NOTICES = 5;

let nextId = 1;
const initial = { view: 'keys' as View, notices: [] as Notice[], holds: [] as NoticeHold[] };
/** The pending auto-dismissal of each success, by notice id. */
const timers = new Map<number, ReturnType<typeof setTimeout>>();

function stopTimer(id: number): void {
  const timer = timers.get(id);
  if (timer !== undefined) clearTimeout(timer);
  timers.delete(id);
}

function stopTimers(): void {
  for (const id of [...timers.keys()]) stopTimer(id);
}

/** The newest notices, at most MAX_NOTICES, dropping the oldest success first. */
function capped(notices: readonly Notice[]): Notice[] {
  const kept = [...notices];
  while (kept.length > MAX_NOTICES) {
    const oldestOk = kept.findIndex((n) => n.kind === 'ok');
    const [dropped] = kept.splice(oldestOk >= 0 ? oldestOk : 0, 1);
    stopTimer(dropped!.id);
  }
  return kept;
}

export const useUiStore = create<UiState>()((set, get) => {
  function startTimer(id: number): void {
    stopTimer(id);
    timers.set(
      id,
      setTimeout(() => {
        timers.delete(id);
        get().dismiss(id);
      }, OK_NOTICE_MS),
    );
  }
  return {
    ...initial,
    show: (view) => set({ view }),
    notify: (kind, text, code) => {
      const id = nextId++;
      set((s) => ({ notices: capped([...s.notices, { id, kind, text, ...(code ? { code } : {}) }]) }));
      if (kind === 'ok' && get().holds.length === 0) startTimer(id);
    },
    dismiss: (id) => {
      stopTimer(id);
      set((s) => ({ notices: s.notices.filter((n) => n.id !== id) }));
    },
    hold: (reason, held) => {
      const before = get().holds;
      const holds = held ? (before.includes(reason) ? before : [...before, reason]) : before.filter((r) => r !== reason);
      if (holds === before || (holds.length === before.length && holds.every((r, i) => r === before[i]))) return;
      set({ holds });
      if (holds.length > 0) stopTimers();
      else for (const n of get().notices) if (n.kind === 'ok') startTimer(n.id);
    },
  };
});

export function resetUiStore(): void {
  stopTimers();
  useUiStore.setState(initial);
}
