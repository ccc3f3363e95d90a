import { describe, expect, it } from 'vitest';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('describe-key');

describe('DescribeKey', () => {
  it('describes a key named by KeyId, alias or ARN, with its newest version date', async () => {
    const key = await v.makeKey('EC_SM2', 'SIGN/VERIFY', { Description: 'release signing' });
    await v.call('CreateAlias', { KeyId: key.keyId, AliasName: 'alias/release' });
    v.now = new Date('2026-11-23T08:00:00Z');
    await v.call('CreateKeyVersion', { KeyId: key.keyId });
    for (const name of [key.keyId, 'alias/release', `acs:kms:local:deskkms:key/${key.keyId}`]) {
      const described = await v.call('DescribeKey', { KeyId: name });
      expect(described.KeyMetadata).toMatchObject({
        KeyId: key.keyId,
        KeySpec: 'EC_SM2',
        KeyUsage: 'SIGN/VERIFY',
        KeyState: 'Enabled',
        Description: 'release signing',
        CreationDate: '2026-11-22T12:00:00Z',
        LastRotationDate: '2026-11-23T08:00:00Z',
        DeleteDate: '',
        PrimaryKeyVersion: '',
      });
      expect(v.auditOf(described.RequestId).keyId).toBe(key.keyId);
    }
  });

  it('reports an EXTERNAL key without material as PendingImport, dated by its creation', async () => {
    const external = (await v.call('CreateKey', { KeySpec: 'EC_P256', Origin: 'EXTERNAL' })).KeyMetadata.KeyId;
    const meta = (await v.call('DescribeKey', { KeyId: external })).KeyMetadata;
    expect(meta).toMatchObject({ KeyState: 'PendingImport', Origin: 'EXTERNAL' });
    expect(meta.LastRotationDate).toBe(meta.CreationDate);
  });

  it('refuses unknown keys and aliases, audited as given', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    const missing = await v.refused('DescribeKey', { KeyId: unknown }, 'Forbidden.KeyNotFound');
    expect(missing.httpStatus).toBe(404);
    expect(missing.audit.keyId).toBe(unknown);
    expect((await v.refused('DescribeKey', { KeyId: 'alias/nobody' }, 'Forbidden.AliasNotFound')).audit.keyId).toBe('alias/nobody');
    await v.refused('DescribeKey', {}, 'MissingParameter');
  });
});
