// The request and response files: the same request always gives the same bytes (fixed member
// order, one final newline), and the strict reading refuses, with Request.Malformed naming the
// field, anything else: oversized input before it is parsed, JSON that is not ours, a bad field,
// a file named twice, an option of another format, a csr request without its CSR.
import { describe, expect, it } from 'vitest';
import { KmsError } from '../contract/errors.ts';
import { canonicalCsrPem, encodeRequest, encodeResponse, parseRequest, parseResponse, sha256Hex } from './request-file.ts';
import { MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, REQUEST_TYPE, RESPONSE_TYPE, type SigningRequest, type SigningResponse } from '../contract/signing-requests.ts';

const HEX = 'a'.repeat(64);
/** A Csr in its canonical armour (parseRequest checks the form; the station reads the CSR inside). */
const CSR = canonicalCsrPem(new Uint8Array(200).map((_, i) => i));
const request: SigningRequest = {
  Type: REQUEST_TYPE,
  Version: 1,
  RequestId: '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d',
  Created: '2026-12-02T08:00:00Z',
  Key: 'alias/release',
  Format: 'ssh',
  Options: { Namespace: 'file' },
  Note: 'release 1.0',
  Files: [
    { Name: 'a.tgz', Size: 3, Sha256: HEX, Prepared: { Sha512: 'AAAA' } },
    { Name: 'b.tgz', Size: 0, Sha256: 'b'.repeat(64), Prepared: { Sha512: 'BBBB' } },
  ],
};
const response: SigningResponse = {
  Type: RESPONSE_TYPE,
  Version: 1,
  RequestId: request.RequestId,
  RequestSha256: HEX,
  Approved: '2026-12-02T09:00:00Z',
  Format: 'ssh',
  KeyId: '1b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d',
  KeyVersionId: '2b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d',
  KeySpec: 'EC_P256',
  PublicKey: 'AAAA',
  PublicMaterial: { SshPublicKey: 'ecdsa-sha2-nistp256 AAAA' },
  Files: [{ Name: 'a.tgz', Sha256: HEX, Signature: 'AAAA' }],
};

const text = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

function malformed(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof KmsError) {
      expect(error.code).toBe('Request.Malformed');
      return error.message;
    }
    throw error;
  }
  throw new Error('not refused');
}

