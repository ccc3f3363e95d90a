// The file format of passphrase-encrypted PKCS#8 exports (RFC 5958 EncryptedPrivateKeyInfo) as
// the main thread handles it: PEM armour "ENCRYPTED PRIVATE KEY" around the DER, and reading PEM
// or DER back. The bytes are ciphertext; encrypting and decrypting them (PBES2) happens only in
// the key worker, core/x509/pkcs8-pbes2.ts. Runtime: Node or browser.
import { invalidParameter } from '../contract/errors.ts';
import { decodePem, encodePem, isPem } from '../crypto/pem.ts';

const PEM_LABEL = 'ENCRYPTED PRIVATE KEY';

/** PEM armour "ENCRYPTED PRIVATE KEY" of an EncryptedPrivateKeyInfo DER. */
export function encryptedPkcs8Pem(der: Uint8Array): string {
  return encodePem(der, PEM_LABEL);
}

/** The EncryptedPrivateKeyInfo DER from PEM ("ENCRYPTED PRIVATE KEY") text or bytes, or from DER bytes. */
export function readEncryptedPkcs8(data: Uint8Array | string, parameter = 'EncryptedPrivateKey'): Uint8Array {
  if (isPem(data)) return decodePem(typeof data === 'string' ? data : new TextDecoder().decode(data), PEM_LABEL, parameter);
  if (typeof data === 'string') throw invalidParameter(parameter, `must be PEM (-----BEGIN ${PEM_LABEL}-----) or DER bytes`);
  return data;
}
