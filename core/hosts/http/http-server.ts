// The vault's Actions over Alibaba Cloud KMS's OpenAPI, RPC style (Version 2016-01-20), on
// node:http, so the official SDKs work against it unchanged. Two signature schemes: the RPC
// signature V1 (HMAC-SHA1, parameters Signature, AccessKeyId...: rpc-signature.ts) and V3
// (an `Authorization: ACS3-HMAC-SHA256|ACS3-HMAC-SM3 ...` header over x-acs-* headers:
// acs3-signature.ts). This file is transport only: it parses and bounds the request, checks the
// protocol's common parameters or headers, has the Authenticator verify the signature, and hands
// the Action's own parameters to the Dispatcher. Validation of Action parameters, policy and audit happen behind the Dispatcher;
// a request refused before it (the protocol or the Authenticator) is reported to onRefused, so
// the host can record it. Whatever a client sends, the answer is Alibaba's error shape with a
// Code: odd methods (CONNECT included), bad expectations and malformed requests too, as far as
// node lets a server answer (bytes that are not HTTP get a 400 before the connection is closed).
import { randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { KmsError, type ErrorCode } from '../../contract/errors.ts';
import { escapeText } from '../../contract/escape-text.ts';
import type { ApiOutcome } from '../../actions/dispatch.ts';
import { rpcSignedRequest, type RpcSignedRequest } from './rpc-signature.ts';
import { acs3SignedRequest, type Acs3SignedRequest } from './acs3-signature.ts';
import { foldContextParameters } from '../../contract/encryption-context.ts';

/** What an Authenticator verifies, by scheme: the RPC signature V1, or V3 (ACS3-*). */
export type SignedRequest = RpcSignedRequest | Acs3SignedRequest;

export interface AuthenticatedCaller {
  readonly accessKeyId: string;
  /** 'api:<AccessKeyId>', as audited. */
  readonly caller: string;
}

/** C: what the authenticator knows of a caller (e.g. its policy), handed to the Dispatcher as it is. */
export interface Authenticator<C extends AuthenticatedCaller = AuthenticatedCaller> {
  /**
   * Verifies the access key, the signature (V1: over rpcStringToSign(method, allParams); V3: over
   * acs3StringToSign(algorithm, canonicalRequest)), the timestamp's skew and the nonce; throws
   * KmsError with Alibaba's code.
   */
  authenticate(request: SignedRequest): Promise<C>;
}

export type Dispatcher<C extends AuthenticatedCaller = AuthenticatedCaller> = (action: string, params: Record<string, string>, caller: C) => Promise<ApiOutcome>;

/** A request answered with an error before it reached the Dispatcher. */
export interface Refusal {
  /** The RequestId of the answer, so a record of the refusal can name it. */
  readonly requestId: string;
  /** The Action parameter (V3: the x-acs-action header) as sent, if the request could be read (untrusted text). */
  readonly action?: string;
  /** The AccessKeyId parameter (V3: the Authorization header's Credential) as sent, if the request could be read (untrusted text). */
  readonly accessKeyId?: string;
  readonly code: ErrorCode;
}

export interface ServerTimeouts {
  /** The whole header section must arrive within this (defeats slowloris). */
  readonly headersMs: number;
  /** Headers and body must arrive within this. */
  readonly requestMs: number;
  /** A connection silent this long is dropped, unless one of its requests is being processed. */
  readonly idleMs: number;
  /** How long a keep-alive connection waits for its next request. */
  readonly keepAliveMs: number;
  /** close(): how long in-flight requests get before the remaining connections are cut. */
  readonly closeGraceMs: number;
}

export const DEFAULT_TIMEOUTS: ServerTimeouts = {
  headersMs: 10_000,
  requestMs: 30_000,
  idleMs: 30_000,
  keepAliveMs: 5_000,
  closeGraceMs: 30_000,
};

export interface ServerOptions<C extends AuthenticatedCaller = AuthenticatedCaller> {
  readonly host: string;
  readonly port: number;
  readonly authenticator: Authenticator<C>;
  readonly dispatch: Dispatcher<C>;
  /** Request body limit; default 64 KiB. */
  readonly maxBodyBytes?: number;
  /** Request-target limit (path and query, where the SDKs put every parameter); default 16 KiB. */
  readonly maxUrlBytes?: number;
  readonly timeouts?: Partial<ServerTimeouts>;
  /** One line per request and per internal failure; never parameters or secrets. */
  readonly log?: (line: string) => void;
  /**
   * Told of every request refused before the Dispatcher (method, parameters, protocol checks,
   * authentication, CONNECT), before the answer is sent. If it throws, its error is the answer.
   */
  readonly onRefused?: (refusal: Refusal) => Promise<void>;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** Graceful: stops accepting, lets in-flight requests finish, then resolves. */
  close(): Promise<void>;
}

export const API_VERSION = '2016-01-20';
export const DEFAULT_HOST_ID = 'kms.deskkms.local';
const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
const DEFAULT_MAX_URL_BYTES = 16 * 1024;
/** Room for the request line's method and version plus the headers, above maxUrlBytes. */
const HEADER_ALLOWANCE_BYTES = 16 * 1024;
/** An oversized body is read and discarded up to this much, so the 413 reaches the client intact. */
const DRAIN_LIMIT_BYTES = 1024 * 1024;
const MAX_PARAMS = 256;
const PARAM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const HOST_ID = /^[A-Za-z0-9.:[\]-]{1,255}$/;

/** Protocol parameters common to every RPC request; they are not the Action's parameters. */
const COMMON_PARAMS: ReadonlySet<string> = new Set([
  'Action', 'Version', 'Format', 'Timestamp', 'SignatureNonce', 'SignatureMethod', 'SignatureVersion',
  'AccessKeyId', 'Signature', 'SecurityToken', 'RegionId',
]);

// --- errors ------------------------------------------------------------------------------------

export function apiError(code: ErrorCode, message: string): KmsError {
  return new KmsError(code, message);
}

interface Failure {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly message: string;
}

function failureOf(thrown: unknown): Failure | undefined {
  if (thrown instanceof KmsError) {
    return { code: thrown.code, httpStatus: thrown.httpStatus, message: thrown.message };
  }
  return undefined;
}

const INTERNAL_FAILURE: Failure = { code: 'InternalFailure', httpStatus: 500, message: 'internal failure; see the server log for detail' };

function errorBody(requestId: string, hostId: string, failure: Failure): string {
  return JSON.stringify({ RequestId: requestId, HostId: hostId, Code: failure.code, Message: failure.message, HttpStatus: failure.httpStatus });
}

// --- request parsing ---------------------------------------------------------------------------

const PRINTABLE_ASCII = /^[\x21-\x7e]*$/;
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;

function decodeComponent(raw: string, where: string): string {
  // Printable ASCII (checked by the caller) with neither "%" nor "+" decodes to itself: most names
  // and values do, and this skips three passes over each (with the count below, a 14-parameter
  // query took 10.5 µs to parse, now 3.8).
  if (!raw.includes('%') && !raw.includes('+')) return raw;
  if (BAD_PERCENT.test(raw)) throw apiError('InvalidParameter', `${where}: "%" must be followed by two hex digits`);
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw apiError('InvalidParameter', `${where}: percent-encoded bytes are not valid UTF-8`);
  }
}

