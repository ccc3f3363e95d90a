// The RPC OpenAPI server with the official Alibaba Cloud SDK (@alicloud/kms20160120) as the
// client, plus raw HTTP for what the SDK never sends: malformed requests, oversized ones, slow
// and idle sockets, and a graceful close. The Authenticator and Dispatcher are fakes here (the
// real ones are tested with the vault elsewhere); the fake Authenticator verifies signatures
// with core/hosts/http/rpc-signature.ts. All traffic goes to 127.0.0.1.
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiOutcome } from '../../core/actions/dispatch.ts';
import { KmsError } from '../../core/contract/errors.ts';
import {
  apiError,
  startServer,
  type Refusal,
  type AuthenticatedCaller,
  type Authenticator,
  type Dispatcher,
  type RunningServer,
  type ServerOptions,
} from '../../core/hosts/http/http-server.ts';
import { percentEncode, rpcSignature, rpcStringToSign, signaturesMatch } from '../../core/hosts/http/rpc-signature.ts';
import { acs3StringToSign } from '../../core/hosts/http/acs3-signature.ts';
// Seen from ESM, a CommonJS module's default import is typed as its module.exports.
import type KmsModule from '@alicloud/kms20160120';
import type RpcClientModule from '@alicloud/rpc-client';

const AK = 'DKMStestAccessKey00001';
const SECRET = 'test/secret+with=chars';
const KEY_ID = '5c438b18-05be-40ad-b6c2-3be6752c4f39';
const VERSION_ID = '2ab1a983-7072-4bbc-a582-584b5bd8e7a4';

// The SDK is CommonJS: require() gives the same module object under vitest and plain Node (a
// default import does not: vitest hands over exports.default, Node module.exports). Its Config
// comes from its own dependency, @alicloud/rpc-client, resolved from where the SDK lives.
const require = createRequire(import.meta.url);
const kms = require('@alicloud/kms20160120') as typeof KmsModule;
const rpcClient = createRequire(require.resolve('@alicloud/kms20160120'))('@alicloud/rpc-client') as typeof RpcClientModule;
/* eslint-disable @typescript-eslint/consistent-type-imports -- CommonJS modules through require, as above */
const openapi = require('@alicloud/openapi-client') as typeof import('@alicloud/openapi-client');
const OpenApiUtil = (require('@alicloud/openapi-util') as typeof import('@alicloud/openapi-util')).default;
const { RuntimeOptions } = require('@alicloud/tea-util') as typeof import('@alicloud/tea-util');
/* eslint-enable @typescript-eslint/consistent-type-imports */
type SdkClient = InstanceType<typeof KmsModule.default>;

function sdkClient(endpoint: string, accessKeyId = AK, accessKeySecret = SECRET): SdkClient {
  return new kms.default(
    new rpcClient.Config({ accessKeyId, accessKeySecret, endpoint, protocol: 'http', regionId: 'cn-hangzhou', readTimeout: 10_000, connectTimeout: 5_000 }),
  );
}

// --- fakes ---------------------------------------------------------------------------------------

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** Accepts AK/SECRET (and a disabled key); checks timestamp skew and nonce reuse as the real one must. */
function fakeAuthenticator(): Authenticator & { nonces: Set<string> } {
  const nonces = new Set<string>();
  return {
    nonces,
    authenticate(request) {
      if (request.scheme === 'ACS3') {
        // V3: the signature over the canonical request the server built (acs3-signature.ts), keyed with the secret itself.
        if (request.accessKeyId !== AK) return Promise.reject(apiError('InvalidAccessKeyId.NotFound', 'Specified access key is not found.'));
        const mac = createHmac(request.algorithm === 'ACS3-HMAC-SM3' ? 'sm3' : 'sha256', SECRET).update(acs3StringToSign(request.algorithm, request.canonicalRequest)).digest('hex');
        if (!signaturesMatch(request.signature, mac)) return Promise.reject(apiError('SignatureDoesNotMatch', 'Specified signature is not matched with our calculation.'));
        if (nonces.has(request.nonce)) return Promise.reject(apiError('SignatureNonceUsed', 'Specified signature nonce was used already.'));
        nonces.add(request.nonce);
        return Promise.resolve({ accessKeyId: AK, caller: `api:${AK}` });
      }
      const { method, params } = request;
      const id = params.AccessKeyId ?? '';
      if (id === 'DKMSdisabledAccessKey0') return Promise.reject(apiError('InvalidAccessKeyId.Inactive', 'Specified access key is disabled.'));
      if (id !== AK) return Promise.reject(apiError('InvalidAccessKeyId.NotFound', 'Specified access key is not found.'));
      const timestamp = params.Timestamp ?? '';
      if (!TIMESTAMP.test(timestamp)) return Promise.reject(apiError('InvalidTimeStamp.Format', 'Specified time stamp or date value is not well formatted.'));
      if (Math.abs(Date.parse(timestamp) - Date.now()) > 15 * 60_000) {
        return Promise.reject(apiError('InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.'));
      }
      const stringToSign = rpcStringToSign(method, params);
      if (!signaturesMatch(params.Signature ?? '', rpcSignature(stringToSign, SECRET))) {
        return Promise.reject(apiError('SignatureDoesNotMatch', `Specified signature is not matched with our calculation. server string to sign is:${stringToSign}`));
      }
      const nonce = params.SignatureNonce ?? '';
      if (nonces.has(nonce)) return Promise.reject(apiError('SignatureNonceUsed', 'Specified signature nonce was used already.'));
      nonces.add(nonce);
      return Promise.resolve({ accessKeyId: id, caller: `api:${id}` });
    },
  };
}

