// The renderer's only way out: the typed app API. In Electron the preload exposes it as
// window.deskkms (IPC); in the browser host it is a same-origin fetch to /api/call carrying the
// session secret in the X-DeskKMS-Session header (the browser adds the HttpOnly binding cookie,
// which the page never sees; the host needs both). The secret comes from trading the launch URL's
// #token= fragment, once, at /api/session; it is kept in memory and in sessionStorage (this
// origin only) so that a reload keeps the session. Both hosts return the same envelopes.
import {
  APP_CHUNK_PATH,
  APP_HTTP_PATH,
  APP_SESSION_HEADER,
  APP_SESSION_PATH,
  APP_SESSION_STORAGE_KEY,
  type AppMethod,
  type AppParams,
  type AppResult,
  type AppResults,
  type ChunkMethod,
  type DeskKmsBridge,
  type PickedFileView,
} from '../../../core/contract/app-api.ts';
import type { WireError } from '../../../core/contract/errors.ts';
import { encodeBase64 } from '../../../core/contract/base64.ts';
import type { ActionName, ActionParams } from '../../../core/contract/actions.ts';
import type { ActionResponse } from '../../../core/contract/responses.ts';

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

/** What the browser host's bridge needs of the page: its URL fragment, history and sessionStorage. */
export interface PageContext {
  /** location.hash, e.g. "#token=...". */
  hash(): string;
  /** Removes the fragment from the address bar and from this history entry. */
  dropHash(): void;
  readonly storage: Pick<Storage, 'getItem' | 'setItem'> | undefined;
}

function browserPage(): PageContext {
  return {
    hash: () => (typeof location === 'undefined' ? '' : location.hash),
    dropHash: () => history.replaceState(history.state, '', `${location.pathname}${location.search}`),
    storage: (() => {
      try {
        return typeof sessionStorage === 'undefined' ? undefined : sessionStorage;
      } catch {
        return undefined; // storage disabled: the session lives in memory only
      }
    })(),
  };
}

