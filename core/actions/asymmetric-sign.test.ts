import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KEY_SPECS, KEY_SPEC_TABLE, usagesOf } from '../contract/specs.ts';
import { digestMessage, importPublicKey } from '../crypto/engine.ts';
import { b64, useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('asymmetric-sign');

function opensslVerify(pem: string, algorithm: string, message: Buffer, signature: Buffer): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'deskkms-sign-'));
  try {
    writeFileSync(join(dir, 'pub.pem'), pem);
    writeFileSync(join(dir, 'msg.bin'), message);
    writeFileSync(join(dir, 'sig.bin'), signature);
    const opts =
      algorithm === 'RSA_PSS_SHA_256'
        ? ['-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32']
        : algorithm === 'SM2DSA'
          ? ['-sm3', '-sigopt', 'distid:1234567812345678']
          : ['-sha256'];
    execFileSync('openssl', ['dgst', ...opts, '-verify', join(dir, 'pub.pem'), '-signature', join(dir, 'sig.bin'), join(dir, 'msg.bin')], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('AsymmetricSign', () => {
  it('signs with keys of every spec and algorithm; openssl verifies', async () => {
    for (const spec of KEY_SPECS.filter((s) => usagesOf(s).includes('SIGN/VERIFY'))) {
      const key = await v.makeKey(spec, 'SIGN/VERIFY');
      for (const alg of KEY_SPEC_TABLE[spec].algorithms['SIGN/VERIFY']) {
        const message = Buffer.from(`release ${spec} ${alg}`);
        const digest = await digestMessage(importPublicKey(key.pem), alg, message);
        const signed = await v.call('AsymmetricSign', { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: alg, Digest: b64(digest) });
        expect(signed).toMatchObject({ KeyId: key.keyId, KeyVersionId: key.versionId });
        expect(opensslVerify(key.pem, alg, message, Buffer.from(signed.Value as string, 'base64')), `${spec} ${alg}`).toBe(true);
        expect(v.auditOf(signed.RequestId)).toMatchObject({ keyId: key.keyId, keyVersionId: key.versionId });
      }
    }
  });

  it('refuses disabled keys and keys pending deletion with their codes, and signs again once enabled', async () => {
    const key = await v.makeKey('EC_P256');
    const sign = { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: 'ECDSA_SHA_256', Digest: b64(Buffer.alloc(32, 1)) };
    await v.call('DisableKey', { KeyId: key.keyId });
    const disabled = await v.refused('AsymmetricSign', sign, 'Rejected.Disabled');
    expect(disabled.httpStatus).toBe(409);
    expect(disabled.audit).toMatchObject({ keyId: key.keyId, keyVersionId: key.versionId });
    await v.call('EnableKey', { KeyId: key.keyId });
    await v.call('AsymmetricSign', sign);
    await v.call('ScheduleKeyDeletion', { KeyId: key.keyId, PendingWindowInDays: 7 });
    await v.refused('AsymmetricSign', sign, 'Rejected.PendingDeletion');
    await v.call('CancelKeyDeletion', { KeyId: key.keyId });
    await v.call('AsymmetricSign', sign);
  });

  it('refuses a call without KeyVersionId, an algorithm of another usage and a digest of the wrong length', async () => {
    const key = await v.makeKey('RSA_2048', 'ENCRYPT/DECRYPT');
    const missing = await v.refused('AsymmetricSign', { KeyId: key.keyId, Algorithm: 'ECDSA_SHA_256', Digest: b64(Buffer.alloc(32)) }, 'MissingParameter');
    expect(missing.Message).toBe('KeyVersionId is required');
    const ref = { KeyId: key.keyId, KeyVersionId: key.versionId };
    const wrongUse = await v.refused('AsymmetricSign', { ...ref, Algorithm: 'RSA_PSS_SHA_256', Digest: b64(Buffer.alloc(32)) }, 'InvalidParameter');
    expect(wrongUse.Message).toMatch(/RSA_PSS_SHA_256 is not valid for RSA_2048 keys with usage ENCRYPT\/DECRYPT/);
    const signer = await v.makeKey('EC_P256');
    const short = await v.refused('AsymmetricSign', { KeyId: signer.keyId, KeyVersionId: signer.versionId, Algorithm: 'ECDSA_SHA_256', Digest: b64(Buffer.alloc(31)) }, 'InvalidParameter');
    expect(short.Message).toMatch(/^Digest: must be the 32-byte/);
  });
});
