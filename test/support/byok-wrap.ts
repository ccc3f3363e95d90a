// Alibaba's bring-your-own-key wrapping done with the OpenSSL command line, shared by the vault
// operation tests (test/support/byok-actions.ts) and the desktop end-to-end test
// (test/e2e/transfer.spec.ts): a private key made by OpenSSL, and its EncryptedKeyMaterial
// (an ephemeral AES-256 key under RSAES-OAEP-SHA-256 then AES-256-ECB/PKCS#7, or an ephemeral SM4
// key under SM2PKE then SM4-ECB).
import { readFileSync, writeFileSync } from 'node:fs';
import { numberToBytesBE } from '@noble/curves/utils.js';
import { KEY_SPEC_TABLE, type KeySpec } from '../../core/contract/specs.ts';
import { decodeSm2Ciphertext } from '../../core/crypto/der.ts';
import { parseEcPkcs8 } from '../../core/crypto/ec-encoding.ts';
import { genpkeyArgs, openssl } from '../interop/openssl-peer.ts';

/** A fresh path for a scratch file named after `name`. */
export type ScratchFile = (name: string) => string;

export interface PeerKey {
  /** The PEM private key file OpenSSL wrote. */
  readonly pem: string;
  readonly pkcs8: Buffer;
  readonly publicPem: string;
}

/** A private key made by OpenSSL, as PKCS#8 DER, with its public key. */
export function opensslKey(spec: KeySpec, file: ScratchFile): PeerKey {
  const pemFile = file('key.pem');
  openssl(['genpkey', ...genpkeyArgs(KEY_SPEC_TABLE[spec]), '-out', pemFile]);
  // `pkey -outform DER` writes EC keys in their traditional form in OpenSSL 3.0; pkcs8 -topk8 writes PKCS#8.
  const pkcs8 = openssl(['pkcs8', '-topk8', '-nocrypt', '-in', pemFile, '-outform', 'DER']);
  return { pem: pemFile, pkcs8, publicPem: openssl(['pkey', '-in', pemFile, '-pubout']).toString('utf8') };
}

/** Alibaba's EncryptedKeyMaterial, made with the OpenSSL command line. */
export function wrapWithOpenssl(wrappingPublicKeyB64: string, algorithm: string, target: Uint8Array, file: ScratchFile): Buffer {
  const wrapDer = file('wrap.der');
  writeFileSync(wrapDer, Buffer.from(wrappingPublicKeyB64, 'base64'));
  const targetFile = file('target.bin');
  writeFileSync(targetFile, target);
  if (algorithm === 'RSAES_OAEP_SHA_256_AES_256_ECB_PKCS7_PAD') {
    const aes = file('aes.key');
    openssl(['rand', '-out', aes, '32']);
    const wrappedKey = openssl(['pkeyutl', '-encrypt', '-pubin', '-keyform', 'DER', '-inkey', wrapDer, '-in', aes,
      '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256']);
    const body = openssl(['enc', '-aes-256-ecb', '-K', readFileSync(aes).toString('hex'), '-in', targetFile]);
    return Buffer.concat([wrappedKey, body]);
  }
  const sm4 = file('sm4.key');
  openssl(['rand', '-out', sm4, '16']);
  // OpenSSL writes SM2 ciphertexts as GM/T 0009 DER; Alibaba's wire form is raw C1 || C3 || C2.
  const der = openssl(['pkeyutl', '-encrypt', '-pubin', '-keyform', 'DER', '-inkey', wrapDer, '-in', sm4]);
  const c = decodeSm2Ciphertext(der);
  const wrappedKey = Buffer.concat([Buffer.from([4]), numberToBytesBE(c.x, 32), numberToBytesBE(c.y, 32), c.c3, c.c2]);
  const body = openssl(['enc', '-sm4-ecb', '-nopad', '-K', readFileSync(sm4).toString('hex'), '-in', targetFile]);
  return Buffer.concat([wrappedKey, body]);
}

/** What Alibaba's guide wraps: the 32-byte private scalar D for EC_SM2, PKCS#8 DER otherwise. */
export function targetMaterial(spec: KeySpec, key: PeerKey): Uint8Array {
  return spec === 'EC_SM2' ? parseEcPkcs8(key.pkcs8, 'test').scalar : key.pkcs8;
}
