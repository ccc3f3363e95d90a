import { describe, expect, it } from 'vitest';
import { ASYMMETRIC_KEY_SPECS, KEY_SPEC_TABLE, maxPlaintextBytes, usagesOf } from '../contract/specs.ts';
import { b64, useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('asymmetric-encrypt');

describe('AsymmetricEncrypt', () => {
  it('encrypts the largest plaintext with keys of every spec and algorithm; the key decrypts it', async () => {
    for (const spec of ASYMMETRIC_KEY_SPECS.filter((s) => usagesOf(s).includes('ENCRYPT/DECRYPT'))) {
      const key = await v.makeKey(spec, 'ENCRYPT/DECRYPT');
      for (const alg of KEY_SPEC_TABLE[spec].algorithms['ENCRYPT/DECRYPT']) {
        const ref = { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: alg };
        const plaintext = Buffer.alloc(maxPlaintextBytes(spec, alg as 'SM2PKE'), 0x5a);
        const encrypted = await v.call('AsymmetricEncrypt', { ...ref, Plaintext: b64(plaintext) });
        expect(encrypted).toMatchObject({ KeyId: key.keyId, KeyVersionId: key.versionId });
        const decrypted = await v.call('AsymmetricDecrypt', { ...ref, CiphertextBlob: encrypted.CiphertextBlob });
        expect(Buffer.from(decrypted.Plaintext as string, 'base64')).toEqual(plaintext);
      }
    }
  });

  it('refuses an algorithm of the other usage and a plaintext too long for the key', async () => {
    const signing = await v.makeKey('RSA_2048', 'SIGN/VERIFY');
    const wrongUse = await v.refused(
      'AsymmetricEncrypt',
      { KeyId: signing.keyId, KeyVersionId: signing.versionId, Algorithm: 'RSAES_OAEP_SHA_256', Plaintext: b64('x') },
      'InvalidParameter',
    );
    expect(wrongUse.Message).toMatch(/RSAES_OAEP_SHA_256 is not valid for RSA_2048 keys with usage SIGN\/VERIFY/);
    expect(wrongUse.audit).toMatchObject({ keyId: signing.keyId, keyVersionId: signing.versionId });
    const key = await v.makeKey('RSA_2048', 'ENCRYPT/DECRYPT');
    const tooLong = Buffer.alloc(maxPlaintextBytes('RSA_2048', 'RSAES_OAEP_SHA_256') + 1);
    await v.refused('AsymmetricEncrypt', { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: 'RSAES_OAEP_SHA_256', Plaintext: b64(tooLong) }, 'InvalidParameter');
  });
});
