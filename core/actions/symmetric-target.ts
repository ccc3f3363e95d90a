// What the symmetric Actions (Encrypt, Decrypt, the data-key Actions, ReEncrypt) name, resolved
// and checked once for all of them: the key and its primary version to encrypt under, or the key and
// version a CiphertextBlob names; and the GCM calls into the key worker that build and open blobs.
import { blobAad, decodeBlob, encodeBlob, type BlobHeader } from '../contract/ciphertext-blob.ts';
import type { EncryptionContext } from '../contract/encryption-context.ts';
import { KmsError } from '../contract/errors.ts';
import { KEY_SPEC_TABLE, type SymmetricCipher } from '../contract/specs.ts';
import { getKey, getVersion, primaryVersionOf, type KeyRow } from '../vault/records.ts';
import type { Vault } from '../vault/vault.ts';
import { assertPrivateMaterial, assertUsable } from './key-policy.ts';
import type { CallContext } from './operation.ts';
import { resolveKey, sealedRef, type Target } from './targets.ts';

export interface SymmetricTarget extends Target {
  readonly cipher: SymmetricCipher;
}

/** The cipher of a symmetric key; UnsupportedOperation naming the asymmetric Action for other keys. */
function cipherOf(key: KeyRow, asymmetricAction: string): SymmetricCipher {
  const symmetric = KEY_SPEC_TABLE[key.key_spec].symmetric;
  if (!symmetric) {
    throw new KmsError('UnsupportedOperation', `key ${key.key_id} is ${key.key_spec}, an asymmetric key: use ${asymmetricAction} with one of its versions (symmetric keys are Aliyun_AES_256 and Aliyun_SM4)`);
  }
  return symmetric.cipher;
}

/** Encrypt's key: a symmetric, usable key (KeyId, alias or ARN) and its primary version. */
export function encryptionTarget(vault: Vault, keyId: string, ctx: CallContext): SymmetricTarget {
  const key = resolveKey(vault, keyId, ctx);
  const cipher = cipherOf(key, 'AsymmetricEncrypt');
  assertUsable(key);
  const version = primaryVersionOf(vault.store.db, key.key_id);
  if (!version) {
    throw new KmsError('Rejected.PendingImport', `key ${key.key_id} has no key material (Origin ${key.origin}); import it with GetParametersForImport and ImportKeyMaterial`);
  }
  ctx.keyVersionId = version.key_version_id;
  return { key, version, cipher };
}

/** What a CiphertextBlob names, in this vault: InvalidCiphertext when it is not a blob of its keys. */
export function blobTarget(vault: Vault, blob: Uint8Array, ctx: CallContext): { target: SymmetricTarget; parts: ReturnType<typeof decodeBlob> } {
  const parts = decodeBlob(blob);
  const { keyId, keyVersionId, cipher } = parts.header;
  const db = vault.store.db;
  const key = getKey(db, keyId);
  const notHere = () => new KmsError('InvalidCiphertext', `CiphertextBlob was made by key ${keyId} version ${keyVersionId}, which this vault does not hold (a ciphertext of another vault, or of a deleted key)`);
  if (!key) {
    ctx.keyId = keyId;
    // A caller limited by a policy learns nothing about keys outside it (authorizeMissing throws as authorize would).
    ctx.authorizeMissing?.(keyId);
    throw notHere();
  }
  ctx.keyId = key.key_id;
  ctx.authorize?.(key.key_id, keyId);
  const version = getVersion(db, key.key_id, keyVersionId);
  if (!version) throw notHere();
  ctx.keyVersionId = version.key_version_id;
  if (KEY_SPEC_TABLE[key.key_spec].symmetric?.cipher !== cipher) throw new KmsError('InvalidCiphertext', `CiphertextBlob names cipher ${cipher}, but key ${key.key_id} is ${key.key_spec}`);
  assertUsable(key);
  assertPrivateMaterial(key, version);
  return { target: { key, version, cipher }, parts };
}

function headerOf(t: SymmetricTarget): BlobHeader {
  return { keyId: t.key.key_id, keyVersionId: t.version.key_version_id, cipher: t.cipher };
}

/** A new blob of `plaintext` under the target's version, bound to `context`. */
export async function sealBlob(vault: Vault, t: SymmetricTarget, plaintext: Uint8Array, context: EncryptionContext | undefined): Promise<Uint8Array> {
  const header = headerOf(t);
  const { iv, ciphertext, tag } = await vault.worker.request({ op: 'symEncrypt', key: sealedRef(t), plaintext, aad: blobAad(header, context) });
  return encodeBlob(header, iv, ciphertext, tag);
}

/** The plaintext of a blob found by blobTarget; InvalidCiphertext when it does not authenticate under `context`. */
export async function openBlob(vault: Vault, found: ReturnType<typeof blobTarget>, context: EncryptionContext | undefined): Promise<Uint8Array> {
  const { target, parts } = found;
  const { plaintext } = await vault.worker.request({
    op: 'symDecrypt',
    key: sealedRef(target),
    iv: parts.iv,
    ciphertext: parts.ciphertext,
    tag: parts.tag,
    aad: blobAad(parts.header, context),
  });
  return plaintext;
}
