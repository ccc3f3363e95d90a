// GetParametersForImport: a wrapping key (made in the key worker) and a one-use token for an
// EXTERNAL key's material; the token is stored by its digest only, and live tokens are bounded.
import { invalidParameter } from '../contract/errors.ts';
import { encodeBase64 } from '../contract/base64.ts';
import { IMPORT_TOKEN_LIFETIME_MS, MAX_LIVE_IMPORT_TOKENS, SYMMETRIC_WRAPPING_ALGORITHMS, WRAPPING_ALGORITHMS, isSymmetricWrapping, wrappingKeySpecOf } from '../contract/key-import.ts';
import { isSymmetricSpec } from '../contract/specs.ts';
import { randomBase62 } from '../crypto/random-text.ts';
import { deleteExpiredImportTokens, insertImportToken, pruneImportTokens } from '../vault/records.ts';
import { kmsDate } from '../vault/vault.ts';
import { tokenDigest } from './key-material.ts';
import { assertExternalOrigin, assertUsable } from './key-policy.ts';
import type { Handler } from './operation.ts';
import { currentUsableKey, resolveKey } from './targets.ts';

export const getParametersForImport: Handler<'GetParametersForImport'> = async (vault, req, ctx) => {
  const key = resolveKey(vault, req.KeyId, ctx);
  assertExternalOrigin(key);
  assertUsable(key);
  // Symmetric material is the key itself under the wrapping key; asymmetric material goes under an ephemeral key.
  if (isSymmetricSpec(key.key_spec) !== isSymmetricWrapping(req.WrappingAlgorithm)) {
    const fits = Object.keys(isSymmetricSpec(key.key_spec) ? SYMMETRIC_WRAPPING_ALGORITHMS : WRAPPING_ALGORITHMS).join(', ');
    throw invalidParameter('WrappingAlgorithm', `${req.WrappingAlgorithm} does not wrap ${key.key_spec} key material; use one of ${fits}`);
  }
  const expected = wrappingKeySpecOf(req.WrappingAlgorithm);
  if (req.WrappingKeySpec !== expected) {
    throw invalidParameter('WrappingKeySpec', `${req.WrappingKeySpec} does not go with WrappingAlgorithm ${req.WrappingAlgorithm}; use ${expected}`);
  }
  const token = randomBase62(48);
  const digest = tokenDigest(token);
  const wrapping = await vault.worker.request({ op: 'newWrappingKey', keyId: key.key_id, tokenId: digest, spec: req.WrappingKeySpec });
  const now = vault.now();
  const expireTime = kmsDate(new Date(now.getTime() + IMPORT_TOKEN_LIFETIME_MS));
  return {
    response: { KeyId: key.key_id, ImportToken: token, PublicKey: encodeBase64(wrapping.publicKey), TokenExpireTime: expireTime },
    write: (db) => {
      currentUsableKey(db, key.key_id);
      deleteExpiredImportTokens(db, kmsDate(now));
      insertImportToken(db, {
        token_sha256: digest,
        key_id: key.key_id,
        wrapping_algorithm: req.WrappingAlgorithm,
        wrapping_key_spec: req.WrappingKeySpec,
        public_key: wrapping.publicKey,
        sealed_private: wrapping.sealed,
        creation_date: kmsDate(now),
        expire_time: expireTime,
      });
      // Each call makes a wrapping key: repeated calls cannot grow the vault without bound.
      pruneImportTokens(db, key.key_id, MAX_LIVE_IMPORT_TOKENS);
    },
  };
};
