// Secrets on their way from a host to the vault: buffers for secrets outside V8's heap, and the
// passphrase inside a passphrase file. Hosts (the CLI's --passphrase-file, the app) read secrets
// with these and hand them to the vault, which moves them into the key worker; what the worker does
// with a passphrase (wrapping the data key) is core/keychain/passphrase.ts, worker-only.
import { invalidParameter } from '../contract/errors.ts';

/**
 * `length` zero bytes for a secret, outside V8's heap. V8 keeps a typed array of up to 64 bytes
 * inside its heap, where the garbage collector moves it (leaving the old bytes behind, unwiped) and
 * reading `.buffer` copies it out; an ArrayBuffer's own bytes stay where fill(0) finds them.
 */
export function secretBytes(length: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(new ArrayBuffer(length));
}

/** A copy of `secret` in secretBytes, e.g. to move (transfer) into the key worker. */
export function copySecret(secret: Uint8Array): Uint8Array<ArrayBuffer> {
  const copy = secretBytes(secret.length);
  copy.set(secret);
  return copy;
}

/**
 * The passphrase in a passphrase file: the file's bytes less ONE trailing '\n' or '\r\n' (what an
 * editor or `echo` adds). Returns a view of `bytes`, not a copy, so zeroing `bytes` zeroes it.
 */
export function readPassphrase(bytes: Uint8Array): Uint8Array {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0a) {
    end--;
    if (end > 0 && bytes[end - 1] === 0x0d) end--;
  }
  if (end === 0) throw invalidParameter('Passphrase', 'is empty');
  return bytes.subarray(0, end);
}
