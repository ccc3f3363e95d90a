// Typed providers (core/providers): the registry picks a key's provider by its KeyId's scheme; an
// Action on a provider without its capability is UnsupportedOperation naming both; a remote KMS's
// answer is outside input, parsed through the Action's response schema (Remote.BadResponse when it
// does not match). The remote here is a fake HTTP server answering whatever each test sets, so the
// malformed answers a real KMS would never give can be sent on purpose.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../core/actions/dispatch.ts';
import { listAuditEntries } from '../../core/audit/audit-log.ts';
import { ACTION_NAMES, ACTION_SCHEMAS } from '../../core/contract/actions.ts';
import { ERROR_CODES } from '../../core/contract/errors.ts';
import type { Policy } from '../../core/contract/policy.ts';
import { localProvider } from '../../core/actions/local-provider.ts';
import { providerFor } from '../../core/actions/provider-route.ts';
import {
  OPTIONAL_CAPABILITIES,
  PROVIDER_ACTIONS,
  PROVIDER_CAPABILITIES,
  operationName,
  type ProviderAction,
} from '../../core/providers/provider.ts';
import { remoteProvider } from '../../core/providers/connections.ts';
import { schemeOf } from '../../core/providers/registry.ts';
import { REMOTE_CAPABILITIES, RemoteKmsProvider, serialiseRequest } from '../../core/providers/remote.ts';
import { Vault } from '../../core/vault/vault.ts';
import { call, fails, requireSecretService, tempDir } from './vault-helpers.ts';

const REMOTE_KEY = randomUUID();
const REMOTE_VERSION = randomUUID();
const DATE = '2026-01-02T03:04:05Z';

/** KeyMetadata as an Alibaba Cloud KMS answers it: no DeskKMS Exportable, fields DeskKMS does not know. */
function alibabaMetadata(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    KeyId: REMOTE_KEY,
    Arn: `acs:kms:cn-hangzhou:123:key/${REMOTE_KEY}`,
    KeySpec: 'EC_P256',
    KeyUsage: 'SIGN/VERIFY',
    KeyState: 'Enabled',
    Description: '',
    CreationDate: DATE,
    DeleteDate: '',
    Creator: '123',
    Origin: 'Aliyun_KMS',
    ProtectionLevel: 'SOFTWARE',
    MaterialExpireTime: '',
    PrimaryKeyVersion: '',
    LastRotationDate: DATE,
    AutomaticRotation: 'Disabled',
    RotationInterval: '',
    NextRotationDate: '',
    DKMSInstanceId: 'kst-hzz0000',
    DeletionProtection: 'Disabled',
    ...overrides,
  };
}

let dir: ReturnType<typeof tempDir>;
let vault: Vault;
let server: Server;
/** What the fake remote answers next: a status and a raw body. */
let answer: { status: number; body: string };
/** The parameters the fake remote received: the Action (x-acs-action header, V3) and the form body. */
let received: Record<string, string>[] = [];

const json = (body: unknown, status = 200) => ({ status, body: JSON.stringify(body) });

beforeAll(async () => {
  requireSecretService();
  dir = tempDir('deskkms-providers-');
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        Action: String(req.headers['x-acs-action']),
        ...Object.fromEntries(new URL(req.url ?? '/', 'http://fake').searchParams),
        ...Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('latin1'))),
      });
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  vault = await Vault.init(join(dir.path, 'vault'));
  await call(vault, 'AddRemoteConnection', { Name: 'fake', Endpoint: `127.0.0.1:${port}`, Protocol: 'http', AccessKeyId: 'LTAIfake', AccessKeySecret: 'secret' });
});

afterAll(async () => {
  await vault?.close();
  await new Promise((resolve) => server?.close(resolve));
  dir?.remove();
});

beforeEach(() => {
  received = [];
  answer = json({ RequestId: 'unset', Code: 'InternalFailure', Message: 'no answer set by the test' }, 500);
});

