import { describe, expect, it } from 'vitest';
import { KEY_SPECS, KEY_SPEC_TABLE, usagesOf } from '../contract/specs.ts';
import { digestMessage, importPublicKey } from '../crypto/engine.ts';
import { b64, useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('asymmetric-verify');

describe('AsymmetricVerify', () => {
  it('verifies signatures of every spec and algorithm: true for the signed digest, false for another', async () => {
    for (const spec of KEY_SPECS.filter((s) => usagesOf(s).includes('SIGN/VERIFY'))) {
      const key = await v.makeKey(spec, 'SIGN/VERIFY');
      for (const alg of KEY_SPEC_TABLE[spec].algorithms['SIGN/VERIFY']) {
        const ref = { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: alg };
        const digest = await digestMessage(importPublicKey(key.pem), alg, Buffer.from(`release ${alg}`));
        const signed = await v.call('AsymmetricSign', { ...ref, Digest: b64(digest) });
        const verified = await v.call('AsymmetricVerify', { ...ref, Digest: b64(digest), Value: signed.Value });
        expect(verified).toMatchObject({ KeyId: key.keyId, KeyVersionId: key.versionId, Value: true });
        const otherDigest = await digestMessage(importPublicKey(key.pem), alg, Buffer.from('tampered'));
        expect((await v.call('AsymmetricVerify', { ...ref, Digest: b64(otherDigest), Value: signed.Value })).Value).toBe(false);
      }
    }
  });

  it('refuses disabled keys and algorithms of another spec', async () => {
    const key = await v.makeKey('EC_P256');
    const ref = { KeyId: key.keyId, KeyVersionId: key.versionId, Digest: b64(Buffer.alloc(32)), Value: b64('sig') };
    const other = await v.refused('AsymmetricVerify', { ...ref, Algorithm: 'SM2DSA' }, 'InvalidParameter');
    expect(other.Message).toMatch(/SM2DSA is not valid for EC_P256 keys/);
    await v.call('DisableKey', { KeyId: key.keyId });
    expect((await v.refused('AsymmetricVerify', { ...ref, Algorithm: 'ECDSA_SHA_256' }, 'Rejected.Disabled')).audit.keyVersionId).toBe(key.versionId);
  });
});

describe('AsymmetricVerify messages name the wire parameter', () => {
  it('calls a malformed ECDSA or SM2 signature Value (the parameter it came in), never Signature', async () => {
    for (const [spec, alg] of [
      ['EC_P256', 'ECDSA_SHA_256'],
      ['EC_SM2', 'SM2DSA'],
    ] as const) {
      const key = await v.makeKey(spec, 'SIGN/VERIFY');
      const ref = { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: alg, Digest: b64(Buffer.alloc(32, 1)) };
      // Not DER; DER with a trailing byte (not canonical).
      for (const value of [Buffer.from('sig'), Buffer.from('3006020101020101' + '00', 'hex')]) {
        const { Message } = await v.refused('AsymmetricVerify', { ...ref, Value: b64(value) }, 'InvalidParameter');
        expect(Message).toMatch(/^Value: /);
        expect(Message).not.toMatch(/Signature/);
      }
    }
  });
});
