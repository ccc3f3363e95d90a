// Public-key-only versions (ImportPublicKeyVersion on a key of Origin EXTERNAL_PUBLIC_KEY): someone
// else's OpenSSL key, imported as PEM or DER, verifies OpenSSL's signatures and encrypts for
// OpenSSL; signing, decrypting and exporting are refused; bad input leaves the vault unchanged.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ASYMMETRIC_KEY_SPECS, KEY_SPEC_TABLE, type EncryptionAlgorithm, type KeySpec, type SigningAlgorithm } from '../contract/specs.ts';
import { OPENSSL_SIGNING, flipByte, genpkeyArgs, openssl, pkeyutlDecryptArgs, repeatFlag } from '../../test/interop/openssl-peer.ts';
import { b64, useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('import-public-key-version');
const file = (name: string): string => v.file(name);

function peerKey(spec: KeySpec): { pem: string; publicPem: string; publicDer: Buffer } {
  const pem = file('key.pem');
  openssl(['genpkey', ...genpkeyArgs(KEY_SPEC_TABLE[spec]), '-out', pem]);
  return { pem, publicPem: openssl(['pkey', '-in', pem, '-pubout']).toString('utf8'), publicDer: openssl(['pkey', '-in', pem, '-pubout', '-outform', 'DER']) };
}

async function publicOnlyKey(spec: KeySpec, usage: string, publicKey: string): Promise<{ keyId: string; versionId: string }> {
  const made = await v.call('CreateKey', { KeySpec: spec, KeyUsage: usage, Origin: 'EXTERNAL_PUBLIC_KEY' });
  const keyId = made.KeyMetadata.KeyId as string;
  expect(made.KeyMetadata).toMatchObject({ Origin: 'EXTERNAL_PUBLIC_KEY', KeyState: 'Enabled' });
  expect((await v.call('ListKeyVersions', { KeyId: keyId })).TotalCount).toBe(0);
  const imported = await v.call('ImportPublicKeyVersion', { KeyId: keyId, PublicKey: publicKey });
  expect(imported.KeyVersion).toMatchObject({ KeyId: keyId, CreationDate: '2026-11-22T12:00:00Z' });
  expect(v.auditOf(imported.RequestId)).toMatchObject({ keyId, keyVersionId: imported.KeyVersion.KeyVersionId });
  return { keyId, versionId: imported.KeyVersion.KeyVersionId as string };
}

describe('ImportPublicKeyVersion', () => {
  it.each(ASYMMETRIC_KEY_SPECS)('%s: verifies OpenSSL signatures; Sign is refused', async (spec) => {
    const peer = peerKey(spec);
    // PEM for half the specs, base64 DER for the others.
    const given = ASYMMETRIC_KEY_SPECS.indexOf(spec) % 2 === 0 ? peer.publicPem : b64(peer.publicDer);
    const { keyId, versionId } = await publicOnlyKey(spec, 'SIGN/VERIFY', given);
    expect((await v.call('GetPublicKey', { KeyId: keyId, KeyVersionId: versionId })).PublicKey).toBe(peer.publicPem);

    for (const algorithm of KEY_SPEC_TABLE[spec].algorithms['SIGN/VERIFY'] as SigningAlgorithm[]) {
      const digest = randomBytes(32);
      const digestFile = file('digest.bin');
      writeFileSync(digestFile, digest);
      const sig = openssl(['pkeyutl', '-sign', '-inkey', peer.pem, '-in', digestFile, ...repeatFlag('-pkeyopt', OPENSSL_SIGNING[algorithm].pkeyutlOptions)]);
      const verify = (value: Uint8Array, d: Uint8Array = digest) =>
        v.call('AsymmetricVerify', { KeyId: keyId, KeyVersionId: versionId, Algorithm: algorithm, Digest: b64(d), Value: b64(value) });
      expect((await verify(sig)).Value, algorithm).toBe(true);
      expect((await verify(sig, flipByte(digest, 0))).Value, algorithm).toBe(false);
      const signed = await v.refused('AsymmetricSign', { KeyId: keyId, KeyVersionId: versionId, Algorithm: algorithm, Digest: b64(digest) }, 'Rejected.PublicKeyOnly');
      expect(signed.audit).toMatchObject({ keyId, keyVersionId: versionId });
    }
    expect((await v.call('GetPublicKeyBundle', { KeyId: keyId, KeyVersionId: versionId })).PublicKeyPem).toBe(peer.publicPem);
  });

  it.each(['RSA_2048', 'EC_SM2'] as const)('%s ENCRYPT/DECRYPT: encrypts for OpenSSL; Decrypt is refused', async (spec) => {
    const peer = peerKey(spec);
    const { keyId, versionId } = await publicOnlyKey(spec, 'ENCRYPT/DECRYPT', peer.publicPem);
    const algorithm = KEY_SPEC_TABLE[spec].algorithms['ENCRYPT/DECRYPT'][0] as EncryptionAlgorithm;
    const plaintext = randomBytes(48);
    const encrypted = await v.call('AsymmetricEncrypt', { KeyId: keyId, KeyVersionId: versionId, Algorithm: algorithm, Plaintext: b64(plaintext) });
    const inFile = file('ct.bin');
    writeFileSync(inFile, Buffer.from(encrypted.CiphertextBlob as string, 'base64'));
    const outFile = file('pt.bin');
    openssl(pkeyutlDecryptArgs(algorithm, peer.pem, inFile, outFile));
    expect(readFileSync(outFile).equals(plaintext)).toBe(true);
    await v.refused('AsymmetricDecrypt', { KeyId: keyId, KeyVersionId: versionId, Algorithm: algorithm, CiphertextBlob: encrypted.CiphertextBlob }, 'Rejected.PublicKeyOnly');
  });

  it('refuses another spec, a damaged key, the wrong key Origin and generated versions; nothing is added', async () => {
    const made = await v.call('CreateKey', { KeySpec: 'EC_P256', Origin: 'EXTERNAL_PUBLIC_KEY' });
    const keyId = made.KeyMetadata.KeyId as string;
    const p256k = peerKey('EC_P256K');
    const otherSpec = await v.refused('ImportPublicKeyVersion', { KeyId: keyId, PublicKey: p256k.publicPem }, 'InvalidParameter');
    expect(otherSpec.Message).toMatch(/^PublicKey: is a EC_P256K key; key .* is EC_P256$/);
    expect(otherSpec.audit.keyId).toBe(keyId);
    const p256 = peerKey('EC_P256');
    const offCurve = Buffer.from(p256.publicDer);
    offCurve[offCurve.length - 1]! ^= 1;
    await v.refused('ImportPublicKeyVersion', { KeyId: keyId, PublicKey: b64(offCurve) }, 'InvalidParameter');
    expect((await v.refused('ImportPublicKeyVersion', { KeyId: keyId, PublicKey: 'not base64!' }, 'InvalidParameter')).Message).toMatch(/^PublicKey: /);
    expect((await v.refused('CreateKeyVersion', { KeyId: keyId }, 'InvalidParameter')).Message).toMatch(/EXTERNAL_PUBLIC_KEY/);
    expect((await v.call('ListKeyVersions', { KeyId: keyId })).TotalCount).toBe(0);
    const generated = (await v.call('CreateKey', { KeySpec: 'EC_P256' })).KeyMetadata.KeyId as string;
    expect((await v.refused('ImportPublicKeyVersion', { KeyId: generated, PublicKey: p256.publicPem }, 'InvalidParameter')).Message).toMatch(/Origin Aliyun_KMS/);
    expect((await v.call('ListKeyVersions', { KeyId: generated })).TotalCount).toBe(1);
  });
});
