// A button that copies one value (a KeyId, an Arn, a KeyVersionId) to the clipboard: named
// "Copy <what>" for assistive technology, and a polite status that says "Copied" (or that the
// clipboard refused) next to it, announced without moving focus.
import { useEffect, useId, useState } from 'react';
import { copyText } from '../lib/save.ts';

/** How long the confirmation stays shown. */
const CONFIRM_MS = 2500;

export function CopyButton({ text, what, disabled }: { text: string; what: string; disabled?: boolean }) {
  const [outcome, setOutcome] = useState<{ ok: boolean; n: number } | undefined>(undefined);
  const statusId = useId();

  useEffect(() => {
    if (!outcome) return;
    const timer = setTimeout(() => setOutcome(undefined), CONFIRM_MS);
    return () => clearTimeout(timer);
  }, [outcome]);

  async function copy() {
    const ok = await copyText(text);
    setOutcome((o) => ({ ok, n: (o?.n ?? 0) + 1 }));
  }

  return (
    <span className="copy-button" style={{ display: 'inline-flex', gap: 6, alignItems: 'center', marginLeft: 8 }}>
      <button type="button" aria-label={`Copy ${what}`} aria-describedby={statusId} disabled={disabled === true} onClick={() => void copy()}>
        Copy
      </button>
      <span id={statusId} role="status" aria-live="polite" className={outcome?.ok === false ? 'error' : 'muted'}>
        {outcome ? (outcome.ok ? `Copied ${what}` : `The clipboard refused the ${what}: select and copy it instead`) : ''}
      </span>
    </span>
  );
}
