// GetParametersForImport: a wrapping key and an import token for an EXTERNAL key's material.
import { describe, expect, it } from 'vitest';
import { importPublicKey } from '../crypto/engine.ts';
import { useActionVault } from '../../test/support/action-vault.ts';
import { ALGORITHM_FOR, byok } from '../../test/support/byok-actions.ts';

const v = useActionVault('get-parameters-for-import');
const { externalKey, parameters } = byok(v);

describe('GetParametersForImport', () => {
  it('returns a wrapping public key of the asked spec and a token valid for 24 hours', async () => {
    const keyId = await externalKey('EC_P256');
    for (const spec of ['RSA_2048', 'EC_SM2'] as const) {
      const params = await parameters(keyId, spec);
      expect(params).toMatchObject({ KeyId: keyId, TokenExpireTime: '2026-11-23T12:00:00Z' });
      expect(params.ImportToken).toMatch(/^[0-9A-Za-z]{48}$/);
      expect(importPublicKey(Buffer.from(params.PublicKey as string, 'base64')).spec).toBe(spec);
      expect(v.auditOf(params.RequestId).keyId).toBe(keyId);
    }
  });

  it('keeps the 10 newest import tokens of a key: an older one is retired with InvalidImportToken', async () => {
    const keyId = await externalKey('EC_P256');
    const tokens: string[] = [];
    for (let i = 0; i < 12; i++) tokens.push((await parameters(keyId, 'RSA_2048')).ImportToken as string);
    const count = (v.vault.store.db.prepare('SELECT COUNT(*) AS n FROM import_tokens WHERE key_id = ?').get(keyId) as { n: number }).n;
    expect(count).toBe(10);
    const material = Buffer.alloc(300, 1).toString('base64');
    for (const token of [tokens[0], tokens[1]]) {
      await v.refused('ImportKeyMaterial', { KeyId: keyId, ImportToken: token, EncryptedKeyMaterial: material }, 'InvalidImportToken');
    }
    // The newest is still live: it gets as far as unwrapping (this material is not real).
    await v.refused('ImportKeyMaterial', { KeyId: keyId, ImportToken: tokens[11], EncryptedKeyMaterial: material }, 'IncorrectKeyMaterial');
  });

  it('refuses mismatched wrapping parameters, keys of another Origin and disabled keys', async () => {
    const keyId = await externalKey('EC_P256');
    const mismatch = await v.refused('GetParametersForImport', { KeyId: keyId, WrappingKeySpec: 'EC_SM2', WrappingAlgorithm: ALGORITHM_FOR.RSA_2048 }, 'InvalidParameter');
    expect(mismatch.Message).toMatch(/^WrappingKeySpec: EC_SM2 does not go with/);
    expect(mismatch.audit.keyId).toBe(keyId);
    const symmetric = await v.refused('GetParametersForImport', { KeyId: keyId, WrappingKeySpec: 'RSA_2048', WrappingAlgorithm: 'RSAES_OAEP_SHA_256' }, 'InvalidParameter');
    // A symmetric key's algorithm, for an asymmetric key: refused naming the ones that fit.
    expect(symmetric.Message).toMatch(/^WrappingAlgorithm: RSAES_OAEP_SHA_256 does not wrap EC_P256 key material; use one of RSAES_OAEP_SHA_256_AES_256_ECB_PKCS7_PAD, SM2PKE_SM4_ECB/);
    const generated = (await v.call('CreateKey', { KeySpec: 'EC_P256' })).KeyMetadata.KeyId as string;
    const origin = await v.refused('GetParametersForImport', { KeyId: generated, WrappingKeySpec: 'RSA_2048', WrappingAlgorithm: ALGORITHM_FOR.RSA_2048 }, 'InvalidParameter');
    expect(origin.Message).toMatch(/Origin EXTERNAL/);
    await v.call('DisableKey', { KeyId: keyId });
    await v.refused('GetParametersForImport', { KeyId: keyId, WrappingKeySpec: 'RSA_2048', WrappingAlgorithm: ALGORITHM_FOR.RSA_2048 }, 'Rejected.Disabled');
  });
});
