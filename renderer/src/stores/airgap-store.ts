// The air-gap station as the window sees it (issue 15): the signing request being reviewed (its
// text, as pasted, read from a file or scanned), the review the vault answered (Request.Review),
// and how it ended: approved, with the response to carry back (Request.Approve), or rejected
// (Request.Reject). Approve names the RequestSha256 of the review on screen, so the vault signs
// exactly what was shown or nothing.
import { create } from 'zustand';
import type { RequestApprovedView, RequestReviewView } from '../../../core/contract/app-api.ts';
import { call, describeError } from '../api/bridge.ts';

/** The station's window by default (core/airgap DEFAULT_MAX_AGE_MS), in hours. */
export const DEFAULT_WINDOW_HOURS = 24;

export type AirGapPhase = 'import' | 'review' | 'approved' | 'rejected';
type Failure = { code: string; message: string } | undefined;

export interface AirGapState {
  readonly phase: AirGapPhase;
  /** The request's text the review was made from (sent again to approve or reject). */
  readonly text: string;
  readonly windowHours: number;
  readonly review: RequestReviewView | undefined;
  readonly approved: RequestApprovedView | undefined;
  readonly busy: boolean;
  readonly error: Failure;
  /** Reviews a request; true when the vault answered a review (Problems or not). */
  readonly load: (text: string) => Promise<boolean>;
  /** Another window: the request is reviewed again against it. */
  readonly setWindow: (hours: number) => Promise<void>;
  readonly approve: () => Promise<boolean>;
  readonly reject: () => Promise<boolean>;
  /** Back to the import screen; nothing of the last request stays. */
  readonly reset: () => void;
}

const initial = { phase: 'import' as AirGapPhase, text: '', windowHours: DEFAULT_WINDOW_HOURS, review: undefined, approved: undefined, busy: false, error: undefined };

export const useAirGapStore = create<AirGapState>()((set, get) => {
  async function reviewed(text: string, windowHours: number): Promise<boolean> {
    set({ busy: true, error: undefined });
    try {
      const review = await call('Request.Review', { Text: text, MaxAgeHours: windowHours });
      set({ phase: 'review', text, windowHours, review, approved: undefined, busy: false });
      return true;
    } catch (error) {
      set({ busy: false, error: describeError(error) });
      return false;
    }
  }
  return {
    ...initial,
    load: (text) => reviewed(text, get().windowHours),
    setWindow: async (hours) => {
      const { text, phase } = get();
      if (phase !== 'review') {
        set({ windowHours: hours });
        return;
      }
      await reviewed(text, hours);
    },
    approve: async () => {
      const { text, review, windowHours } = get();
      if (!review || review.Problems.length > 0) return false;
      set({ busy: true, error: undefined });
      try {
        const approved = await call('Request.Approve', {
          Text: text,
          RequestSha256: review.RequestSha256,
          ...(review.Key.KeyVersionId !== undefined ? { KeyVersionId: review.Key.KeyVersionId } : {}),
          MaxAgeHours: windowHours,
        });
        set({ phase: 'approved', approved, review: approved.Review, busy: false });
        return true;
      } catch (error) {
        set({ busy: false, error: describeError(error) });
        return false;
      }
    },
    reject: async () => {
      const { text, windowHours } = get();
      set({ busy: true, error: undefined });
      try {
        const { Review } = await call('Request.Reject', { Text: text, MaxAgeHours: windowHours });
        set({ phase: 'rejected', review: Review, approved: undefined, busy: false });
        return true;
      } catch (error) {
        set({ busy: false, error: describeError(error) });
        return false;
      }
    },
    reset: () => set({ ...initial, windowHours: get().windowHours }),
  };
});

/** On lock: nothing of a request stays on screen or in memory. */
export function resetAirGapStore(): void {
  useAirGapStore.setState(initial);
}