/** application/x-www-form-urlencoded, strictly: every name once, encoded bytes valid UTF-8. */
function parseUrlEncoded(text: string, where: 'query string' | 'request body', into: Record<string, string>): void {
  if (!PRINTABLE_ASCII.test(text)) throw apiError('InvalidParameter', `${where}: characters outside printable ASCII must be percent-encoded`);
  // Counted here: Object.keys on this null-prototype dictionary, per parameter, was quadratic.
  let count = Object.keys(into).length;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq), where);
    const value = eq < 0 ? '' : decodeComponent(pair.slice(eq + 1), where);
    if (!PARAM_NAME.test(name)) {
      throw apiError('InvalidParameter', `${where}: parameter names are 1-128 ASCII letters, digits, ".", "_" or "-" (got "${escapeText(name, 40)}")`);
    }
    if (Object.hasOwn(into, name)) throw apiError('InvalidParameter', `${name}: given more than once`);
    if (count >= MAX_PARAMS) throw apiError('InvalidParameter', `${where}: more than ${MAX_PARAMS} parameters`);
    into[name] = value;
    count++;
  }
}

function tooLarge(what: string, limit: number): KmsError {
  return apiError('RequestTooLarge', `${what} exceeds ${limit} bytes`);
}

/**
 * Reads the body up to `limit` bytes. Past the limit it keeps reading and discarding (up to
 * DRAIN_LIMIT_BYTES) so the client, still sending, is not reset before it reads the 413.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit + DRAIN_LIMIT_BYTES) {
    return Promise.reject(tooLarge('request body', limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      fn();
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > limit + DRAIN_LIMIT_BYTES) {
        req.pause();
        settle(() => reject(tooLarge('request body', limit)));
      }
    };
    const onEnd = (): void => settle(() => (size > limit ? reject(tooLarge('request body', limit)) : resolve(Buffer.concat(chunks))));
    const onClose = (): void => settle(() => reject(apiError('InvalidParameter', 'request body: connection closed before the body was complete')));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', () => undefined); // 'close' follows and settles
  });
}

function formContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [type, ...parameters] = header.split(';').map((part) => part.trim().toLowerCase());
  if (type !== 'application/x-www-form-urlencoded') return false;
  return parameters.every((p) => !p.startsWith('charset=') || p === 'charset=utf-8' || p === 'charset="utf-8"');
}

interface ReadRequest {
  /** The query's and the body's parameters (a name in both is refused). */
  readonly params: Record<string, string>;
  /** The query's parameters only (V3 signs them; the body is signed by its hash). */
  readonly query: Record<string, string>;
  readonly body: Buffer;
}

