import { describe, expect, it } from 'vitest';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('describe-key-version');

describe('DescribeKeyVersion', () => {
  it('describes a version of a key', async () => {
    const key = await v.makeKey('EC_P256');
    const v2 = (await v.call('CreateKeyVersion', { KeyId: key.keyId })).KeyVersion;
    const described = await v.call('DescribeKeyVersion', { KeyId: key.keyId, KeyVersionId: v2.KeyVersionId });
    expect(described.KeyVersion).toEqual(v2);
    expect(v.auditOf(described.RequestId)).toMatchObject({ keyId: key.keyId, keyVersionId: v2.KeyVersionId });
  });

  it("refuses another key's version (404) and a KeyVersionId that is not a UUID", async () => {
    const key = await v.makeKey('EC_P256');
    const other = await v.makeKey('EC_P256');
    const foreign = await v.refused('DescribeKeyVersion', { KeyId: key.keyId, KeyVersionId: other.versionId }, 'Forbidden.KeyNotFound');
    expect(foreign.httpStatus).toBe(404);
    expect(foreign.audit).toMatchObject({ keyId: key.keyId, keyVersionId: null });
    await v.refused('DescribeKeyVersion', { KeyId: key.keyId, KeyVersionId: 'v1' }, 'InvalidParameter');
  });
});
