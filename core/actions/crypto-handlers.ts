// AsymmetricSign / Verify / Encrypt / Decrypt. Private-key operations go to the key worker;
// verification and encryption need only the stored public key and run here.
import { decodeBase64, encodeBase64 } from '../contract/base64.ts';
import type { ActionName } from '../contract/actions.ts';
import { assertAlgorithmFor, encrypt, importPublicKey, verifyDigest, type PublicKey } from '../crypto/engine.ts';
import type { KeyRow, VersionRow } from '../vault/records.ts';
import type { Vault } from '../vault/vault.ts';
import type { CallContext, Handler } from './operation.ts';
import { assertPrivateMaterial, assertUsable, resolve } from './key-handlers.ts';
import type { KeyUsage } from '../contract/specs.ts';

export interface Target {
  readonly key: KeyRow;
  readonly version: VersionRow;
}

/** The key version a crypto call names, after every check (state, usage, algorithm for the spec). */
export function cryptoTarget(vault: Vault, req: { KeyId: string; KeyVersionId: string; Algorithm: string }, usage: KeyUsage, ctx: CallContext): Target {
  const key = resolve(vault, req.KeyId, ctx);
  const version = vault.resolveVersion(key, req.KeyVersionId);
  ctx.keyVersionId = version.key_version_id;
  assertUsable(key);
  if (key.key_usage !== usage) {
    assertAlgorithmFor(key.key_spec, req.Algorithm, key.key_usage);
  }
  assertAlgorithmFor(key.key_spec, req.Algorithm, usage);
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

/** What the key worker needs to use the version's private key; refuses public-key-only versions. */
export function sealedRef({ key, version }: Target) {
  assertPrivateMaterial(key, version);
  return { keyId: key.key_id, keyVersionId: version.key_version_id, spec: key.key_spec, sealed: version.sealed_private };
}

type CryptoAction = Extract<ActionName, 'AsymmetricSign' | 'AsymmetricVerify' | 'AsymmetricEncrypt' | 'AsymmetricDecrypt'>;

export const CRYPTO_HANDLERS: { readonly [A in CryptoAction]: Handler<A> } = {
  async AsymmetricSign(vault, req, ctx) {
    const t = cryptoTarget(vault, req, 'SIGN/VERIFY', ctx);
    const digest = decodeBase64(req.Digest, 'Digest');
    await vault.ensureUnlocked();
    const { signature } = await vault.worker.request({ op: 'sign', key: sealedRef(t), algorithm: req.Algorithm, digest });
    return { response: { KeyId: t.key.key_id, KeyVersionId: t.version.key_version_id, Value: encodeBase64(signature) } };
  },

  AsymmetricVerify(vault, req, ctx) {
    const t = cryptoTarget(vault, req, 'SIGN/VERIFY', ctx);
    const valid = verifyDigest(publicKeyOf(t.version), req.Algorithm, decodeBase64(req.Digest, 'Digest'), decodeBase64(req.Value, 'Value'));
    return Promise.resolve({ response: { KeyId: t.key.key_id, KeyVersionId: t.version.key_version_id, Value: valid } });
  },

  AsymmetricEncrypt(vault, req, ctx) {
    const t = cryptoTarget(vault, req, 'ENCRYPT/DECRYPT', ctx);
    const ciphertext = encrypt(publicKeyOf(t.version), req.Algorithm, decodeBase64(req.Plaintext, 'Plaintext'));
    return Promise.resolve({ response: { KeyId: t.key.key_id, KeyVersionId: t.version.key_version_id, CiphertextBlob: encodeBase64(ciphertext) } });
  },

  async AsymmetricDecrypt(vault, req, ctx) {
    const t = cryptoTarget(vault, req, 'ENCRYPT/DECRYPT', ctx);
    const ciphertext = decodeBase64(req.CiphertextBlob, 'CiphertextBlob');
    await vault.ensureUnlocked();
    const { plaintext } = await vault.worker.request({ op: 'decrypt', key: sealedRef(t), algorithm: req.Algorithm, ciphertext });
    return { response: { KeyId: t.key.key_id, KeyVersionId: t.version.key_version_id, Plaintext: encodeBase64(plaintext) } };
  },
};
