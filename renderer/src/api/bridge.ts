// The renderer's only way out: the typed app API. In Electron the preload exposes it as
// window.deskkms (IPC); in the browser host it is a same-origin fetch to /api/call (the launch
// token travels as an HttpOnly cookie the page never sees). Both return the same envelopes.
import {
  APP_HTTP_PATH,
  type AppMethod,
  type AppParams,
  type AppResult,
  type AppResults,
  type DeskKmsBridge,
} from '../../../core/contract/app-api.ts';

declare global {
  interface Window {
    /** Set by the Electron preload (contextBridge); absent in the browser host. */
    readonly deskkms?: DeskKmsBridge;
  }
}

/** An error the vault answered with: its Code and a readable Message. */
export class AppError extends Error {
  readonly code: string;
  /** For a refused KMS Action: the RequestId of its audit entry. */
  readonly requestId: string | undefined;

  constructor(code: string, message: string, requestId?: string) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.requestId = requestId;
  }
}

function isEnvelope(value: unknown): value is AppResult<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { ok?: unknown; error?: { Code?: unknown; Message?: unknown } };
  return v.ok === true || (v.ok === false && typeof v.error?.Code === 'string' && typeof v.error.Message === 'string');
}

export function createHttpBridge(fetchImpl: typeof fetch = fetch.bind(globalThis)): DeskKmsBridge {
  return {
    async call<M extends AppMethod>(method: M, params: AppParams<M>): Promise<AppResult<AppResults[M]>> {
      let response: Response;
      try {
        response = await fetchImpl(APP_HTTP_PATH, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ method, params }),
          credentials: 'same-origin',
        });
      } catch {
        return { ok: false, error: { Code: 'InternalFailure', Message: 'the DeskKMS host did not answer (was deskkms ui stopped?)' } };
      }
      let body: unknown;
      try {
        body = await response.json();
      } catch {
        body = undefined;
      }
      if (!isEnvelope(body)) {
        return { ok: false, error: { Code: 'InternalFailure', Message: `the DeskKMS host answered HTTP ${response.status} without a result` } };
      }
      return body as AppResult<AppResults[M]>;
    },
  };
}

let current: DeskKmsBridge | undefined;

/** The bridge in force: the preload's, else the browser host's. Tests install their own. */
export function bridge(): DeskKmsBridge {
  current ??= typeof window !== 'undefined' && window.deskkms ? window.deskkms : createHttpBridge();
  return current;
}

export function setBridge(next: DeskKmsBridge | undefined): void {
  current = next;
}

/** Calls an app method; a refusal becomes an AppError with the vault's Code. */
export async function call<M extends AppMethod>(method: M, params: AppParams<M>): Promise<AppResults[M]> {
  const result = await bridge().call(method, params);
  if (!result.ok) throw new AppError(result.error.Code, result.error.Message, result.error.RequestId);
  return result.value;
}

/** Calls a KMS Action through the handler table (the same one the CLI and the API use). */
export function kms<T extends object = Record<string, unknown>>(action: string, params: Record<string, unknown> = {}): Promise<T & { RequestId: string }> {
  return call('Kms.Call', { Action: action, Params: params }) as Promise<T & { RequestId: string }>;
}

/** Code and message for display; a refused Action names its RequestId, as the audit log shows it. */
export function describeError(error: unknown): { code: string; message: string } {
  if (error instanceof AppError) return { code: error.code, message: error.requestId ? `${error.message} (request ${error.requestId})` : error.message };
  return { code: 'InternalFailure', message: error instanceof Error ? error.message : String(error) };
}
