// The agent as the window sees it: running or not (Agent.Status/Start/Stop), the user's choice to
// run it (kept in localStorage, so it starts again after an unlock or the next launch), and the
// confirmations it waits for (Agent.Pending, polled while it runs; Agent.Answer). The keys it
// serves are Actions (ListAgentIdentities...), read by the view itself.
import { create } from 'zustand';
import type { AgentConfirmView, AgentStatusView, AppParams } from '../../../core/contract/app-api.ts';
import { AppError, call, describeError } from '../api/bridge.ts';

/** How often the window asks for confirmations while the agent runs. */
export const AGENT_POLL_MS = 500;
const PREFS_KEY = 'deskkms.agent';

/** What the user chose: the agent on or off, and how it starts. */
export interface AgentPrefs {
  readonly On: boolean;
  readonly Socket?: string;
  readonly ConfirmTimeoutSeconds?: number;
}

type Failure = { code: string; message: string } | undefined;

export interface AgentState {
  readonly status: AgentStatusView | undefined;
  readonly pending: readonly AgentConfirmView[];
  readonly busy: boolean;
  readonly error: Failure;
  readonly refresh: () => Promise<void>;
  readonly start: (params: AppParams<'Agent.Start'>) => Promise<boolean>;
  readonly stop: () => Promise<boolean>;
  /** Reads the confirmations waiting (quietly: a failed poll keeps the last list). */
  readonly poll: () => Promise<void>;
  /** Answers one; the error (e.g. it timed out meanwhile) when refused. */
  readonly answer: (id: string, approve: boolean) => Promise<Failure>;
  /** After an unlock: starts the agent again when the user left it on; why it could not, when it could not. */
  readonly resume: () => Promise<Failure>;
}

function storage(): Storage | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    return undefined;
  }
}

export function readAgentPrefs(): AgentPrefs {
  try {
    const raw = storage()?.getItem(PREFS_KEY);
    const parsed: unknown = raw ? JSON.parse(raw) : undefined;
    if (typeof parsed !== 'object' || parsed === null) return { On: false };
    const p = parsed as Record<string, unknown>;
    return {
      On: p.On === true,
      ...(typeof p.Socket === 'string' && p.Socket !== '' ? { Socket: p.Socket } : {}),
      ...(typeof p.ConfirmTimeoutSeconds === 'number' ? { ConfirmTimeoutSeconds: p.ConfirmTimeoutSeconds } : {}),
    };
  } catch {
    return { On: false };
  }
}

function writeAgentPrefs(prefs: AgentPrefs): void {
  try {
    storage()?.setItem(PREFS_KEY, JSON.stringify(prefs));
  } catch {
    // Storage disabled: the choice lasts until the window closes.
  }
}

function startParams(p: { readonly Socket?: string | undefined; readonly ConfirmTimeoutSeconds?: number | undefined }): AppParams<'Agent.Start'> {
  return {
    ...(p.Socket !== undefined && p.Socket !== '' ? { Socket: p.Socket } : {}),
    ...(p.ConfirmTimeoutSeconds !== undefined ? { ConfirmTimeoutSeconds: p.ConfirmTimeoutSeconds } : {}),
  };
}

/** Answered here but maybe still in a poll that was under way: not shown again. */
const answered = new Set<string>();

const initial = { status: undefined, pending: [], busy: false, error: undefined };

export const useAgentStore = create<AgentState>()((set, get) => {
  async function change(step: () => Promise<AgentStatusView>): Promise<boolean> {
    set({ busy: true, error: undefined });
    try {
      const status = await step();
      set({ status, busy: false, ...(status.Running ? {} : { pending: [] }) });
      return true;
    } catch (error) {
      set({ busy: false, error: describeError(error) });
      // What runs now, whatever the failure left.
      try {
        set({ status: await call('Agent.Status', {}) });
      } catch {
        // The host did not answer: keep the last status.
      }
      return false;
    }
  }
  return {
    ...initial,
    refresh: async () => {
      try {
        set({ status: await call('Agent.Status', {}) });
      } catch (error) {
        set({ error: describeError(error) });
      }
    },
    start: async (params) => {
      const ok = await change(() => call('Agent.Start', params));
      if (ok) writeAgentPrefs({ On: true, ...startParams(params) });
      return ok;
    },
    stop: async () => {
      const ok = await change(() => call('Agent.Stop', {}));
      if (ok) writeAgentPrefs({ ...readAgentPrefs(), On: false });
      return ok;
    },
    poll: async () => {
      try {
        const { Requests } = await call('Agent.Pending', {});
        for (const id of answered) if (!Requests.some((r) => r.Id === id)) answered.delete(id);
        set({ pending: Requests.filter((r) => !answered.has(r.Id)) });
      } catch (error) {
        // Locked meanwhile, or the host is gone: nothing can be confirmed now.
        if (error instanceof AppError) set({ pending: [] });
      }
    },
    answer: async (id, approve) => {
      answered.add(id);
      set((s) => ({ pending: s.pending.filter((r) => r.Id !== id) }));
      try {
        await call('Agent.Answer', { Id: id, Approve: approve });
        return undefined;
      } catch (error) {
        return describeError(error);
      }
    },
    resume: async () => {
      await get().refresh();
      const prefs = readAgentPrefs();
      if (!prefs.On || get().status?.Running !== false) return undefined;
      return (await change(() => call('Agent.Start', startParams(prefs)))) ? undefined : get().error;
    },
  };
});

/** On lock: nothing waits any more (the host refused it all); the agent's status stays. */
export function resetAgentPending(): void {
  answered.clear();
  useAgentStore.setState({ pending: [], error: undefined });
}

export function resetAgentStore(): void {
  answered.clear();
  useAgentStore.setState(initial);
}
