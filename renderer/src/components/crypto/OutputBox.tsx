// A base64 result (signature, ciphertext, plaintext) shown read-only with Copy and Save buttons.
import { useId, type ReactNode } from 'react';
import { copyText, saveFile } from '../../lib/save.ts';
import { useUiStore } from '../../stores/ui-store.ts';

export interface SaveChoice {
  /** Button text, e.g. "Save .sig (binary)". */
  readonly label: string;
  readonly fileName: string;
  readonly content: () => string | Uint8Array;
  readonly type?: string;
}

export function OutputBox({
  label,
  value,
  saves,
  testId,
  children,
  shown,
}: {
  label: string;
  value: string;
  saves: readonly SaveChoice[];
  testId?: string;
  children?: ReactNode;
  /** What the box shows when it is not the whole value (the start of a large file); Copy copies the whole value. */
  shown?: string;
}) {
  const id = useId();
  const notify = useUiStore((s) => s.notify);
  return (
    <div className="stack output-box">
      <label htmlFor={id}>{label}</label>
      <textarea id={id} className="mono" readOnly value={shown ?? value} data-testid={testId} rows={4} />
      {children}
      <div className="row">
        <button
          type="button"
          onClick={() =>
            void copyText(value).then((ok) =>
              ok ? notify('ok', `${label} copied`) : notify('error', 'The clipboard refused the copy: select the text and copy it by hand'),
            )
          }
        >
          Copy {label.toLowerCase()}
        </button>
        {saves.map((s) => (
          <button key={s.label} type="button" onClick={() => saveFile(s.fileName, s.content(), s.type)}>
            {s.label}
          </button>
        ))}
      </div>
    </div>
  );
}
