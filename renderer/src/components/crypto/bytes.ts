// Byte helpers for the crypto panels: UTF-8 text, base64 the user pastes (whitespace and line
// breaks tolerated, then checked strictly), and files that hold either base64 text or raw bytes.
import { decodeBase64, encodeBase64 } from '../../../../core/contract/base64.ts';
import { AppError } from '../../api/bridge.ts';

export { encodeBase64 };

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** The text if `bytes` is valid UTF-8, else undefined. */
export function utf8OrUndefined(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** Pasted base64 without its whitespace (PEM-style line breaks are common in pastes). */
export function compactBase64(text: string): string {
  return text.replace(/\s+/g, '');
}

/** Decodes pasted base64; a readable error names `what` when it is not base64. */
export function parseBase64(text: string, what: string): Uint8Array {
  const compact = compactBase64(text);
  if (!compact) throw new Error(`${what} is empty`);
  try {
    return decodeBase64(compact, what);
  } catch {
    throw new Error(`${what} is not valid base64 (standard alphabet, padded)`);
  }
}

/** Pasted base64 as a request parameter (whitespace removed); InvalidParameter unless it decodes. */
export function base64Param(text: string, what: string): string {
  const compact = compactBase64(text);
  try {
    parseBase64(compact, what);
  } catch (e) {
    throw new AppError('InvalidParameter', (e as Error).message);
  }
  return compact;
}

const BASE64_TEXT = /^[A-Za-z0-9+/=\s]+$/;

/**
 * A signature or ciphertext file as base64: a file of base64 text is taken as it is (trimmed),
 * anything else (a binary .sig, DER, raw RSA output) is base64-encoded from its bytes.
 */
export async function fileAsBase64(file: Blob): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const text = utf8OrUndefined(bytes);
  if (text !== undefined && BASE64_TEXT.test(text)) {
    const compact = compactBase64(text);
    try {
      if (compact.length > 0) {
        decodeBase64(compact, 'file');
        return compact;
      }
    } catch {
      // Not canonical base64 after all: the bytes themselves are the value.
    }
  }
  return encodeBase64(bytes);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}
