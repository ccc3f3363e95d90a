// Digesters for the hashes behind Digest: SHA-256 everywhere through node:crypto, SM3 through
// node:crypto where its OpenSSL has it (about 370 MiB/s) and through our incremental SM3 where it
// does not (Electron's BoringSSL).
import { createHash, getHashes } from 'node:crypto';
import type { DigestHash } from '../contract/specs.ts';
import { Sm3 } from './sm3.ts';

export interface Digester {
  update(chunk: Uint8Array): void;
  digest(): Uint8Array;
}

const nativeSm3 = getHashes().includes('sm3');

export function createDigester(hash: DigestHash, options: { portable?: boolean } = {}): Digester {
  if (hash === 'SM3' && (options.portable === true || !nativeSm3)) {
    const sm3 = new Sm3();
    return {
      update: (chunk) => void sm3.update(chunk),
      digest: () => sm3.digest(),
    };
  }
  const h = createHash(hash === 'SM3' ? 'sm3' : 'sha256');
  return {
    update: (chunk) => void h.update(chunk),
    digest: () => new Uint8Array(h.digest()),
  };
}

export function hashBytes(hash: DigestHash, data: Uint8Array): Uint8Array {
  const d = createDigester(hash);
  d.update(data);
  return d.digest();
}

export function sha256(data: Uint8Array): Uint8Array {
  return hashBytes('SHA-256', data);
}
