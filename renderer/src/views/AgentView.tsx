// SSH agent: the switch that runs the agent in this app (Agent.Start/Stop), its socket and the line
// a shell needs (export SSH_AUTH_SOCK=...), the keys it serves (ListAgentIdentities) with their
// confirm-on-use setting and a Remove button, and "Add to agent" for a signing key's version.
// Keys that need confirmation are confirmed in the dialog the workspace shows over every view.
import { useCallback, useEffect, useId, useMemo, useState } from 'react';
import {
  AGENT_CONFIRM_SECONDS_DEFAULT,
  AGENT_CONFIRM_SECONDS_MAX,
  AGENT_CONFIRM_SECONDS_MIN,
} from '../../../core/contract/app-api.ts';
import type { AgentIdentity, KeyVersionInfo } from '../../../core/contract/responses.ts';
import { describeError, kms } from '../api/bridge.ts';
import { listAllVersions } from '../api/key-versions.ts';
import { ErrorLine, useTask, type Failure } from '../components/common.tsx';
import { copyText } from '../lib/save.ts';
import { readAgentPrefs, useAgentStore } from '../stores/agent-store.ts';
import { useKeysStore } from '../stores/keys-store.ts';
import { useUiStore } from '../stores/ui-store.ts';

/** The path as one shell word (POSIX sh): quoted when it holds anything but plain path characters. */
export function shellWord(text: string): string {
  return /^[A-Za-z0-9_/.,:@%+=-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

export function AgentView() {
  return (
    <div className="agent-view stack">
      <AgentSwitchPanel />
      <AgentKeysPanel />
    </div>
  );
}

function AgentSwitchPanel() {
  const { status, busy, error, start, stop, refresh } = useAgentStore();
  const running = status?.Running === true;
  const prefs = useMemo(() => readAgentPrefs(), []);
  const [socket, setSocket] = useState(prefs.Socket ?? '');
  const [seconds, setSeconds] = useState(String(prefs.ConfirmTimeoutSeconds ?? AGENT_CONFIRM_SECONDS_DEFAULT));
  const id = useId();

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const secondsValue = Number(seconds);
  const secondsProblem =
    Number.isInteger(secondsValue) && secondsValue >= AGENT_CONFIRM_SECONDS_MIN && secondsValue <= AGENT_CONFIRM_SECONDS_MAX
      ? ''
      : `a whole number of seconds, ${AGENT_CONFIRM_SECONDS_MIN} to ${AGENT_CONFIRM_SECONDS_MAX}`;

  async function toggle(): Promise<void> {
    if (running) {
      if (await stop()) useUiStore.getState().notify('ok', 'The agent stopped: its socket is gone');
      return;
    }
    const trimmed = socket.trim();
    if (await start({ ...(trimmed !== '' ? { Socket: trimmed } : {}), ConfirmTimeoutSeconds: secondsValue })) {
      useUiStore.getState().notify('ok', 'The agent runs while this app does');
    }
  }

  const exportLine = status?.Socket !== undefined ? `export SSH_AUTH_SOCK=${shellWord(status.Socket)}` : undefined;

  return (
    <section className="panel stack" aria-labelledby={`${id}-title`}>
      <h1 id={`${id}-title`}>SSH agent</h1>
      <p className="muted hint">
        While it runs, <code>ssh</code>, <code>ssh-add -L</code>, <code>ssh-keygen -Y sign</code> and git with <code>gpg.format=ssh</code> use the keys below through
        its socket, and so do DeskKMS&apos;s own commands. Nothing is signed while the vault is locked; no private key leaves the vault.
      </p>
      <div className="row agent-switch-row">
        <button
          type="button"
          role="switch"
          aria-checked={running}
          aria-label="SSH agent"
          className={running ? 'switch on' : 'switch'}
          disabled={busy || (!running && secondsProblem !== '')}
          onClick={() => void toggle()}
          data-testid="agent-switch"
        >
          <span className="switch-track" aria-hidden="true">
            <span className="switch-thumb" />
          </span>
          <span>{running ? 'On' : 'Off'}</span>
        </button>
        <span className={running ? 'ok' : 'muted'} data-testid="agent-state">
          {busy ? 'Working…' : running ? 'The agent is running' : 'The agent is off'}
        </span>
      </div>
      <div className="agent-settings">
        <label htmlFor={`${id}-socket`}>
          Socket path
          <input
            id={`${id}-socket`}
            type="text"
            value={socket}
            placeholder="default"
            spellCheck={false}
            disabled={running || busy}
            onChange={(e) => setSocket(e.target.value)}
            aria-describedby={`${id}-socket-hint`}
          />
        </label>
        <label htmlFor={`${id}-seconds`}>
          Confirmation timeout (seconds)
          <input
            id={`${id}-seconds`}
            type="number"
            min={AGENT_CONFIRM_SECONDS_MIN}
            max={AGENT_CONFIRM_SECONDS_MAX}
            step={1}
            value={seconds}
            disabled={running || busy}
            onChange={(e) => setSeconds(e.target.value)}
            aria-invalid={secondsProblem !== ''}
          />
        </label>
      </div>
      <p id={`${id}-socket-hint`} className="muted hint">
        Empty: <code>$DESKKMS_AGENT_SOCK</code>, else <code>$XDG_RUNTIME_DIR/deskkms/agent.sock</code>, else a folder of yours in the temporary directory. Change
        them while the agent is off.
        {secondsProblem !== '' ? <span className="error"> The timeout must be {secondsProblem}.</span> : null}
      </p>
      {running && status?.Socket !== undefined && exportLine !== undefined ? (
        <dl className="facts" data-testid="agent-socket">
          <dt>Socket</dt>
          <dd>
            <code>{status.Socket}</code>
          </dd>
          <dt>In a shell</dt>
          <dd className="row">
            <code data-testid="agent-export">{exportLine}</code>
            <button
              type="button"
              onClick={() =>
                void copyText(exportLine).then((ok) =>
                  ok
                    ? useUiStore.getState().notify('ok', 'Copied: paste it in the shell that runs ssh or git')
                    : useUiStore.getState().notify('error', 'The clipboard refused the text: select it and copy it by hand'),
                )
              }
            >
              Copy
            </button>
          </dd>
          <dt>Confirmations</dt>
          <dd>refused after {status.ConfirmTimeoutSeconds} s unanswered</dd>
        </dl>
      ) : null}
      <ErrorLine error={error ?? (status?.Error ? { code: status.Error.Code, message: status.Error.Message } : undefined)} />
    </section>
  );
}

function identityName(identity: Pick<AgentIdentity, 'Aliases' | 'KeyId'>): string {
  return identity.Aliases[0] ?? identity.KeyId;
}

function AgentKeysPanel() {
  const [identities, setIdentities] = useState<readonly AgentIdentity[] | undefined>(undefined);
  const [loadError, setLoadError] = useState<Failure>(undefined);
  const change = useTask();
  const id = useId();

  const load = useCallback(async () => {
    try {
      const { Identities } = await kms('ListAgentIdentities', {});
      setIdentities(Identities);
      setLoadError(undefined);
    } catch (error) {
      setLoadError(describeError(error));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  async function setConfirm(identity: AgentIdentity, confirm: boolean): Promise<void> {
    // Shown at once; the list read afterwards says what the vault holds.
    setIdentities((list) => list?.map((i) => (i.KeyVersionId === identity.KeyVersionId ? { ...i, Confirm: confirm } : i)));
    const ok = await change.run(async () => {
      await kms('AddAgentIdentity', { KeyId: identity.KeyId, KeyVersionId: identity.KeyVersionId, Confirm: confirm });
    });
    if (ok) useUiStore.getState().notify('ok', confirm ? `${identityName(identity)}: each use needs your approval` : `${identityName(identity)}: signs without asking`);
    await load();
  }

  async function remove(identity: AgentIdentity): Promise<void> {
    const ok = await change.run(async () => {
      await kms('RemoveAgentIdentity', { KeyId: identity.KeyId, KeyVersionId: identity.KeyVersionId });
    });
    if (ok) useUiStore.getState().notify('ok', `${identityName(identity)} is no longer in the agent`);
    await load();
  }

  return (
    <section className="panel stack" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Keys in the agent</h2>
      {identities === undefined ? (
        loadError ? null : (
          <p className="muted">Loading…</p>
        )
      ) : identities.length === 0 ? (
        <p className="muted" data-testid="agent-no-keys">
          No key yet: add a signing key below.
        </p>
      ) : (
        <table className="agent-keys" data-testid="agent-keys">
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Spec</th>
              <th scope="col">Version</th>
              <th scope="col">SSH fingerprint</th>
              <th scope="col">Confirm each use</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {identities.map((identity) => {
              const name = identityName(identity);
              return (
                <tr key={identity.KeyVersionId} data-testid="agent-key">
                  <td>
                    {identity.Aliases.length > 0 ? identity.Aliases.join(', ') : <code>{identity.KeyId}</code>}
                    {identity.KeyState !== 'Enabled' ? <span className={`badge ${identity.KeyState}`}> {identity.KeyState}</span> : null}
                  </td>
                  <td>{identity.KeySpec}</td>
                  <td>
                    <code title={identity.KeyVersionId}>{identity.KeyVersionId}</code>
                  </td>
                  <td>{identity.SshFingerprint !== undefined ? <code>{identity.SshFingerprint}</code> : <span className="muted">no SSH key type: DeskKMS commands only</span>}</td>
                  <td>
                    <input
                      type="checkbox"
                      checked={identity.Confirm}
                      disabled={change.busy}
                      aria-label={`Confirm each use of ${name}`}
                      onChange={(e) => void setConfirm(identity, e.target.checked)}
                    />
                  </td>
                  <td>
                    <button type="button" className="danger" disabled={change.busy} aria-label={`Remove ${name} from the agent`} onClick={() => void remove(identity)}>
                      Remove
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <ErrorLine error={loadError ?? change.error} />
      <AddToAgent onAdded={load} />
    </section>
  );
}

function AddToAgent({ onAdded }: { onAdded: () => Promise<void> }) {
  const { keys, loading, error: keysError, load } = useKeysStore();
  const candidates = useMemo(() => keys.filter((k) => k.KeyUsage === 'SIGN/VERIFY' && k.KeyState === 'Enabled'), [keys]);
  const [keyId, setKeyId] = useState('');
  const [versions, setVersions] = useState<readonly KeyVersionInfo[]>([]);
  const [versionId, setVersionId] = useState('');
  const [versionsError, setVersionsError] = useState<Failure>(undefined);
  const [confirm, setConfirm] = useState(true);
  const add = useTask();
  const id = useId();

  useEffect(() => {
    void load();
  }, [load]);

  const key = candidates.find((k) => k.KeyId === keyId);
  useEffect(() => {
    if (!key && candidates.length > 0) setKeyId(candidates[0]!.KeyId);
  }, [key, candidates]);

  useEffect(() => {
    setVersions([]);
    setVersionId('');
    setVersionsError(undefined);
    if (!keyId) return;
    let live = true;
    listAllVersions(keyId).then(
      (all) => {
        if (!live) return;
        const newestFirst = all.reverse();
        setVersions(newestFirst);
        setVersionId(newestFirst[0]?.KeyVersionId ?? '');
      },
      (error: unknown) => live && setVersionsError(describeError(error)),
    );
    return () => {
      live = false;
    };
  }, [keyId]);

  async function submit(): Promise<void> {
    if (!key || !versionId) return;
    const ok = await add.run(async () => {
      await kms('AddAgentIdentity', { KeyId: key.KeyId, KeyVersionId: versionId, Confirm: confirm });
    });
    if (ok) {
      useUiStore.getState().notify('ok', `${key.Aliases[0] ?? key.KeyId} is in the agent${confirm ? ': each use needs your approval' : ''}`);
      await onAdded();
    }
  }

  return (
    <form
      className="agent-add"
      aria-labelledby={`${id}-title`}
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h3 id={`${id}-title`}>Add to agent</h3>
      <div className="agent-add-grid">
        <label htmlFor={`${id}-key`}>
          Key to add
          <select id={`${id}-key`} value={keyId} onChange={(e) => setKeyId(e.target.value)} disabled={candidates.length === 0 || add.busy}>
            {candidates.length === 0 ? <option value="">{loading ? 'Loading keys…' : 'No enabled signing key — create one in Keys'}</option> : null}
            {candidates.map((k) => (
              <option key={k.KeyId} value={k.KeyId}>
                {k.Aliases[0] ?? k.KeyId} — {k.KeySpec}
              </option>
            ))}
          </select>
        </label>
        <label htmlFor={`${id}-version`}>
          Key version to add
          <select id={`${id}-version`} value={versionId} onChange={(e) => setVersionId(e.target.value)} disabled={versions.length === 0 || add.busy}>
            {versions.length === 0 ? <option value="">No version</option> : null}
            {versions.map((v, i) => (
              <option key={v.KeyVersionId} value={v.KeyVersionId}>
                {v.KeyVersionId} — {v.CreationDate}
                {i === 0 ? ' (newest)' : ''}
              </option>
            ))}
          </select>
        </label>
        <label className="choice">
          <input type="checkbox" checked={confirm} onChange={(e) => setConfirm(e.target.checked)} disabled={add.busy} />
          Confirm each use in this window
        </label>
        <button type="submit" className="primary" disabled={!key || !versionId || add.busy}>
          Add to agent
        </button>
      </div>
      <ErrorLine error={keysError ?? versionsError ?? add.error} />
    </form>
  );
}