async function readRequest(req: IncomingMessage, maxUrlBytes: number, maxBodyBytes: number): Promise<ReadRequest> {
  const target = req.url ?? '';
  if (Buffer.byteLength(target) > maxUrlBytes) throw tooLarge('request URL', maxUrlBytes);
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  if (path !== '/') throw apiError('InvalidParameter', `path "${escapeText(path, 64)}": the API is served at "/" only`);

  const params = Object.create(null) as Record<string, string>;
  parseUrlEncoded(q < 0 ? '' : target.slice(q + 1), 'query string', params);
  const query = Object.assign(Object.create(null) as Record<string, string>, params);
  const body = await readBody(req, maxBodyBytes);
  if (body.length > 0) {
    const type = req.headers['content-type'];
    if (!formContentType(type)) {
      throw apiError('InvalidParameter', `request body: Content-Type must be application/x-www-form-urlencoded (UTF-8), not ${type ?? 'absent'}`);
    }
    parseUrlEncoded(body.toString('latin1'), 'request body', params);
  }
  return { params, query, body };
}

// --- protocol ----------------------------------------------------------------------------------

function required(params: Record<string, string>, name: string): string {
  const value = params[name];
  if (value === undefined || value === '') throw apiError('MissingParameter', `${name} is mandatory for this action`);
  return value;
}

function checkVersionAndFormat(version: string, params: Record<string, string>): void {
  if (version !== API_VERSION) {
    throw apiError('InvalidVersion', `Specified parameter Version is not valid: this server speaks KMS ${API_VERSION}, not "${escapeText(version, 32)}"`);
  }
  const format = params.Format;
  if (format !== undefined && format.toLowerCase() !== 'json') {
    throw apiError('InvalidParameter', `Format: only JSON responses are served, not "${escapeText(format, 16)}"`);
  }
}

/** A request signed with V3: its Authorization header (present, whatever it says) decides. */
function isV3(req: IncomingMessage): boolean {
  return req.headers.authorization !== undefined;
}

/** The V3 checks Alibaba's gateway makes before authentication; returns the Action and the signed request. */
function checkV3Protocol(req: IncomingMessage, read: ReadRequest): { action: string; signed: Acs3SignedRequest } {
  const signed = acs3SignedRequest({ method: req.method ?? 'GET', query: read.query, params: read.params, headers: req.headersDistinct, body: read.body });
  checkVersionAndFormat(signed.version, read.params);
  // The Action and Version are the headers'; the same names as parameters must not say otherwise.
  for (const [name, value] of [['Action', signed.action], ['Version', signed.version]] as const) {
    const given = read.params[name];
    if (given !== undefined && given !== value) {
      throw apiError('InvalidParameter', `${name}: the parameter ("${escapeText(given, 64)}") contradicts the header x-acs-${name.toLowerCase()} ("${escapeText(value, 64)}")`);
    }
  }
  return { action: signed.action, signed };
}

