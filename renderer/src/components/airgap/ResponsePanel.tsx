// After approval: the response to carry back to the online machine, as a file (Save), as QR codes
// (one, or an animated sequence a camera reads in any order: each is a BC-UR part; Pause stops on
// a frame) and as the codes' text (Copy: what a QR scanner would type).
import { useEffect, useId, useState } from 'react';
import type { RequestApprovedView } from '../../../../core/contract/app-api.ts';
import { copyText, saveFile } from '../../lib/save.ts';
import { useUiStore } from '../../stores/ui-store.ts';
import { humanSize } from './describe.ts';

/** How long each QR code stays on screen. */
export const FRAME_MS = 300;

export function AnimatedQr({ pngs, label }: { pngs: readonly string[]; label: string }) {
  const [index, setIndex] = useState(0);
  const [paused, setPaused] = useState(false);
  const many = pngs.length > 1;

  useEffect(() => {
    setIndex(0);
  }, [pngs]);

  useEffect(() => {
    if (!many || paused) return;
    const timer = setInterval(() => setIndex((i) => (i + 1) % pngs.length), FRAME_MS);
    return () => clearInterval(timer);
  }, [many, paused, pngs.length]);

  const shown = Math.min(index, pngs.length - 1);
  return (
    <figure className="airgap-qr" data-testid="airgap-qr" data-frame-ms={FRAME_MS}>
      <img src={`data:image/png;base64,${pngs[shown] ?? ''}`} alt={`${label}: QR code ${shown + 1} of ${pngs.length}`} data-frame={shown + 1} />
      <figcaption className="row">
        <span data-testid="airgap-frame-counter" aria-live="off">
          Frame {shown + 1} of {pngs.length}
        </span>
        {many ? (
          <>
            <button type="button" aria-pressed={paused} onClick={() => setPaused((p) => !p)}>
              {paused ? 'Play' : 'Pause'}
            </button>
            <button type="button" disabled={!paused} aria-label="Next frame" onClick={() => setIndex((i) => (i + 1) % pngs.length)}>
              Next
            </button>
          </>
        ) : null}
      </figcaption>
    </figure>
  );
}

export function ResponsePanel({ approved, onDone }: { approved: RequestApprovedView; onDone: () => void }) {
  const id = useId();
  const review = approved.Review;
  const key = review.Key.Aliases?.[0] ?? review.Key.KeyId ?? review.Key.Reference;
  const notify = useUiStore((s) => s.notify);

  return (
    <section className="panel stack airgap-response" aria-labelledby={`${id}-title`} data-testid="airgap-response">
      <h1 id={`${id}-title`}>Approved: the response is ready</h1>
      <p className="ok" role="status">
        Signed {review.Files.length} file{review.Files.length === 1 ? '' : 's'} ({review.Format}) with {key}, request <code>{approved.RequestId}</code>. Carry the response back to
        the online machine and run <code>deskkms request finish</code> there.
      </p>
      <div className="row">
        <button type="button" className="primary" onClick={() => saveFile(approved.FileName, approved.Response, 'application/json')}>
          Save response file
        </button>
        <button
          type="button"
          onClick={() =>
            void copyText(approved.Frames.join('\n')).then((ok) =>
              ok ? notify('ok', `Copied the ${approved.Frames.length} QR codes' text (UR parts)`) : notify('error', 'The clipboard refused the text: save the response file instead'),
            )
          }
        >
          Copy UR text
        </button>
        <button type="button" onClick={onDone}>
          Review another request
        </button>
      </div>
      <p className="muted hint">
        {approved.FileName}, {humanSize(new TextEncoder().encode(approved.Response).length)}; as QR codes: {approved.Frames.length} frame{approved.Frames.length === 1 ? '' : 's'}
        {approved.Frames.length > 1 ? ', shown in turn: let the camera watch until the online machine has them all' : ''}.
      </p>
      {approved.FramePngs.length > 0 ? (
        <AnimatedQr pngs={approved.FramePngs} label="The response" />
      ) : (
        <p className="muted" data-testid="airgap-no-qr">
          Too many frames for a camera to read in reasonable time: save the response file and carry it on a USB stick.
        </p>
      )}
    </section>
  );
}
