// Create key: spec, usage (only those the specs table allows for the spec), optional alias,
// description, tags and Exportable (immutable). Generation runs in the vault's key worker; RSA_4096
// takes seconds, so the dialog shows the time elapsed and the window stays usable (the dialog may
// even be closed: the key still arrives, is selected and announced).
import { useState, type FormEvent } from 'react';
import { MAX_TAGS_PER_KEY } from '../../../../core/contract/actions.ts';
import type { KeyOrigin } from '../../../../core/contract/key-import.ts';
import { isSymmetricSpec, type KeySpec, type KeyUsage } from '../../../../core/contract/specs.ts';
import { describeError, kms } from '../../api/bridge.ts';
import { Dialog, ErrorLine, ProgressBar, useElapsed } from '../common.tsx';
import { specOptions } from '../../spec-options.ts';
import { OriginChoice } from '../transfer/OriginChoice.tsx';
import { useKeysStore } from '../../stores/keys-store.ts';
import { useUiStore } from '../../stores/ui-store.ts';
import { aliasProblem } from './alias.ts';
import { TagRowsEditor, cleanTags, tagProblem, type TagDraft } from './TagRowsEditor.tsx';

const SPECS = specOptions();

export function CreateKeyDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  return (
    <Dialog title="Create key" open={open} onClose={onClose} testId="create-key-dialog">
      <CreateKeyForm onDone={onClose} />
    </Dialog>
  );
}