interface Call {
  readonly action: string;
  readonly params: Record<string, string>;
  readonly caller: AuthenticatedCaller;
}

/** Answers with well-formed KMS bodies for the SDK calls, and echoes anything else. */
function fakeDispatcher(): Dispatcher & { calls: Call[]; started: Promise<void>; finishedAt: number[] } {
  const calls: Call[] = [];
  const finishedAt: number[] = [];
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const ok = (body: Record<string, unknown>): ApiOutcome => ({ ok: true, body: { ...body, RequestId: randomUUID() } });
  const dispatcher = async (action: string, params: Record<string, string>, caller: AuthenticatedCaller): Promise<ApiOutcome> => {
    calls.push({ action, params: { ...params }, caller });
    markStarted();
    if (params.KeyId === 'missing') {
      return { ok: false, httpStatus: 404, error: { Code: 'Forbidden.KeyNotFound', Message: 'The specified key is not found: missing', RequestId: randomUUID() } };
    }
    if (params.KeyId === 'throws') throw new Error('boom: detail that must stay in the log');
    if (params.KeyId?.startsWith('slow-')) {
      await sleep(Number(params.KeyId.slice(5)));
      finishedAt.push(performance.now());
    }
    switch (action) {
      case 'DescribeKey':
        return ok({
          KeyMetadata: {
            KeyId: params.KeyId,
            KeyState: 'Enabled',
            KeyUsage: 'SIGN/VERIFY',
            KeySpec: 'EC_P256',
            Description: params.KeyId === KEY_ID ? 'release signing' : '',
            CreationDate: '2026-11-22T18:00:00Z',
            Creator: caller.caller,
          },
        });
      case 'ListKeys':
        return ok({
          Keys: { Key: [{ KeyId: KEY_ID, KeyArn: `acs:kms:cn-hangzhou:local:key/${KEY_ID}` }] },
          TotalCount: 1,
          PageNumber: Number(params.PageNumber ?? 1),
          PageSize: Number(params.PageSize ?? 10),
        });
      case 'AsymmetricSign':
        return ok({ KeyId: params.KeyId, KeyVersionId: params.KeyVersionId, Value: Buffer.from(`sig over ${params.Digest}`).toString('base64') });
      case 'CreateKey':
        return ok({ KeyMetadata: { KeyId: KEY_ID, Description: params.Description, KeySpec: params.KeySpec, KeyUsage: params.KeyUsage } });
      default:
        return ok({ Action: action, Params: params, Caller: caller.caller });
    }
  };
  return Object.assign(dispatcher, { calls, started, finishedAt });
}

// --- harness -------------------------------------------------------------------------------------

let running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.map((s) => s.close()));
  running = [];
});

interface Harness {
  readonly server: RunningServer;
  readonly host: string;
  readonly dispatcher: ReturnType<typeof fakeDispatcher>;
  readonly authenticator: ReturnType<typeof fakeAuthenticator>;
  readonly lines: string[];
}

async function harness(overrides: Partial<ServerOptions> = {}): Promise<Harness> {
  const dispatcher = fakeDispatcher();
  const authenticator = fakeAuthenticator();
  const lines: string[] = [];
  const server = await startServer({ host: '127.0.0.1', port: 0, authenticator, dispatch: dispatcher, log: (l) => lines.push(l), ...overrides });
  running.push(server);
  return { server, host: `127.0.0.1:${server.port}`, dispatcher, authenticator, lines };
}

function sdk(h: Harness, accessKeyId = AK, accessKeySecret = SECRET): SdkClient {
  return sdkClient(h.host, accessKeyId, accessKeySecret);
}

interface SdkError {
  readonly code: string;
  readonly message: string;
  readonly data: Record<string, unknown>;
}

async function sdkError(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (error) {
    return error as SdkError;
  }
  throw new Error('the SDK call succeeded');
}

function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Common parameters plus `params` (undefined deletes), signed with `secret` for `method`. */
function signed(method: string, params: Record<string, string | undefined>, secret = SECRET): Record<string, string> {
  const all: Record<string, string | undefined> = {
    Format: 'json',
    Version: '2016-01-20',
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: randomUUID(),
    Timestamp: isoSeconds(new Date()),
    AccessKeyId: AK,
    ...params,
  };
  const defined = Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
  return { ...defined, Signature: rpcSignature(rpcStringToSign(method, defined), secret) };
}

function without(params: Record<string, string>, ...names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(params).filter(([name]) => !names.includes(name)));
}

function form(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
    .join('&');
}

async function getJson(url: string, init?: RequestInit): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** Expects Alibaba's error shape with the given code and status. */
function expectError(result: { status: number; headers: Headers; body: any }, code: string, status: number): void {
  expect({ status: result.status, code: result.body.Code }).toEqual({ status, code });
  expect(Object.keys(result.body).sort()).toEqual(['Code', 'HostId', 'HttpStatus', 'Message', 'RequestId']);
  expect(result.body.HttpStatus).toBe(status);
  expect(result.body.RequestId).toMatch(/^[0-9a-f-]{36}$/);
  expect(result.headers.get('x-acs-request-id')).toBe(result.body.RequestId);
  expect(result.headers.get('content-type')).toBe('application/json;charset=utf-8');
  expect(result.body.Message).not.toMatch(/\n\s+at /); // never a stack
}