describe('encodeRequest / encodeResponse', () => {
  it('writes the members in one fixed order, ending in a newline, whatever order they were given in', () => {
    const shuffled = Object.fromEntries(Object.entries(request).reverse()) as SigningRequest;
    const bytes = encodeRequest(shuffled);
    expect(Buffer.from(bytes)).toEqual(Buffer.from(encodeRequest(request)));
    const written = new TextDecoder().decode(bytes);
    expect(written.endsWith('}\n')).toBe(true);
    expect(Object.keys(JSON.parse(written) as object)).toEqual(['Type', 'Version', 'RequestId', 'Created', 'Key', 'Format', 'Options', 'Note', 'Files']);
    expect(parseRequest(bytes)).toEqual(request);
    const answer = encodeResponse(response);
    expect(Object.keys(JSON.parse(new TextDecoder().decode(answer)) as object)).toEqual(Object.keys(response));
    expect(parseResponse(answer)).toEqual(response);
  });

  it('never writes a request it would refuse to read', () => {
    expect(malformed(() => encodeRequest({ ...request, Files: [request.Files[0]!, request.Files[0]!] }))).toMatch(/Files\[1\]\.Name: a\.tgz is named twice/);
  });

  it('sha256Hex is the lower-case hex SHA-256', () => {
    expect(sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

/** Names Windows cannot write as they are: a stream (':'), a device, a trailing dot or space. */
const WINDOWS_NAMES: [string, RegExp][] = [
  ...['a:b.tgz', 'a.tgz:stream'].map((name): [string, RegExp] => [name, /Files\[0\]\.Name: must not contain ':'/]),
  ...['CON', 'nul.tgz', 'Com1.tar.gz', 'LPT9', 'aux.'].map((name): [string, RegExp] => [name, /Files\[0\]\.Name: is a name Windows reserves/]),
  ...['a.tgz.', 'a.tgz ', 'release '].map((name): [string, RegExp] => [name, /Files\[0\]\.Name: must not end with a dot or a space/]),
];

describe('parseRequest refuses, naming the field', () => {
  it.each([
    ['not JSON', 'release notes', /is not JSON/],
    ['a JSON array', '[1]', /is not a JSON object/],
    ['another type', { ...request, Type: 'something-else' }, /Type: /],
    ['a bad digest', { ...request, Files: [{ ...request.Files[0], Sha256: 'ABC' }] }, /Files\[0\]\.Sha256: must be 64 lower-case hex/],
    ['a path in a name', { ...request, Files: [{ ...request.Files[0], Name: '../etc/passwd' }] }, /Files\[0\]\.Name: must be a file name/],
    ...WINDOWS_NAMES.map(([name, message]): [string, unknown, RegExp] => [`the name ${JSON.stringify(name)} (Windows)`, { ...request, Files: [{ ...request.Files[0], Name: name }] }, message]),
    ['an unknown member', { ...request, Extra: 1 }, /Extra|Unrecognized key/],
    ['no files', { ...request, Files: [] }, /Files: /],
    ['an option of another format', { ...request, Options: { UserId: 'x' } }, /Options\.UserId: is not an option of the ssh format/],
    ['a file without its hashes', { ...request, Files: [{ Name: 'a', Size: 1, Sha256: HEX }] }, /Files\[0\]\.Prepared: is missing/],
    ['a csr request without its CSR', { ...request, Format: 'csr', Options: {}, Files: [{ Name: 'h.csr', Size: 1, Sha256: HEX }] }, /Csr: a csr request carries the CSR/],
    ['a CSR that is not the file hashed', { ...request, Format: 'csr', Options: {}, Csr: CSR, Files: [{ Name: 'h.csr', Size: 1, Sha256: HEX }] }, /Files\[0\]\.Sha256: is not the SHA-256 of Csr/],
    ['a CSR with text before its block', { ...request, Format: 'csr', Options: {}, Csr: `Certificate Request:\n${CSR}`, Files: [{ Name: 'h.csr', Size: 1, Sha256: HEX }] }, /Csr: is not one PEM "CERTIFICATE REQUEST" block/],
    ['a CSR labelled NEW CERTIFICATE REQUEST', { ...request, Format: 'csr', Options: {}, Csr: CSR.replace(/CERTIFICATE REQUEST/g, 'NEW CERTIFICATE REQUEST'), Files: [{ Name: 'h.csr', Size: 1, Sha256: HEX }] }, /Csr: is not one PEM "CERTIFICATE REQUEST" block/],
    ['a CSR in CRLF lines', { ...request, Format: 'csr', Options: {}, Csr: CSR.replace(/\n/g, '\r\n'), Files: [{ Name: 'h.csr', Size: 1, Sha256: HEX }] }, /Csr: is not one PEM "CERTIFICATE REQUEST" block/],
    ['PathLen without IsCa', { ...request, Format: 'csr', Options: { PathLen: 1 }, Csr: CSR, Files: [{ Name: 'h.csr', Size: 1, Sha256: sha256Hex(CSR) }] }, /Options\.PathLen: applies only with Options\.IsCa/],
  ])('%s', (_what, value, message) => {
    expect(malformed(() => parseRequest(text(value)))).toMatch(message);
  });

  it('refuses input over the limit before parsing it, and bytes that are not UTF-8', () => {
    const huge = text({ ...request, Note: 'x'.repeat(MAX_REQUEST_BYTES) });
    expect(malformed(() => parseRequest(huge))).toMatch(`is ${huge.length} bytes; at most ${MAX_REQUEST_BYTES} are read`);
    expect(malformed(() => parseRequest(new Uint8Array([0x7b, 0xff, 0x7d])))).toMatch(/not UTF-8/);
    expect(malformed(() => parseRequest(new Uint8Array()))).toMatch(/is empty/);
  });

  it('escapes a member name from outside in its message', () => {
    expect(malformed(() => parseRequest(text({ ...request, Options: { '\u202eNamespace': 'x' } })))).toContain('\\u202E');
  });
});

describe('parseResponse refuses, naming the field', () => {
  it('a bad signature encoding, a file named twice, an oversized response', () => {
    expect(malformed(() => parseResponse(text({ ...response, Files: [{ ...response.Files[0], Signature: 'not base64!' }] })))).toMatch(/Files\[0\]\.Signature: must be base64/);
    expect(malformed(() => parseResponse(text({ ...response, Files: [response.Files[0], response.Files[0]] })))).toMatch(/named twice/);
    expect(malformed(() => parseResponse(new Uint8Array(MAX_RESPONSE_BYTES + 1).fill(0x20)))).toMatch(/at most/);
    expect(malformed(() => parseResponse(text(request)))).toMatch(/Type: /);
  });
});
