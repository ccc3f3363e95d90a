// The V3 canonical request, checked against the real client's signer: @alicloud/openapi-util's
// getAuthorization signs requests shaped as @alicloud/openapi-client sends them, and what we
// compute from the request as received must give the same signature; then each protocol refusal.
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { stringify } from 'node:querystring';
import { describe, expect, it } from 'vitest';
import { KmsError } from '../../contract/errors.ts';
import { acs3Hash, acs3SignedRequest, acs3StringToSign, parseAcs3Authorization, type Acs3Algorithm, type Acs3RequestInput } from './acs3-signature.ts';

const require = createRequire(import.meta.url);
/* eslint-disable-next-line @typescript-eslint/consistent-type-imports -- CommonJS through require (as test/support/alibaba-sdk.ts) */
const OpenApiUtil = (require('@alicloud/openapi-util') as typeof import('@alicloud/openapi-util')).default;

const SECRET = 'testSecret/with+odd=chars&';
const AK = 'DKMSunitunitunitunitunit';

interface ClientRequest {
  readonly method: 'GET' | 'POST';
  readonly query: Record<string, string>;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** As openapi-client's doRequest builds an RPC request (query for GET, form body for POST), signed by getAuthorization. */
function clientRequest(algorithm: Acs3Algorithm, method: 'GET' | 'POST', params: Record<string, string>, extra: Record<string, string> = {}): ClientRequest {
  const body = Buffer.from(method === 'POST' ? OpenApiUtil.toForm(params) : '');
  const query = method === 'GET' ? OpenApiUtil.query(params) : {};
  const headers: Record<string, string> = {
    host: 'kms.example:8443',
    'x-acs-version': '2016-01-20',
    'x-acs-action': 'ListKeys',
    'user-agent': 'unit',
    'x-acs-date': '2026-12-02T10:00:00Z',
    'x-acs-signature-nonce': 'nonce-1',
    accept: 'application/json',
    ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    ...extra,
  };
  headers['x-acs-content-sha256'] = OpenApiUtil.hexEncode(OpenApiUtil.hash(body, algorithm));
  headers.Authorization = OpenApiUtil.getAuthorization({ method, pathname: '/', query, headers } as never, algorithm, headers['x-acs-content-sha256'], AK, SECRET);
  return { method, query, headers, body };
}

/** What the server sees: lower-case header names with their values (node's headersDistinct), the query decoded from the wire. */
function received(r: ClientRequest, change: Partial<{ headers: Record<string, string | string[] | undefined>; body: Buffer; params: Record<string, string> }> = {}): Acs3RequestInput {
  const headers: Record<string, string[]> = {};
  for (const [name, value] of Object.entries({ ...r.headers, ...change.headers })) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value : [value];
  }
  // tea's doAction puts the query on the URL with querystring.stringify; the server decodes it.
  const query = Object.fromEntries(new URLSearchParams(stringify(r.query)));
  return { method: r.method, query, params: { ...query, ...change.params }, headers, body: change.body ?? r.body };
}

function mac(algorithm: Acs3Algorithm, data: string): string {
  return createHmac(algorithm === 'ACS3-HMAC-SM3' ? 'sm3' : 'sha256', SECRET).update(data).digest('hex');
}

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(KmsError);
    return { code: (error as KmsError).code, message: (error as KmsError).message };
  }
  throw new Error('not refused');
}

const PARAMETER_SETS: Record<string, string>[] = [
  {},
  { PageSize: '5', PageNumber: '1' },
  { KeyId: 'alias/release key', Description: "sp ace * ~ ! ' ( ) + / = & % ? # 中文 😀", Empty: '' },
  { Filters: '[{"Key":"KeySpec","Values":["EC_P256","RSA_2048"]}]', Tags: '[{"TagKey":"a b","TagValue":"c+d"}]' },
  { b: '2', a: '1', B: '3', 'a.b': '4', a_b: '5', 'a-b': '6', '0': '7' },
];

