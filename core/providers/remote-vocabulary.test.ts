// What a remote KMS receives for a request that sets only what it needs: parameters the schema
// fills in with a default the remote shares are not sent. A remote may be Alibaba Cloud KMS or an
// older `deskkms serve` (a connection kept on HMAC-SHA1 for one): both know the vocabulary of the
// official SDK's request models (@alicloud/kms20160120 1.2.0), and a parameter outside it (DryRun
// false, Exportable false) would be refused there as "is not a parameter of". Review 16, finding 1.
import { describe, expect, it } from 'vitest';
import { ACTION_SCHEMAS } from '../contract/actions.ts';
import { kmsSdk } from '../../test/support/alibaba-sdk.ts';
import type { ProviderAction } from './provider.ts';
import { serialiseRequest } from './remote.ts';

const KEY = '0b6c4c5e-9d2b-4f77-9a8e-1f7c2e0d9a41';
const VERSION = '5c1e0d3a-8b7f-4e2a-9c6d-2a4b6c8d0e1f';
const key = { KeyId: KEY };
const version = { KeyId: KEY, KeyVersionId: VERSION };

/** Each Action the remote provider forwards, with only the parameters it requires. */
const MINIMAL: Partial<Record<ProviderAction, Record<string, unknown>>> = {
  DescribeKey: key,
  ListKeys: {},
  CreateKey: { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' },
  CreateKeyVersion: key,
  DescribeKeyVersion: version,
  ListKeyVersions: key,
  GetPublicKey: version,
  AsymmetricSign: { ...version, Algorithm: 'ECDSA_SHA_256', Digest: 'AAAA' },
  AsymmetricVerify: { ...version, Algorithm: 'ECDSA_SHA_256', Digest: 'AAAA', Value: 'AAAA' },
  AsymmetricEncrypt: { ...version, Algorithm: 'RSAES_OAEP_SHA_256', Plaintext: 'AAAA' },
  AsymmetricDecrypt: { ...version, Algorithm: 'RSAES_OAEP_SHA_256', CiphertextBlob: 'AAAA' },
  EnableKey: key,
  DisableKey: key,
  ScheduleKeyDeletion: { ...key, PendingWindowInDays: '7' },
  CancelKeyDeletion: key,
  UpdateKeyDescription: { ...key, Description: 'd' },
  TagResource: { ...key, Tags: '[{"TagKey":"team","TagValue":"release"}]' },
  UntagResource: { ...key, TagKeys: '["team"]' },
  ListResourceTags: key,
  ListAliasesByKeyId: key,
};

/** The wire names of the official SDK 1.2.0's request model for an Action. */
function sdkVocabulary(action: string): Set<string> {
  const model = (kmsSdk as unknown as Record<string, { names(): Record<string, string> } | undefined>)[`${action}Request`];
  if (!model) throw new Error(`@alicloud/kms20160120 1.2.0 has no ${action}Request model`);
  return new Set(Object.values(model.names()));
}

describe('a remote receives only its own vocabulary', () => {
  it.each(Object.keys(MINIMAL))('%s: every parameter sent is one of the official SDK 1.2.0 request model', (action) => {
    const name = action as ProviderAction;
    const minimal = MINIMAL[name] ?? {};
    const request = ACTION_SCHEMAS[name].parse(minimal) as Record<string, unknown>;
    const sent = Object.keys(serialiseRequest(name, request));
    const known = sdkVocabulary(name);
    expect(sent.filter((parameter) => !known.has(parameter))).toEqual([]);
    // What the caller set is sent.
    for (const parameter of Object.keys(minimal)) expect(sent).toContain(parameter);
  });

  it('a parameter asked for is sent even where the older vocabulary lacks it (DryRun true)', () => {
    const request = ACTION_SCHEMAS.AsymmetricSign.parse({ ...MINIMAL.AsymmetricSign, DryRun: 'true' }) as Record<string, unknown>;
    expect(serialiseRequest('AsymmetricSign', request)).toMatchObject({ DryRun: 'true' });
  });
});
