// Air gap (issue 15): this vault as the station of signing requests made online. Import a request
// (file, pasted text, camera), review it on the approval screen, approve (the response to carry
// back: a file, animated QR codes, their text) or reject (nothing signed).
import { ApprovalScreen } from '../components/airgap/ApprovalScreen.tsx';
import { RequestImport } from '../components/airgap/RequestImport.tsx';
import { ResponsePanel } from '../components/airgap/ResponsePanel.tsx';
import { useAirGapStore } from '../stores/airgap-store.ts';
import { useUiStore } from '../stores/ui-store.ts';

export function AirGapView() {
  const { phase, review, approved, windowHours, busy, error, load, setWindow, approve, reject, reset } = useAirGapStore();

  if (phase === 'approved' && approved) {
    return (
      <div className="airgap-view stack">
        <ResponsePanel approved={approved} onDone={reset} />
      </div>
    );
  }
  if (phase === 'rejected' && review) {
    return (
      <div className="airgap-view stack">
        <section className="panel stack" aria-labelledby="airgap-rejected-title" data-testid="airgap-rejected">
          <h1 id="airgap-rejected-title">Rejected: nothing was signed</h1>
          <p>
            Request <code>{review.RequestId}</code> was rejected; the audit log records it. Tell the requester: no response comes back for it.
          </p>
          <div className="row">
            <button type="button" onClick={reset}>
              Review another request
            </button>
          </div>
        </section>
      </div>
    );
  }
  if (phase === 'review' && review) {
    return (
      <div className="airgap-view stack">
        <ApprovalScreen
          review={review}
          windowHours={windowHours}
          busy={busy}
          error={error}
          onWindow={(hours) => void setWindow(hours)}
          onApprove={() =>
            void approve().then((ok) => {
              if (ok) useUiStore.getState().notify('ok', 'Approved and signed: carry the response back');
            })
          }
          onReject={reject}
          onCancel={reset}
        />
      </div>
    );
  }
  return (
    <div className="airgap-view stack">
      <RequestImport busy={busy} error={error} onText={load} />
    </div>
  );
}
