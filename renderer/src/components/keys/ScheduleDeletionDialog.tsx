// Schedule deletion: asks for the pending window (7-366 days, default 30) and shows the date the
// key would be deleted on before the user commits.
import { useState, type FormEvent } from 'react';
import { Dialog } from '../common.tsx';
import { formatUtc } from './format.ts';

export const PENDING_MIN = 7;
export const PENDING_MAX = 366;
export const PENDING_DEFAULT = 30;

export function ScheduleDeletionDialog({
  open,
  keyName,
  onClose,
  onConfirm,
}: {
  open: boolean;
  keyName: string;
  onClose: () => void;
  onConfirm: (days: number) => void;
}) {
  return (
    <Dialog title="Schedule key deletion" open={open} onClose={onClose} testId="schedule-deletion-dialog">
      <ScheduleForm keyName={keyName} onClose={onClose} onConfirm={onConfirm} />
    </Dialog>
  );
}

function ScheduleForm({ keyName, onClose, onConfirm }: { keyName: string; onClose: () => void; onConfirm: (days: number) => void }) {
  const [days, setDays] = useState(String(PENDING_DEFAULT));
  const n = Number(days);
  const valid = /^\d+$/.test(days) && n >= PENDING_MIN && n <= PENDING_MAX;
  const due = valid ? new Date(Date.now() + n * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z') : '';

  function submit(event: FormEvent) {
    event.preventDefault();
    if (valid) onConfirm(n);
  }

  return (
    <form className="stack" onSubmit={submit}>
      <p>
        <strong>{keyName}</strong> and all its versions will be deleted for good when the window ends. Until then it can be
        recovered with Cancel deletion; no operation can use it meanwhile.
      </p>
      <label>
        Pending window (days, {PENDING_MIN}–{PENDING_MAX})
        <input type="number" min={PENDING_MIN} max={PENDING_MAX} step={1} value={days} onChange={(e) => setDays(e.target.value)} aria-invalid={!valid} />
      </label>
      <p className={valid ? 'muted' : 'error'} role="status">
        {valid ? `Deletion due on about ${formatUtc(due)}.` : `Enter a whole number of days from ${PENDING_MIN} to ${PENDING_MAX}.`}
      </p>
      <div className="row">
        <button type="submit" className="danger" disabled={!valid}>
          Schedule deletion
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}
