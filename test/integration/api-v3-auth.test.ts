// deskkms serve verifying Alibaba Cloud's signature V3 (ACS3-HMAC-SHA256, ACS3-HMAC-SM3): the real
// @alicloud/openapi-client drives it by GET (query) and POST (form body); the faults the client
// cannot produce are requests signed by the client's own signer (@alicloud/openapi-util's
// getAuthorization, over the headers openapi-client sends) and then altered in one thing. Each
// refusal answers Alibaba's code and reaches the audit log as V1 refusals do.
import { createHash, createPublicKey, createVerify, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEntries } from '../../core/audit/audit-log.ts';
import { Vault } from '../../core/vault/vault.ts';
import { rpcSignature, rpcStringToSign } from '../../core/hosts/http/rpc-signature.ts';
import { call, requireSecretService, serveInProcess, tempDir } from './vault-helpers.ts';

const require = createRequire(import.meta.url);
/* eslint-disable @typescript-eslint/consistent-type-imports -- CommonJS modules through require (as test/support/alibaba-sdk.ts) */
const openapi = require('@alicloud/openapi-client') as typeof import('@alicloud/openapi-client');
const OpenApiUtil = (require('@alicloud/openapi-util') as typeof import('@alicloud/openapi-util')).default;
const { RuntimeOptions } = require('@alicloud/tea-util') as typeof import('@alicloud/tea-util');
/* eslint-enable @typescript-eslint/consistent-type-imports */

type V3Algorithm = 'ACS3-HMAC-SHA256' | 'ACS3-HMAC-SM3';
const VERSION = '2016-01-20';

let dir: ReturnType<typeof tempDir>;
let vaultDir: string;
let server: Awaited<ReturnType<typeof serveInProcess>> | undefined;
let host: string;
let port: number;
let key: { id: string; secret: string };
let otherKey: { id: string; secret: string };
/** RequestIds of refusals, with their codes: each must be in the audit log at the end. */
const refusals: { requestId: string; code: string }[] = [];

beforeAll(async () => {
  requireSecretService();
  dir = tempDir('deskkms-v3-');
  vaultDir = join(dir.path, 'vault');
  const admin = await Vault.init(vaultDir);
  const a = await call(admin, 'CreateAccessKey');
  key = { id: a.AccessKeyId, secret: a.AccessKeySecret };
  const b = await call(admin, 'CreateAccessKey');
  otherKey = { id: b.AccessKeyId, secret: b.AccessKeySecret };
  await admin.close();
  // Every refusal recorded one by one (no summaries), so each RequestId can be found.
  server = await serveInProcess(vaultDir, { options: { refusals: { perWindow: 1000 } } });
  host = server.endpoint.host;
  port = Number(server.endpoint.port);
});

afterAll(async () => {
  await server?.stop();
  dir?.remove();
});

// --- the real client -----------------------------------------------------------------------------

function client(algorithm: V3Algorithm | undefined, credentials = key): InstanceType<typeof openapi.default> {
  return new openapi.default(
    new openapi.Config({
      accessKeyId: credentials.id,
      accessKeySecret: credentials.secret,
      endpoint: host,
      protocol: 'http',
      readTimeout: 10_000,
      connectTimeout: 5_000,
      ...(algorithm === undefined ? {} : { signatureAlgorithm: algorithm }),
    }),
  );
}

async function callApi(c: InstanceType<typeof openapi.default>, method: 'GET' | 'POST', action: string, params: Record<string, string>): Promise<Record<string, any>> {
  const request = new openapi.OpenApiRequest(method === 'GET' ? { query: OpenApiUtil.query(params) } : { body: params });
  const api = new openapi.Params({ action, version: VERSION, protocol: 'HTTP', pathname: '/', method, authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json' });
  const answer = (await c.callApi(api, request, new RuntimeOptions({ autoretry: false }))) as { statusCode: number; body: Record<string, any> };
  expect(answer.statusCode).toBe(200);
  return answer.body;
}

async function clientError(promise: Promise<unknown>): Promise<{ code: string; statusCode: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; statusCode: number; message: string };
  }
  throw new Error('the call succeeded');
}