function CreateKeyForm({ onDone }: { onDone: () => void }) {
  const keys = useKeysStore((s) => s.keys);
  const [spec, setSpec] = useState<KeySpec>('EC_P256');
  const [usage, setUsage] = useState<KeyUsage>(SPECS.find((s) => s.spec === 'EC_P256')!.defaultUsage);
  const [alias, setAlias] = useState('');
  const [description, setDescription] = useState('');
  const [tags, setTags] = useState<TagDraft[]>([]);
  const [exportable, setExportable] = useState(false);
  const [origin, setOrigin] = useState<KeyOrigin>('Aliyun_KMS');
  // Symmetric keys made here may rotate on their own (a new primary version every N days, 7-365).
  const [rotate, setRotate] = useState(false);
  const [rotationDays, setRotationDays] = useState('365');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ code: string; message: string } | undefined>(undefined);
  const elapsed = useElapsed(busy);

  const usages = SPECS.find((s) => s.spec === spec)!.usages;
  const symmetric = isSymmetricSpec(spec);
  const canRotate = symmetric && origin === 'Aliyun_KMS';
  const days = Number(rotationDays);
  const rotationIssue = canRotate && rotate && !(/^\d{1,3}$/.test(rotationDays) && days >= 7 && days <= 365) ? 'The rotation interval is 7 to 365 days.' : '';
  const aliasIssue = aliasProblem(alias.trim(), (a) => keys.some((k) => k.Aliases.includes(a)));
  const tagIssue = tagProblem(tags);

  function chooseSpec(next: KeySpec) {
    setSpec(next);
    const option = SPECS.find((s) => s.spec === next)!;
    if (!option.usages.includes(usage)) setUsage(option.defaultUsage);
    if (isSymmetricSpec(next) && origin === 'EXTERNAL_PUBLIC_KEY') setOrigin('Aliyun_KMS');
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy || aliasIssue || tagIssue || rotationIssue) return;
    const aliasName = alias.trim();
    setBusy(true);
    setError(undefined);
    const { notify } = useUiStore.getState();
    const store = useKeysStore.getState();
    let keyId: string;
    try {
      const cleaned = cleanTags(tags);
      const created = await kms('CreateKey', {
        KeySpec: spec,
        KeyUsage: usage,
        Description: description,
        Exportable: exportable && origin === 'Aliyun_KMS' && !symmetric,
        Origin: origin,
        ...(canRotate && rotate ? { EnableAutomaticRotation: true, RotationInterval: `${days}d` } : {}),
        ...(cleaned.length > 0 ? { Tags: cleaned } : {}),
      });
      keyId = created.KeyMetadata.KeyId;
    } catch (err) {
      setBusy(false);
      setError(describeError(err));
      return;
    }
    let aliasError: { code: string; message: string } | undefined;
    if (aliasName) {
      try {
        await kms('CreateAlias', { KeyId: keyId, AliasName: aliasName });
      } catch (err) {
        aliasError = describeError(err);
      }
    }
    await store.load();
    store.select(keyId);
    setBusy(false);
    notify('ok', `Created ${spec} ${usage} key ${aliasName && !aliasError ? aliasName : keyId}`);
    if (aliasError) notify('error', `The key was created, but the alias ${aliasName} was refused: ${aliasError.message}`, aliasError.code);
    onDone();
  }

  return (
    <form className="stack create-key-form" onSubmit={(e) => void submit(e)}>
      <div className="row">
        <label>
          Key spec
          <select value={spec} onChange={(e) => chooseSpec(e.target.value as KeySpec)} disabled={busy}>
            {SPECS.map((s) => (
              <option key={s.spec} value={s.spec}>
                {s.spec}
              </option>
            ))}
          </select>
        </label>
        <label>
          Key usage
          <select value={usage} onChange={(e) => setUsage(e.target.value as KeyUsage)} disabled={busy}>
            {usages.map((u) => (
              <option key={u} value={u}>
                {u}
              </option>
            ))}
          </select>
        </label>
      </div>
      <label>
        Alias (optional)
        <input
          type="text"
          placeholder="alias/release-signing"
          value={alias}
          onChange={(e) => setAlias(e.target.value)}
          aria-invalid={aliasIssue !== ''}
          aria-describedby="create-key-alias-issue"
          disabled={busy}
        />
      </label>
      <p id="create-key-alias-issue" className={aliasIssue ? 'error' : 'muted hint'}>
        {aliasIssue || 'Starts with "alias/"; letters, digits and : / _ - only.'}
      </p>
      <label>
        Description
        <textarea className="short" value={description} onChange={(e) => setDescription(e.target.value)} disabled={busy} />
      </label>
      <TagRowsEditor tags={tags} onChange={setTags} max={MAX_TAGS_PER_KEY} disabled={busy} />
      {tagIssue ? <p className="error">{tagIssue}</p> : null}
      <OriginChoice value={origin} onChange={setOrigin} disabled={busy} symmetric={symmetric} />
      {symmetric ? (
        <fieldset className="rotation-choice">
          <legend>Automatic rotation</legend>
          <label className="choice">
            <input type="checkbox" checked={canRotate && rotate} onChange={(e) => setRotate(e.target.checked)} disabled={busy || !canRotate} />
            <span>Rotate automatically: a new primary version every</span>
          </label>
          <label>
            Days
            <input type="text" inputMode="numeric" className="short-number" value={rotationDays} onChange={(e) => setRotationDays(e.target.value)} disabled={busy || !canRotate || !rotate} aria-invalid={rotationIssue !== ''} />
          </label>
          <p className={rotationIssue ? 'error' : 'muted hint'}>
            {rotationIssue || (canRotate ? 'Old versions keep decrypting what they encrypted. 7 to 365 days.' : 'Imported keys do not rotate automatically.')}
          </p>
        </fieldset>
      ) : null}
      <label className="choice">
        <input type="checkbox" checked={exportable && origin === 'Aliyun_KMS' && !symmetric} onChange={(e) => setExportable(e.target.checked)} disabled={busy || origin !== 'Aliyun_KMS' || symmetric} />
        <span>Exportable — its versions can be exported, encrypted under a passphrase</span>
      </label>
      <p className={exportable ? 'warning' : 'muted hint'} role="note">
        Exportable is fixed when the key is created: it cannot be turned on or off later.
      </p>
      <div className="row">
        <button type="submit" className="primary" disabled={busy || aliasIssue !== '' || tagIssue !== '' || rotationIssue !== ''}>
          Create key
        </button>
        <button type="button" onClick={onDone}>
          {busy ? 'Close (keeps generating)' : 'Cancel'}
        </button>
      </div>
      {busy ? <ProgressBar label={`Generating the ${spec} ${symmetric ? 'key' : 'key pair'}: ${elapsed.toFixed(1)} s`} /> : null}
      <ErrorLine error={error} />
    </form>
  );
}