describe('the canonical request matches the real client signer (openapi-util getAuthorization)', () => {
  for (const algorithm of ['ACS3-HMAC-SHA256', 'ACS3-HMAC-SM3'] as const) {
    for (const method of ['GET', 'POST'] as const) {
      it.each(PARAMETER_SETS.map((p, i) => [i, p] as const))(`${algorithm} ${method}, parameter set %i`, (_i, params) => {
        const r = clientRequest(algorithm, method, params);
        const signed = acs3SignedRequest(received(r));
        expect(signed).toMatchObject({ scheme: 'ACS3', algorithm, accessKeyId: AK, action: 'ListKeys', version: '2016-01-20', nonce: 'nonce-1', timestamp: '2026-12-02T10:00:00Z' });
        const presented = /Signature=([0-9a-f]{64})$/.exec(r.headers.Authorization ?? '')?.[1];
        expect(presented).toMatch(/^[0-9a-f]{64}$/);
        expect(signed.signature).toBe(presented);
        expect(mac(algorithm, acs3StringToSign(algorithm, signed.canonicalRequest))).toBe(presented);
        // And it depends on the secret and on every part: another secret, or another value, differs.
        expect(createHmac('sha256', `${SECRET}x`).update(acs3StringToSign(algorithm, signed.canonicalRequest)).digest('hex')).not.toBe(presented);
      });
    }
  }

  it('signs every x-acs-* header the client adds (credentials provider), and an extra header changes the signature', () => {
    const r = clientRequest('ACS3-HMAC-SHA256', 'GET', { PageSize: '5' }, { 'x-acs-credentials-provider': 'static_ak' });
    expect(r.headers.Authorization).toContain('x-acs-credentials-provider');
    const signed = acs3SignedRequest(received(r));
    expect(mac('ACS3-HMAC-SHA256', acs3StringToSign('ACS3-HMAC-SHA256', signed.canonicalRequest))).toBe(signed.signature);
    const changed = acs3SignedRequest(received(r, { headers: { 'x-acs-credentials-provider': 'other' } }));
    expect(mac('ACS3-HMAC-SHA256', acs3StringToSign('ACS3-HMAC-SHA256', changed.canonicalRequest))).not.toBe(signed.signature);
  });

  it('the body hash is SHA-256 or SM3 of the body, under the header name x-acs-content-sha256 for both', () => {
    expect(acs3Hash('ACS3-HMAC-SHA256', '')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(acs3Hash('ACS3-HMAC-SM3', 'abc')).toBe(OpenApiUtil.hexEncode(OpenApiUtil.hash(Buffer.from('abc'), 'ACS3-HMAC-SM3')));
    expect(acs3Hash('ACS3-HMAC-SM3', 'abc')).not.toBe(acs3Hash('ACS3-HMAC-SHA256', 'abc'));
  });
});

describe('the Authorization header', () => {
  const good = 'ACS3-HMAC-SHA256 Credential=AK1,SignedHeaders=host;x-acs-action,Signature=' + 'ab'.repeat(32);

  it('parses the client\'s form, upper-case hex included', () => {
    expect(parseAcs3Authorization(good)).toEqual({ algorithm: 'ACS3-HMAC-SHA256', accessKeyId: 'AK1', signedHeaders: ['host', 'x-acs-action'], signature: 'ab'.repeat(32) });
    expect(parseAcs3Authorization(good.replace('ab'.repeat(32), 'AB'.repeat(32))).signature).toBe('ab'.repeat(32));
  });

  it.each([
    ['ACS3-RSA-SHA256 Credential=AK1,SignedHeaders=host,Signature=00', 'InvalidSignatureMethod'],
    ['acs3-hmac-sha256 Credential=AK1', 'InvalidSignatureMethod'],
    ['Basic dXNlcjpwYXNz', 'InvalidSignatureMethod'],
    ['', 'InvalidSignatureMethod'],
    [good.replace('Credential=AK1,', ''), 'IncompleteSignature'],
    [good.replace('Credential=AK1', 'Credential='), 'IncompleteSignature'],
    [good.replace('Credential=AK1', 'Credential=A K'), 'IncompleteSignature'],
    [good.replace(',Signature=', ',Signature=z'), 'IncompleteSignature'],
    [good.replace('ab'.repeat(32), 'ab'.repeat(20)), 'IncompleteSignature'],
    [good.replace('SignedHeaders=host;x-acs-action', 'SignedHeaders='), 'IncompleteSignature'],
    [good.replace('SignedHeaders=host;x-acs-action', 'SignedHeaders=x-acs-action;host'), 'IncompleteSignature'],
    [good.replace('SignedHeaders=host;x-acs-action', 'SignedHeaders=host;host'), 'IncompleteSignature'],
    [good.replace('SignedHeaders=host;x-acs-action', 'SignedHeaders=Host;x-acs-action'), 'IncompleteSignature'],
    [`${good},Signature=${'cd'.repeat(32)}`, 'IncompleteSignature'],
    [`${good},Region=cn`, 'IncompleteSignature'],
  ])('%s: %s', (header, code) => {
    expect(refusal(() => parseAcs3Authorization(header)).code).toBe(code);
  });
});

describe('protocol refusals of a signed request', () => {
  const get = clientRequest('ACS3-HMAC-SHA256', 'GET', { PageSize: '5' });
  const post = clientRequest('ACS3-HMAC-SM3', 'POST', { PageSize: '5' });

  it.each(['host', 'x-acs-action', 'x-acs-version', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256'])('without %s: MissingParameter naming the header', (name) => {
    expect(refusal(() => acs3SignedRequest(received(get, { headers: { [name]: undefined } })))).toEqual({ code: 'MissingParameter', message: `header ${name} is mandatory for this action` });
  });

  it('a body without its content-type: MissingParameter; a body the hash does not match: SignatureDoesNotMatch', () => {
    expect(refusal(() => acs3SignedRequest(received(post, { headers: { 'content-type': undefined } }))).code).toBe('MissingParameter');
    expect(refusal(() => acs3SignedRequest(received(post, { body: Buffer.from('PageSize=6') })))).toMatchObject({ code: 'SignatureDoesNotMatch', message: expect.stringMatching(/x-acs-content-sha256 .* SM3 hash/) as unknown });
    // A GET that gains a body after signing: its hash (of nothing) no longer matches, and its content-type is not signed.
    expect(refusal(() => acs3SignedRequest(received(get, { body: Buffer.from('PageSize=6'), headers: { 'content-type': 'application/x-www-form-urlencoded' } }))).code).toBe('IncompleteSignature');
  });

  it('an x-acs-* header not signed, or a signed header not sent: IncompleteSignature', () => {
    expect(refusal(() => acs3SignedRequest(received(get, { headers: { 'x-acs-extra': '1' } })))).toMatchObject({ code: 'IncompleteSignature', message: expect.stringContaining('x-acs-extra') as unknown });
    const listsMore = { ...get, headers: { ...get.headers, Authorization: (get.headers.Authorization ?? '').replace('SignedHeaders=host;', 'SignedHeaders=accept;host;') } };
    expect(refusal(() => acs3SignedRequest(received(listsMore, { headers: { accept: undefined } }))).code).toBe('IncompleteSignature');
  });

  it('a signed header sent twice: InvalidParameter naming it', () => {
    const date = get.headers['x-acs-date'] ?? '';
    expect(refusal(() => acs3SignedRequest(received(get, { headers: { 'x-acs-date': [date, date] } })))).toEqual({ code: 'InvalidParameter', message: 'header x-acs-date: given more than once' });
  });

  it.each(['x-acs-security-token', 'x-acs-bearer-token', 'x-acs-accesskey-id', 'x-acs-signature-type'])('another kind of credential (%s): InvalidParameter naming it', (name) => {
    expect(refusal(() => acs3SignedRequest(received(get, { headers: { [name]: 'x' } })))).toMatchObject({ code: 'InvalidParameter', message: expect.stringMatching(new RegExp(`^header ${name}: `)) as unknown });
  });

  it.each(['AccessKeyId', 'Signature', 'SignatureMethod', 'SignatureVersion', 'SignatureNonce', 'Timestamp', 'SecurityToken'])('the V1 parameter %s mixed in: InvalidParameter naming it', (name) => {
    expect(refusal(() => acs3SignedRequest(received(get, { params: { [name]: 'x' } })))).toMatchObject({ code: 'InvalidParameter', message: expect.stringMatching(new RegExp(`^${name}: an RPC \\(V1\\) authentication parameter`)) as unknown });
  });

  it('a nonce outside printable ASCII: InvalidParameter', () => {
    expect(refusal(() => acs3SignedRequest(received(get, { headers: { 'x-acs-signature-nonce': 'a b' } }))).code).toBe('InvalidParameter');
  });
});
