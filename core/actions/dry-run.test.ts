// DryRun on Alibaba's crypto Actions and GetPublicKey: every check the call makes, then
// DryRunOperationError (412) instead of the answer; a failing check answers what the call would.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../contract/errors.ts';
import { dispatch } from './dispatch.ts';
import { b64, useActionVault } from '../../test/support/action-vault.ts';
import { CLIENT_MATRIX, apiCaller, describeSpec } from '../../test/support/api-clients.ts';
import { serveInProcess } from '../../test/integration/vault-helpers.ts';

const v = useActionVault('dry-run');
const digest = createHash('sha256').update('release').digest();

describe('DryRun', () => {
  it('answers DryRunOperationError (412) for each Action that would succeed, audited as such, and acts on "false"', async () => {
    expect(ERROR_CODES.DryRunOperationError).toBe(412);
    const sign = await v.makeKey('EC_P256');
    const enc = await v.makeKey('RSA_2048', 'ENCRYPT/DECRYPT');
    const s = { KeyId: sign.keyId, KeyVersionId: sign.versionId };
    const e = { KeyId: enc.keyId, KeyVersionId: enc.versionId, Algorithm: 'RSAES_OAEP_SHA_256' };
    const signed = await v.call('AsymmetricSign', { ...s, Algorithm: 'ECDSA_SHA_256', Digest: b64(digest), DryRun: 'false' });
    const blob = (await v.call('AsymmetricEncrypt', { ...e, Plaintext: b64('data key'), DryRun: false })).CiphertextBlob as string;
    const calls: [string, Record<string, unknown>][] = [
      ['GetPublicKey', s],
      ['AsymmetricSign', { ...s, Algorithm: 'ECDSA_SHA_256', Digest: b64(digest) }],
      ['AsymmetricVerify', { ...s, Algorithm: 'ECDSA_SHA_256', Digest: b64(digest), Value: signed.Value }],
      ['AsymmetricEncrypt', { ...e, Plaintext: b64('data key') }],
      ['AsymmetricDecrypt', { ...e, CiphertextBlob: blob }],
    ];
    for (const [action, params] of calls) {
      for (const dry of ['true', true]) {
        const refusal = await v.refused(action, { ...params, DryRun: dry }, 'DryRunOperationError');
        expect(refusal.httpStatus).toBe(412);
        expect(refusal.Message).toMatch(new RegExp(`^${action}: the request would have succeeded`));
        expect(refusal.audit.keyId).toBe(params.KeyId);
      }
    }
    // The same calls without DryRun act (the decrypt round trip proves the blob was a good one).
    expect((await v.call('AsymmetricDecrypt', { ...e, CiphertextBlob: blob, DryRun: 'false' })).Plaintext).toBe(b64('data key'));
  });

  it('makes the checks the call makes: parameters, state, private material, digest, plaintext, permission', async () => {
    const key = await v.makeKey('EC_P256');
    const ref = { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: 'ECDSA_SHA_256', DryRun: 'true' };
    expect((await v.refused('AsymmetricSign', { ...ref, Digest: b64(digest.subarray(1)) }, 'InvalidParameter')).Message).toBe(
      'Digest: must be the 32-byte SHA-256 digest for ECDSA_SHA_256, got 31 bytes',
    );
    // The same message as the real call gives (made in the key worker).
    expect((await v.refused('AsymmetricSign', { ...ref, Digest: b64(digest.subarray(1)), DryRun: 'false' }, 'InvalidParameter')).Message).toBe(
      'Digest: must be the 32-byte SHA-256 digest for ECDSA_SHA_256, got 31 bytes',
    );
    expect((await v.refused('AsymmetricSign', { ...ref, Digest: b64(digest), DryRun: 'yes' }, 'InvalidParameter')).Message).toMatch(/^DryRun: /);
    await v.refused('AsymmetricSign', { ...ref, Algorithm: 'SM2DSA', Digest: b64(digest) }, 'InvalidParameter');
    expect((await v.refused('AsymmetricVerify', { ...ref, Digest: b64(digest), Value: b64('not DER') }, 'InvalidParameter')).Message).toMatch(/^Value: /);

    const enc = await v.makeKey('RSA_2048', 'ENCRYPT/DECRYPT');
    const e = { KeyId: enc.keyId, KeyVersionId: enc.versionId, Algorithm: 'RSAES_OAEP_SHA_256', DryRun: 'true' };
    expect((await v.refused('AsymmetricEncrypt', { ...e, Plaintext: b64(Buffer.alloc(191)) }, 'InvalidParameter')).Message).toMatch(/^Plaintext: is 191 bytes/);
    expect((await v.refused('AsymmetricDecrypt', { ...e, CiphertextBlob: '' }, 'InvalidParameter')).Message).toBe('CiphertextBlob: is empty');

    // A public-key-only version cannot sign: DryRun says so too.
    const publicOnly = (await v.call('CreateKey', { KeySpec: 'EC_P256', Origin: 'EXTERNAL_PUBLIC_KEY' })).KeyMetadata.KeyId as string;
    const version = (await v.call('ImportPublicKeyVersion', { KeyId: publicOnly, PublicKey: key.pem })).KeyVersion.KeyVersionId as string;
    await v.refused('AsymmetricSign', { ...ref, KeyId: publicOnly, KeyVersionId: version, Digest: b64(digest) }, 'Rejected.PublicKeyOnly');

    // A caller whose policy does not reach the key is refused as without DryRun.
    const outcome = await dispatch(v.vault, 'GetPublicKey', { KeyId: key.keyId, KeyVersionId: key.versionId, DryRun: 'true' }, 'api:test', {
      policy: { Actions: ['GetPublicKey'], Keys: [enc.keyId] },
    });
    expect(outcome.ok ? 'answered' : outcome.error.Code).toBe('Forbidden.NoPermission');

    await v.call('DisableKey', { KeyId: key.keyId });
    await v.refused('AsymmetricSign', { ...ref, Digest: b64(digest) }, 'Rejected.Disabled');
    // GetPublicKey answers for a disabled key, so its DryRun passes.
    await v.refused('GetPublicKey', { KeyId: key.keyId, KeyVersionId: key.versionId, DryRun: 'true' }, 'DryRunOperationError');
  });
});