/** The checks Alibaba's gateway makes before authentication; returns the Action and the signed request. */
function checkProtocol(httpMethod: string, params: Record<string, string>): { action: string; signed: RpcSignedRequest } {
  const action = required(params, 'Action');
  checkVersionAndFormat(required(params, 'Version'), params);
  // Signature, AccessKeyId, Timestamp and SignatureNonce present (checked in one place).
  const signed = rpcSignedRequest(httpMethod, params);
  // Credentials this vault never issues: refused, not ignored (an STS token's restrictions would
  // otherwise be silently dropped). Alibaba's gateway has no code for "this service takes none".
  if (params.SecurityToken !== undefined) {
    throw apiError('InvalidParameter', "SecurityToken: STS security tokens are not accepted here; sign with one of this vault's access keys (deskkms access-key create)");
  }
  if (params.SignatureType !== undefined) {
    throw apiError('InvalidParameter', `SignatureType: only the access key signature is accepted here, not "${escapeText(params.SignatureType, 32)}"`);
  }
  const method = params.SignatureMethod;
  if (!method) throw apiError('IncompleteSignature', 'The request signature does not conform to Aliyun standards: SignatureMethod is missing');
  if (method !== 'HMAC-SHA1') throw apiError('InvalidSignatureMethod', `Specified signature method is not valid: only HMAC-SHA1, not "${escapeText(method, 32)}"`);
  if (params.SignatureVersion !== '1.0') {
    throw apiError('IncompleteSignature', 'The request signature does not conform to Aliyun standards: SignatureVersion must be 1.0');
  }
  return { action, signed };
}

/** The Action's own parameters (the signature's and the gateway's taken out; flattened contexts folded). */
function actionParams(params: Record<string, string>): Record<string, string> {
  const own: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) if (!COMMON_PARAMS.has(name)) own[name] = value;
  return foldContextParameters(own);
}

/** A header's first value as sent (for the refusal record only: untrusted text). */
function firstHeader(req: IncomingMessage, name: string): string | undefined {
  return req.headersDistinct[name]?.[0];
}

/** The Credential of an Authorization header as sent, well-formed or not (for the refusal record only). */
function credentialOf(authorization: string | undefined): string | undefined {
  return /(?:^|[\s,])Credential=([^,\s]*)/.exec(authorization ?? '')?.[1];
}

/** For log lines only: client-supplied text, so bounded and stripped to a safe alphabet. */
function loggable(text: string | undefined): string {
  return text ? text.slice(0, 64).replace(/[^A-Za-z0-9._:-]/g, '?') : '-';
}

// --- server ------------------------------------------------------------------------------------

interface SocketState {
  /** Requests received on this socket whose response is not finished. */
  requests: number;
  /** Requests whose Authenticator or Dispatcher is running: idle on the wire, busy here. */
  processing: number;
}

function formatUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export function startServer<C extends AuthenticatedCaller = AuthenticatedCaller>(options: ServerOptions<C>): Promise<RunningServer> {
  const log = options.log ?? ((): void => undefined);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxUrlBytes = options.maxUrlBytes ?? DEFAULT_MAX_URL_BYTES;
  const t: ServerTimeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const requestMs = Math.max(t.requestMs, t.headersMs); // node requires headersTimeout <= requestTimeout

  const sockets = new Map<Socket, SocketState>();
  let closing = false;

  const server = createServer({
    headersTimeout: t.headersMs,
    requestTimeout: requestMs,
    keepAliveTimeout: t.keepAliveMs,
    // How often node enforces headersTimeout/requestTimeout (default 30 s, too coarse for them).
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(t.headersMs / 4))),
    maxHeaderSize: maxUrlBytes + HEADER_ALLOWANCE_BYTES,
    requireHostHeader: false,
  });
  // Socket inactivity: node calls the 'timeout' listeners and leaves the socket to them.
  server.timeout = t.idleMs;
  server.on('timeout', (socket: Socket) => {
    if ((sockets.get(socket)?.processing ?? 0) === 0) socket.destroy();
  });

  server.on('connection', (socket: Socket) => {
    sockets.set(socket, { requests: 0, processing: 0 });
    socket.once('close', () => sockets.delete(socket));
  });

  // Requests node's parser rejects before they reach the handler: malformed, header section
  // too large, or too slow. Answer (and report) the first two in the API's error shape; just drop
  // the last.
  // A socket being answered: node's parser, once failed, reports every further chunk the client
  // sends as another error; those are the same refused request.
  const refusing = new WeakSet<Socket>();
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (refusing.has(socket)) return;
    log(`api - client error ${loggable(err.code)}`);
    if (err.code === 'ECONNRESET' || err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || !socket.writable) {
      socket.destroy();
      return;
    }
    const failure: Failure =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? { code: 'RequestTooLarge', httpStatus: 413, message: `request line and headers exceed ${maxUrlBytes + HEADER_ALLOWANCE_BYTES} bytes` }
        : err.code === 'HPE_INVALID_METHOD'
          ? { code: 'InvalidParameter', httpStatus: 400, message: 'malformed HTTP request: unknown method; only GET and POST are supported' }
          : { code: 'InvalidParameter', httpStatus: 400, message: 'malformed HTTP request' };
    refuseRaw(socket, failure);
  });

  // CONNECT (a proxy tunnel) reaches neither 'request' nor 'clientError': without this listener
  // node closes the socket without a word. The socket is raw here (no HTTP parser any more).
  server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    log('api - CONNECT refused');
    refuseRaw(socket, { code: 'InvalidParameter', httpStatus: 400, message: 'HTTP method CONNECT: only GET and POST are supported' }, 'Allow: GET, POST\r\n');
  });

  /** Reports the refusal (onRefused), then answers on the raw socket: with the failure, or with what reporting it threw. */
  function refuseRaw(socket: Socket, failure: Failure, headers = ''): void {
    refusing.add(socket);
    socket.on('error', () => undefined); // a client gone before the answer: nothing to do
    const requestId = randomUUID();
    void (options.onRefused?.({ requestId, code: failure.code }) ?? Promise.resolve()).then(
      () => answerRaw(socket, failure, requestId, headers),
      (thrown: unknown) => {
        if (!failureOf(thrown)) log(`api ${requestId} internal failure recording a refusal: ${thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown)}`);
        answerRaw(socket, failureOf(thrown) ?? INTERNAL_FAILURE, requestId);
      },
    );
  }

  /** Answers on a socket node no longer parses HTTP on, then closes it. */
  function answerRaw(socket: Socket, failure: Failure, requestId: string, headers = ''): void {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const body = errorBody(requestId, DEFAULT_HOST_ID, failure);
    socket.end(
      `HTTP/1.1 ${failure.httpStatus} ${STATUS_CODES[failure.httpStatus]}\r\nContent-Type: application/json;charset=utf-8\r\n${headers}` +
        `x-acs-request-id: ${requestId}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const state = sockets.get(req.socket);
    if (state) state.requests++;
    res.once('close', () => {
      if (state) state.requests--;
    });
    void handle(req, res, state);
  };
  server.on('request', onRequest);
  // An Expect other than 100-continue: without this listener node answers 417 with no body.
  server.on('checkExpectation', onRequest);

  async function handle(req: IncomingMessage, res: ServerResponse, state: SocketState | undefined): Promise<void> {
    const started = performance.now();
    const hostHeader = req.headers.host;
    const hostId = hostHeader && HOST_ID.test(hostHeader) ? hostHeader : DEFAULT_HOST_ID;
    let requestId: string = randomUUID();
    let action: string | undefined;
    let accessKeyId: string | undefined;
    let dispatched = false;
    let caller: string | undefined;
    let status: number;
    let code = 'OK';
    let body: string;
    let closeConnection = false;
    try {
      if (req.method !== 'GET' && req.method !== 'POST') {
        res.setHeader('allow', 'GET, POST');
        closeConnection = true;
        throw apiError('InvalidParameter', `HTTP method ${loggable(req.method)}: only GET and POST are supported`);
      }
      const expect = req.headers.expect;
      if (expect !== undefined && expect.toLowerCase() !== '100-continue') {
        closeConnection = true;
        throw apiError('InvalidParameter', `Expect: only "100-continue" is supported, not "${escapeText(expect, 32)}"`);
      }
      let read: ReadRequest;
      try {
        read = await readRequest(req, maxUrlBytes, maxBodyBytes);
      } catch (thrown) {
        // Whether or not the body was read, do not reuse a connection that sent a bad request.
        closeConnection = true;
        throw thrown;
      }
      const { params } = read;
      const v3 = isV3(req);
      action = v3 ? firstHeader(req, 'x-acs-action') : params.Action;
      accessKeyId = v3 ? credentialOf(req.headers.authorization) : params.AccessKeyId;
      const { action: name, signed } = v3 ? checkV3Protocol(req, read) : checkProtocol(req.method ?? 'GET', params);
      if (state) state.processing++;
      try {
        const authenticated = await options.authenticator.authenticate(signed);
        caller = authenticated.caller;
        dispatched = true;
        const outcome = await options.dispatch(name, actionParams(params), authenticated);
        if (outcome.ok) {
          requestId = typeof outcome.body.RequestId === 'string' ? outcome.body.RequestId : requestId;
          status = 200;
          body = JSON.stringify({ ...outcome.body, RequestId: requestId });
        } else {
          requestId = outcome.error.RequestId;
          status = outcome.httpStatus;
          code = outcome.error.Code;
          body = errorBody(requestId, hostId, { code: outcome.error.Code, httpStatus: status, message: outcome.error.Message });
        }
      } finally {
        if (state) state.processing--;
      }
    } catch (thrown) {
      let failure = failureOf(thrown);
      if (!failure) {
        failure = INTERNAL_FAILURE;
        log(`api ${requestId} internal failure: ${thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown)}`);
      }
      if (!dispatched && options.onRefused) {
        try {
          await options.onRefused({ requestId, code: failure.code, ...(action !== undefined ? { action } : {}), ...(accessKeyId !== undefined ? { accessKeyId } : {}) });
        } catch (refusalError) {
          const recorded = failureOf(refusalError);
          if (!recorded) log(`api ${requestId} internal failure recording a refusal: ${refusalError instanceof Error ? (refusalError.stack ?? refusalError.message) : String(refusalError)}`);
          failure = recorded ?? INTERNAL_FAILURE;
        }
      }
      status = failure.httpStatus;
      code = failure.code;
      body = errorBody(requestId, hostId, failure);
    }
    send(res, status, body, requestId, closeConnection || closing);
    log(`api ${requestId} ${loggable(caller)} ${loggable(action)} ${status} ${code} ${Math.round(performance.now() - started)}ms`);
  }

  function send(res: ServerResponse, status: number, body: string, requestId: string, closeConnection: boolean): void {
    if (res.headersSent || res.destroyed) return;
    res.statusCode = status;
    res.setHeader('content-type', 'application/json;charset=utf-8');
    res.setHeader('content-length', Buffer.byteLength(body));
    res.setHeader('cache-control', 'no-store');
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('x-acs-request-id', requestId);
    if (closeConnection) res.setHeader('connection', 'close');
    res.end(body);
  }

  let closed: Promise<void> | undefined;
  function close(): Promise<void> {
    closed ??= new Promise<void>((resolve, reject) => {
      closing = true;
      const grace = setTimeout(() => server.closeAllConnections(), t.closeGraceMs);
      grace.unref();
      server.close((err) => {
        clearTimeout(grace);
        if (err) reject(err);
        else resolve();
      });
      // server.close() drops idle keep-alive connections; also drop those still sending a
      // request's headers (no request yet to finish). In-flight ones answer with Connection: close.
      for (const [socket, state] of sockets) if (state.requests === 0) socket.destroy();
    });
    return closed;
  }

  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      server.on('error', (err) => log(`api server error: ${err.message}`));
      const port = (server.address() as AddressInfo).port;
      resolve({ url: formatUrl(options.host, port), port, close });
    });
  });
}