/** Sends raw bytes on a fresh socket; resolves with whatever came back before the server closed it. */
function rawExchange(port: number, payload: string | Buffer, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no close from the server'));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined); // a reset after the response is fine; 'close' follows
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    socket.write(payload);
  });
}

function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

// --- the official SDK as client ---------------------------------------------------------------------

describe('the official SDK against the server', () => {
  it('DescribeKey: typed response, only the Action parameters reach the dispatcher', async () => {
    const h = await harness();
    const response = await sdk(h).describeKey(new kms.DescribeKeyRequest({ keyId: KEY_ID }));
    expect(response.keyMetadata.keyId).toBe(KEY_ID);
    expect(response.keyMetadata.keySpec).toBe('EC_P256');
    expect(response.keyMetadata.creator).toBe(`api:${AK}`);
    expect(response.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(h.dispatcher.calls).toEqual([{ action: 'DescribeKey', params: { KeyId: KEY_ID }, caller: { accessKeyId: AK, caller: `api:${AK}` } }]);
    expect(h.lines.some((l) => l.includes(response.requestId) && l.includes('DescribeKey 200 OK'))).toBe(true);
  });

  it('ListKeys: numbers and nested lists cast into the model', async () => {
    const h = await harness();
    const response = await sdk(h).listKeys(new kms.ListKeysRequest({ pageNumber: 2, pageSize: 5 }));
    expect(response.pageNumber).toBe(2);
    expect(response.pageSize).toBe(5);
    expect(response.totalCount).toBe(1);
    expect(response.keys.key[0]?.keyId).toBe(KEY_ID);
    expect(h.dispatcher.calls[0]?.params).toEqual({ PageNumber: '2', PageSize: '5' });
  });

  it('AsymmetricSign: base64 with + / = survives the query string', async () => {
    const h = await harness();
    const digest = '+/+/ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiu==';
    const response = await sdk(h).asymmetricSign(
      new kms.AsymmetricSignRequest({ keyId: 'alias/release', keyVersionId: VERSION_ID, algorithm: 'ECDSA_SHA_256', digest }),
    );
    expect(Buffer.from(response.value, 'base64').toString()).toBe(`sig over ${digest}`);
    expect(response.keyVersionId).toBe(VERSION_ID);
    expect(h.dispatcher.calls[0]?.params).toEqual({ KeyId: 'alias/release', KeyVersionId: VERSION_ID, Algorithm: 'ECDSA_SHA_256', Digest: digest });
  });

  it('CreateKey: unicode, spaces and reserved characters are signed and decoded identically', async () => {
    const h = await harness();
    const description = "签名 key *~+/!'()&=%20 😀";
    const response = await sdk(h).createKey(new kms.CreateKeyRequest({ description, keySpec: 'EC_SM2', keyUsage: 'SIGN/VERIFY' }));
    expect(response.keyMetadata.description).toBe(description);
    expect(h.dispatcher.calls[0]?.params.Description).toBe(description);
  });

  it('a wrong secret: the SDK throws with SignatureDoesNotMatch, the dispatcher is never called', async () => {
    const h = await harness();
    const error = await sdkError(sdk(h, AK, 'not the secret').describeKey(new kms.DescribeKeyRequest({ keyId: KEY_ID })));
    expect(error.code).toBe('SignatureDoesNotMatchError');
    expect(error.message).toMatch(/^SignatureDoesNotMatchError: code: 400, Specified signature is not matched with our calculation\. server string to sign is:POST&%2F&/);
    expect(error.data.Code).toBe('SignatureDoesNotMatch');
    expect(error.data.HostId).toBe(h.host);
    expect(h.dispatcher.calls).toEqual([]);
  });

  it('unknown and disabled access keys: 404 and 400 with Alibaba codes', async () => {
    const h = await harness();
    const unknown = await sdkError(sdk(h, 'DKMSnoSuchAccessKey000').listKeys(new kms.ListKeysRequest({})));
    expect(unknown.code).toBe('InvalidAccessKeyId.NotFoundError');
    expect(unknown.message).toMatch(/^InvalidAccessKeyId\.NotFoundError: code: 404, Specified access key is not found\. requestid: /);
    const disabled = await sdkError(sdk(h, 'DKMSdisabledAccessKey0').listKeys(new kms.ListKeysRequest({})));
    expect(disabled.code).toBe('InvalidAccessKeyId.InactiveError');
    expect(disabled.message).toMatch(/^InvalidAccessKeyId\.InactiveError: code: 400, /);
  });

  it("a dispatcher failure: its Code, Message, RequestId and status reach the SDK's error", async () => {
    const h = await harness();
    const error = await sdkError(sdk(h).describeKey(new kms.DescribeKeyRequest({ keyId: 'missing' })));
    expect(error.code).toBe('Forbidden.KeyNotFoundError');
    expect(error.data.RequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(error.message).toBe(`Forbidden.KeyNotFoundError: code: 404, The specified key is not found: missing requestid: ${String(error.data.RequestId)}`);
    expect(error.data).toEqual({
      RequestId: error.data.RequestId,
      HostId: h.host,
      Code: 'Forbidden.KeyNotFound',
      Message: 'The specified key is not found: missing',
      HttpStatus: 404,
    });
  });

  it('a dispatcher that throws: 500 InternalFailure, detail only in the log', async () => {
    const h = await harness();
    const error = await sdkError(sdk(h).describeKey(new kms.DescribeKeyRequest({ keyId: 'throws' })));
    expect(error.code).toBe('InternalFailureError');
    expect(error.message).toMatch(/^InternalFailureError: code: 500, internal failure; see the server log for detail requestid: /);
    expect(JSON.stringify(error.data)).not.toContain('boom');
    expect(h.lines.some((l) => l.includes('internal failure: Error: boom') && l.includes('\n    at '))).toBe(true);
  });

  it('what the SDK sends: POST /, every parameter in the query, signed over all of them, no body', async () => {
    const seen: { method?: string; url?: string; headers?: IncomingMessage['headers']; body?: string } = {};
    const capture = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        Object.assign(seen, { method: req.method, url: req.url, headers: req.headers, body });
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ RequestId: 'r', KeyId: 'k', KeyVersionId: 'v', Value: 'c2ln' }));
      });
    });
    await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
    try {
      const port = (capture.address() as { port: number }).port;
      await sdkClient(`127.0.0.1:${port}`).asymmetricSign(new kms.AsymmetricSignRequest({ keyId: KEY_ID, keyVersionId: VERSION_ID, algorithm: 'ECDSA_SHA_256', digest: 'AA==' }));
    } finally {
      capture.close();
    }
    expect(seen.method).toBe('POST');
    expect(seen.body).toBe('');
    expect(seen.headers).toMatchObject({ 'x-acs-version': '2016-01-20', 'x-acs-action': 'AsymmetricSign', 'content-length': '0' });
    const url = new URL(seen.url ?? '', 'http://x');
    expect(url.pathname).toBe('/');
    const params = Object.fromEntries(url.searchParams);
    expect(Object.keys(params).sort()).toEqual(
      ['AccessKeyId', 'Action', 'Algorithm', 'Digest', 'Format', 'KeyId', 'KeyVersionId', 'Signature', 'SignatureMethod', 'SignatureNonce', 'SignatureVersion', 'Timestamp', 'Version'],
    );
    expect(params).toMatchObject({ Action: 'AsymmetricSign', Format: 'json', Version: '2016-01-20', SignatureMethod: 'HMAC-SHA1', SignatureVersion: '1.0' });
    expect(params.Timestamp).toMatch(TIMESTAMP);
    expect(params.Signature).toBe(rpcSignature(rpcStringToSign('POST', params), SECRET));
  });
});

