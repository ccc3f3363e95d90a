// Chooses what a cryptographic call names: a key (from the inventory, filtered by usage), one of
// its versions (newest first) and an algorithm the key's spec and usage allow. Reports the full
// choice, or undefined while it is incomplete.
import { useEffect, useId, useMemo, useState } from 'react';
import type { KeySummary } from '../../../core/contract/app-api.ts';
import { isKeySpec, isSymmetricSpec, type Algorithm, type KeyUsage } from '../../../core/contract/specs.ts';
import { describeError } from '../api/bridge.ts';
import { listAllVersions } from '../api/key-versions.ts';
import type { KeyVersionInfo } from '../../../core/contract/responses.ts';
import { algorithmOptions } from '../spec-options.ts';
import { useKeysStore } from '../stores/keys-store.ts';
import { ErrorLine } from './common.tsx';

export interface KeyVersionChoice {
  readonly key: KeySummary;
  readonly KeyId: string;
  readonly KeyVersionId: string;
  readonly Algorithm: Algorithm;
  /** Encryption algorithms: the largest plaintext in bytes. */
  readonly maxPlaintextBytes?: number;
}

const USAGE: Record<'sign' | 'encrypt', KeyUsage> = { sign: 'SIGN/VERIFY', encrypt: 'ENCRYPT/DECRYPT' };

export function keyLabel(key: KeySummary): string {
  const name = key.Aliases[0] ?? key.KeyId;
  return `${name} — ${key.KeySpec} · ${key.KeyUsage} · ${key.KeyState}`;
}

/** Every version of a key, newest first. */
async function versionsNewestFirst(keyId: string): Promise<KeyVersionInfo[]> {
  const all = await listAllVersions(keyId);
  // Listed oldest first; dates have one-second resolution, so reverse before a stable sort.
  return all.reverse().sort((a, b) => Date.parse(b.CreationDate) - Date.parse(a.CreationDate));
}

export function KeyVersionPicker({
  purpose,
  onChange,
  disabled,
}: {
  purpose: 'sign' | 'encrypt';
  onChange: (choice: KeyVersionChoice | undefined) => void;
  /** While an operation runs on the current choice. */
  disabled?: boolean;
}) {
  const usage = USAGE[purpose];
  const { keys, loading, error: keysError, load, selectedKeyId } = useKeysStore();
  // Symmetric keys have no versions to pick or algorithms: the Encrypt view's own panel takes them.
  const candidates = useMemo(() => keys.filter((k) => k.KeyUsage === usage && !(isKeySpec(k.KeySpec) && isSymmetricSpec(k.KeySpec))), [keys, usage]);
  const [keyId, setKeyId] = useState<string>('');
  const [versions, setVersions] = useState<readonly KeyVersionInfo[]>([]);
  const [versionsLoading, setVersionsLoading] = useState(false);
  const [versionsError, setVersionsError] = useState<{ code: string; message: string } | undefined>();
  const [versionId, setVersionId] = useState('');
  const [algorithm, setAlgorithm] = useState<Algorithm | ''>('');
  const id = useId();

  // The inventory is read fresh when the panel opens: states change in the Keys view.
  useEffect(() => {
    void load();
  }, [load]);

  // Default key: the one selected in the Keys view if it fits, else the first candidate.
  const key = candidates.find((k) => k.KeyId === keyId);
  useEffect(() => {
    if (key || candidates.length === 0) return;
    const preferred = candidates.find((k) => k.KeyId === selectedKeyId) ?? candidates[0]!;
    setKeyId(preferred.KeyId);
  }, [key, candidates, selectedKeyId]);

  useEffect(() => {
    setVersions([]);
    setVersionId('');
    setVersionsError(undefined);
    if (!keyId) return;
    let live = true;
    setVersionsLoading(true);
    versionsNewestFirst(keyId).then(
      (list) => {
        if (!live) return;
        setVersions(list);
        setVersionId(list[0]?.KeyVersionId ?? '');
        setVersionsLoading(false);
      },
      (error: unknown) => {
        if (!live) return;
        setVersionsError(describeError(error));
        setVersionsLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [keyId]);

  const options = useMemo(() => (key ? algorithmOptions(key.KeySpec, key.KeyUsage) : []), [key]);
  useEffect(() => {
    if (!options.some((o) => o.algorithm === algorithm)) setAlgorithm(options[0]?.algorithm ?? '');
  }, [options, algorithm]);

  const option = options.find((o) => o.algorithm === algorithm);
  const choice = useMemo<KeyVersionChoice | undefined>(
    () =>
      key && versionId && option
        ? {
            key,
            KeyId: key.KeyId,
            KeyVersionId: versionId,
            Algorithm: option.algorithm,
            ...(option.maxPlaintextBytes !== undefined ? { maxPlaintextBytes: option.maxPlaintextBytes } : {}),
          }
        : undefined,
    [key, versionId, option],
  );
  useEffect(() => onChange(choice), [choice, onChange]);

  return (
    <fieldset className="key-picker" disabled={disabled}>
      <legend>{purpose === 'sign' ? 'Signing key' : 'Encryption key'}</legend>
      <div className="picker-grid">
        <div className="field">
          <label htmlFor={`${id}-key`}>Key</label>
          <select id={`${id}-key`} value={keyId} onChange={(e) => setKeyId(e.target.value)} disabled={candidates.length === 0}>
            {candidates.length === 0 ? <option value="">{loading ? 'Loading keys…' : `No ${usage} keys — create one in Keys`}</option> : null}
            {candidates.map((k) => (
              <option key={k.KeyId} value={k.KeyId}>
                {keyLabel(k)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-version`}>Version</label>
          <select id={`${id}-version`} value={versionId} onChange={(e) => setVersionId(e.target.value)} disabled={versions.length === 0}>
            {versions.length === 0 ? <option value="">{versionsLoading ? 'Loading versions…' : 'No version'}</option> : null}
            {versions.map((v, i) => (
              <option key={v.KeyVersionId} value={v.KeyVersionId}>
                {v.KeyVersionId} — {v.CreationDate}
                {i === 0 ? ' (newest)' : ''}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-algorithm`}>Algorithm</label>
          <select id={`${id}-algorithm`} value={algorithm} onChange={(e) => setAlgorithm(e.target.value as Algorithm)} disabled={options.length === 0}>
            {options.map((o) => (
              <option key={o.algorithm} value={o.algorithm}>
                {o.label}
              </option>
            ))}
          </select>
        </div>
        <button type="button" className="picker-reload" onClick={() => void load()} disabled={loading}>
          Reload keys
        </button>
      </div>
      {key ? (
        <p className="muted picker-facts" data-testid="picker-facts">
          <span className={`badge ${key.KeyState}`}>{key.KeyState}</span> {key.KeySpec} · {key.KeyUsage} · <code>{key.KeyId}</code>
          {key.Aliases.length > 0 ? ` · ${key.Aliases.join(', ')}` : ''}
        </p>
      ) : null}
      <ErrorLine error={keysError ?? versionsError} />
    </fieldset>
  );
}
