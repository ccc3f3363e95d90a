import { describe, expect, it } from 'vitest';
import { parseRequest } from '../contract/actions.ts';
import { dispatch } from './dispatch.ts';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('list-keys');

describe('ListKeys', () => {
  it('pages the keys with TotalCount and ARNs', async () => {
    for (let i = 0; i < 7; i++) await v.call('CreateKey', { KeySpec: 'EC_P256' });
    const all = await v.call('ListKeys', { PageSize: 100 });
    expect(all).toMatchObject({ TotalCount: 7, PageNumber: 1, PageSize: 100 });
    expect(all.Keys.Key).toHaveLength(7);
    for (const k of all.Keys.Key) expect(k.KeyArn).toBe(`acs:kms:local:deskkms:key/${k.KeyId}`);
    const second = await v.call('ListKeys', { PageSize: '3', PageNumber: '2' });
    expect(second.Keys.Key).toEqual(all.Keys.Key.slice(3, 6));
    expect(second).toMatchObject({ TotalCount: 7, PageNumber: 2, PageSize: 3 });
  });

  it('shows a key-limited caller only its keys, and counts only those', async () => {
    const mine = (await v.call('CreateKey', { KeySpec: 'EC_P256' })).KeyMetadata.KeyId as string;
    const outcome = await dispatch(v.vault, 'ListKeys', {}, 'api:test', { policy: { Actions: ['ListKeys'], Keys: [mine] } });
    if (!outcome.ok) throw new Error(outcome.error.Message);
    expect(outcome.body).toMatchObject({ TotalCount: 1, Keys: { Key: [{ KeyId: mine }] } });
  });

  it('refuses a PageSize outside 1..100', async () => {
    expect((await v.refused('ListKeys', { PageSize: 101 }, 'InvalidParameter')).Message).toMatch(/^PageSize/);
    await v.refused('ListKeys', { PageNumber: 0 }, 'InvalidParameter');
  });
});

