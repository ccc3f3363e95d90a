// Strict base64 for wire fields (Digest, Signature, Plaintext, CiphertextBlob). Runtime-neutral.
import { invalidParameter } from './errors.ts';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes canonical standard base64 (RFC 4648 section 4, padded, no whitespace).
 * Anything else is InvalidParameter naming `parameter`: silently skipping junk would let two
 * different strings mean the same bytes.
 */
export function decodeBase64(value: unknown, parameter: string): Uint8Array {
  if (typeof value !== 'string') throw invalidParameter(parameter, 'must be a base64 string');
  if (!BASE64.test(value)) {
    throw invalidParameter(parameter, 'is not valid base64 (standard alphabet, padded, no whitespace)');
  }
  const binary = atob(value);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  // Non-zero unused bits in the last character mean a non-canonical encoding.
  if (encodeBase64(bytes) !== value) throw invalidParameter(parameter, 'is not canonical base64');
  return bytes;
}

export function encodeBase64(bytes: Uint8Array): string {
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}
