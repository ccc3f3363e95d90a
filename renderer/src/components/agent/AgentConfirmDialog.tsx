// Confirm on use: while the agent runs, the window asks every AGENT_POLL_MS which signatures wait
// for the user, and shows the oldest over whatever view is open (a modal alert dialog on the
// native <dialog>, in the top layer): the key, the program that asks, what it signs, and the
// seconds before it is refused. Focus starts on Deny; Escape denies.
import { useEffect, useRef } from 'react';
import type { AgentConfirmView } from '../../../../core/contract/app-api.ts';
import { AGENT_POLL_MS, useAgentStore } from '../../stores/agent-store.ts';
import { useUiStore } from '../../stores/ui-store.ts';

/** Polls Agent.Pending while the agent runs (mounted once, in the unlocked workspace). */
export function useAgentConfirmPolling(): void {
  const running = useAgentStore((s) => s.status?.Running === true);
  const poll = useAgentStore((s) => s.poll);
  useEffect(() => {
    if (!running) return;
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async (): Promise<void> => {
      await poll();
      if (live) timer = setTimeout(() => void tick(), AGENT_POLL_MS);
    };
    void tick();
    return () => {
      live = false;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [running, poll]);
}

export function keyName(request: Pick<AgentConfirmView, 'Aliases' | 'KeyId'>): string {
  return request.Aliases[0] ?? request.KeyId;
}

export function AgentConfirmDialog() {
  useAgentConfirmPolling();
  const pending = useAgentStore((s) => s.pending);
  const answer = useAgentStore((s) => s.answer);
  const request = pending[0];
  const ref = useRef<HTMLDialogElement>(null);
  const denyRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (request && !dialog.open) dialog.showModal();
    if (!request && dialog.open) dialog.close();
  }, [request]);

  // Each new request starts on Deny: a stray Enter or Space never approves.
  const id = request?.Id;
  useEffect(() => {
    if (id !== undefined) denyRef.current?.focus();
  }, [id]);

  async function reply(approve: boolean): Promise<void> {
    if (!request) return;
    const refused = await answer(request.Id, approve);
    const name = keyName(request);
    const { notify } = useUiStore.getState();
    if (refused) {
      notify('error', `The request to sign with ${name} was no longer waiting (it timed out or the program gave up): ${refused.message}`, refused.code);
    } else {
      notify('ok', approve ? `Approved: ${request.Program} signs with ${name}` : `Denied: ${request.Program} may not sign with ${name}`);
    }
  }

  return (
    <dialog
      ref={ref}
      role="alertdialog"
      aria-modal="true"
      aria-labelledby="agent-confirm-title"
      aria-describedby="agent-confirm-what"
      className="dialog agent-confirm"
      data-testid="agent-confirm"
      onCancel={(e) => {
        // Escape is a Deny, not a dismissal that leaves the program waiting.
        e.preventDefault();
        void reply(false);
      }}
    >
      {request ? (
        <>
          <header className="dialog-header">
            <h2 id="agent-confirm-title">Allow a signature with {keyName(request)}?</h2>
          </header>
          <p id="agent-confirm-what" className="agent-confirm-what">
            <strong>{request.Program}</strong> (process {request.Pid}) asks the agent for {request.What}.
          </p>
          <dl className="facts">
            <dt>Key</dt>
            <dd>{request.Aliases.length > 0 ? request.Aliases.join(', ') : <code>{request.KeyId}</code>}</dd>
            <dt>KeyId</dt>
            <dd>
              <code>{request.KeyId}</code>
            </dd>
            <dt>Version</dt>
            <dd>
              <code>{request.KeyVersionId}</code>
            </dd>
            <dt>Spec</dt>
            <dd>{request.KeySpec}</dd>
            {request.SshFingerprint !== undefined ? (
              <>
                <dt>SSH fingerprint</dt>
                <dd>
                  <code>{request.SshFingerprint}</code>
                </dd>
              </>
            ) : null}
            <dt>Program</dt>
            <dd>
              <code>{request.Program}</code> (process {request.Pid})
            </dd>
            <dt>Signs</dt>
            <dd>{request.What}</dd>
          </dl>
          <p className="agent-countdown" role="timer" aria-live="off" data-testid="agent-countdown">
            Refused in {request.SecondsLeft} s unless you approve.
          </p>
          <div className="row">
            <button ref={denyRef} type="button" onClick={() => void reply(false)}>
              Deny
            </button>
            <button type="button" className="primary" onClick={() => void reply(true)}>
              Approve
            </button>
            {pending.length > 1 ? (
              <span className="muted">
                {pending.length - 1} more request{pending.length === 2 ? '' : 's'} waiting
              </span>
            ) : null}
          </div>
        </>
      ) : null}
    </dialog>
  );
}
