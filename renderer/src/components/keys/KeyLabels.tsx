// A key's aliases (CreateAlias / DeleteAlias) and tags (TagResource / UntagResource), read from the
// inventory the store holds (reloaded after each change).
import { useState, type FormEvent } from 'react';
import type { KeySummary } from '../../../../core/contract/app-api.ts';
import { kms } from '../../api/bridge.ts';
import { ErrorLine } from '../common.tsx';
import { useKeysStore } from '../../stores/keys-store.ts';
import { aliasProblem } from './alias.ts';
import { useKmsAction } from './use-kms-action.ts';

export function KeyAliases({ keySummary }: { keySummary: KeySummary }) {
  const keys = useKeysStore((s) => s.keys);
  const [alias, setAlias] = useState('');
  const action = useKmsAction();
  const issue = aliasProblem(alias.trim(), (a) => keys.some((k) => k.Aliases.includes(a)));

  async function add(event: FormEvent) {
    event.preventDefault();
    const name = alias.trim();
    if (!name || issue) return;
    if (await action.run('Add alias', () => kms('CreateAlias', { KeyId: keySummary.KeyId, AliasName: name }), `Alias ${name} added`)) setAlias('');
  }

  return (
    <section className="stack" aria-labelledby="key-aliases-title">
      <h3 id="key-aliases-title">Aliases</h3>
      {keySummary.Aliases.length === 0 ? <p className="muted">No aliases.</p> : null}
      <ul className="plain-list">
        {keySummary.Aliases.map((a) => (
          <li key={a} className="row">
            <code>{a}</code>
            <button
              type="button"
              aria-label={`Remove alias ${a}`}
              disabled={action.busy !== undefined}
              onClick={() => void action.run('Remove alias', () => kms('DeleteAlias', { AliasName: a }), `Alias ${a} removed`)}
            >
              Remove
            </button>
          </li>
        ))}
      </ul>
      <form className="row" onSubmit={(e) => void add(e)}>
        <input type="text" aria-label="New alias" placeholder="alias/…" value={alias} onChange={(e) => setAlias(e.target.value)} aria-invalid={issue !== ''} />
        <button type="submit" disabled={!alias.trim() || issue !== '' || action.busy !== undefined}>
          Add alias
        </button>
      </form>
      {issue ? <p className="error">{issue}</p> : null}
      <ErrorLine error={action.error} />
    </section>
  );
}

export function KeyTags({ keySummary }: { keySummary: KeySummary }) {
  const [tagKey, setTagKey] = useState('');
  const [tagValue, setTagValue] = useState('');
  const action = useKmsAction();
  const replacing = keySummary.Tags.some((t) => t.TagKey === tagKey.trim());

  async function add(event: FormEvent) {
    event.preventDefault();
    const name = tagKey.trim();
    if (!name) return;
    const done = await action.run(
      'Add tag',
      () => kms('TagResource', { KeyId: keySummary.KeyId, Tags: [{ TagKey: name, TagValue: tagValue }] }),
      `Tag ${name} ${replacing ? 'updated' : 'added'}`,
    );
    if (done) {
      setTagKey('');
      setTagValue('');
    }
  }

  return (
    <section className="stack" aria-labelledby="key-tags-title">
      <h3 id="key-tags-title">Tags</h3>
      {keySummary.Tags.length === 0 ? (
        <p className="muted">No tags.</p>
      ) : (
        <table className="tags-table">
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Value</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keySummary.Tags.map((t) => (
              <tr key={t.TagKey}>
                <td>
                  <code>{t.TagKey}</code>
                </td>
                <td>{t.TagValue}</td>
                <td>
                  <button
                    type="button"
                    aria-label={`Remove tag ${t.TagKey}`}
                    disabled={action.busy !== undefined}
                    onClick={() =>
                      void action.run('Remove tag', () => kms('UntagResource', { KeyId: keySummary.KeyId, TagKeys: [t.TagKey] }), `Tag ${t.TagKey} removed`)
                    }
                  >
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="row" onSubmit={(e) => void add(e)}>
        <input type="text" aria-label="New tag key" placeholder="key" value={tagKey} onChange={(e) => setTagKey(e.target.value)} />
        <input type="text" aria-label="New tag value" placeholder="value" value={tagValue} onChange={(e) => setTagValue(e.target.value)} />
        <button type="submit" disabled={!tagKey.trim() || action.busy !== undefined}>
          {replacing ? 'Update tag' : 'Add tag'}
        </button>
      </form>
      <ErrorLine error={action.error} />
    </section>
  );
}
