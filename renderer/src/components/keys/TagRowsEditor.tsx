// Editable tag rows (TagKey / TagValue) for the Create key dialog.
import { TAG_KEY_MAX, TAG_VALUE_MAX } from '../../../../core/contract/actions.ts';

export interface TagDraft {
  readonly id: number;
  readonly TagKey: string;
  readonly TagValue: string;
}

let nextId = 1;

/** The rows with a key, trimmed, as the API takes them. */
export function cleanTags(tags: readonly TagDraft[]): { TagKey: string; TagValue: string }[] {
  return tags.filter((t) => t.TagKey.trim() !== '').map((t) => ({ TagKey: t.TagKey.trim(), TagValue: t.TagValue }));
}

/** "" when the rows are acceptable, else the first problem (the vault checks again). */
export function tagProblem(tags: readonly TagDraft[]): string {
  const keys = cleanTags(tags).map((t) => t.TagKey);
  const repeated = keys.find((k, i) => keys.indexOf(k) !== i);
  if (repeated !== undefined) return `Tag ${repeated} appears twice`;
  if (tags.some((t) => t.TagKey.trim() === '' && t.TagValue !== '')) return 'A tag has a value but no key';
  return '';
}

export function TagRowsEditor({
  tags,
  onChange,
  max,
  disabled,
}: {
  tags: readonly TagDraft[];
  onChange: (tags: TagDraft[]) => void;
  max: number;
  disabled?: boolean;
}) {
  function update(id: number, field: 'TagKey' | 'TagValue', value: string) {
    onChange(tags.map((t) => (t.id === id ? { ...t, [field]: value } : t)));
  }
  return (
    <fieldset className="tag-rows">
      <legend>Tags</legend>
      {tags.length === 0 ? <p className="muted hint">No tags.</p> : null}
      {tags.map((t, i) => (
        <div className="row" key={t.id}>
          <input
            type="text"
            aria-label={`Tag key ${i + 1}`}
            placeholder="key"
            maxLength={TAG_KEY_MAX}
            value={t.TagKey}
            onChange={(e) => update(t.id, 'TagKey', e.target.value)}
            disabled={disabled}
          />
          <input
            type="text"
            aria-label={`Tag value ${i + 1}`}
            placeholder="value"
            maxLength={TAG_VALUE_MAX}
            value={t.TagValue}
            onChange={(e) => update(t.id, 'TagValue', e.target.value)}
            disabled={disabled}
          />
          <button type="button" aria-label={`Remove tag ${i + 1}`} onClick={() => onChange(tags.filter((x) => x.id !== t.id))} disabled={disabled}>
            Remove
          </button>
        </div>
      ))}
      <div>
        <button
          type="button"
          onClick={() => onChange([...tags, { id: nextId++, TagKey: '', TagValue: '' }])}
          disabled={disabled || tags.length >= max}
        >
          Add tag
        </button>
      </div>
    </fieldset>
  );
}
