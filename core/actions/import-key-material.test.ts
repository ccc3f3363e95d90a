// ImportKeyMaterial (bring your own key, Alibaba Cloud KMS's asymmetric import): OpenSSL makes
// every spec's key and wraps it as Alibaba documents (an ephemeral AES-256 key under
// RSAES-OAEP-SHA-256 then AES-256-ECB/PKCS#7, or an ephemeral SM4 key under SM2PKE then SM4-ECB);
// the vault imports it, signs, and OpenSSL verifies with its own public key. Refusals (expired
// token, another key's token, tampered or truncated material, another spec) leave the vault unchanged.
import { describe, expect, it } from 'vitest';
import { listAuditEntries } from '../audit/audit-log.ts';
import { KEY_SPECS, isSymmetricSpec } from '../contract/specs.ts';
import { flipByte } from '../../test/interop/openssl-peer.ts';
import { b64, useActionVault } from '../../test/support/action-vault.ts';
import { ALGORITHM_FOR, byok, targetMaterial } from '../../test/support/byok-actions.ts';

const v = useActionVault('import-key-material');
const { externalKey, parameters, opensslKey, wrapWithOpenssl, signedAndVerified, versionCount } = byok(v);

describe('ImportKeyMaterial', () => {
  // Asymmetric specs here; symmetric keys' material: symmetric-byok.test.ts.
  it.each(KEY_SPECS.filter((spec) => !isSymmetricSpec(spec)).map((spec) => [spec, spec === 'EC_SM2' ? 'EC_SM2' : 'RSA_2048'] as const))(
    '%s wrapped by OpenSSL under a %s wrapping key: imported, signs, OpenSSL verifies',
    async (spec, wrappingKeySpec) => {
      const keyId = await externalKey(spec);
      const params = await parameters(keyId, wrappingKeySpec);
      const key = opensslKey(spec);
      const material = wrapWithOpenssl(params.PublicKey as string, ALGORITHM_FOR[wrappingKeySpec], targetMaterial(spec, key));
      const imported = await v.call('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: b64(material), ImportToken: params.ImportToken });
      expect(imported.KeyId).toBe(keyId);
      const keyVersionId = imported.KeyVersionId as string;
      expect(v.auditOf(imported.RequestId)).toMatchObject({ keyId, keyVersionId });
      expect((await v.call('DescribeKey', { KeyId: keyId })).KeyMetadata.KeyState).toBe('Enabled');
      expect((await v.call('GetPublicKey', { KeyId: keyId, KeyVersionId: keyVersionId })).PublicKey).toBe(key.publicPem);
      await signedAndVerified(keyId, keyVersionId, spec, key.publicPem);
      // An imported key gets no other versions.
      await v.refused('CreateKeyVersion', { KeyId: keyId }, 'InvalidParameter');
    },
  );

  it('EC_SM2 material also travels under the RSA wrapping key; the token survives a restart of the vault', async () => {
    const keyId = await externalKey('EC_SM2');
    const params = await parameters(keyId, 'RSA_2048');
    await v.reopen();
    const key = opensslKey('EC_SM2');
    const material = wrapWithOpenssl(params.PublicKey as string, ALGORITHM_FOR.RSA_2048, targetMaterial('EC_SM2', key));
    const imported = await v.call('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: b64(material), ImportToken: params.ImportToken, KeyMaterialExpireUnix: '0' });
    await signedAndVerified(keyId, imported.KeyVersionId as string, 'EC_SM2', key.publicPem);
  });

  it('refuses expired tokens, tokens of another key, tampered, truncated and other-spec material; the vault is unchanged', async () => {
    const keyId = await externalKey('RSA_2048');
    const other = await externalKey('RSA_2048');
    const params = await parameters(keyId, 'RSA_2048');
    const otherParams = await parameters(other, 'RSA_2048');
    const key = opensslKey('RSA_2048');
    const good = wrapWithOpenssl(params.PublicKey as string, ALGORITHM_FOR.RSA_2048, key.pkcs8);
    const attempt = (fields: Record<string, unknown>, code: string) =>
      v.refused('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: b64(good), ImportToken: params.ImportToken, ...fields }, code);

    const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
      ["another key's token", { ImportToken: otherParams.ImportToken }, 'InvalidImportToken', /was not issued for key/],
      ['an unknown token', { ImportToken: 'not-a-token' }, 'InvalidImportToken', /was not issued/],
      ['material wrapped for another token', { EncryptedKeyMaterial: b64(wrapWithOpenssl(otherParams.PublicKey as string, ALGORITHM_FOR.RSA_2048, key.pkcs8)) }, 'IncorrectKeyMaterial', /does not decrypt with this import token/],
      ['a flipped byte in the wrapped AES key', { EncryptedKeyMaterial: b64(flipByte(good, 10)) }, 'IncorrectKeyMaterial', /wrapped ephemeral key/],
      ['a flipped byte in the last block', { EncryptedKeyMaterial: b64(flipByte(good, -1)) }, 'IncorrectKeyMaterial', /./],
      ['a flipped byte inside the private key', { EncryptedKeyMaterial: b64(flipByte(good, 256 + 400)) }, 'IncorrectKeyMaterial', /./],
      ['a truncated block', { EncryptedKeyMaterial: b64(good.subarray(0, good.length - 16)) }, 'IncorrectKeyMaterial', /./],
      ['a torn length', { EncryptedKeyMaterial: b64(good.subarray(0, good.length - 5)) }, 'IncorrectKeyMaterial', /truncated/],
      ['an EC_P256 key for an RSA_2048 key', { EncryptedKeyMaterial: b64(wrapWithOpenssl(params.PublicKey as string, ALGORITHM_FOR.RSA_2048, opensslKey('EC_P256').pkcs8)) }, 'IncorrectKeyMaterial', /is a EC_P256 key, expected RSA_2048/],
      ['an RSA_3072 key for an RSA_2048 key', { EncryptedKeyMaterial: b64(wrapWithOpenssl(params.PublicKey as string, ALGORITHM_FOR.RSA_2048, opensslKey('RSA_3072').pkcs8)) }, 'IncorrectKeyMaterial', /RSA_3072/],
      ['expiring material', { KeyMaterialExpireUnix: 4102444800 }, 'InvalidParameter', /KeyMaterialExpireUnix/],
    ];
    for (const [what, fields, code, message] of cases) {
      const refused = await attempt(fields, code);
      expect(refused.Message, what).toMatch(message);
      expect(refused.audit.keyId, what).toBe(keyId);
      expect(await versionCount(keyId), what).toBe(0);
    }
    // The token expires 24 h after it was issued: a clock reading 24 h later refuses it.
    const issued = v.now;
    v.now = new Date(issued.getTime() + 24 * 3600_000 + 1000);
    try {
      await attempt({}, 'InvalidImportToken.Expired');
    } finally {
      v.now = issued;
    }
    expect((await v.call('DescribeKey', { KeyId: keyId })).KeyMetadata.KeyState).toBe('PendingImport');
    expect(await versionCount(keyId)).toBe(0);
    const audited = listAuditEntries(v.vault.store.db, { keyId }).map((e) => e.code);
    expect(audited).toEqual(expect.arrayContaining(['InvalidImportToken', 'IncorrectKeyMaterial', 'InvalidImportToken.Expired']));

    // The good material still imports with the same token.
    const imported = await v.call('ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: b64(good), ImportToken: params.ImportToken });
    await signedAndVerified(keyId, imported.KeyVersionId as string, 'RSA_2048', key.publicPem);
  });
});