/** The launch token of a `#token=...` fragment, or undefined. */
export function launchTokenOf(hash: string): string | undefined {
  const token = new URLSearchParams(hash.replace(/^#/, '')).get('token');
  return token === null || token === '' ? undefined : token;
}

type SessionState = { readonly secret: string } | { readonly secret?: undefined; readonly error?: WireError };

const NO_ANSWER: WireError = { Code: 'InternalFailure', Message: 'the DeskKMS host did not answer (was deskkms ui stopped?)' };

async function envelopeOf(response: Response): Promise<AppResult<unknown>> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (!isEnvelope(body)) {
    return { ok: false, error: { Code: 'InternalFailure', Message: `the DeskKMS host answered HTTP ${response.status} without a result` } };
  }
  return body;
}

export function createHttpBridge(fetchImpl: typeof fetch = fetch.bind(globalThis), page: PageContext = browserPage()): DeskKmsBridge {
  // Taken from the fragment at once (and dropped from the address bar and history), traded on the
  // first call; concurrent first calls wait for the same trade.
  const launchToken = launchTokenOf(page.hash());
  if (launchToken !== undefined) page.dropHash();
  let session: Promise<SessionState> | undefined;

  function stored(): string | undefined {
    try {
      return page.storage?.getItem(APP_SESSION_STORAGE_KEY) ?? undefined;
    } catch {
      return undefined;
    }
  }

  async function trade(token: string): Promise<SessionState> {
    let result: AppResult<unknown>;
    try {
      const response = await fetchImpl(APP_SESSION_PATH, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ LaunchToken: token }),
        credentials: 'same-origin',
      });
      result = await envelopeOf(response);
    } catch {
      return { error: NO_ANSWER };
    }
    const secret = result.ok ? (result.value as { Session?: unknown } | null)?.Session : undefined;
    if (typeof secret !== 'string') {
      // A used launch URL opened again in a tab that already holds this launch's session: keep it.
      const kept = stored();
      return kept !== undefined ? { secret: kept } : { error: result.ok ? { Code: 'InternalFailure', Message: 'the DeskKMS host answered no session' } : result.error };
    }
    try {
      page.storage?.setItem(APP_SESSION_STORAGE_KEY, secret);
    } catch {
      // Storage full or disabled: the session works until the page is reloaded.
    }
    return { secret };
  }

  function current(): Promise<SessionState> {
    session ??= launchToken !== undefined ? trade(launchToken) : Promise.resolve(((s) => (s !== undefined ? { secret: s } : {}))(stored()));
    return session;
  }

  /** A POST to the host with the session's secret: JSON to /api/call, bytes to /api/chunk. */
  async function post(path: string, type: 'application/json' | 'application/octet-stream', body: string | Uint8Array<ArrayBuffer> | Blob, signal?: AbortSignal): Promise<AppResult<unknown>> {
    const state = await current();
    if (state.secret === undefined && state.error) return { ok: false, error: state.error };
    let response: Response;
    try {
      response = await fetchImpl(path, {
        method: 'POST',
        // Without a secret the host answers Unauthorized.Session, with its own explanation.
        headers: { 'content-type': type, ...(state.secret !== undefined ? { [APP_SESSION_HEADER]: state.secret } : {}) },
        body,
        credentials: 'same-origin',
        ...(signal ? { signal } : {}),
      });
    } catch {
      if (signal?.aborted) throw signal.reason;
      return { ok: false, error: NO_ANSWER };
    }
    return envelopeOf(response);
  }

  return {
    async call<M extends AppMethod>(method: M, params: AppParams<M>): Promise<AppResult<AppResults[M]>> {
      return (await post(APP_HTTP_PATH, 'application/json', JSON.stringify({ method, params }))) as AppResult<AppResults[M]>;
    },
    async sendChunk(method, SessionId, part, signal) {
      const query = new URLSearchParams({ method, session: SessionId });
      return (await post(`${APP_CHUNK_PATH}?${query.toString()}`, 'application/octet-stream', part as Uint8Array<ArrayBuffer> | Blob, signal as AbortSignal | undefined)) as AppResult<AppResults[ChunkMethod]>;
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

/** An answer's value; a refusal becomes an AppError with the vault's Code. */
function valueOf<T>(result: AppResult<T>): T {
  if (!result.ok) throw new AppError(result.error.Code, result.error.Message, result.error.RequestId);
  return result.value;
}

/** Calls an app method; a refusal becomes an AppError with the vault's Code. */
export async function call<M extends AppMethod>(method: M, params: AppParams<M>): Promise<AppResults[M]> {
  return valueOf(await bridge().call(method, params));
}

/**
 * Calls a KMS Action through the handler table (the same one the CLI and the API use). Params and
 * answer are typed by the Action from the contract's schemas (core/contract/actions.ts and
 * responses.ts), whose shapes the handlers are held to by tsc and by test/unit/responses.test.ts.
 */
export function kms<A extends ActionName>(action: A, params: ActionParams<A>): Promise<ActionResponse<A> & { RequestId: string }> {
  return call('Kms.Call', { Action: action, Params: params }) as Promise<ActionResponse<A> & { RequestId: string }>;
}

/** Whether the host has its own file dialog and reads the chosen files itself (Electron). */
export function hostPicksFiles(): boolean {
  return bridge().pickFile !== undefined;
}

/** The host's file dialog: the chosen file's handle, name and size; undefined when cancelled or when the host has none. */
export async function pickFile(): Promise<PickedFileView | undefined> {
  const current = bridge();
  if (!current.pickFile) return undefined;
  return valueOf(await current.pickFile()) ?? undefined;
}

/** Whether the bridge in force takes a streamed message's parts as bytes (the browser host). */
export function takesBytes(): boolean {
  return bridge().sendChunk !== undefined;
}

/**
 * Sends part of a streamed message: as bytes where the host takes them (the browser host: a Blob
 * slice goes from disk without being read here), else as base64 in the method's JSON (Electron's
 * IPC, a test's bridge; at most DIGEST_CHUNK_MAX bytes then).
 */
export async function sendChunk(method: ChunkMethod, SessionId: string, part: Uint8Array | Blob, signal?: AbortSignal): Promise<AppResults[ChunkMethod]> {
  const current = bridge();
  if (current.sendChunk) return valueOf(await current.sendChunk(method, SessionId, part, signal));
  const bytes = part instanceof Blob ? new Uint8Array(await part.arrayBuffer()) : part;
  return valueOf(await current.call(method, { SessionId, Chunk: encodeBase64(bytes) }));
}

/** Code and message for display; a refused Action names its RequestId, as the audit log shows it. */
export function describeError(error: unknown): { code: string; message: string } {
  if (error instanceof AppError) return { code: error.code, message: error.requestId ? `${error.message} (request ${error.requestId})` : error.message };
  return { code: 'InternalFailure', message: error instanceof Error ? error.message : String(error) };
}
