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
  const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: GCM_TAG_BYTES });
  c.setAAD(aad);
  const ciphertext = Buffer.concat([c.update(plaintext), c.final()]);
  return { ciphertext: new Uint8Array(ciphertext), tag: new Uint8Array(c.getAuthTag()) };
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
  const d = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: GCM_TAG_BYTES });
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
