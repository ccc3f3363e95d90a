// A restricted access key must not learn which keys exist outside its policy: over `deskkms serve`
// with the official SDK, a KeyId, alias or ARN that names no key and one that names a key the
// policy leaves out get the same answer (Forbidden.NoPermission, naming only what was sent), for
// key calls and alias calls alike. Keys and aliases the policy names may still be KeyNotFound.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEntries } from '../../core/audit/audit-log.ts';
import { KmsClient, SdkConfig, kmsSdk } from '../support/alibaba-sdk.ts';
import { Vault } from '../../core/vault/vault.ts';
import { call, serveInProcess, tempDir } from './vault-helpers.ts';

const PASSPHRASE = 'policy oracle passphrase';
const MISSING_KEY = '6f1c0c8e-7d65-4d8b-9a55-0d6b7f3a9e21';
const NAMED_MISSING_KEY = '0b9f4a61-2c3d-4e5f-8a7b-1c2d3e4f5a6b';

let dir: ReturnType<typeof tempDir>;
let vaultDir: string;
let server: Awaited<ReturnType<typeof serveInProcess>> | undefined;
let ownKey: string;
let otherKey: string;
let limited: KmsClient;
let full: KmsClient;
let fullKeyId: string;

interface SdkError {
  readonly data: { Code: string; Message: string; HttpStatus: number };
}

async function refusal(promise: Promise<unknown>): Promise<{ Code: string; Message: string; HttpStatus: number }> {
  try {
    await promise;
  } catch (error) {
    const { Code, Message, HttpStatus } = (error as SdkError).data;
    return { Code, Message, HttpStatus };
  }
  throw new Error('the SDK call succeeded');
}

beforeAll(async () => {
  dir = tempDir('deskkms-policy-');
  vaultDir = join(dir.path, 'vault');
  const passFile = join(dir.path, 'pass');
  writeFileSync(passFile, PASSPHRASE);
  const vault = await Vault.init(vaultDir, { passphrase: Buffer.from(PASSPHRASE), kdfN: 2 ** 14 });
  let limitedKey: Record<string, any>;
  let fullKey: Record<string, any>;
  try {
    ownKey = (await call(vault, 'CreateKey', { KeySpec: 'EC_P256' })).KeyMetadata.KeyId as string;
    otherKey = (await call(vault, 'CreateKey', { KeySpec: 'EC_P256' })).KeyMetadata.KeyId as string;
    await call(vault, 'CreateAlias', { KeyId: ownKey, AliasName: 'alias/release' });
    await call(vault, 'CreateAlias', { KeyId: otherKey, AliasName: 'alias/secret-project' });
    limitedKey = await call(vault, 'CreateAccessKey', {
      Policy: { Actions: ['DescribeKey', 'GetPublicKey', 'ListKeyVersions', 'DeleteAlias', 'UpdateAlias'], Keys: ['alias/release', 'alias/ghost', NAMED_MISSING_KEY] },
    });
    fullKey = await call(vault, 'CreateAccessKey');
  } finally {
    await vault.close();
  }
  server = await serveInProcess(vaultDir, { env: { DESKKMS_PASSPHRASE_FILE: passFile } });
  const client = (id: string, secret: string) =>
    new KmsClient(new SdkConfig({ accessKeyId: id, accessKeySecret: secret, endpoint: server!.endpoint.host, protocol: 'http', regionId: 'cn-hangzhou' }));
  limited = client(limitedKey.AccessKeyId, limitedKey.AccessKeySecret);
  full = client(fullKey.AccessKeyId, fullKey.AccessKeySecret);
  fullKeyId = fullKey.AccessKeyId as string;
});

/** Any Action through the SDK's own signed request path (the SDK has no method for DeskKMS's own Actions). */
function rpc(client: KmsClient, action: string, query: Record<string, string> = {}): Promise<unknown> {
  type DoRequest = (action: string, protocol: string, method: string, version: string, authType: string, query: Record<string, string>, body: null, runtime: Record<string, unknown>) => Promise<unknown>;
  const doRequest = (client as unknown as { doRequest: DoRequest }).doRequest.bind(client);
  return doRequest(action, 'HTTPS', 'POST', '2016-01-20', 'AK', query, null, { autoretry: false, maxAttempts: 1 });
}

afterAll(async () => {
  await server?.stop();
  dir?.remove();
});

/** The answer with the name it was asked about taken out: what is left must not differ. */
function shape(answer: { Code: string; Message: string; HttpStatus: number }, asked: string): { Code: string; Message: string; HttpStatus: number } {
  return { ...answer, Message: answer.Message.replace(asked, '<asked>') };
}

