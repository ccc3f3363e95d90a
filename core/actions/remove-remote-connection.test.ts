// RemoveRemoteConnection through dispatch: the row goes, then the secret leaves the keychain and
// its keys are no longer reachable; an unknown name is refused and audited.
import { describe, expect, it } from 'vitest';
import { loadSecretText } from '../keychain/keychain.ts';
import { EVERYTHING, useRemoteConnectionVault } from '../../test/support/admin-vault.ts';

const v = useRemoteConnectionVault('prod');

const add = () => v.ok('AddRemoteConnection', { Name: 'prod', Endpoint: '127.0.0.1:1', Protocol: 'http', AccessKeyId: 'LTAIexample', AccessKeySecret: 'prod-secret' });

describe('RemoveRemoteConnection', () => {
  it('removes the connection and its keychain secret; its keys are unknown afterwards', async () => {
    await add();
    expect(await v.ok('RemoveRemoteConnection', { Name: 'prod' })).toMatchObject({ Name: 'prod' });
    expect((await v.ok('ListRemoteConnections')).Connections).toEqual([]);
    expect(await loadSecretText(`remote-${v.vault.vaultId}-prod`, 'test')).toBeUndefined();
    const error = await v.refused('DescribeKey', { KeyId: 'remote/prod/alias/release' });
    expect(error.Code).toBe('Forbidden.KeyNotFound');
    expect(v.audited('RemoveRemoteConnection')).toEqual([expect.objectContaining({ code: 'OK', keyId: 'remote/prod' })]);
  });

  it('refuses an unknown name and an access key caller, audited with their Codes', async () => {
    expect(await v.refused('RemoveRemoteConnection', { Name: 'nowhere' })).toMatchObject({ Code: 'InvalidParameter', Message: 'Name: no remote connection named "nowhere"' });
    await add();
    expect((await v.refused('RemoveRemoteConnection', { Name: 'prod' }, EVERYTHING)).Code).toBe('Forbidden.NoPermission');
    expect((await v.ok('ListRemoteConnections')).Connections).toHaveLength(1);
    expect(v.audited('RemoveRemoteConnection').map((e) => [e.code, e.keyId])).toEqual([
      ['InvalidParameter', 'remote/nowhere'],
      ['Forbidden.NoPermission', null],
    ]);
  });
});