describe('ListKeys Filters (Alibaba: AND across Keys, OR within and across pairs of one Key)', () => {
  const f = useActionVault('list-keys-filters');
  const made: Record<string, string> = {};
  const ids = (body: Record<string, any>) => (body.Keys.Key as { KeyId: string }[]).map((k) => k.KeyId).sort();
  const list = async (filters: unknown, extra: Record<string, unknown> = {}) =>
    f.call('ListKeys', { PageSize: 100, Filters: typeof filters === 'string' ? filters : JSON.stringify(filters), ...extra });

  it('narrows by KeyState, KeySpec, KeyUsage, ProtectionLevel and CreatorType as DescribeKey reports them', async () => {
    made.rsaSign = (await f.makeKey('RSA_2048', 'SIGN/VERIFY')).keyId;
    made.rsaEnc = (await f.makeKey('RSA_2048', 'ENCRYPT/DECRYPT')).keyId;
    made.ec = (await f.makeKey('EC_P256')).keyId;
    made.sm2 = (await f.makeKey('EC_SM2', 'SIGN/VERIFY')).keyId;
    made.disabled = (await f.makeKey('EC_P256K')).keyId;
    await f.call('DisableKey', { KeyId: made.disabled });
    made.pending = (await f.makeKey('EC_P256')).keyId;
    await f.call('ScheduleKeyDeletion', { KeyId: made.pending, PendingWindowInDays: 7 });
    made.external = (await f.call('CreateKey', { KeySpec: 'EC_P256', Origin: 'EXTERNAL' })).KeyMetadata.KeyId as string;
    const everyKey = Object.values(made).sort();
    // Each expected set comes from the keys' own DescribeKey metadata, not from the filter code.
    const meta = await Promise.all(everyKey.map(async (id) => (await f.call('DescribeKey', { KeyId: id })).KeyMetadata as Record<string, string>));
    const where = (pred: (m: Record<string, string>) => boolean) => meta.filter(pred).map((m) => m.KeyId).sort();
    expect(new Set(meta.map((m) => m.KeyState))).toEqual(new Set(['Enabled', 'Disabled', 'PendingDeletion', 'PendingImport']));

    expect(ids(await list([{ Key: 'KeyState', Values: ['Enabled'] }]))).toEqual(where((m) => m.KeyState === 'Enabled'));
    expect(ids(await list([{ Key: 'KeyState', Values: ['PendingImport'] }]))).toEqual([made.external]);
    expect(ids(await list([{ Key: 'KeyState', Values: ['Disabled', 'PendingDeletion'] }]))).toEqual([made.disabled, made.pending].sort());
    expect(ids(await list([{ Key: 'KeySpec', Values: ['RSA_2048'] }]))).toEqual(where((m) => m.KeySpec === 'RSA_2048'));
    expect(ids(await list([{ Key: 'KeyUsage', Values: ['ENCRYPT/DECRYPT'] }]))).toEqual(where((m) => m.KeyUsage === 'ENCRYPT/DECRYPT'));
    expect(ids(await list([{ Key: 'ProtectionLevel', Values: ['SOFTWARE'] }]))).toEqual(everyKey);
    expect(ids(await list([{ Key: 'ProtectionLevel', Values: ['HSM'] }]))).toEqual([]);
    expect(ids(await list([{ Key: 'CreatorType', Values: ['User'] }]))).toEqual(everyKey);
    expect(ids(await list([{ Key: 'CreatorType', Values: ['Service'] }]))).toEqual([]);
    // A symmetric spec Alibaba documents: valid, and no key here has it.
    expect(ids(await list([{ Key: 'KeySpec', Values: ['Aliyun_AES_256'] }]))).toEqual([]);
  });

  it('ANDs distinct Keys, pools pairs of one Key (Alibaba\'s own example), counts only matches and pages them', async () => {
    // The reference's example: (KeyState=Enabled OR Disabled OR PendingDeletion) AND KeySpec=...
    const body = await list([
      { Key: 'KeyState', Values: ['Enabled', 'Disabled'] },
      { Key: 'KeyState', Values: ['PendingDeletion'] },
      { Key: 'KeySpec', Values: ['EC_P256', 'EC_P256K'] },
    ]);
    expect(ids(body)).toEqual([made.ec, made.disabled, made.pending].sort());
    expect(body.TotalCount).toBe(3);
    const sign = [{ Key: 'KeyUsage', Values: ['SIGN/VERIFY'] }, { Key: 'KeyState', Values: ['Enabled'] }];
    expect(ids(await list(sign))).toEqual([made.rsaSign, made.ec, made.sm2].sort());
    const page2 = await f.call('ListKeys', { PageSize: 2, PageNumber: 2, Filters: JSON.stringify(sign) });
    expect(page2).toMatchObject({ TotalCount: 3, PageNumber: 2, PageSize: 2 });
    expect(page2.Keys.Key).toHaveLength(1);
    // A pair without Values does not narrow; an empty array neither; a parsed array (JSON bodies) works too.
    expect(ids(await list([{ Key: 'KeySpec', Values: [] }]))).toEqual(Object.values(made).sort());
    expect(ids(await list([]))).toEqual(Object.values(made).sort());
    expect(ids(await f.call('ListKeys', { PageSize: 100, Filters: [{ Key: 'KeySpec', Values: ['EC_SM2'] }] }))).toEqual([made.sm2]);
  });

  it('narrows by KeyId (also spelled keyId), AliasName, Creator, TagKey and TagValue', async () => {
    await f.call('CreateAlias', { KeyId: made.ec, AliasName: 'alias/filter-ec' });
    await f.call('TagResource', { KeyId: made.ec, Tags: '[{"TagKey":"team","TagValue":"blue"}]' });
    await f.call('TagResource', { KeyId: made.sm2, Tags: '[{"TagKey":"owner","TagValue":"team"}]' });
    expect(ids(await list([{ Key: 'KeyId', Values: [made.ec, made.sm2] }]))).toEqual([made.ec, made.sm2].sort());
    expect(ids(await list([{ Key: 'keyId', Values: [made.rsaSign] }]))).toEqual([made.rsaSign]);
    expect(ids(await list([{ Key: 'AliasName', Values: ['alias/filter-ec', 'alias/none'] }]))).toEqual([made.ec]);
    const creator = (await f.call('DescribeKey', { KeyId: made.ec })).KeyMetadata.Creator as string;
    expect(ids(await list([{ Key: 'Creator', Values: [creator] }]))).toEqual(Object.values(made).sort());
    expect(ids(await list([{ Key: 'Creator', Values: ['someone-else'] }]))).toEqual([]);
    expect(ids(await list([{ Key: 'TagKey', Values: ['team'] }]))).toEqual([made.ec]);
    // TagValue looks at values only: "team" is sm2's value, ec's key.
    expect(ids(await list([{ Key: 'TagValue', Values: ['team'] }]))).toEqual([made.sm2]);
    expect(ids(await list([{ Key: 'TagKey', Values: ['team', 'owner'] }, { Key: 'KeySpec', Values: ['EC_SM2'] }]))).toEqual([made.sm2]);
  });

  it('applies a key-limited caller\'s policy before the filters', async () => {
    const outcome = await dispatch(f.vault, 'ListKeys', { Filters: '[{"Key":"KeySpec","Values":["EC_P256","RSA_2048"]}]' }, 'api:test', {
      policy: { Actions: ['ListKeys'], Keys: [made.ec!, made.sm2!] },
    });
    if (!outcome.ok) throw new Error(outcome.error.Message);
    expect(outcome.body).toMatchObject({ TotalCount: 1, Keys: { Key: [{ KeyId: made.ec }] } });
  });

  it('keeps validated Filters in Alibaba\'s wire form, so a request forwarded to a remote KMS says the same', () => {
    const wire = '[{"Key":"keyId","Values":["k1"]},{"Key":"KeyState","Values":[]},{"Key":"KeyState","Values":["Enabled"]}]';
    expect(JSON.stringify(parseRequest('ListKeys', { Filters: wire }).Filters)).toBe(wire);
  });

  it.each([
    ['not JSON', '[{"Key":', /^Filters: is not valid JSON/],
    ['not an array', '{"Key":"KeyState","Values":["Enabled"]}', /^Filters: must be a JSON array/],
    ['11 pairs', JSON.stringify(Array.from({ length: 11 }, () => ({ Key: 'KeyState', Values: ['Enabled'] }))), /at most 10/],
    ['11 values', JSON.stringify([{ Key: 'KeySpec', Values: Array(11).fill('EC_P256') }]), /KeySpec\) has 11 Values; at most 10/],
    ['an unknown Key', '[{"Key":"Color","Values":["red"]}]', /Key Color is not one of KeyState, KeySpec/],
    ['a Key in another case', '[{"Key":"keystate","Values":["Enabled"]}]', /Key keystate is not one of/],
    ['an unknown value', '[{"Key":"KeyState","Values":["Enabled","Gone"]}]', /KeyState value Gone is not one of Enabled, Disabled, PendingDeletion, PendingImport/],
    ['a number value', '[{"Key":"KeyState","Values":[1]}]', /Values must be an array of strings/],
    ['no Values', '[{"Key":"KeyState"}]', /has no Values/],
    ['no Key', '[{"Values":["Enabled"]}]', /has no Key/],
    ['another member', '[{"Key":"KeyState","Values":["Enabled"],"Op":"not"}]', /has Op, which is not Key or Values/],
    ['a DKMSInstanceId', '[{"Key":"DKMSInstanceId","Values":["kst-hzz62ee817bvyyr5x****"]}]', /DKMSInstanceId kst-.*no KMS instance/],
    ['an empty free-form value', '[{"Key":"AliasName","Values":[""]}]', /each AliasName value must be 1-512 characters/],
    ['a control character', '[{"Key":"Key\\u001bState","Values":["x"]}]', /Key Key\\x1BState is not one of/],
  ])('refuses %s, naming Filters', async (_what, filters, message) => {
    const refusal = await f.refused('ListKeys', { Filters: filters }, 'InvalidParameter');
    expect(refusal.Message).toMatch(/^Filters: /);
    expect(refusal.Message).toMatch(message);
  });
});
