// HMAC (RFC 2104) from one-shot hashes. On Node 24 (OpenSSL 3.5) createHmac costs ~15 µs a call,
// most of it preparing the key, while crypto.hash of a short input costs ~0.3 µs (with a string
// result; ~1.3 µs with a Buffer). The vault MACs rows and its audit anchor several times per call,
// the API server checks a request's signature per request, and the P-256 nonce is five HMACs: all
// of them short inputs, where these microseconds are most of the cost.
import { createHmac, getHashes, hash } from 'node:crypto';

export type HmacHash = 'sha256' | 'sha1' | 'sm3';

/** Block size (bytes) of SHA-1, SHA-256 and SM3 alike. */
const BLOCK = 64;
const available = new Set(getHashes());

/** One-shot digest as a Buffer, through a latin1 string ('binary'), the fastest result form. */
export function digest(algorithm: HmacHash, data: Uint8Array): Buffer {
  return Buffer.from(hash(algorithm, data, 'binary'), 'binary');
}

/**
 * HMAC of the concatenated parts (strings as UTF-8) under `key`. Where the runtime's library lacks
 * one-shot hashing of the algorithm (SM3 in Electron's BoringSSL), createHmac does it.
 */
export function hmac(algorithm: HmacHash, key: Uint8Array, parts: readonly (Uint8Array | string)[]): Buffer {
  if (!available.has(algorithm)) {
    const mac = createHmac(algorithm, key);
    for (const part of parts) mac.update(part);
    return mac.digest();
  }
  const k = key.length > BLOCK ? digest(algorithm, key) : key;
  const bytes = parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'utf8') : part));
  let length = BLOCK;
  for (const part of bytes) length += part.length;
  const inner = Buffer.allocUnsafe(length);
  const outer = Buffer.allocUnsafe(BLOCK + 32);
  for (let i = 0; i < BLOCK; i++) {
    const kb = i < k.length ? k[i]! : 0;
    inner[i] = kb ^ 0x36;
    outer[i] = kb ^ 0x5c;
  }
  let at = BLOCK;
  for (const part of bytes) {
    inner.set(part, at);
    at += part.length;
  }
  const innerHash = digest(algorithm, inner);
  innerHash.copy(outer, BLOCK);
  const mac = digest(algorithm, outer.subarray(0, BLOCK + innerHash.length));
  // The padded key is secret: it does not stay in the freed buffers.
  inner.fill(0, 0, BLOCK);
  outer.fill(0);
  if (k !== key) k.fill(0);
  return mac;
}

export function hmacSha256(key: Uint8Array, ...parts: (Uint8Array | string)[]): Buffer {
  return hmac('sha256', key, parts);
}
