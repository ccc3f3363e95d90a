// GB/T 32918.4 says an SM2 encryption whose KDF key stream t is all zero must start again with a
// new k (A5), and a decryptor must refuse such a ciphertext (B4). sm-crypto-v2 checks neither;
// OpenSSL refuses at decryption. Found as a CI flake: OpenSSL failed to decrypt about 1 in 256 of
// our 1-byte SM2 ciphertexts. The vector below is one of them, made by our engine before the fix
// (key and ciphertext are ours, kept as data).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KmsError } from '../../core/contract/errors.ts';
import { decrypt, encrypt, generateKey, importPrivateKey } from '../../core/crypto/engine.ts';
import { decodeSm2Ciphertext } from '../../core/crypto/der.ts';
import { runOpenssl } from './openssl-peer.ts';

const KEY_PKCS8 =
  '308187020100301306072a8648ce3d020106082a811ccf5501822d046d306b0201010420e3097f0129fc4e1f98f15bf5e79bf9517f62e682e9198b522e393450f8e47795a14403420004f7534ff75133b966edd011ff40aa7392a95013ffe1531ba0a7d339366f048381b3fa8c3cfeb680d6775b146f711275fe0e8448550bee1aab08fa5ef20ed53a43';
/** Plaintext 0xa8 under an all-zero key stream: C2 = M. */
const ZERO_STREAM_CIPHERTEXT =
  '306a02202f5dd7383d0fd7004108053888250263165232970b8ae14d4fc0e88b98d594bc022100be01c298b18da3dbb112e413f2decb2174dcc24f42d18c8c2d6c8481daac6b110420dc04f01794b281d475e6ca96cb3e03e015e18f189ca05b8f264831c6f0589b150401a8';

const dir = mkdtempSync(join(tmpdir(), 'deskkms-sm2-keystream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SM2PKE all-zero key stream (GB/T 32918.4 A5/B4)', () => {
  it('OpenSSL refuses the vector, and so does our decrypt, with InvalidParameter', () => {
    const keyFile = join(dir, 'key.der');
    const ctFile = join(dir, 'ct.bin');
    writeFileSync(keyFile, Buffer.from(KEY_PKCS8, 'hex'));
    writeFileSync(ctFile, Buffer.from(ZERO_STREAM_CIPHERTEXT, 'hex'));
    const peer = runOpenssl(['pkeyutl', '-decrypt', '-keyform', 'DER', '-inkey', keyFile, '-in', ctFile]);
    expect(peer.status).not.toBe(0);
    const key = importPrivateKey(Buffer.from(KEY_PKCS8, 'hex'), 'EC_SM2');
    let refused: unknown;
    try {
      decrypt(key, 'SM2PKE', Buffer.from(ZERO_STREAM_CIPHERTEXT, 'hex'));
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(KmsError);
    expect((refused as KmsError).code).toBe('InvalidParameter');
    expect((refused as KmsError).message).toMatch(/key stream is all zero/);
  });

  it('never produces one: 4,000 one-byte encryptions all have C2 different from M (before the fix ~16 did not)', async () => {
    const key = await generateKey('EC_SM2');
    for (let i = 0; i < 4000; i++) {
      const message = Uint8Array.of(i & 0xff);
      const c = decodeSm2Ciphertext(encrypt(key.publicKey, 'SM2PKE', message));
      expect(c.c2[0], `encryption ${i}`).not.toBe(message[0]);
    }
  });
});
