// Scanning a request's QR codes with a camera: the video's frames are drawn into a canvas and
// decoded here (jsqr, pure JavaScript); each new BC-UR part goes to Request.Frames with the ones
// read before (the host reassembles them and keeps nothing), until the parts make the request.
// The camera stops as soon as they do, when the user stops it, or when the view goes away.
import jsQRModule from 'jsqr';
import { useEffect, useRef, useState } from 'react';
import type { RequestFramesView } from '../../../../core/contract/app-api.ts';
import { call, describeError } from '../../api/bridge.ts';
import { ErrorLine, type Failure } from '../common.tsx';

// jsqr is CommonJS: its module object is the function, with itself as .default (what its types name).
const jsQR = jsQRModule.default;

/** How often a video frame is decoded. */
const SCAN_MS = 120;

/**
 * Whether the page's Permissions-Policy lets it ask for a camera at all (Chromium's
 * document.featurePolicy; the hosts allow it for their own page only, camera=(self); a host that
 * forbids it gets no Scan button).
 */
function cameraAllowed(): boolean {
  const policy = (document as Document & { featurePolicy?: { allowsFeature(feature: string): boolean } }).featurePolicy;
  return policy === undefined || policy.allowsFeature('camera');
}

/** True when the browser offers a camera the page may ask for (the labels stay hidden until permission; the kinds do not). */
export function useHasCamera(): boolean {
  const [has, setHas] = useState(false);
  useEffect(() => {
    let live = true;
    const devices = typeof navigator !== 'undefined' ? navigator.mediaDevices : undefined;
    if (!devices?.enumerateDevices || !devices.getUserMedia || !cameraAllowed()) return;
    // A host that refuses the camera (Electron's permission handler) answers "denied" without asking.
    const permission = navigator.permissions?.query({ name: 'camera' }).then(
      (status) => status.state !== 'denied',
      () => true,
    ) ?? Promise.resolve(true);
    void Promise.all([devices.enumerateDevices(), permission]).then(
      ([list, allowed]) => live && setHas(allowed && list.some((d) => d.kind === 'videoinput')),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, []);
  return has;
}

/** Whether a QR code's text is a part of a DeskKMS request (a BC-UR "bytes" part). */
export function isRequestPart(text: string): boolean {
  return /^ur:bytes\//i.test(text.trim());
}

export function CameraScan({ onText, onClose }: { onText: (text: string) => void; onClose: () => void }) {
  const videoRef = useRef<HTMLVideoElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [state, setState] = useState<RequestFramesView | undefined>(undefined);
  const [error, setError] = useState<Failure>(undefined);
  const [foreign, setForeign] = useState(false);
  const [starting, setStarting] = useState(true);

  useEffect(() => {
    let live = true;
    let stream: MediaStream | undefined;
    let timer: ReturnType<typeof setInterval> | undefined;
    const parts = new Set<string>();
    let asking = false;
    let dirty = false;

    function stop(): void {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      for (const track of stream?.getTracks() ?? []) track.stop();
      stream = undefined;
    }

    async function send(): Promise<void> {
      if (asking) {
        dirty = true;
        return;
      }
      asking = true;
      try {
        do {
          dirty = false;
          const answer = await call('Request.Frames', { Parts: [...parts] });
          if (!live) return;
          setState(answer);
          if (answer.Complete && answer.Text !== undefined) {
            stop();
            onText(answer.Text);
            return;
          }
        } while (dirty && live);
      } catch (err) {
        if (!live) return;
        setError(describeError(err));
        // A part the host refused (not of this kind of request): start again from nothing.
        parts.clear();
      } finally {
        asking = false;
      }
    }

    function scan(): void {
      const video = videoRef.current;
      const canvas = canvasRef.current;
      if (!video || !canvas || video.readyState < 2 || video.videoWidth === 0) return;
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      const context = canvas.getContext('2d', { willReadFrequently: true });
      if (!context) return;
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      const code = jsQR(image.data, image.width, image.height, { inversionAttempts: 'attemptBoth' });
      if (!code || code.data === '') return;
      const text = code.data.trim();
      if (!isRequestPart(text)) {
        setForeign(true);
        return;
      }
      setForeign(false);
      const part = text.toUpperCase();
      if (parts.has(part)) return;
      parts.add(part);
      void send();
    }

    navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false }).then(
      async (media) => {
        if (!live) {
          for (const track of media.getTracks()) track.stop();
          return;
        }
        stream = media;
        const video = videoRef.current;
        if (video) {
          video.srcObject = media;
          await video.play().catch(() => undefined);
        }
        setStarting(false);
        timer = setInterval(scan, SCAN_MS);
      },
      (err: unknown) => {
        if (!live) return;
        setStarting(false);
        setError({ code: err instanceof Error ? err.name : 'Camera', message: `the camera could not be opened: ${err instanceof Error ? err.message : String(err)}` });
      },
    );
    return () => {
      live = false;
      stop();
    };
  }, [onText]);

  const progress = state ? Math.round(state.Progress * 100) : 0;
  return (
    <div className="airgap-camera stack" data-testid="airgap-camera">
      <video ref={videoRef} className="airgap-video" muted playsInline aria-label="Camera" />
      <canvas ref={canvasRef} className="visually-hidden" aria-hidden="true" />
      <div className="progress" role="status" aria-live="polite">
        <span className="progress-label" data-testid="airgap-scan-progress">
          {starting
            ? 'Opening the camera…'
            : state === undefined
              ? 'Hold the request\u2019s QR codes in front of the camera'
              : state.Complete
                ? 'All frames read'
                : state.Expected !== undefined && state.Frames <= state.Expected
                  ? `${state.Frames} of ${state.Expected} frames (${progress}%)`
                  : `${state.Frames} frames read (${progress}%)`}
        </span>
        <progress aria-label="Frames read" max={100} value={progress} />
      </div>
      {foreign ? <p className="muted">That QR code is not part of a DeskKMS signing request.</p> : null}
      <ErrorLine error={error} />
      <div className="row">
        <button type="button" onClick={onClose}>
          Stop camera
        </button>
      </div>
    </div>
  );
}