describe('a restricted access key cannot tell a missing key from one it may not use', () => {
  it('KeyId, alias and ARN: the same NoPermission for an existing key outside the policy and for no key at all', async () => {
    const pairs: [exists: string, missing: string][] = [
      [otherKey, MISSING_KEY],
      ['alias/secret-project', 'alias/no-such-alias'],
      [`acs:kms:cn-hangzhou:123:key/${otherKey}`, `acs:kms:cn-hangzhou:123:key/${MISSING_KEY}`],
      ['acs:kms:cn-hangzhou:123:alias/secret-project', 'acs:kms:cn-hangzhou:123:alias/no-such-alias'],
    ];
    for (const [exists, missing] of pairs) {
      for (const ask of [
        (keyId: string) => limited.describeKey(new kmsSdk.DescribeKeyRequest({ keyId })),
        (keyId: string) => limited.listKeyVersions(new kmsSdk.ListKeyVersionsRequest({ keyId })),
      ]) {
        const existing = await refusal(ask(exists));
        const absent = await refusal(ask(missing));
        expect(existing).toMatchObject({ Code: 'Forbidden.NoPermission', HttpStatus: 403 });
        expect(shape(absent, missing), `${exists} / ${missing}`).toEqual(shape(existing, exists));
        // Only what was sent is named: never the KeyId an alias resolves to.
        expect(existing.Message).toContain(exists);
        if (exists.includes('alias/')) expect(existing.Message).not.toContain(otherKey);
      }
    }
  });

  it('DeleteAlias and UpdateAlias: the same NoPermission for an alias of another key and for no alias', async () => {
    for (const ask of [
      (aliasName: string) => limited.deleteAlias(new kmsSdk.DeleteAliasRequest({ aliasName })),
      (aliasName: string) => limited.updateAlias(new kmsSdk.UpdateAliasRequest({ aliasName, keyId: 'alias/release' })),
    ]) {
      const existing = await refusal(ask('alias/secret-project'));
      const absent = await refusal(ask('alias/no-such-alias'));
      expect(existing).toMatchObject({ Code: 'Forbidden.NoPermission', HttpStatus: 403 });
      expect(shape(absent, 'alias/no-such-alias')).toEqual(shape(existing, 'alias/secret-project'));
      expect(existing.Message).not.toContain(otherKey);
    }
    // Still there: the refusals changed nothing.
    expect((await full.describeKey(new kmsSdk.DescribeKeyRequest({ keyId: 'alias/secret-project' }))).keyMetadata.keyId).toBe(otherKey);
  });

  it('what its policy names may be missing, and says so; its own key works; a full-access key still hears KeyNotFound', async () => {
    expect(await refusal(limited.describeKey(new kmsSdk.DescribeKeyRequest({ keyId: 'alias/ghost' })))).toMatchObject({ Code: 'Forbidden.AliasNotFound', HttpStatus: 404 });
    expect(await refusal(limited.describeKey(new kmsSdk.DescribeKeyRequest({ keyId: NAMED_MISSING_KEY })))).toMatchObject({ Code: 'Forbidden.KeyNotFound', HttpStatus: 404 });
    expect(await refusal(limited.describeKey(new kmsSdk.DescribeKeyRequest({ keyId: `acs:kms:cn-hangzhou:1:key/${NAMED_MISSING_KEY}` })))).toMatchObject({ Code: 'Forbidden.KeyNotFound' });
    expect(await refusal(limited.deleteAlias(new kmsSdk.DeleteAliasRequest({ aliasName: 'alias/ghost' })))).toMatchObject({ Code: 'Forbidden.AliasNotFound' });
    expect((await limited.describeKey(new kmsSdk.DescribeKeyRequest({ keyId: 'alias/release' }))).keyMetadata.keyId).toBe(ownKey);
    expect((await limited.describeKey(new kmsSdk.DescribeKeyRequest({ keyId: ownKey }))).keyMetadata.keyId).toBe(ownKey);
    expect(await refusal(full.describeKey(new kmsSdk.DescribeKeyRequest({ keyId: MISSING_KEY })))).toMatchObject({ Code: 'Forbidden.KeyNotFound', HttpStatus: 404 });
  });

  it('the refusals are audited: against the key for an existing one, the KeyId as sent for a missing one', async () => {
    const vault = Vault.open(vaultDir);
    try {
      const denied = listAuditEntries(vault.store.db).filter((e) => e.code === 'Forbidden.NoPermission' && e.action === 'DescribeKey');
      expect(denied.map((e) => e.keyId)).toEqual(expect.arrayContaining([otherKey, MISSING_KEY, 'alias/no-such-alias']));
    } finally {
      await vault.close();
    }
  });
});

describe('the administration Actions are local only', () => {
  it('a full-access key ("*") is refused every one of them with Forbidden.NoPermission, audited against it', async () => {
    const calls: [string, Record<string, string>][] = [
      ['CreateAccessKey', {}],
      ['ListAccessKeys', {}],
      ['DisableAccessKey', { AccessKeyId: fullKeyId }],
      ['DeleteAccessKey', { AccessKeyId: fullKeyId }],
      ['AddRemoteConnection', { Name: 'x', Endpoint: 'kms.example.com', AccessKeyId: 'LTAIx', AccessKeySecret: 'never-stored' }],
      ['ListRemoteConnections', {}],
      ['ListAuditEntries', {}],
      ['VerifyAuditChain', {}],
      ['AcknowledgeAuditBreak', {}],
    ];
    for (const [action, query] of calls) {
      const answer = await refusal(rpc(full, action, query));
      expect(answer, action).toMatchObject({ Code: 'Forbidden.NoPermission', HttpStatus: 403 });
      expect(answer.Message).toMatch(new RegExp(`may not call ${action}: it is a local-only DeskKMS Action`));
    }
    // The key was neither disabled nor deleted: it still works.
    expect((await full.describeKey(new kmsSdk.DescribeKeyRequest({ keyId: 'alias/release' }))).keyMetadata.keyId).toBe(ownKey);
    const vault = Vault.open(vaultDir);
    try {
      const refused = listAuditEntries(vault.store.db).filter((e) => e.caller === `api:${fullKeyId}` && e.code === 'Forbidden.NoPermission');
      expect(refused.map((e) => e.action)).toEqual(calls.map(([action]) => action));
      expect(JSON.stringify(listAuditEntries(vault.store.db))).not.toContain('never-stored');
    } finally {
      await vault.close();
    }
  });
});
