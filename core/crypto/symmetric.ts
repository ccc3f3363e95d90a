// The authenticated ciphers of symmetric keys (Aliyun_AES_256, Aliyun_SM4): GCM with a 12-byte IV and
// a 16-byte tag. AES-256-GCM is node:crypto's (OpenSSL; BoringSSL in Electron). SM4-GCM is
// sm-crypto-v2's, a kept implementation of the GB/T 32907 block cipher with GCM (OpenSSL's CLI on
// these machines has no SM4-GCM, and BoringSSL has no SM4 at all); its block cipher and GCM are
// checked against GB/T 32907's and RFC 8998's vectors and OpenSSL's sm4-ecb (test/unit/sm4-vectors.test.ts).
// Decryption never returns plaintext whose tag did not verify: it is InvalidCiphertext.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { sm4 } from 'sm-crypto-v2';
import { KmsError } from '../contract/errors.ts';
import type { SymmetricCipher } from '../contract/specs.ts';

export type { SymmetricCipher };
export const GCM_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;
const KEY_BYTES: Readonly<Record<SymmetricCipher, number>> = { 'AES-256-GCM': 32, 'SM4-GCM': 16 };

function notAuthentic(): KmsError {
  return new KmsError('InvalidCiphertext', 'the ciphertext does not authenticate: it was changed, or it is decrypted with another EncryptionContext or key');
}

function checkSizes(cipher: SymmetricCipher, key: Uint8Array, iv: Uint8Array): void {
  // Wrong sizes here are the caller's bug (the blob's layout fixes them), never the user's input.
  if (key.length !== KEY_BYTES[cipher]) throw new KmsError('InternalFailure', `${cipher} needs a ${KEY_BYTES[cipher]}-byte key, not ${key.length}`);
  if (iv.length !== GCM_IV_BYTES) throw new KmsError('InternalFailure', `${cipher} takes a ${GCM_IV_BYTES}-byte IV here, not ${iv.length}`);
}

export function gcmEncrypt(cipher: SymmetricCipher, key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): { ciphertext: Uint8Array; tag: Uint8Array } {
  checkSizes(cipher, key, iv);
  if (cipher === 'SM4-GCM') {
    const out = sm4.encrypt(plaintext, key, { mode: 'gcm', iv, associatedData: aad, output: 'array', outputTag: true });
    if (!out.tag || out.tag.length !== GCM_TAG_BYTES) throw new KmsError('InternalFailure', 'SM4-GCM answered no 16-byte tag');
    return { ciphertext: new Uint8Array(out.output), tag: new Uint8Array(out.tag) };
  }
  return aesGcmSeal(key, iv, plaintext, aad);
}

/**
 * AES-GCM of any AES key size (16, 24, 32 bytes) and any non-empty IV, 16-byte tag: the code the
 * product's AES-256-GCM runs (gcmEncrypt, after its size checks), exported so that every Wycheproof
 * vector goes through it (test/unit/aes-gcm-wycheproof.test.ts).
 */
export function aesGcmSeal(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): { ciphertext: Uint8Array; tag: Uint8Array } {
  const c = createCipheriv(`aes-${key.length * 8}-gcm` as 'aes-256-gcm', key, iv, { authTagLength: GCM_TAG_BYTES });
  c.setAAD(aad);
  const ciphertext = Buffer.concat([c.update(plaintext), c.final()]);
  return { ciphertext: new Uint8Array(ciphertext), tag: new Uint8Array(c.getAuthTag()) };
}

/** The opening half of aesGcmSeal: InvalidCiphertext unless the 16-byte tag verifies. */
export function aesGcmOpen(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, aad: Uint8Array): Uint8Array {
  if (tag.length !== GCM_TAG_BYTES) throw notAuthentic();
  const d = createDecipheriv(`aes-${key.length * 8}-gcm` as 'aes-256-gcm', key, iv, { authTagLength: GCM_TAG_BYTES });
  d.setAAD(aad);
  d.setAuthTag(tag);
  const head = d.update(ciphertext);
  try {
    return new Uint8Array(Buffer.concat([head, d.final()]));
  } catch {
    head.fill(0);
    throw notAuthentic();
  }
}

/** InvalidCiphertext when the tag does not verify (or is not 16 bytes). */
export function gcmDecrypt(cipher: SymmetricCipher, key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, aad: Uint8Array): Uint8Array {
  checkSizes(cipher, key, iv);
  if (tag.length !== GCM_TAG_BYTES) throw notAuthentic();
  if (cipher === 'SM4-GCM') {
    try {
      return new Uint8Array(sm4.decrypt(ciphertext, key, { mode: 'gcm', iv, associatedData: aad, tag, output: 'array' }));
    } catch {
      throw notAuthentic();
    }
  }
  return aesGcmOpen(key, iv, ciphertext, tag, aad);
}
