// Notices: what just happened, success or failure (with the vault's Code), dismissable. They take
// their own strip of the window (under the workspace, styles.css), so they never cover a control.
// Successes sit in a polite live region that is always there (screen readers read additions to
// it) and go away by themselves (ui-store.ts), held while the pointer is over the notices or focus
// is in them; errors are alerts of their own (read at once) and stay until dismissed.
import { useEffect, useRef, type FocusEvent } from 'react';
import { useUiStore, type Notice } from '../stores/ui-store.ts';

function NoticeItem({ notice }: { notice: Notice }) {
  const dismiss = useUiStore((s) => s.dismiss);
  return (
    <div className={`notice notice-${notice.kind}`} role={notice.kind === 'error' ? 'alert' : 'status'} data-testid="notice">
      {notice.code ? <code className="error-code">{notice.code}</code> : null}
      <span>{notice.text}</span>
      <button type="button" className="icon" aria-label="Dismiss" onClick={() => dismiss(notice.id)}>
        ×
      </button>
    </div>
  );
}

export function Notices() {
  const notices = useUiStore((s) => s.notices);
  const hold = useUiStore((s) => s.hold);
  const region = useRef<HTMLDivElement>(null);
  const errors = notices.filter((n) => n.kind === 'error');
  const successes = notices.filter((n) => n.kind === 'ok');

  // A dismissed notice takes its focused button with it, and React sends no blur for a removed
  // element: once focus is no longer inside, the focus hold ends. The last one gone (dismissed
  // under the pointer), the hover hold ends too.
  useEffect(() => {
    if (!region.current?.contains(document.activeElement)) hold('focus', false);
    if (notices.length === 0) hold('hover', false);
  }, [notices, hold]);

  function onBlur(event: FocusEvent) {
    if (!region.current?.contains(event.relatedTarget)) hold('focus', false);
  }

  return (
    <div
      ref={region}
      className={notices.length > 0 ? 'notices' : 'notices empty'}
      data-testid="notices"
      onMouseEnter={() => hold('hover', true)}
      onMouseLeave={() => hold('hover', false)}
      onFocus={() => hold('focus', true)}
      onBlur={onBlur}
    >
      <div className="notice-stack">
        {errors.map((n) => (
          <NoticeItem key={n.id} notice={n} />
        ))}
      </div>
      <div className="notice-stack" aria-live="polite">
        {successes.map((n) => (
          <NoticeItem key={n.id} notice={n} />
        ))}
      </div>
    </div>
  );
}
