// Which view is shown, and the notices (success and error messages with their Code).
import { create } from 'zustand';

export type View = 'keys' | 'sign' | 'crypto' | 'audit' | 'backup' | 'agent' | 'airgap';

export interface Notice {
  readonly id: number;
  readonly kind: 'ok' | 'error';
  readonly text: string;
  readonly code?: string;
}

export interface UiState {
  readonly view: View;
  readonly notices: readonly Notice[];
  readonly show: (view: View) => void;
  readonly notify: (kind: Notice['kind'], text: string, code?: string) => void;
  readonly dismiss: (id: number) => void;
}

let nextId = 1;
const MAX_NOTICES = 5;
const initial = { view: 'keys' as View, notices: [] as Notice[] };

export const useUiStore = create<UiState>()((set) => ({
  ...initial,
  show: (view) => set({ view }),
  notify: (kind, text, code) =>
    set((s) => ({ notices: [...s.notices, { id: nextId++, kind, text, ...(code ? { code } : {}) }].slice(-MAX_NOTICES) })),
  dismiss: (id) => set((s) => ({ notices: s.notices.filter((n) => n.id !== id) })),
}));

export function resetUiStore(): void {
  useUiStore.setState(initial);
}