// --- raw HTTP: the protocol checks -----------------------------------------------------------------

describe('protocol checks (raw HTTP)', () => {
  it('a signed GET with everything in the query works', async () => {
    const h = await harness();
    const r = await getJson(`${h.server.url}/?${form(signed('GET', { Action: 'Echo', Foo: 'bar baz' }))}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ Action: 'Echo', Params: { Foo: 'bar baz' }, Caller: `api:${AK}` });
    expect(r.headers.get('x-acs-request-id')).toBe(r.body.RequestId);
  });

  it('a signed POST with parameters split between query and form body works', async () => {
    const h = await harness();
    const all = signed('POST', { Action: 'Echo', Plaintext: 'aGVsbG8+/w==', Note: '中文' });
    const { Plaintext, Note, ...query } = all;
    const r = await getJson(`${h.server.url}/?${form(query)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
      body: form({ Plaintext: Plaintext ?? '', Note: Note ?? '' }),
    });
    expect(r.status).toBe(200);
    expect(r.body.Params).toEqual({ Plaintext: 'aGVsbG8+/w==', Note: '中文' });
  });

  it('a parameter in both query and body, or twice in the query: InvalidParameter', async () => {
    const h = await harness();
    const all = signed('POST', { Action: 'Echo', KeyId: 'a' });
    const both = await getJson(`${h.server.url}/?${form(all)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'KeyId=b',
    });
    expectError(both, 'InvalidParameter', 400);
    expect(both.body.Message).toBe('KeyId: given more than once');
    const twice = await getJson(`${h.server.url}/?${form(signed('GET', { Action: 'Echo' }))}&Action=Other`);
    expectError(twice, 'InvalidParameter', 400);
    expect(h.dispatcher.calls).toEqual([]);
  });

  it('bad percent-encoding, invalid UTF-8, bad names: InvalidParameter', async () => {
    const h = await harness();
    for (const query of ['Action=%zz', 'Action=%C3%28', 'Action=%E0%80%80', 'Act%00ion=x', '=x', 'Action=a%', `${'A'.repeat(200)}=1`]) {
      expectError(await getJson(`${h.server.url}/?${query}`), 'InvalidParameter', 400);
    }
  });

  it('form decoding: "+" is a space and %2B a plus; at most 256 parameters, query and body counted together', async () => {
    const h = await harness();
    const query = form(signed('GET', { Action: 'Echo', Foo: 'bar baz', Sum: '1+1', Plain: 'a-b_c.d~e' }));
    expect(query).toContain('Foo=bar%20baz');
    const r = await getJson(`${h.server.url}/?${query.replace('Foo=bar%20baz', 'Foo=bar+baz')}`);
    expect(r.status).toBe(200);
    expect(r.body.Params).toEqual({ Foo: 'bar baz', Sum: '1+1', Plain: 'a-b_c.d~e' });

    const names = (prefix: string, n: number): string => Array.from({ length: n }, (_, i) => `${prefix}${i}=v`).join('&');
    const post = (inQuery: number, inBody: number): Promise<{ status: number; headers: Headers; body: any }> =>
      getJson(`${h.server.url}/?${names('Q', inQuery)}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: names('B', inBody) });
    for (const [inQuery, inBody] of [[257, 0], [200, 57], [0, 257]]) {
      const over = await post(inQuery!, inBody!);
      expectError(over, 'InvalidParameter', 400);
      expect(over.body.Message).toMatch(/more than 256 parameters$/);
    }
    // 256 in all passes the count (and fails later, unsigned)
    expect((await post(200, 56)).body.Code).toBe('MissingParameter');
    expect(h.dispatcher.calls).toHaveLength(1);
  });

  it('wrong method or path: InvalidParameter', async () => {
    const h = await harness();
    const query = form(signed('GET', { Action: 'Echo' }));
    for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = await getJson(`${h.server.url}/?${query}`, { method });
      expectError(r, 'InvalidParameter', 400);
      expect(r.headers.get('allow')).toBe('GET, POST');
    }
    expectError(await getJson(`${h.server.url}/kms?${query}`), 'InvalidParameter', 400);
    expectError(await getJson(`${h.server.url}//?${query}`), 'InvalidParameter', 400);
    expectError(await getJson(`${h.server.url}/%2F?${query}`), 'InvalidParameter', 400);
    expect(h.dispatcher.calls).toEqual([]);
  });

  it('a JSON body, valid or not, is not a form: InvalidParameter', async () => {
    const h = await harness();
    const query = form(signed('POST', { Action: 'Echo' }));
    for (const body of ['{"KeyId":"a"}', '{"KeyId":']) {
      const r = await getJson(`${h.server.url}/?${query}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expectError(r, 'InvalidParameter', 400);
      expect(r.body.Message).toMatch(/Content-Type must be application\/x-www-form-urlencoded/);
    }
    const latin1 = await getJson(`${h.server.url}/?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=iso-8859-1' },
      body: 'A=b',
    });
    expectError(latin1, 'InvalidParameter', 400);
  });

  it('common parameters: Version, Format, signature method and version, required ones', async () => {
    const h = await harness();
    const cases: [Record<string, string | undefined>, string, number][] = [
      [{ Version: '2014-05-26' }, 'InvalidVersion', 400],
      [{ Version: undefined }, 'MissingParameter', 400],
      [{ Action: undefined }, 'MissingParameter', 400],
      [{ Format: 'XML' }, 'InvalidParameter', 400],
      [{ SignatureMethod: 'HMAC-SHA256' }, 'InvalidSignatureMethod', 400],
      [{ SignatureMethod: undefined }, 'IncompleteSignature', 400],
      [{ SignatureVersion: '2.0' }, 'IncompleteSignature', 400],
      [{ AccessKeyId: undefined }, 'MissingParameter', 400],
      [{ Timestamp: undefined }, 'MissingParameter', 400],
      [{ SignatureNonce: undefined }, 'MissingParameter', 400],
      [{ Timestamp: '2026/11/22 18:00' }, 'InvalidTimeStamp.Format', 400],
      [{ Timestamp: isoSeconds(new Date(Date.now() - 16 * 60_000)) }, 'InvalidTimeStamp.Expired', 400],
      // Credentials this vault never issues are refused, not ignored.
      [{ SecurityToken: 'CAIS-sts-token' }, 'InvalidParameter', 400],
      [{ SignatureType: 'BEARERTOKEN' }, 'InvalidParameter', 400],
    ];
    for (const [override, code, status] of cases) {
      const r = await getJson(`${h.server.url}/?${form(signed('GET', { Action: 'Echo', ...override }))}`);
      expectError(r, code, status);
    }
    const unsigned = without(signed('GET', { Action: 'Echo' }), 'Signature');
    expectError(await getJson(`${h.server.url}/?${form(unsigned)}`), 'IncompleteSignature', 400);
    // Format is optional, and its case does not matter.
    expect((await getJson(`${h.server.url}/?${form(signed('GET', { Action: 'Echo', Format: undefined }))}`)).status).toBe(200);
    expect((await getJson(`${h.server.url}/?${form(signed('GET', { Action: 'Echo', Format: 'JSON' }))}`)).status).toBe(200);
    expect(h.dispatcher.calls).toHaveLength(2);
  });

  it('the signature covers the method and the body; a replayed request is refused', async () => {
    const h = await harness();
    const asGet = signed('GET', { Action: 'Echo' });
    expectError(await getJson(`${h.server.url}/?${form(asGet)}`, { method: 'POST' }), 'SignatureDoesNotMatch', 400);
    const all = signed('POST', { Action: 'Echo', KeyId: 'a' });
    const query = without(all, 'KeyId');
    const tampered = await getJson(`${h.server.url}/?${form(query)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'KeyId=b',
    });
    expectError(tampered, 'SignatureDoesNotMatch', 400);
    const once = `${h.server.url}/?${form(signed('GET', { Action: 'Echo' }))}`;
    expect((await getJson(once)).status).toBe(200);
    expectError(await getJson(once), 'SignatureNonceUsed', 400);
  });

  it('an Authenticator that throws something unexpected: 500 InternalFailure without detail', async () => {
    const h = await harness({ authenticator: { authenticate: () => Promise.reject(new TypeError('secret detail')) } });
    const r = await getJson(`${h.server.url}/?${form(signed('GET', { Action: 'Echo' }))}`);
    expectError(r, 'InternalFailure', 500);
    expect(r.body.Message).not.toContain('secret detail');
    expect(h.lines.some((l) => l.includes('TypeError: secret detail'))).toBe(true);
  });
});

// --- odd methods and refused requests ------------------------------------------------------------

/** The JSON body of a raw HTTP answer. */
function rawBody(reply: string): Record<string, unknown> {
  return JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
}

describe('odd methods and refusals reported to onRefused', () => {
  it('CONNECT, unknown methods and a bad Expect get a JSON error with a Code, not an empty answer', async () => {
    const refusals: Refusal[] = [];
    const h = await harness({ onRefused: (r) => (refusals.push(r), Promise.resolve()) });
    const connect = await rawExchange(h.server.port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expect(connect).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(connect).toMatch(/\r\nAllow: GET, POST\r\n/);
    expect(rawBody(connect)).toMatchObject({ Code: 'InvalidParameter', HttpStatus: 400, Message: 'HTTP method CONNECT: only GET and POST are supported' });
    const requestId = rawBody(connect).RequestId;
    expect(connect).toContain(`\r\nx-acs-request-id: ${String(requestId)}\r\n`);
    for (const line of ['FOO / HTTP/1.1', 'get / HTTP/1.1', 'GET / HTTP/9.9', 'GET /\u0001 HTTP/1.1', 'PRI * HTTP/2.0']) {
      const reply = await rawExchange(h.server.port, `${line}\r\nHost: x\r\n\r\n`);
      expect(reply, line).toMatch(/^HTTP\/1\.1 400 /);
      expect(rawBody(reply), line).toMatchObject({ Code: 'InvalidParameter', HttpStatus: 400 });
    }
    for (const method of ['TRACE', 'PROPFIND', 'M-SEARCH', 'SOURCE', 'QUERY']) {
      const reply = await rawExchange(h.server.port, `${method} /?Action=Echo HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(reply, method).toMatch(/^HTTP\/1\.1 400 /);
      expect(reply.toLowerCase(), method).toContain('\r\nallow: get, post\r\n');
      expect(rawBody(reply), method).toMatchObject({ Code: 'InvalidParameter', HttpStatus: 400 });
    }
    // Without a listener node would answer 417 with an empty body.
    const expectation = await rawExchange(h.server.port, `GET /?${form(signed('GET', { Action: 'Echo' }))} HTTP/1.1\r\nHost: x\r\nExpect: the-unexpected\r\n\r\n`);
    expect(expectation).toMatch(/^HTTP\/1\.1 400 /);
    expect(rawBody(expectation)).toMatchObject({ Code: 'InvalidParameter', Message: 'Expect: only "100-continue" is supported, not "the-unexpected"' });
    expect(h.dispatcher.calls).toEqual([]);
    // Every one of them reported once, CONNECT with the RequestId it was answered with.
    expect(refusals).toHaveLength(1 + 5 + 5 + 1);
    expect(refusals[0]).toEqual({ requestId, code: 'InvalidParameter' });
    expect((await getJson(`${h.server.url}/?${form(signed('GET', { Action: 'Echo' }))}`)).status).toBe(200);
  });

  it('reports each request refused before the Dispatcher, once, with what it sent; not the dispatched ones', async () => {
    const refusals: Refusal[] = [];
    const h = await harness({ maxUrlBytes: 2048, onRefused: (r) => (refusals.push(r), Promise.resolve()) });
    const unknown = await getJson(`${h.server.url}/?${form(signed('GET', { Action: 'X\u0001', AccessKeyId: 'DKMS\u202E' }))}`);
    expectError(unknown, 'InvalidAccessKeyId.NotFound', 404);
    const noVersion = await getJson(`${h.server.url}/?${form(signed('GET', { Action: 'Echo', Version: undefined }))}`);
    expectError(noVersion, 'MissingParameter', 400);
    expectError(await getJson(`${h.server.url}/?Action=%zz`), 'InvalidParameter', 400);
    // Header section far over the limit: node's parser refuses it, still one report for it.
    const overflow = await rawExchange(h.server.port, `GET /?Pad=${'x'.repeat(64 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect((await getJson(`${h.server.url}/?${form(signed('GET', { Action: 'Echo' }))}`)).status).toBe(200);
    expect(refusals.slice(0, 3)).toEqual([
      { requestId: unknown.body.RequestId, action: 'X\u0001', accessKeyId: 'DKMS\u202E', code: 'InvalidAccessKeyId.NotFound' },
      { requestId: noVersion.body.RequestId, action: 'Echo', accessKeyId: AK, code: 'MissingParameter' },
      { requestId: expect.any(String), code: 'InvalidParameter' },
    ]);
    expect(refusals.slice(3)).toEqual(overflow === '' ? [] : [{ requestId: expect.any(String), code: 'RequestTooLarge' }]);
  });

  it('a refusal that cannot be recorded: its error is the answer', async () => {
    const h = await harness({ onRefused: () => Promise.reject(new KmsError('Vault.Corrupt', 'audit log: the last entry is malformed')) });
    const r = await getJson(`${h.server.url}/?${form(signed('GET', { Action: 'Echo', AccessKeyId: 'DKMSnobody' }))}`);
    expectError(r, 'Vault.Corrupt', 500);
    expect(r.body.Message).toBe('audit log: the last entry is malformed');
    const connect = await rawExchange(h.server.port, 'CONNECT x:1 HTTP/1.1\r\n\r\n');
    expect(rawBody(connect)).toMatchObject({ Code: 'Vault.Corrupt' });
    const bug = await harness({ onRefused: () => Promise.reject(new TypeError('secret detail')) });
    const failed = await getJson(`${bug.server.url}/?${form(signed('GET', { Action: 'Echo', AccessKeyId: 'DKMSnobody' }))}`);
    expectError(failed, 'InternalFailure', 500);
    expect(failed.body.Message).not.toContain('secret detail');
  });
});

// --- raw HTTP: robustness ------------------------------------------------------------------------

describe('limits and malformed HTTP', () => {
  it('a body over maxBodyBytes: 413 RequestTooLarge in the error shape', async () => {
    const h = await harness({ maxBodyBytes: 1024 });
    const query = form(signed('POST', { Action: 'Echo' }));
    const r = await getJson(`${h.server.url}/?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `Plaintext=${'A'.repeat(100_000)}`,
    });
    expectError(r, 'RequestTooLarge', 413);
    expect(r.body.Message).toBe('request body exceeds 1024 bytes');
    // the server is still fine
    expect((await getJson(`${h.server.url}/?${form(signed('GET', { Action: 'Echo' }))}`)).status).toBe(200);
  });

  it('a URL over maxUrlBytes: 413; far over: 413 from the parser, or a closed connection', async () => {
    const h = await harness({ maxUrlBytes: 2048 });
    const long = await getJson(`${h.server.url}/?${form(signed('GET', { Action: 'Echo', Pad: 'x'.repeat(4000) }))}`);
    expectError(long, 'RequestTooLarge', 413);
    expect(long.body.Message).toBe('request URL exceeds 2048 bytes');
    const reply = await rawExchange(h.server.port, `GET /?Pad=${'x'.repeat(64 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    if (reply !== '') expect(reply).toMatch(/^HTTP\/1\.1 413 [^\r]*\r\n[\s\S]*"Code":"RequestTooLarge"/);
    expect((await getJson(`${h.server.url}/?${form(signed('GET', { Action: 'Echo' }))}`)).status).toBe(200);
  });

  it('garbage instead of HTTP: 400 InvalidParameter JSON, HostId defaulted, server unharmed', async () => {
    const h = await harness();
    const reply = await rawExchange(h.server.port, 'NOT HTTP AT ALL\r\n\r\n');
    expect(reply).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    const body = JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4));
    expect(body).toMatchObject({ Code: 'InvalidParameter', HostId: 'kms.deskkms.local', HttpStatus: 400 });
    const noHost = await rawExchange(h.server.port, 'GET /?Action=Echo HTTP/1.0\r\n\r\n');
    expect(noHost).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(noHost.slice(noHost.indexOf('\r\n\r\n') + 4))).toMatchObject({ HostId: 'kms.deskkms.local', Code: 'MissingParameter' });
    expect((await getJson(`${h.server.url}/?${form(signed('GET', { Action: 'Echo' }))}`)).status).toBe(200);
  });
});

describe('slow, idle and in-flight connections', () => {
  it('slowloris: 50 sockets trickling headers do not delay a real request, and get dropped', async () => {
    const h = await harness({ timeouts: { headersMs: 2500, requestMs: 5000 } });
    const sockets = await Promise.all(
      Array.from({ length: 50 }, () => new Promise<Socket>((resolve, reject) => {
        const s = connect(h.server.port, '127.0.0.1', () => resolve(s));
        s.on('error', () => undefined);
        setTimeout(() => reject(new Error('connect timed out')), 5_000).unref();
      })),
    );
    const header = `GET /?Action=Echo HTTP/1.1\r\nHost: ${h.host}\r\nX-Slow: ${'z'.repeat(64)}\r\n\r\n`;
    let sent = 0;
    const trickle = setInterval(() => {
      for (const s of sockets) if (!s.destroyed) s.write(header.charAt(sent % header.length));
      sent++;
    }, 1000);
    try {
      await sleep(300);
      const response = await sdk(h).describeKey(new kms.DescribeKeyRequest({ keyId: KEY_ID }));
      expect(response.keyMetadata.keyId).toBe(KEY_ID);
      // Answered while every trickling socket is still held open: the request did not have to wait
      // for the headers timeout to free a slot (a behaviour, not a stopwatch).
      expect(sockets.filter((s) => s.destroyed || s.readyState !== 'open')).toHaveLength(0);
      const dropped = await Promise.all(sockets.map((s) => closedWithin(s, 8_000)));
      expect(dropped.every(Boolean)).toBe(true);
    } finally {
      clearInterval(trickle);
      for (const s of sockets) s.destroy();
    }
  });

  it('a connection that sends nothing is dropped after idleMs', async () => {
    // The other timers are far beyond the wait: a close within it can only be the idle timer's.
    const h = await harness({ timeouts: { idleMs: 400, headersMs: 120_000, requestMs: 120_000 } });
    const socket = connect(h.server.port, '127.0.0.1');
    socket.on('error', () => undefined);
    expect(await closedWithin(socket, 30_000)).toBe(true);
  });

  it('a request being processed longer than idleMs is not cut off', async () => {
    const h = await harness({ timeouts: { idleMs: 200 } });
    const r = await getJson(`${h.server.url}/?${form(signed('GET', { Action: 'Echo', KeyId: 'slow-800' }))}`);
    expect(r.status).toBe(200);
    expect(r.body.Params).toEqual({ KeyId: 'slow-800' });
  });

  it('close(): an in-flight request is still answered, new connections are refused', async () => {
    // A grace period no test could wait out: close() returning at all shows it did not wait for it.
    const h = await harness({ timeouts: { closeGraceMs: 3_600_000 } });
    const inFlight = getJson(`${h.server.url}/?${form(signed('GET', { Action: 'Echo', KeyId: 'slow-300' }))}`);
    await h.dispatcher.started;
    // A client still sending headers has no request to finish: it must not hold close() up.
    const partial = connect(h.server.port, '127.0.0.1');
    partial.on('error', () => undefined);
    partial.write('GET /?Action=Echo HTTP/1.1\r\nHost: x\r\n');
    await sleep(50);
    const closing = h.server.close();
    let closedAt = Number.POSITIVE_INFINITY;
    void closing.then(() => (closedAt = performance.now()));
    await expect(fetch(`${h.server.url}/`, { signal: AbortSignal.timeout(5_000) })).rejects.toThrow();
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.body.Params).toEqual({ KeyId: 'slow-300' });
    expect(answer.headers.get('connection')).toBe('close');
    await closing;
    expect(await closedWithin(partial, 100)).toBe(true);
    expect(closedAt).toBeGreaterThanOrEqual(h.dispatcher.finishedAt[0] ?? Number.POSITIVE_INFINITY);
    await expect(fetch(`${h.server.url}/`, { signal: AbortSignal.timeout(5_000) })).rejects.toThrow();
  });

  it('binds what it is given: loopback, an ephemeral port, the URL to reach it', async () => {
    const h = await harness();
    expect(h.server.url).toBe(`http://127.0.0.1:${h.server.port}`);
    expect(h.server.port).toBeGreaterThan(0);
    await expect(startServer({ host: '127.0.0.1', port: h.server.port, authenticator: fakeAuthenticator(), dispatch: fakeDispatcher() })).rejects.toThrow(/EADDRINUSE/);
  });
});

