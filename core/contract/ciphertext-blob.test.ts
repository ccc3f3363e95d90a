// The CiphertextBlob's byte layout (README: "CiphertextBlob format"), pinned offset by offset, and
// every malformed blob refused as InvalidCiphertext.
import { describe, expect, it } from 'vitest';
import { BLOB_HEADER_BYTES, BLOB_OVERHEAD, blobAad, decodeBlob, encodeBlob, headerBytes, type BlobHeader } from './ciphertext-blob.ts';

const header: BlobHeader = { keyId: '0b8a3c2e-5d4f-4e6a-8b7c-9d0e1f2a3b4c', keyVersionId: '2f7cf6b5-4c1e-4b0a-9d3f-1c2b3a4d5e6f', cipher: 'SM4-GCM' };
const iv = Uint8Array.from({ length: 12 }, (_, i) => 0xa0 + i);
const tag = Uint8Array.from({ length: 16 }, (_, i) => 0xc0 + i);
const ct = new TextEncoder().encode('ciphertext');
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

describe('CiphertextBlob v1', () => {
  it('lays out magic, version, cipher, KeyId, KeyVersionId, IV, ciphertext, tag at fixed offsets', () => {
    const blob = encodeBlob(header, iv, ct, tag);
    expect(blob.length).toBe(BLOB_OVERHEAD + ct.length);
    expect(BLOB_OVERHEAD).toBe(66);
    expect(new TextDecoder().decode(blob.subarray(0, 4))).toBe('DKMS');
    expect(blob[4]).toBe(1);
    expect(blob[5]).toBe(2);
    expect(hex(blob.subarray(6, 22))).toBe('0b8a3c2e5d4f4e6a8b7c9d0e1f2a3b4c');
    expect(hex(blob.subarray(22, 38))).toBe('2f7cf6b54c1e4b0a9d3f1c2b3a4d5e6f');
    expect(hex(blob.subarray(38, 50))).toBe(hex(iv));
    expect(new TextDecoder().decode(blob.subarray(50, 50 + ct.length))).toBe('ciphertext');
    expect(hex(blob.subarray(50 + ct.length))).toBe(hex(tag));
    expect(hex(headerBytes({ ...header, cipher: 'AES-256-GCM' }).subarray(4, 6))).toBe('0101');
  });

  it('decodes what it encodes', () => {
    const decoded = decodeBlob(encodeBlob(header, iv, ct, tag));
    expect(decoded.header).toEqual(header);
    expect(hex(decoded.iv)).toBe(hex(iv));
    expect(hex(decoded.ciphertext)).toBe(hex(ct));
    expect(hex(decoded.tag)).toBe(hex(tag));
    // An empty plaintext is a blob of the overhead alone.
    expect(decodeBlob(encodeBlob(header, iv, new Uint8Array(0), tag)).ciphertext.length).toBe(0);
  });

  it('authenticates the header and the canonical context: AAD = header || {"a":"1","b":"2"}', () => {
    const aad = blobAad(header, { b: '2', a: '1' });
    expect(hex(aad.subarray(0, BLOB_HEADER_BYTES))).toBe(hex(headerBytes(header)));
    expect(new TextDecoder().decode(aad.subarray(BLOB_HEADER_BYTES))).toBe('{"a":"1","b":"2"}');
    expect(new TextDecoder().decode(blobAad(header, undefined).subarray(BLOB_HEADER_BYTES))).toBe('{}');
  });

  it.each([
    ['empty', () => new Uint8Array(0), /does not start with the DKMS header/],
    ['another magic', () => Uint8Array.from(encodeBlob(header, iv, ct, tag), (b, i) => (i === 0 ? 0x45 : b)), /does not start with the DKMS header/],
    ['an AsymmetricEncrypt ciphertext (random bytes)', () => Uint8Array.from({ length: 256 }, (_, i) => (i * 7) & 0xff), /AsymmetricDecrypt/],
    ['format version 2', () => Uint8Array.from(encodeBlob(header, iv, ct, tag), (b, i) => (i === 4 ? 2 : b)), /format version 2/],
    ['an unknown cipher', () => Uint8Array.from(encodeBlob(header, iv, ct, tag), (b, i) => (i === 5 ? 9 : b)), /unknown cipher/],
    ['truncated into its tag', () => encodeBlob(header, iv, new Uint8Array(0), tag).subarray(0, BLOB_OVERHEAD - 1), /truncated/],
  ])('refuses %s as InvalidCiphertext', (_what, make, message) => {
    expect(() => decodeBlob(make())).toThrow(expect.objectContaining({ code: 'InvalidCiphertext', message: expect.stringMatching(message) as unknown }));
  });
});
