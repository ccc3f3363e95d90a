// The Alibaba Cloud clients that drive `deskkms serve` in the client matrix
// (test/integration/api-clients.test.ts), each behind one small interface: an Action and its
// parameters in, the HTTP status and the JSON body out, a refusal as { status, code, body }.
// Nothing here signs or encodes a request: each client library does that itself, unchanged.
//   - @alicloud/openapi-client (the Darabonba client every current SDK is generated on), callApi
//     RPC style: signatureAlgorithm unset -> ACS3-HMAC-SHA256 (signature V3), 'ACS3-HMAC-SM3' ->
//     V3 with SM3, 'v2' -> doRPCRequest, the RPC signature V1 (HMAC-SHA1). Parameters in the
//     query (GET, or POST as the generated KMS SDK sends them: aliyun/alibabacloud-typescript-sdk
//     kms-20160120/src/client.ts builds `query: OpenApiUtil.query(query)` with method POST) or in
//     a form body (POST, reqBodyType formData).
//   - @alicloud/pop-core RPCClient.request: V1 (HMAC-SHA1), parameters in the query (GET) or in a
//     form body (opts.method POST), the signature computed by pop-core's own code.
import { createServer, request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

const require = createRequire(import.meta.url);
/* eslint-disable @typescript-eslint/consistent-type-imports -- require() yields module.exports (CommonJS) */
const openApi = require('@alicloud/openapi-client') as typeof import('@alicloud/openapi-client');
const teaUtil = require('@alicloud/tea-util') as typeof import('@alicloud/tea-util');
/* eslint-enable @typescript-eslint/consistent-type-imports */
/** pop-core's RPCClient as lib/rpc.js is (its .d.ts omits the `verbose` argument and what it changes). */
interface PopEntry {
  readonly response: { readonly statusCode: number };
}
const PopRpcClient = require('@alicloud/pop-core') as new (
  config: { endpoint: string; apiVersion: string; accessKeyId: string; accessKeySecret: string },
  verbose: true,
) => { request(action: string, params: object, opts: object): Promise<[Record<string, any>, PopEntry]> };

export const API_VERSION = '2016-01-20';

/** Where a client puts the Action's parameters. */
export type Transport = 'GET query' | 'POST query' | 'POST form';

export interface ClientSpec {
  /** The library: 'openapi-client' or 'pop-core'. */
  readonly library: 'openapi-client' | 'pop-core';
  /** The signature scheme the library signs with (the wire name of the algorithm). */
  readonly scheme: 'ACS3-HMAC-SHA256' | 'ACS3-HMAC-SM3' | 'HMAC-SHA1';
  readonly transport: Transport;
}

export interface ApiAnswer {
  readonly status: number;
  readonly body: Record<string, any>;
}

/** A refusal as the client library reported it: the HTTP status, the Code, the error body. */
export interface ApiRefusal {
  readonly status: number;
  readonly code: string;
  readonly body: Record<string, unknown>;
}

export interface ApiCaller {
  readonly spec: ClientSpec;
  /** Calls the Action; rejects with the library's own error on a refusal (see `refusal`). */
  call(action: string, params?: Readonly<Record<string, string>>): Promise<ApiAnswer>;
  /** Calls the Action expecting a refusal; fails if it succeeds. */
  refusal(action: string, params?: Readonly<Record<string, string>>): Promise<ApiRefusal>;
}

export interface Credentials {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
}

/** Every client the matrix runs: openapi-client V3 (both hashes) and V1, pop-core V1. */
export const CLIENT_MATRIX: readonly ClientSpec[] = [
  { library: 'openapi-client', scheme: 'ACS3-HMAC-SHA256', transport: 'GET query' },
  { library: 'openapi-client', scheme: 'ACS3-HMAC-SHA256', transport: 'POST query' },
  { library: 'openapi-client', scheme: 'ACS3-HMAC-SHA256', transport: 'POST form' },
  { library: 'openapi-client', scheme: 'ACS3-HMAC-SM3', transport: 'GET query' },
  { library: 'openapi-client', scheme: 'ACS3-HMAC-SM3', transport: 'POST query' },
  { library: 'openapi-client', scheme: 'ACS3-HMAC-SM3', transport: 'POST form' },
  { library: 'openapi-client', scheme: 'HMAC-SHA1', transport: 'GET query' },
  { library: 'openapi-client', scheme: 'HMAC-SHA1', transport: 'POST query' },
  { library: 'openapi-client', scheme: 'HMAC-SHA1', transport: 'POST form' },
  { library: 'pop-core', scheme: 'HMAC-SHA1', transport: 'GET query' },
  { library: 'pop-core', scheme: 'HMAC-SHA1', transport: 'POST form' },
];

export function describeSpec(spec: ClientSpec): string {
  return `${spec.library} ${spec.scheme} ${spec.transport}`;
}

export function apiCaller(spec: ClientSpec, endpoint: URL, credentials: Credentials): ApiCaller {
  const call = spec.library === 'openapi-client' ? openApiCall(spec, endpoint, credentials) : popCoreCall(spec, endpoint, credentials);
  return {
    spec,
    call: async (action, params = {}) => {
      const answer = await call(action, params);
      if (answer.ok) return answer.answer;
      throw new Error(`${describeSpec(spec)} ${action}: refused ${answer.refusal.status} ${answer.refusal.code}: ${JSON.stringify(answer.refusal.body)}`);
    },
    refusal: async (action, params = {}) => {
      const answer = await call(action, params);
      if (!answer.ok) return answer.refusal;
      throw new Error(`${describeSpec(spec)} ${action}: expected a refusal, got ${answer.answer.status} ${JSON.stringify(answer.answer.body)}`);
    },
  };
}

type Outcome = { ok: true; answer: ApiAnswer } | { ok: false; refusal: ApiRefusal };
type RawCall = (action: string, params: Readonly<Record<string, string>>) => Promise<Outcome>;

/** An error the library threw for an HTTP answer, or rethrows (a network failure is not a refusal). */
function refusalOf(error: unknown, status: (data: Record<string, unknown>) => unknown): ApiRefusal {
  const e = error as { code?: unknown; data?: unknown };
  if (typeof e?.code !== 'string' || typeof e.data !== 'object' || e.data === null) throw error;
  const body = e.data as Record<string, unknown>;
  const code = status(body);
  if (typeof code !== 'number') throw error;
  return { status: code, code: e.code, body };
}

function openApiCall(spec: ClientSpec, endpoint: URL, credentials: Credentials): RawCall {
  const client = new openApi.default(
    new openApi.Config({
      ...credentials,
      endpoint: endpoint.host,
      protocol: 'http',
      regionId: 'cn-hangzhou',
      // unset: the client's default, ACS3-HMAC-SHA256; 'v2': its RPC signature V1 path.
      ...(spec.scheme === 'ACS3-HMAC-SM3' ? { signatureAlgorithm: 'ACS3-HMAC-SM3' } : spec.scheme === 'HMAC-SHA1' ? { signatureAlgorithm: 'v2' } : {}),
    }),
  );
  // No retries (a refused request must not be sent again with a new nonce), bounded waits.
  const runtime = new teaUtil.RuntimeOptions({ autoretry: false, maxAttempts: 1, readTimeout: 30_000, connectTimeout: 5_000 });
  return async (action, params) => {
    const request = new openApi.OpenApiRequest(spec.transport === 'POST form' ? { body: { ...params } } : { query: { ...params } });
    const wire = new openApi.Params({
      action,
      version: API_VERSION,
      protocol: 'HTTP',
      pathname: '/',
      method: spec.transport.startsWith('GET') ? 'GET' : 'POST',
      authType: 'AK',
      style: 'RPC',
      reqBodyType: 'formData',
      bodyType: 'json',
    });
    try {
      const answer = (await client.callApi(wire, request, runtime)) as { statusCode: number; body: Record<string, any> };
      return { ok: true, answer: { status: answer.statusCode, body: answer.body } };
    } catch (error) {
      return { ok: false, refusal: refusalOf(error, (data) => data.statusCode) };
    }
  };
}

function popCoreCall(spec: ClientSpec, endpoint: URL, credentials: Credentials): RawCall {
  // verbose: request() answers [body, { response: { statusCode } }], so the status is checked too.
  const client = new PopRpcClient({ ...credentials, endpoint: endpoint.origin, apiVersion: API_VERSION }, true);
  const opts = { timeout: 30_000, ...(spec.transport === 'POST form' ? { method: 'POST' } : {}) };
  return async (action, params) => {
    try {
      const [body, entry] = await client.request(action, { ...params }, opts);
      return { ok: true, answer: { status: entry.response.statusCode, body } };
    } catch (error) {
      const entry = (error as { entry?: Partial<PopEntry> }).entry;
      return { ok: false, refusal: refusalOf(error, () => entry?.response?.statusCode) };
    }
  };
}

/** One HTTP request as a client library put it on the wire. */
export interface WireRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/**
 * A pass-through HTTP proxy in front of `target` that records every request: a client pointed at
 * it reaches the server unchanged (method, path, headers, Host included, and body are forwarded
 * as received), and the test can see which scheme and transport the library really used.
 */
export async function startRecordingProxy(target: URL): Promise<{ endpoint: URL; requests: WireRequest[]; close(): Promise<void> }> {
  const requests: WireRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers }, body: body.toString('utf8') });
      const forward = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.on('error', (error) => res.destroy(error));
      forward.end(body);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: new URL(`http://127.0.0.1:${port}`),
    requests,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/** The scheme a recorded request is signed with: V3's Authorization header, or V1's SignatureMethod parameter. */
