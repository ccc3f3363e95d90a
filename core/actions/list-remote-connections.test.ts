// ListRemoteConnections through dispatch: every connection by name, never a secret; local only.
import { describe, expect, it } from 'vitest';
import { EVERYTHING, useRemoteConnectionVault } from '../../test/support/admin-vault.ts';

const v = useRemoteConnectionVault('alpha', 'beta');

describe('ListRemoteConnections', () => {
  it('lists the connections by name, without their secrets', async () => {
    expect((await v.ok('ListRemoteConnections')).Connections).toEqual([]);
    await v.ok('AddRemoteConnection', { Name: 'beta', Endpoint: '127.0.0.1:9443', Protocol: 'http', RegionId: 'cn-shanghai', AccessKeyId: 'DKMSbbbbbbbbbbbbbbbbbbbb', AccessKeySecret: 'beta-secret' });
    await v.ok('AddRemoteConnection', { Name: 'alpha', Endpoint: 'kms.cn-hangzhou.aliyuncs.com', AccessKeyId: 'LTAIalpha', AccessKeySecret: 'alpha-secret' });
    const listed = await v.ok('ListRemoteConnections');
    expect(listed.Connections.map((c: { Name: string }) => c.Name)).toEqual(['alpha', 'beta']);
    expect(listed.Connections[1]).toMatchObject({ Endpoint: '127.0.0.1:9443', Protocol: 'http', RegionId: 'cn-shanghai', AccessKeyId: 'DKMSbbbbbbbbbbbbbbbbbbbb' });
    expect(JSON.stringify(listed)).not.toMatch(/secret/i);
    expect(v.audited('ListRemoteConnections').map((e) => e.code)).toEqual(['OK', 'OK']);
  });

  it('is refused to an access key, audited', async () => {
    expect((await v.refused('ListRemoteConnections', {}, EVERYTHING)).Code).toBe('Forbidden.NoPermission');
    expect(v.audited('ListRemoteConnections').map((e) => e.code)).toEqual(['Forbidden.NoPermission']);
  });
});
