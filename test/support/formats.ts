// Helpers for the signature-format tests (core/formats/*.test.ts): a format's own verifier fed
// the message in uneven chunks (the hash is streamed), and the Code of a refusal.
import { KmsError } from '../../core/contract/errors.ts';
import type { SignatureFormat, VerifyMaterial, VerifyResult } from '../../core/formats/format.ts';

/** `format.verify` over `message`, fed `chunk` bytes at a time. */
export function verifyInChunks(format: SignatureFormat, signature: Uint8Array | string, message: Uint8Array | string, material: VerifyMaterial, chunk: number): VerifyResult {
  const pending = format.verify(typeof signature === 'string' ? Buffer.from(signature) : signature, material);
  const bytes = typeof message === 'string' ? Buffer.from(message) : message;
  for (let at = 0; at < bytes.length; at += chunk) pending.update(bytes.subarray(at, at + chunk));
  return pending.result();
}

/** "Code: message" of the KmsError `fn` throws, or "no error"; anything else is rethrown. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof KmsError) return `${error.code}: ${error.message}`;
    throw error;
  }
  return 'no error';
}