describe('capabilities as data', () => {
  it('names only Actions of the contract, each in one capability', () => {
    const all = Object.values(PROVIDER_CAPABILITIES).flat();
    expect(all.every((a) => (ACTION_NAMES as string[]).includes(a))).toBe(true);
    expect(new Set(all).size).toBe(all.length);
    expect(PROVIDER_ACTIONS).toHaveLength(all.length);
    expect(all).not.toContain('CreateAlias');
  });

  it('the local vault has every capability and an operation for every provider Action', () => {
    const local = localProvider(vault);
    expect(local.name).toBe('local');
    expect([...local.capabilities].sort()).toEqual([...OPTIONAL_CAPABILITIES].sort());
    for (const action of PROVIDER_ACTIONS) expect(typeof (local as unknown as Record<string, unknown>)[operationName(action)], action).toBe('function');
  });

  it('a remote KMS implements exactly keys and the capabilities it lists', () => {
    const remote = new RemoteKmsProvider({ name: 'x', endpoint: '127.0.0.1:1', regionId: 'cn-hangzhou', protocol: 'http', accessKeyId: 'a', signatureAlgorithm: 'ACS3-HMAC-SHA256' }, 's');
    expect([...remote.capabilities].sort()).toEqual(['aliases', 'lifecycle', 'tags']);
    for (const capability of ['keys', ...OPTIONAL_CAPABILITIES] as const) {
      const has = capability === 'keys' || REMOTE_CAPABILITIES.has(capability);
      for (const action of PROVIDER_CAPABILITIES[capability] as readonly ProviderAction[]) {
        expect(typeof (remote as unknown as Record<string, unknown>)[operationName(action)], action).toBe(has ? 'function' : 'undefined');
      }
    }
  });
});

describe('the registry', () => {
  it('picks the provider by the KeyId scheme', async () => {
    expect(schemeOf(`remote/fake/${REMOTE_KEY}`)).toMatchObject({ scheme: { name: 'remote' }, instance: 'fake', keyId: REMOTE_KEY });
    expect(schemeOf('remote/fake/alias/team')).toMatchObject({ instance: 'fake', keyId: 'alias/team' });
    for (const local of [REMOTE_KEY, 'alias/remote/fake/x', `acs:kms:local:deskkms:key/${REMOTE_KEY}`, 'remote/Not_A_Name/x', 'remote/fake/']) {
      expect(schemeOf(local), local).toBeUndefined();
    }
    const remote = await providerFor(vault, `remote/fake/${REMOTE_KEY}`);
    expect(remote.provider).toBeInstanceOf(RemoteKmsProvider);
    expect(remote.provider.name).toBe('remote/fake');
    expect(remote.keyId).toBe(REMOTE_KEY);
    const local = await providerFor(vault, 'alias/anything');
    expect(local.provider).toBe(localProvider(vault));
    expect(local.keyId).toBe('alias/anything');
  });

  it('an unknown connection is Forbidden.KeyNotFound, a local-looking KeyId stays local', async () => {
    await expect(providerFor(vault, `remote/nowhere/${REMOTE_KEY}`)).rejects.toMatchObject({ code: 'Forbidden.KeyNotFound' });
    const refused = await fails(vault, 'DescribeKey', { KeyId: `remote/Not_A_Name/${REMOTE_KEY}` });
    expect(refused.error.Code).toBe('Forbidden.KeyNotFound');
    expect(received).toHaveLength(0);
  });
});

describe('routing keeps dispatch\'s policy and audit', () => {
  const keyId = `remote/fake/${REMOTE_KEY}`;

  it('a key-limited caller is refused a remote key outside its policy before the remote is reached', async () => {
    const policy: Policy = { Actions: ['*'], Keys: ['remote/fake/alias/allowed'] };
    const refused = await dispatch(vault, 'DescribeKey', { KeyId: keyId }, 'DKMSlimited', { policy });
    expect(refused).toMatchObject({ ok: false, error: { Code: 'Forbidden.NoPermission' } });
    expect(received).toHaveLength(0);
    answer = json({ RequestId: 'r', KeyMetadata: alibabaMetadata() });
    const allowed = await dispatch(vault, 'DescribeKey', { KeyId: keyId }, 'DKMSlimited', { policy: { Actions: ['DescribeKey'], Keys: [keyId] } });
    expect(allowed).toMatchObject({ ok: true, body: { KeyMetadata: { KeyId: keyId } } });
    expect(received).toHaveLength(1);
  });

  it('administration Actions are not routed even when they carry a remote KeyId (ListAuditEntries filters by it)', async () => {
    answer = json({ RequestId: 'r', KeyMetadata: alibabaMetadata() });
    await call(vault, 'DescribeKey', { KeyId: keyId });
    received = [];
    const listed = await call(vault, 'ListAuditEntries', { KeyId: keyId, Action: 'DescribeKey' });
    expect(JSON.stringify(listed)).toContain(keyId);
    expect(received).toHaveLength(0);
  });
});

