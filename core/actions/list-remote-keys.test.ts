// ListRemoteKeys through dispatch, against another vault's "deskkms serve": the remote's keys, each
// KeyId once in this vault's namespace (remote/<Connection>/<KeyId>), audited against the
// connection; an unknown connection or an unreachable one is refused with its Code.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Vault } from '../vault/vault.ts';
import { call, requireSecretService, serveInProcess } from '../../test/integration/vault-helpers.ts';
import { adminVault, EVERYTHING, type AdminVault } from '../../test/support/admin-vault.ts';

let v: AdminVault;
let remote: Awaited<ReturnType<typeof serveInProcess>> | undefined;
const remoteKeys: string[] = [];

beforeAll(async () => {
  requireSecretService();
  v = await adminVault({ keychain: true });
  const aDir = join(v.dir, 'a');
  const a = await Vault.init(aDir);
  for (let i = 0; i < 3; i++) remoteKeys.push((await call(a, 'CreateKey', { KeySpec: 'EC_P256' })).KeyMetadata.KeyId as string);
  const ak = await call(a, 'CreateAccessKey', { Policy: { Actions: ['ListKeys'], Keys: ['*'] } });
  await a.close();
  remote = await serveInProcess(aDir);
  await v.ok('AddRemoteConnection', { Name: 'vault-a', Endpoint: remote.endpoint.host, Protocol: 'http', AccessKeyId: ak.AccessKeyId, AccessKeySecret: ak.AccessKeySecret });
});
afterAll(async () => {
  await remote?.stop().catch(() => undefined);
  await v?.ok('RemoveRemoteConnection', { Name: 'vault-a' }).catch(() => undefined);
  await v?.close();
});

describe('ListRemoteKeys', () => {
  it('pages the remote keys, each as remote/<Connection>/<KeyId> beside its remote id, audited', async () => {
    const first = await v.ok('ListRemoteKeys', { Connection: 'vault-a', PageSize: 2 });
    expect(first).toMatchObject({ Connection: 'vault-a', TotalCount: 3, PageNumber: 1, PageSize: 2 });
    const second = await v.ok('ListRemoteKeys', { Connection: 'vault-a', PageSize: '2', PageNumber: '2' });
    const keys = [...first.Keys.Key, ...second.Keys.Key] as { KeyId: string; RemoteKeyId: string; KeyArn?: string }[];
    expect(keys.map((k) => k.RemoteKeyId).sort()).toEqual([...remoteKeys].sort());
    for (const k of keys) {
      expect(k.KeyId).toBe(`remote/vault-a/${k.RemoteKeyId}`);
      expect(k.KeyArn).toMatch(new RegExp(`key/${k.RemoteKeyId}$`));
    }
    expect(v.audited('ListRemoteKeys')).toEqual([
      expect.objectContaining({ code: 'OK', keyId: 'remote/vault-a', requestId: first.RequestId }),
      expect.objectContaining({ code: 'OK', keyId: 'remote/vault-a', requestId: second.RequestId }),
    ]);
  });

  it('refuses an unknown connection, a page size over 100 and an access key caller, audited with their Codes', async () => {
    const before = v.audited('ListRemoteKeys').length;
    expect(await v.refused('ListRemoteKeys', { Connection: 'nowhere' })).toMatchObject({ Code: 'Forbidden.KeyNotFound', Message: expect.stringMatching(/no remote KMS connection named "nowhere"/) as unknown });
    expect((await v.refused('ListRemoteKeys', { Connection: 'vault-a', PageSize: 101 })).Code).toBe('InvalidParameter');
    expect((await v.refused('ListRemoteKeys', { Connection: 'vault-a' }, EVERYTHING)).Code).toBe('Forbidden.NoPermission');
    expect(v.audited('ListRemoteKeys').slice(before).map((e) => e.code)).toEqual(['Forbidden.KeyNotFound', 'InvalidParameter', 'Forbidden.NoPermission']);
  });

  it('an unreachable remote is Remote.Unavailable naming the connection, audited', async () => {
    await remote!.stop();
    remote = undefined;
    const error = await v.refused('ListRemoteKeys', { Connection: 'vault-a' });
    expect(error.Code).toBe('Remote.Unavailable');
    expect(error.Message).toMatch(/remote KMS "vault-a"/);
    expect(v.audited('ListRemoteKeys').at(-1)).toMatchObject({ code: 'Remote.Unavailable', keyId: 'remote/vault-a' });
  });
});