// The same through `deskkms serve` with the real clients (openapi-client V3 SHA-256 / SM3 and V1,
// pop-core V1): the 412 and its Code reach each library as Alibaba's error, and the documented
// parameters of this issue (DryRun, Filters, Value's name) travel in every scheme and transport.
describe('DryRun, Filters and Value through deskkms serve with the real clients', () => {
  let server: Awaited<ReturnType<typeof serveInProcess>> | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it.each(CLIENT_MATRIX.map((spec) => [describeSpec(spec), spec] as const))('%s', async (_name, spec) => {
    if (!server) {
      const passphrase = v.file('passphrase');
      writeFileSync(passphrase, 'dry-run passphrase');
      server = await serveInProcess(v.dir, { env: { DESKKMS_PASSPHRASE_FILE: passphrase } });
    }
    const access = await v.call('CreateAccessKey', {});
    const client = apiCaller(spec, server.endpoint, { accessKeyId: access.AccessKeyId as string, accessKeySecret: access.AccessKeySecret as string });
    const key = await v.makeKey('EC_SM2', 'SIGN/VERIFY');
    const ref = { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: 'SM2DSA', Digest: b64(digest) };

    const dry = await client.refusal('AsymmetricSign', { ...ref, DryRun: 'true' });
    expect(dry).toMatchObject({ status: 412, code: 'DryRunOperationError' });
    expect(dry.body.Message).toMatch(/^AsymmetricSign: the request would have succeeded/);
    const signed = await client.call('AsymmetricSign', { ...ref, DryRun: 'false' });
    expect((await client.call('AsymmetricVerify', { ...ref, Value: signed.body.Value as string })).body.Value).toBe(true);
    const malformed = await client.refusal('AsymmetricVerify', { ...ref, Value: b64('not DER') });
    expect(malformed).toMatchObject({ status: 400, code: 'InvalidParameter' });
    expect(malformed.body.Message).toMatch(/^Value: /);

    const filters = JSON.stringify([{ Key: 'KeyId', Values: [key.keyId] }, { Key: 'KeySpec', Values: ['EC_SM2'] }]);
    const listed = await client.call('ListKeys', { Filters: filters });
    expect(listed.body).toMatchObject({ TotalCount: 1, Keys: { Key: [{ KeyId: key.keyId }] } });
    const other = await client.call('ListKeys', { Filters: JSON.stringify([{ Key: 'KeyId', Values: [key.keyId] }, { Key: 'KeySpec', Values: ['RSA_2048'] }]) });
    expect(other.body.TotalCount).toBe(0);
  });
});
