// AddRemoteConnection through dispatch: the row in the vault, the secret in the OS keychain only
// (never in the vault file, the audit log or a message); a bad endpoint or a taken name is refused
// and audited with its Code, and a taken name leaves the first connection's secret alone. The
// signature scheme is stored with the row and authenticated: edited in the file, it is Vault.Corrupt.
import { describe, expect, it } from 'vitest';
import { SIGNATURE_ALGORITHMS } from '../contract/api-signatures.ts';
import { loadSecretText } from '../keychain/keychain.ts';
import { remoteProvider } from '../providers/connections.ts';
import { EVERYTHING, useRemoteConnectionVault } from '../../test/support/admin-vault.ts';

const SECRET = 'remote-secret-4f1c9a';
const connection = (over: Record<string, unknown> = {}) => ({ Name: 'prod', Endpoint: 'kms.cn-hangzhou.aliyuncs.com', AccessKeyId: 'LTAIexample', AccessKeySecret: SECRET, ...over });

const v = useRemoteConnectionVault('prod');

const keychainSecret = (name: string) => loadSecretText(`remote-${v.vault.vaultId}-${name}`, 'test');
const everything = () => JSON.stringify(v.vault.store.db.prepare('SELECT * FROM remote_connections').all()) + JSON.stringify(v.vault.store.db.prepare('SELECT * FROM audit_log').all());

describe('AddRemoteConnection', () => {
  it('registers the connection (defaults https, cn-hangzhou), its secret in the keychain only, audited as remote/<Name>', async () => {
    const added = await v.ok('AddRemoteConnection', connection());
    expect(added.Connection).toEqual({
      Name: 'prod',
      Endpoint: 'kms.cn-hangzhou.aliyuncs.com',
      RegionId: 'cn-hangzhou',
      Protocol: 'https',
      AccessKeyId: 'LTAIexample',
      SignatureAlgorithm: 'ACS3-HMAC-SHA256',
      CreationDate: expect.stringMatching(/Z$/) as unknown,
    });
    expect(JSON.stringify(added)).not.toContain(SECRET);
    expect(await keychainSecret('prod')).toBe(SECRET);
    expect(everything()).not.toContain(SECRET);
    expect(v.audited('AddRemoteConnection')).toEqual([expect.objectContaining({ code: 'OK', keyId: 'remote/prod', requestId: added.RequestId })]);
  });

  it.each([
    ['an endpoint with a scheme', { Endpoint: 'https://kms.example.com' }, /^Endpoint: must be host or host:port/],
    ['an endpoint with a path', { Endpoint: 'kms.example.com/x' }, /^Endpoint: must be host or host:port/],
    ['a bad name', { Name: '-prod' }, /^Name: must be 1-32 characters/],
    ['another protocol', { Protocol: 'ftp' }, /^Protocol: must be https or http/],
    ['a signature scheme DeskKMS does not speak', { SignatureAlgorithm: 'HMAC-SHA256' }, /^SignatureAlgorithm: must be one of ACS3-HMAC-SHA256, ACS3-HMAC-SM3, HMAC-SHA1/],
    ['a signature scheme in another case', { SignatureAlgorithm: 'acs3-hmac-sm3' }, /^SignatureAlgorithm: must be one of/],
  ])('refuses %s: InvalidParameter audited with its Code; nothing stored, the secret nowhere', async (_what, over, message) => {
    const error = await v.refused('AddRemoteConnection', connection(over));
    expect(error.Code).toBe('InvalidParameter');
    expect(error.Message).toMatch(message);
    expect(error.Message).not.toContain(SECRET);
    expect(v.audited('AddRemoteConnection')).toEqual([expect.objectContaining({ code: 'InvalidParameter', requestId: error.RequestId })]);
    expect((await v.ok('ListRemoteConnections')).Connections).toEqual([]);
    expect(everything()).not.toContain(SECRET);
  });

  it('refuses a name already taken, audited; the first connection keeps its endpoint and secret', async () => {
    await v.ok('AddRemoteConnection', connection());
    const error = await v.refused('AddRemoteConnection', connection({ Endpoint: 'evil.example.com', AccessKeySecret: 'another-secret' }));
    expect(error).toMatchObject({ Code: 'InvalidParameter', Message: 'Name: a connection named "prod" already exists' });
    expect(v.audited('AddRemoteConnection').map((e) => [e.code, e.keyId])).toEqual([
      ['OK', 'remote/prod'],
      ['InvalidParameter', 'remote/prod'],
    ]);
    expect((await v.ok('ListRemoteConnections')).Connections).toEqual([expect.objectContaining({ Endpoint: 'kms.cn-hangzhou.aliyuncs.com' })]);
    expect(await keychainSecret('prod')).toBe(SECRET);
  });

  it('is refused to an access key; its secret never reaches the keychain', async () => {
    expect((await v.refused('AddRemoteConnection', connection(), EVERYTHING)).Code).toBe('Forbidden.NoPermission');
    expect(await keychainSecret('prod')).toBeUndefined();
    expect(v.audited('AddRemoteConnection').map((e) => e.code)).toEqual(['Forbidden.NoPermission']);
  });

  it.each(SIGNATURE_ALGORITHMS)('stores SignatureAlgorithm %s with the row and answers it', async (algorithm) => {
    const added = await v.ok('AddRemoteConnection', connection({ SignatureAlgorithm: algorithm }));
    expect(added.Connection.SignatureAlgorithm).toBe(algorithm);
    expect((await v.ok('ListRemoteConnections')).Connections).toEqual([expect.objectContaining({ Name: 'prod', SignatureAlgorithm: algorithm })]);
    expect(v.vault.store.db.prepare("SELECT signature_algorithm FROM remote_connections WHERE name = 'prod'").get()).toEqual({ signature_algorithm: algorithm });
  });

  it.each([
    ['downgraded from V3 to V1', "'HMAC-SHA1'"],
    ['changed to the other V3 hash', "'ACS3-HMAC-SM3'"],
    ['cleared, as in a row made before the column', 'NULL'],
  ])('its SignatureAlgorithm %s in the file is Vault.Corrupt, before any request', async (_what, value) => {
    await v.ok('AddRemoteConnection', connection());
    v.vault.store.db.prepare(`UPDATE remote_connections SET signature_algorithm = ${value} WHERE name = 'prod'`).run();
    await expect(remoteProvider(v.vault, 'prod')).rejects.toMatchObject({ code: 'Vault.Corrupt', message: expect.stringMatching(/remote_connections row "prod" fails its integrity check/) as unknown });
    expect((await v.refused('ListRemoteConnections')).Code).toBe('Vault.Corrupt');
  });
});