export function wireScheme(request: WireRequest): string {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string') return authorization.split(' ', 1)[0]!;
  const query = new URL(request.url, 'http://wire').searchParams;
  const form = new URLSearchParams(request.body);
  return query.get('SignatureMethod') ?? form.get('SignatureMethod') ?? '(unsigned)';
}

/** V1's protocol parameters (pop-core sends them in a POST body too; openapi-client's V1 path in the query). */
const V1_PROTOCOL_PARAMETERS = new Set(['Action', 'Version', 'Format', 'Timestamp', 'AccessKeyId', 'Signature', 'SignatureMethod', 'SignatureVersion', 'SignatureNonce']);

/**
 * Where a recorded request carries the Action's own parameters: "METHOD query", "METHOD form",
 * "METHOD none" (it has none) or "METHOD query+form" (split between both).
 */
export function wireTransport(request: WireRequest): string {
  const own = (params: URLSearchParams): boolean => [...params.keys()].some((name) => !V1_PROTOCOL_PARAMETERS.has(name));
  const inQuery = own(new URL(request.url, 'http://wire').searchParams);
  const form = request.body !== '' && String(request.headers['content-type']).startsWith('application/x-www-form-urlencoded');
  const inForm = form && own(new URLSearchParams(request.body));
  const where = inQuery && inForm ? 'query+form' : inQuery ? 'query' : inForm ? 'form' : 'none';
  return `${request.method} ${where}`;
}
