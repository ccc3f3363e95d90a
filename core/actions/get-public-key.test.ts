import { createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('get-public-key');

describe('GetPublicKey', () => {
  it("returns the version's public key as PEM, audited against key and version", async () => {
    const key = await v.makeKey('RSA_2048', 'SIGN/VERIFY');
    const got = await v.call('GetPublicKey', { KeyId: key.keyId, KeyVersionId: key.versionId });
    expect(got).toMatchObject({ KeyId: key.keyId, KeyVersionId: key.versionId });
    expect(got.PublicKey).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(createPublicKey(got.PublicKey).asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(v.auditOf(got.RequestId)).toMatchObject({ keyId: key.keyId, keyVersionId: key.versionId });
  });

  it("refuses a missing KeyVersionId and another key's version", async () => {
    const key = await v.makeKey('EC_P256');
    const other = await v.makeKey('EC_P256');
    expect((await v.refused('GetPublicKey', { KeyId: key.keyId }, 'MissingParameter')).Message).toBe('KeyVersionId is required');
    expect((await v.refused('GetPublicKey', { KeyId: key.keyId, KeyVersionId: other.versionId }, 'Forbidden.KeyNotFound')).httpStatus).toBe(404);
  });
});
