import type { KeySpec } from '../../core/contract/specs.ts';
import { generateKey, type PrivateKey } from '../../core/crypto/engine.ts';

const keys = new Map<KeySpec, Promise<PrivateKey>>();

/** One generated key per spec for the whole test file (RSA_4096 generation is slow). */
export function keyFor(spec: KeySpec): Promise<PrivateKey> {
  let key = keys.get(spec);
  if (!key) {
    key = generateKey(spec);
    keys.set(spec, key);
  }
  return key;
}