describe('UnsupportedOperation', () => {
  it('is its own code, HTTP 400', () => {
    expect(ERROR_CODES.UnsupportedOperation).toBe(400);
  });

  it.each([
    ['ExportKeyVersion', { KeyVersionId: REMOTE_VERSION, Passphrase: Buffer.from('long enough passphrase').toString('base64') }, /export capability/],
    ['GetPublicKeyBundle', { KeyVersionId: REMOTE_VERSION }, /certificates capability/],
    ['ImportPublicKeyVersion', { PublicKey: 'PEM' }, /import capability/],
    ['CreateAlias', { AliasName: 'alias/on-a-remote-key' }, /acts on keys of this vault only/],
  ])('%s on a remote key names the provider and the Action, never reaching the remote', async (action, params, why) => {
    const keyId = `remote/fake/${REMOTE_KEY}`;
    const refused = await fails(vault, action, { KeyId: keyId, ...params });
    expect(refused.error.Code).toBe('UnsupportedOperation');
    expect(refused.httpStatus).toBe(400);
    expect(refused.error.Message).toContain(`${action} is not supported by remote KMS "fake"`);
    expect(refused.error.Message).toMatch(why);
    expect(received).toHaveLength(0);
    expect(listAuditEntries(vault.store.db, { keyId, action }).at(-1)?.code).toBe('UnsupportedOperation');
  });

  it('the same Action on a local key is not refused for its provider', async () => {
    const keyId = (await call(vault, 'CreateKey', { KeySpec: 'EC_P256' })).KeyMetadata.KeyId as string;
    const versionId = (await call(vault, 'ListKeyVersions', { KeyId: keyId })).KeyVersions.KeyVersion[0].KeyVersionId as string;
    const bundle = await call(vault, 'GetPublicKeyBundle', { KeyId: keyId, KeyVersionId: versionId });
    expect(bundle.PublicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
  });
});

describe('a remote answer is outside input', () => {
  const keyId = `remote/fake/${REMOTE_KEY}`;

  it('an Alibaba-shaped answer is accepted: unknown fields dropped, Exportable false, KeyIds put in this vault\'s namespace once', async () => {
    answer = json({ RequestId: 'remote-request-1', KeyMetadata: alibabaMetadata() });
    const described = await call(vault, 'DescribeKey', { KeyId: keyId });
    expect(described.KeyMetadata.KeyId).toBe(keyId);
    expect(described.KeyMetadata.Exportable).toBe(false);
    expect(described.KeyMetadata).not.toHaveProperty('DKMSInstanceId');
    expect(described.RemoteRequestId).toBe('remote-request-1');
    expect(described.RequestId).not.toBe('remote-request-1');
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ Action: 'DescribeKey', KeyId: REMOTE_KEY });
  });

  it('sends the validated request: defaults filled in, numbers as text, the remote\'s own KeyId', async () => {
    answer = json({ RequestId: 'r', KeyVersions: { KeyVersion: [{ KeyId: REMOTE_KEY, KeyVersionId: REMOTE_VERSION, CreationDate: DATE }] }, TotalCount: 1, PageNumber: 2, PageSize: 5 });
    const listed = await call(vault, 'ListKeyVersions', { KeyId: keyId, PageNumber: '2', PageSize: 5 });
    expect(received[0]).toMatchObject({ Action: 'ListKeyVersions', KeyId: REMOTE_KEY, PageNumber: '2', PageSize: '5' });
    expect(listed.KeyVersions.KeyVersion).toEqual([{ KeyId: keyId, KeyVersionId: REMOTE_VERSION, CreationDate: DATE }]);
    answer = json({ RequestId: 'r' });
    await call(vault, 'TagResource', { KeyId: keyId, Tags: [{ TagKey: 'team', TagValue: 'release' }] });
    expect(JSON.parse(received[1]!.Tags!)).toEqual([{ TagKey: 'team', TagValue: 'release' }]);
    expect(serialiseRequest('CreateKey', { KeySpec: 'EC_P256', Exportable: false, Description: '' })).toEqual({ KeySpec: 'EC_P256', Description: '' });
    // DryRun is sent only when asked for: false is every KMS's default.
    const sign = { KeyId: REMOTE_KEY, KeyVersionId: REMOTE_VERSION, Algorithm: 'ECDSA_SHA_256', Digest: 'AAAA' };
    expect(serialiseRequest('AsymmetricSign', { ...sign, DryRun: false })).toEqual(sign);
    expect(serialiseRequest('AsymmetricSign', { ...sign, DryRun: true })).toEqual({ ...sign, DryRun: 'true' });
    // ListKeys Filters leave as Alibaba's wire form: JSON text of the validated pairs.
    const filters = [{ Key: 'KeyState', Values: ['Enabled'] }, { Key: 'KeySpec', Values: ['EC_P256', 'EC_SM2'] }];
    const provider = await remoteProvider(vault, 'fake');
    answer = json({ RequestId: 'r', Keys: { Key: [] }, TotalCount: 0, PageNumber: 1, PageSize: 10 });
    await provider.listKeys(ACTION_SCHEMAS.ListKeys.parse({ Filters: JSON.stringify(filters) }), { caller: 'test', requestId: 'r' });
    expect(received.at(-1)).toMatchObject({ Action: 'ListKeys', PageNumber: '1', PageSize: '10' });
    expect(JSON.parse(received.at(-1)!.Filters!)).toEqual(filters);
  });

  it.each([
    ['a mistyped field', json({ RequestId: 'r', KeyMetadata: alibabaMetadata({ KeyId: 42 }) }), /KeyMetadata\.KeyId/],
    ['a missing field', json({ RequestId: 'r', KeyMetadata: alibabaMetadata({ KeyState: undefined }) }), /KeyMetadata\.KeyState/],
    ['a state this contract does not have', json({ RequestId: 'r', KeyMetadata: alibabaMetadata({ KeyState: 'Exploded' }) }), /KeyMetadata\.KeyState/],
    ['no KeyMetadata at all', json({ RequestId: 'r' }), /KeyMetadata/],
    ['text that is not JSON', { status: 200, body: '<html>gateway</html>' }, /not JSON/],
    ['JSON that is not an object', json([1, 2, 3]), /not a JSON object/],
    ['an HTTP error answer without a Code', json({ RequestId: 'r', Message: 'gateway trouble' }, 500), /HTTP 500 without an error Code/],
    ['an HTTP error answer that is not JSON', { status: 502, body: '<html>bad gateway</html>' }, /not JSON/],
  ])('%s is Remote.BadResponse naming the connection and the Action', async (_what, reply, field) => {
    answer = reply;
    const refused = await fails(vault, 'DescribeKey', { KeyId: keyId });
    expect(refused.error.Code).toBe('Remote.BadResponse');
    expect(refused.httpStatus).toBe(502);
    expect(refused.error.Message).toMatch(/^remote KMS "fake" \(http:\/\/127\.0\.0\.1:\d+\) answered DescribeKey with something that is not its response/);
    expect(refused.error.Message).toMatch(field);
    expect(listAuditEntries(vault.store.db, { keyId, action: 'DescribeKey' }).at(-1)?.code).toBe('Remote.BadResponse');
  });

  it('a signature answer for another field shape is refused too (AsymmetricVerify Value must be a boolean)', async () => {
    answer = json({ RequestId: 'r', KeyId: REMOTE_KEY, KeyVersionId: REMOTE_VERSION, Value: 'true' });
    const refused = await fails(vault, 'AsymmetricVerify', {
      KeyId: keyId,
      KeyVersionId: REMOTE_VERSION,
      Algorithm: 'ECDSA_SHA_256',
      Digest: Buffer.alloc(32).toString('base64'),
      Value: Buffer.alloc(64).toString('base64'),
    });
    expect(refused.error.Code).toBe('Remote.BadResponse');
    expect(refused.error.Message).toMatch(/AsymmetricVerify.*Value/);
  });

  it('the remote\'s text is escaped before it is shown (error message, RequestId)', async () => {
    answer = json({ RequestId: 'r\u001b[2J', Code: 'Rejected.Disabled', Message: 'key \u202edelbasid\u001b[31m' }, 409);
    const refused = await fails(vault, 'DescribeKey', { KeyId: keyId });
    expect(refused.error.Message).toMatch(/: key \\u202Edelbasid\\x1B\[31m$/);
    answer = json({ RequestId: 'r\u001b[2J', KeyMetadata: alibabaMetadata() });
    expect((await call(vault, 'DescribeKey', { KeyId: keyId })).RemoteRequestId).toBe('r\\x1B[2J');
  });

  it('a remote Code this vault does not have is Remote.Error with the remote\'s Code, not InternalFailure', async () => {
    answer = json({ RequestId: 'r', Code: 'Throttling.User', Message: 'Request was denied due to user flow control.' }, 400);
    const refused = await fails(vault, 'DescribeKey', { KeyId: keyId });
    expect(refused.error.Code).toBe('Remote.Error');
    expect(refused.httpStatus).toBe(502);
    expect(refused.error.Message).toMatch(/^remote KMS "fake" .*: Request was denied due to user flow control\. \(remote code Throttling\.User\)$/);
    // One attempt: the client's retries are off (a retried call would be a second operation on the remote).
    expect(received).toHaveLength(1);
  });

  it('the remote\'s own error stays its error', async () => {
    answer = json({ RequestId: 'r', Code: 'Rejected.Disabled', Message: 'key is disabled' }, 409);
    const refused = await fails(vault, 'DescribeKey', { KeyId: keyId });
    expect(refused.error.Code).toBe('Rejected.Disabled');
    expect(refused.error.Message).toBe(`remote KMS "fake" (http://127.0.0.1:${(server.address() as AddressInfo).port}): key is disabled`);
  });
});