// Default (no signatureAlgorithm: openapi-client's V3 ACS3-HMAC-SHA256) and SM3, each by GET and POST.
const MATRIX = [
  { name: 'default (ACS3-HMAC-SHA256)', algorithm: undefined, method: 'GET' },
  { name: 'default (ACS3-HMAC-SHA256)', algorithm: undefined, method: 'POST' },
  { name: 'ACS3-HMAC-SM3', algorithm: 'ACS3-HMAC-SM3', method: 'GET' },
  { name: 'ACS3-HMAC-SM3', algorithm: 'ACS3-HMAC-SM3', method: 'POST' },
] as const;

describe.each(MATRIX)('openapi-client, $name, $method', ({ algorithm, method }) => {
  it('creates keys, lists them and their versions, signs (the signature verified with the public key by node:crypto, i.e. OpenSSL) and encrypts/decrypts', async () => {
    const c = client(algorithm);
    const created = await callApi(c, method, 'CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY', Description: `v3 ${method} key: spaces, * and ~ and 中文` });
    const keyId = created.KeyMetadata.KeyId as string;
    expect(created.KeyMetadata).toMatchObject({ KeySpec: 'EC_P256', KeyState: 'Enabled', Description: `v3 ${method} key: spaces, * and ~ and 中文` });
    const listed = await callApi(c, method, 'ListKeys', { PageSize: '100' });
    expect((listed.Keys.Key as { KeyId: string }[]).map((k) => k.KeyId)).toContain(keyId);
    const versions = await callApi(c, method, 'ListKeyVersions', { KeyId: keyId });
    const keyVersionId = versions.KeyVersions.KeyVersion[0].KeyVersionId as string;

    const message = Buffer.from(`signed through V3 ${method} ${algorithm ?? 'default'}`);
    const digest = createHash('sha256').update(message).digest();
    const signed = await callApi(c, method, 'AsymmetricSign', { KeyId: keyId, KeyVersionId: keyVersionId, Algorithm: 'ECDSA_SHA_256', Digest: digest.toString('base64') });
    const publicKey = await callApi(c, method, 'GetPublicKey', { KeyId: keyId, KeyVersionId: keyVersionId });
    const signature = Buffer.from(signed.Value as string, 'base64');
    const pem = createPublicKey(publicKey.PublicKey as string);
    expect(createVerify('SHA256').update(message).verify(pem, signature)).toBe(true);
    expect(createVerify('SHA256').update(Buffer.concat([message, Buffer.from('!')])).verify(pem, signature)).toBe(false);

    const rsa = await callApi(c, method, 'CreateKey', { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT/DECRYPT' });
    const rsaId = rsa.KeyMetadata.KeyId as string;
    const rsaVersion = (await callApi(c, method, 'ListKeyVersions', { KeyId: rsaId })).KeyVersions.KeyVersion[0].KeyVersionId as string;
    const plaintext = Buffer.from(`hello ${method} ${algorithm ?? 'default'} +/=`).toString('base64');
    const encrypted = await callApi(c, method, 'AsymmetricEncrypt', { KeyId: rsaId, KeyVersionId: rsaVersion, Algorithm: 'RSAES_OAEP_SHA_256', Plaintext: plaintext });
    const decrypted = await callApi(c, method, 'AsymmetricDecrypt', { KeyId: rsaId, KeyVersionId: rsaVersion, Algorithm: 'RSAES_OAEP_SHA_256', CiphertextBlob: encrypted.CiphertextBlob as string });
    expect(decrypted.Plaintext).toBe(plaintext);
  });

  it('a wrong secret is SignatureDoesNotMatch, an unknown access key InvalidAccessKeyId.NotFound, an unknown Action InvalidAction.NotFound', async () => {
    const wrong = await clientError(callApi(client(algorithm, { id: key.id, secret: `${key.secret}x` }), method, 'ListKeys', {}));
    expect(wrong).toMatchObject({ code: 'SignatureDoesNotMatch', statusCode: 400 });
    const unknown = await clientError(callApi(client(algorithm, { id: 'DKMSnosuchkeynosuchkey00', secret: key.secret }), method, 'ListKeys', {}));
    expect(unknown).toMatchObject({ code: 'InvalidAccessKeyId.NotFound', statusCode: 404 });
    const action = await clientError(callApi(client(algorithm), method, 'ListWidgets', {}));
    expect(action).toMatchObject({ code: 'InvalidAction.NotFound', statusCode: 404 });
  });
});

// --- requests signed by the client's signer, then altered --------------------------------------

interface Crafted {
  method: 'GET' | 'POST';
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string;
}

/** The request openapi-client would send (its headers, its form encoding), signed by openapi-util's getAuthorization. */
function craft(options: { algorithm?: V3Algorithm; method?: 'GET' | 'POST'; action?: string; params?: Record<string, string>; credentials?: { id: string; secret: string }; date?: string; extraHeaders?: Record<string, string> } = {}): Crafted {
  const algorithm = options.algorithm ?? 'ACS3-HMAC-SHA256';
  const method = options.method ?? 'GET';
  const params = options.params ?? { PageSize: '5' };
  const credentials = options.credentials ?? key;
  const body = method === 'POST' ? OpenApiUtil.toForm(params) : '';
  const query = method === 'GET' ? OpenApiUtil.query(params) : {};
  const headers: Record<string, string> = {
    host,
    'x-acs-version': VERSION,
    'x-acs-action': options.action ?? 'ListKeys',
    'x-acs-date': options.date ?? OpenApiUtil.getTimestamp(),
    'x-acs-signature-nonce': randomUUID(),
    accept: 'application/json',
    ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    ...options.extraHeaders,
  };
  headers['x-acs-content-sha256'] = OpenApiUtil.hexEncode(OpenApiUtil.hash(Buffer.from(body), algorithm));
  headers.Authorization = OpenApiUtil.getAuthorization({ method, pathname: '/', query, headers } as never, algorithm, headers['x-acs-content-sha256'], credentials.id, credentials.secret);
  return { method, query, headers, body };
}

interface Answer {
  status: number;
  body: { Code?: string; Message?: string; RequestId: string; [name: string]: unknown };
}

function send(r: Crafted, options: { omitHost?: boolean } = {}): Promise<Answer> {
  const search = new URLSearchParams(r.query).toString().replace(/\+/g, '%20');
  return new Promise((resolve, reject) => {
    const headers = { ...r.headers };
    if (options.omitHost) delete headers.host;
    const req = httpRequest({ host: '127.0.0.1', port, method: r.method, path: `/${search ? `?${search}` : ''}`, headers, setHost: !options.omitHost && headers.host === undefined }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer['body'] }));
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

function refused(answer: Answer, code: string, status: number, message?: RegExp): void {
  expect({ status: answer.status, code: answer.body.Code }).toEqual({ status, code });
  if (message) expect(answer.body.Message).toMatch(message);
  refusals.push({ requestId: answer.body.RequestId, code });
}

function withAuthorization(r: Crafted, change: (authorization: string) => string): Crafted {
  return { ...r, headers: { ...r.headers, Authorization: change(r.headers.Authorization ?? '') } };
}

describe('V3 refusals (requests signed by openapi-util, then altered)', () => {
  it('the crafted request itself is accepted, by GET and POST, SHA-256 and SM3', async () => {
    for (const algorithm of ['ACS3-HMAC-SHA256', 'ACS3-HMAC-SM3'] as const) {
      for (const method of ['GET', 'POST'] as const) {
        const answer = await send(craft({ algorithm, method }));
        expect(answer.status, `${algorithm} ${method}: ${answer.body.Message}`).toBe(200);
        expect(answer.body.Keys).toBeDefined();
      }
    }
  });

  it('a signature changed in one digit: SignatureDoesNotMatch, with the canonical request', async () => {
    const r = craft();
    const flipped = withAuthorization(r, (a) => a.replace(/Signature=([0-9a-f])/, (_m, d: string) => `Signature=${d === '0' ? '1' : '0'}`));
    refused(await send(flipped), 'SignatureDoesNotMatch', 400, /canonical request: GET\\x0A\/\\x0APageSize=5\\x0A/);
  });

  it('signed with another key\'s secret: SignatureDoesNotMatch', async () => {
    const r = craft({ credentials: { id: key.id, secret: otherKey.secret } });
    refused(await send(r), 'SignatureDoesNotMatch', 400);
  });

  it('a body changed after signing: x-acs-content-sha256 no longer matches it', async () => {
    const r = craft({ method: 'POST', params: { PageSize: '5' } });
    refused(await send({ ...r, body: 'PageSize=6' }), 'SignatureDoesNotMatch', 400, /x-acs-content-sha256/);
    // The hash header made to match the new body: the signature (over the old hash) does not.
    const rehashed = { ...r, body: 'PageSize=6', headers: { ...r.headers, 'x-acs-content-sha256': OpenApiUtil.hexEncode(OpenApiUtil.hash(Buffer.from('PageSize=6'), 'ACS3-HMAC-SHA256')) } };
    refused(await send(rehashed), 'SignatureDoesNotMatch', 400, /string to sign/);
    // SM3 requests carry an SM3 hash under the same header name; a SHA-256 one is refused.
    const sm3 = craft({ algorithm: 'ACS3-HMAC-SM3', method: 'POST' });
    const sha = { ...sm3, headers: { ...sm3.headers, 'x-acs-content-sha256': OpenApiUtil.hexEncode(OpenApiUtil.hash(Buffer.from(sm3.body), 'ACS3-HMAC-SHA256')) } };
    refused(await send(sha), 'SignatureDoesNotMatch', 400, /SM3 hash/);
  });

  it('a query changed after signing: SignatureDoesNotMatch', async () => {
    const r = craft({ params: { PageSize: '5' } });
    refused(await send({ ...r, query: { PageSize: '50' } }), 'SignatureDoesNotMatch', 400);
  });

  it('an x-acs-* header added after signing, or a required header left out of SignedHeaders: IncompleteSignature', async () => {
    const r = craft();
    refused(await send({ ...r, headers: { ...r.headers, 'x-acs-extra': 'unsigned' } }), 'IncompleteSignature', 400, /x-acs-extra/);
    for (const name of ['host', 'x-acs-action', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256', 'x-acs-version']) {
      const unsigned = withAuthorization(r, (a) => a.replace(/SignedHeaders=([^,]*)/, (_m, list: string) => `SignedHeaders=${list.split(';').filter((h) => h !== name).join(';')}`));
      refused(await send(unsigned), 'IncompleteSignature', 400, new RegExp(`must include ${name}`));
    }
    const post = craft({ method: 'POST' });
    const noType = withAuthorization(post, (a) => a.replace('content-type;', ''));
    refused(await send(noType), 'IncompleteSignature', 400, /must include content-type/);
  });

  it('a required header missing: MissingParameter naming it', async () => {
    for (const name of ['x-acs-action', 'x-acs-version', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256']) {
      const r = craft();
      const headers = { ...r.headers };
      delete headers[name];
      refused(await send({ ...r, headers }), 'MissingParameter', 400, new RegExp(`header ${name} is mandatory`));
    }
    refused(await send(craft(), { omitHost: true }), 'MissingParameter', 400, /header host is mandatory/);
  });

  it('a replayed request: SignatureNonceUsed; the nonce store is shared with V1', async () => {
    const r = craft();
    expect((await send(r)).status).toBe(200);
    refused(await send(r), 'SignatureNonceUsed', 400);
    // A V1 request with the nonce of an accepted V3 one (same access key) is a replay too.
    const v1: Record<string, string> = {
      Action: 'ListKeys', Version: VERSION, Format: 'JSON', AccessKeyId: key.id, SignatureMethod: 'HMAC-SHA1', SignatureVersion: '1.0',
      SignatureNonce: r.headers['x-acs-signature-nonce'] ?? '', Timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
    v1.Signature = rpcSignature(rpcStringToSign('GET', v1), key.secret);
    refused(await send({ method: 'GET', query: v1, headers: {}, body: '' }), 'SignatureNonceUsed', 400);
  });

  it("a forged request does not use up a genuine request's nonce: the nonce is recorded only once a signature verifies", async () => {
    const genuine = craft();
    const forged = withAuthorization(genuine, (a) => a.replace(/Signature=([0-9a-f])/, (_m, d: string) => `Signature=${d === '0' ? '1' : '0'}`));
    refused(await send(forged), 'SignatureDoesNotMatch', 400);
    expect((await send(genuine)).status).toBe(200);
    refused(await send(genuine), 'SignatureNonceUsed', 400);
  });

  it('a stale or future x-acs-date: InvalidTimeStamp.Expired; a malformed one InvalidTimeStamp.Format', async () => {
    const at = (offsetMs: number): string => new Date(Date.now() + offsetMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
    refused(await send(craft({ date: at(-20 * 60_000) })), 'InvalidTimeStamp.Expired', 400, /x-acs-date/);
    refused(await send(craft({ date: at(20 * 60_000) })), 'InvalidTimeStamp.Expired', 400, /x-acs-date/);
    refused(await send(craft({ date: new Date().toUTCString() })), 'InvalidTimeStamp.Format', 400, /x-acs-date/);
    // Within the window both ways: accepted.
    expect((await send(craft({ date: at(-10 * 60_000) }))).status).toBe(200);
    expect((await send(craft({ date: at(10 * 60_000) }))).status).toBe(200);
  });

  it('other algorithms, malformed Authorization, other credentials, V1 parameters mixed in', async () => {
    const r = craft();
    refused(await send(withAuthorization(r, (a) => a.replace('ACS3-HMAC-SHA256', 'ACS3-RSA-SHA256'))), 'InvalidSignatureMethod', 400);
    refused(await send(withAuthorization(r, (a) => a.replace('ACS3-HMAC-SHA256', 'ACS3-HMAC-SHA1'))), 'InvalidSignatureMethod', 400);
    refused(await send(withAuthorization(r, () => 'Basic dXNlcjpwYXNz')), 'InvalidSignatureMethod', 400);
    refused(await send(withAuthorization(r, (a) => a.replace(/,Signature=[0-9a-f]+/, ''))), 'IncompleteSignature', 400, /Signature is missing/);
    refused(await send(withAuthorization(r, (a) => a.replace('SignedHeaders=host;', 'SignedHeaders='))), 'IncompleteSignature', 400);
    refused(await send(withAuthorization(r, (a) => a.replace('Credential=', 'Credential=,Junk='))), 'IncompleteSignature', 400);
    const sts = craft({ extraHeaders: { 'x-acs-security-token': 'CAIS-token', 'x-acs-accesskey-id': key.id } });
    refused(await send(sts), 'InvalidParameter', 400, /x-acs-security-token|x-acs-accesskey-id/);
    const mixed = craft({ params: { PageSize: '5', Signature: 'abc' } });
    refused(await send(mixed), 'InvalidParameter', 400, /^Signature: an RPC \(V1\) authentication parameter/);
    const contradicting = craft({ params: { PageSize: '5', Action: 'DescribeKey' } });
    refused(await send(contradicting), 'InvalidParameter', 400, /Action: the parameter/);
  });
});

describe("the real client's own bytes, captured by a relay and sent again", () => {
  interface Captured {
    method: string;
    url: string;
    headers: Record<string, string>;
    body: Buffer;
  }

  /** A relay in front of the server that records each request openapi-client sends, exactly as sent. */
  async function relay(): Promise<{ endpoint: string; captured: Captured[]; close(): Promise<void> }> {
    const captured: Captured[] = [];
    const { createServer } = await import('node:http');
    const proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const headers: Record<string, string> = {};
        for (let i = 0; i < req.rawHeaders.length; i += 2) headers[(req.rawHeaders[i] ?? '').toLowerCase()] = req.rawHeaders[i + 1] ?? '';
        const body = Buffer.concat(chunks);
        captured.push({ method: req.method ?? '', url: req.url ?? '', headers, body });
        // Forwarded unchanged, Host included (it is signed).
        const forward = httpRequest({ host: '127.0.0.1', port, method: req.method, path: req.url, headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        forward.end(body);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const address = proxy.address() as { port: number };
    return { endpoint: `127.0.0.1:${address.port}`, captured, close: () => new Promise((resolve) => proxy.close(() => resolve())) };
  }

  function resend(c: Captured, change: Partial<Captured> = {}): Promise<Answer> {
    const r = { ...c, ...change };
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method: r.method, path: r.url, headers: r.headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (b: Buffer) => chunks.push(b));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer['body'] }));
      });
      req.on('error', reject);
      req.end(r.body);
    });
  }

  it.each([
    ['ACS3-HMAC-SHA256', 'GET'],
    ['ACS3-HMAC-SM3', 'POST'],
  ] as const)('%s %s: accepted once through the relay; sent again it is a replay, altered it is refused', async (algorithm, method) => {
    const r = await relay();
    try {
      const c = new openapi.default(new openapi.Config({ accessKeyId: key.id, accessKeySecret: key.secret, endpoint: r.endpoint, protocol: 'http', signatureAlgorithm: algorithm }));
      const params = { PageSize: '7', Filters: '[{"Key":"KeyState","Values":["Enabled"]}]' };
      const request = new openapi.OpenApiRequest(method === 'GET' ? { query: OpenApiUtil.query(params) } : { body: params });
      const api = new openapi.Params({ action: 'ListKeys', version: VERSION, protocol: 'HTTP', pathname: '/', method, authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json' });
      const answer = (await c.callApi(api, request, new RuntimeOptions({ autoretry: false }))) as { statusCode: number; body: { PageSize: number } };
      expect(answer).toMatchObject({ statusCode: 200, body: { PageSize: 7 } });
      const sent = r.captured[0];
      if (!sent) throw new Error('the relay saw no request');
      expect(sent.headers.authorization).toMatch(new RegExp(`^${algorithm} Credential=${key.id},SignedHeaders=`));
      expect(sent.headers['x-acs-action']).toBe('ListKeys');
      expect(sent.body.length > 0).toBe(method === 'POST');

      refused(await resend(sent), 'SignatureNonceUsed', 400);
      const freshNonce = { ...sent.headers, 'x-acs-signature-nonce': randomUUID() };
      refused(await resend(sent, { headers: freshNonce }), 'SignatureDoesNotMatch', 400);
      if (method === 'POST') {
        refused(await resend(sent, { body: Buffer.from(sent.body.toString().replace('PageSize=7', 'PageSize=8')) }), 'SignatureDoesNotMatch', 400, /x-acs-content-sha256/);
      } else {
        refused(await resend(sent, { url: sent.url.replace('PageSize=7', 'PageSize=8') }), 'SignatureDoesNotMatch', 400);
      }
      refused(await resend(sent, { headers: { ...sent.headers, 'x-acs-action': 'DescribeKey' } }), 'SignatureDoesNotMatch', 400);
    } finally {
      await r.close();
    }
  });
});

describe('V3 refusals are audited as V1 ones are', () => {
  it('each refusal above has its audit entry: its RequestId, Code, the Action and AccessKeyId sent', async () => {
    expect(refusals.length).toBeGreaterThan(20);
    await server?.stop(); // flushes the refusal log
    server = undefined;
    const vault = Vault.open(vaultDir);
    try {
      await vault.ensureUnlocked();
      const entries = new Map(listAuditEntries(vault.store.db, { limit: 10_000 }).map((e) => [e.requestId, e]));
      for (const { requestId, code } of refusals) {
        expect(entries.get(requestId), `${code} ${requestId}`).toMatchObject({ code, action: expect.any(String) as unknown, caller: expect.stringMatching(/^api-unauthenticated:/) as unknown });
      }
      // The V3 request's x-acs-action and Credential are what the entry names.
      const stale = refusals.find((r) => r.code === 'InvalidTimeStamp.Expired');
      expect(entries.get(stale?.requestId ?? '')).toMatchObject({ action: 'ListKeys', caller: `api-unauthenticated:${key.id}` });
    } finally {
      await vault.close();
    }
  });
});
