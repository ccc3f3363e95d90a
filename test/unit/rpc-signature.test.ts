// The RPC signature against two outside references: Alibaba's published worked example, and the
// official SDK's own signer (@alicloud/rpc-util getSignatureV1, what @alicloud/kms20160120 calls)
// on many random parameter sets.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  canonicalQuery,
  percentEncode,
  rpcSignature,
  rpcStringToSign,
  signaturesMatch,
} from '../../core/hosts/http/rpc-signature.ts';
import { prng } from '../support/random.ts';

interface RpcUtil {
  getSignatureV1(query: Record<string, string>, method: string, secret: string): string;
}
const require = createRequire(import.meta.url);
const sdkSigner = (require('@alicloud/rpc-util') as { default: RpcUtil }).default;

// Alibaba Cloud "Signature mechanism" (RPC, V2) worked example: DescribeRegions on ECS with
// AccessKeyId testid and AccessKeySecret testsecret.
const DOC_PARAMS = {
  Timestamp: '2016-02-23T12:46:24Z',
  Format: 'XML',
  AccessKeyId: 'testid',
  Action: 'DescribeRegions',
  SignatureMethod: 'HMAC-SHA1',
  SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
  Version: '2014-05-26',
  SignatureVersion: '1.0',
};

describe('the published worked example', () => {
  it('gives the documented string to sign and signature', () => {
    const stringToSign = rpcStringToSign('GET', DOC_PARAMS);
    expect(stringToSign).toBe(
      'GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1' +
        '%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0' +
        '%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26',
    );
    expect(rpcSignature(stringToSign, 'testsecret')).toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
  });

  it('gives the signature of the older variant of the example (parameter spelled TimeStamp)', () => {
    const { Timestamp, ...rest } = DOC_PARAMS;
    const params = { ...rest, TimeStamp: Timestamp };
    expect(rpcSignature(rpcStringToSign('GET', params), 'testsecret')).toBe('CT9X0VtwR86fNWSnsc6v8YGOjuE=');
  });

  it('leaves Signature itself out of the canonical query', () => {
    const signed = { ...DOC_PARAMS, Signature: 'OLeaidS1JvxuMvnyHOwuJ+uX5qY=' };
    expect(canonicalQuery(signed)).toBe(canonicalQuery(DOC_PARAMS));
    expect(canonicalQuery(signed)).not.toContain('Signature=');
  });
});

describe('percentEncode', () => {
  it('keeps only RFC 3986 unreserved characters', () => {
    expect(percentEncode("a b*c~d!'()+/=&%")).toBe('a%20b%2Ac~d%21%27%28%29%2B%2F%3D%26%25');
    expect(percentEncode('AZaz09-_.~')).toBe('AZaz09-_.~');
    expect(percentEncode('')).toBe('');
  });

  it('encodes UTF-8 bytes with upper-case hex', () => {
    expect(percentEncode('中')).toBe('%E4%B8%AD');
    expect(percentEncode('é')).toBe('%C3%A9');
    expect(percentEncode('😀')).toBe('%F0%9F%98%80');
  });

  it('every character of the first 0x800 code points: its UTF-8 bytes, each %XX unless unreserved', () => {
    const unreserved = /[A-Za-z0-9\-_.~]/;
    for (let cp = 0; cp < 0x800; cp++) {
      const c = String.fromCodePoint(cp);
      const expected = unreserved.test(c) ? c : [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
      expect(percentEncode(c)).toBe(expected);
      expect(percentEncode(`ab${c}9`)).toBe(`ab${expected}9`);
    }
  });

  it('refuses a lone surrogate, which has no UTF-8 form', () => {
    expect(() => percentEncode('\uD800')).toThrow(URIError);
  });
});

describe('signaturesMatch', () => {
  it('is equality, length-safe', () => {
    expect(signaturesMatch('abc=', 'abc=')).toBe(true);
    expect(signaturesMatch('abc=', 'abd=')).toBe(false);
    expect(signaturesMatch('abc', 'abc=')).toBe(false);
    expect(signaturesMatch('', '')).toBe(true);
  });
});


// Characters that exercise every encoding rule: unreserved, sub-delims encodeURIComponent leaves
// alone, form-encoding traps (+ and space), path and query syntax, 2-, 3- and 4-byte UTF-8.
const ALPHABET = [
  ...'abcXYZ019-_.~',
  ...' *+/!\'()=&%?#:;,@$[]"<>\\^`{|}',
  'é', 'ß', 'Ω', '中', '文', '€', '😀', '🔑', '\u0000', '\t', '\n', '\u00a0', '\u2028', '\uFEFF',
];

function randomString(next: () => number, maxLength: number): string {
  const length = Math.floor(next() * (maxLength + 1));
  let s = '';
  for (let i = 0; i < length; i++) s += ALPHABET[Math.floor(next() * ALPHABET.length)];
  return s;
}

function randomParams(next: () => number): Record<string, string> {
  const params: Record<string, string> = { Action: 'AsymmetricSign', Version: '2016-01-20', Format: 'json' };
  const count = 1 + Math.floor(next() * 12);
  for (let i = 0; i < count; i++) {
    const name = next() < 0.5 ? `P${randomString(next, 6)}` : randomString(next, 8) || 'Empty';
    params[name] = next() < 0.15 ? '' : randomString(next, 40);
  }
  return params;
}

describe('agreement with the official SDK signer', () => {
  it('matches getSignatureV1 on 2000 random parameter sets', () => {
    const next = prng(20160120);
    for (let i = 0; i < 2000; i++) {
      const params = randomParams(next);
      const method = next() < 0.5 ? 'GET' : 'POST';
      const secret = randomString(next, 30);
      const ours = rpcSignature(rpcStringToSign(method, params), secret);
      const theirs = sdkSigner.getSignatureV1({ ...params }, method, secret);
      if (ours !== theirs) {
        throw new Error(`case ${i} differs: ${JSON.stringify({ method, secret, params })}: ${ours} != ${theirs}`);
      }
    }
  });

  it('matches on parameters built the way the KMS SDK builds them', () => {
    const params = {
      Action: 'AsymmetricSign',
      Format: 'json',
      Timestamp: '2026-11-22T18:00:00Z',
      Version: '2016-01-20',
      SignatureNonce: '5f1d2c8e9a0b4c7d8e6f1a2b3c4d5e6f',
      KeyId: 'alias/release signing',
      KeyVersionId: '2ab1a983-7072-4bbc-a582-584b5bd8e7a4',
      Algorithm: 'RSA_PSS_SHA_256',
      Digest: 'ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw+/==',
      SignatureMethod: 'HMAC-SHA1',
      SignatureVersion: '1.0',
      AccessKeyId: 'LTAI4Fexample',
    };
    expect(rpcSignature(rpcStringToSign('POST', params), 's3cr3t/+=')).toBe(
      sdkSigner.getSignatureV1(params, 'POST', 's3cr3t/+='),
    );
  });
});