describe('signature V3 (an Authorization: ACS3-* header) at the transport', () => {
  function v3Client(h: Harness, signatureAlgorithm?: string): InstanceType<typeof openapi.default> {
    return new openapi.default(new openapi.Config({ accessKeyId: AK, accessKeySecret: SECRET, endpoint: h.host, protocol: 'http', readTimeout: 5_000, connectTimeout: 5_000, ...(signatureAlgorithm ? { signatureAlgorithm } : {}) }));
  }
  function v3Call(c: InstanceType<typeof openapi.default>, method: 'GET' | 'POST', action: string, params: Record<string, string>): Promise<unknown> {
    const request = new openapi.OpenApiRequest(method === 'GET' ? { query: OpenApiUtil.query(params) } : { body: params });
    const api = new openapi.Params({ action, version: '2016-01-20', protocol: 'HTTP', pathname: '/', method, authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json' });
    return c.callApi(api, request, new RuntimeOptions({ autoretry: false }));
  }

  it("openapi-client's request reaches the dispatcher with the Action of x-acs-action and only the Action's parameters, by GET and POST, SHA-256 and SM3", async () => {
    const h = await harness();
    for (const algorithm of [undefined, 'ACS3-HMAC-SM3']) {
      for (const method of ['GET', 'POST'] as const) {
        const answer = (await v3Call(v3Client(h, algorithm), method, 'Echo', { KeyId: 'a b', Note: '中文 *~' })) as { statusCode: number; body: Record<string, unknown> };
        expect(answer.statusCode).toBe(200);
        expect(answer.body).toMatchObject({ Action: 'Echo', Params: { KeyId: 'a b', Note: '中文 *~' }, Caller: `api:${AK}` });
      }
    }
    expect(h.dispatcher.calls.map((c) => Object.keys(c.params).sort())).toEqual(Array(4).fill(['KeyId', 'Note']));
  });

  it('a V3 refusal before the dispatcher is reported with the Action of x-acs-action and the AccessKeyId of Credential', async () => {
    const refusals: Refusal[] = [];
    const h = await harness({ onRefused: (r) => (refusals.push(r), Promise.resolve()) });
    const wrongVersion = new openapi.Params({ action: 'Echo', version: '2014-05-26', protocol: 'HTTP', pathname: '/', method: 'GET', authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json' });
    const refused = await sdkError(v3Client(h).callApi(wrongVersion, new openapi.OpenApiRequest({ query: {} }), new RuntimeOptions({ autoretry: false })));
    expect(refused.code).toBe('InvalidVersion');
    const wrongSecret = await sdkError(v3Call(new openapi.default(new openapi.Config({ accessKeyId: AK, accessKeySecret: 'other', endpoint: h.host, protocol: 'http' })), 'POST', 'ListKeys', {}));
    expect(wrongSecret.code).toBe('SignatureDoesNotMatch');
    expect(refusals).toEqual([
      expect.objectContaining({ code: 'InvalidVersion', action: 'Echo', accessKeyId: AK }),
      expect.objectContaining({ code: 'SignatureDoesNotMatch', action: 'ListKeys', accessKeyId: AK }),
    ]);
    expect(h.dispatcher.calls).toHaveLength(0);
  });
});
