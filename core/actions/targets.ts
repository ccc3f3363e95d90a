// What a call names, resolved: the key (KeyId, alias or ARN, through the caller's policy hooks),
// the version, the key as it stands inside the write, and the crypto target with every check of
// the key policy applied. Each resolution records ctx.keyId / ctx.keyVersionId for the audit entry.
import { KmsError } from '../contract/errors.ts';
import type { KeyUsage } from '../contract/specs.ts';
import { importPublicKey, type PublicKey } from '../crypto/engine.ts';
import { getKey, type KeyRow, type VersionRow } from '../vault/records.ts';
import type { Db } from '../vault/store.ts';
import type { Vault } from '../vault/vault.ts';
import { assertAlgorithmAllowed, assertAsymmetric, assertPrivateMaterial, assertUsable } from './key-policy.ts';
import type { CallContext } from './operation.ts';

/** The key a KeyId (UUID, alias or ARN) names, refused outside the caller's policy. */
export function resolveKey(vault: Vault, keyId: string, ctx: CallContext): KeyRow {
  let key: KeyRow;
  try {
    key = vault.resolveKey(keyId);
  } catch (error) {
    if (error instanceof KmsError && (error.code === 'Forbidden.KeyNotFound' || error.code === 'Forbidden.AliasNotFound')) {
      ctx.keyId ??= keyId; // audited as given (dispatch escapes it)
      ctx.authorizeMissing?.(keyId);
    }
    throw error;
  }
  ctx.keyId = key.key_id;
  ctx.authorize?.(key.key_id, keyId);
  return key;
}

/**
 * The key version a call names, of a key already resolved. Versions of symmetric keys are named only
 * by the Actions that describe them (`symmetric: 'allowed'`); every other Action naming a version
 * uses its public or private key, which a symmetric key has not (UnsupportedOperation).
 */
export function resolveVersion(vault: Vault, key: KeyRow, keyVersionId: string, ctx: CallContext, symmetric: 'allowed' | 'refused' = 'refused'): VersionRow {
  const version = vault.resolveVersion(key, keyVersionId);
  ctx.keyVersionId = version.key_version_id;
  if (symmetric === 'refused') assertAsymmetric(key, 'this Action');
  return version;
}

/** The key as it stands inside the current write, refusing if it vanished meanwhile. */
export function currentKey(db: Db, keyId: string): KeyRow {
  const key = getKey(db, keyId);
  if (!key) throw new KmsError('Forbidden.KeyNotFound', `key ${keyId} does not exist`);
  return key;
}

/** The key inside the write, refused if it vanished or changed state meanwhile. */
export function currentUsableKey(db: Db, keyId: string): KeyRow {
  const key = currentKey(db, keyId);
  assertUsable(key);
  return key;
}

export interface Target {
  readonly key: KeyRow;
  readonly version: VersionRow;
}

/** The key version a crypto call names, after every check (state, usage, algorithm for the spec). */
export function cryptoTarget(vault: Vault, req: { KeyId: string; KeyVersionId: string; Algorithm: string }, usage: KeyUsage, ctx: CallContext): Target {
  const key = resolveKey(vault, req.KeyId, ctx);
  const version = resolveVersion(vault, key, req.KeyVersionId, ctx);
  assertUsable(key);
  assertAlgorithmAllowed(key, req.Algorithm, usage);
  return { key, version };
}

// Parsing a stored SPKI costs ~0.1-0.4 ms; versions are immutable, so parse each once.
const publicKeys = new Map<string, PublicKey>();
export function publicKeyOf(version: VersionRow): PublicKey {
  let key = publicKeys.get(version.key_version_id);
  if (!key) {
    key = importPublicKey(version.public_key);
    if (publicKeys.size > 10_000) publicKeys.clear();
    publicKeys.set(version.key_version_id, key);
  }
  return key;
}

/** What the key worker needs to use the version's private key; refuses versions without it. */
export function sealedRef({ key, version }: Target) {
  assertPrivateMaterial(key, version);
  return { keyId: key.key_id, keyVersionId: version.key_version_id, spec: key.key_spec, sealed: version.sealed_private };
}
