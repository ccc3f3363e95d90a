// Bring your own key (Alibaba Cloud KMS's asymmetric import): OpenSSL makes every spec's key and
// wraps it as Alibaba documents (an ephemeral AES-256 key under RSAES-OAEP-SHA-256 then
// AES-256-ECB/PKCS#7, or an ephemeral SM4 key under SM2PKE then SM4-ECB); the vault imports it,
// signs, and OpenSSL verifies with its own public key. Refusals (expired token, another key's
// token, tampered or truncated material, another spec) leave the vault unchanged.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEntries } from '../../core/audit/audit-log.ts';
import { KEY_SPECS, KEY_SPEC_TABLE, type KeySpec, type SigningAlgorithm } from '../../core/contract/specs.ts';
import { Vault } from '../../core/vault/vault.ts';
import { flipByte, openssl, pkeyutlVerifyArgs } from '../interop/openssl-peer.ts';
import { opensslKey as peerKey, targetMaterial, wrapWithOpenssl as wrapMaterial, type PeerKey } from '../support/byok-wrap.ts';
import { call, fails, requireSecretService, tempDir } from './vault-helpers.ts';

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
let dir: ReturnType<typeof tempDir>;
let vaultDir: string;
let vault: Vault;
let n = 0;
const file = (name: string): string => join(dir.path, `${String(++n).padStart(4, '0')}-${name}`);

beforeAll(async () => {
  requireSecretService();
  dir = tempDir('deskkms-byok-');
  vaultDir = join(dir.path, 'vault');
  vault = await Vault.init(vaultDir);
});
afterAll(async () => {
  await vault?.close();
  dir?.remove();
});

// OpenSSL's keys and wrapping, shared with the desktop end-to-end test; scratch files go in this test's directory.
const opensslKey = (spec: KeySpec): PeerKey => peerKey(spec, file);
const wrapWithOpenssl = (wrappingPublicKeyB64: string, algorithm: string, target: Uint8Array): Buffer => wrapMaterial(wrappingPublicKeyB64, algorithm, target, file);

const ALGORITHM_FOR: Record<'RSA_2048' | 'EC_SM2', string> = {
  RSA_2048: 'RSAES_OAEP_SHA_256_AES_256_ECB_PKCS7_PAD',
  EC_SM2: 'SM2PKE_SM4_ECB',
};

async function externalKey(spec: KeySpec): Promise<string> {
  const made = await call(vault, 'CreateKey', { KeySpec: spec, KeyUsage: 'SIGN/VERIFY', Origin: 'EXTERNAL' });
  expect(made.KeyMetadata).toMatchObject({ Origin: 'EXTERNAL', KeyState: 'PendingImport' });
  return made.KeyMetadata.KeyId as string;
}

async function parameters(keyId: string, wrappingKeySpec: 'RSA_2048' | 'EC_SM2', on: Vault = vault) {
  return call(on, 'GetParametersForImport', { KeyId: keyId, WrappingKeySpec: wrappingKeySpec, WrappingAlgorithm: ALGORITHM_FOR[wrappingKeySpec] });
}

/** The vault signs a digest; OpenSSL verifies it with the public key of the key it made. */
async function signedAndVerified(keyId: string, keyVersionId: string, spec: KeySpec, publicPem: string): Promise<void> {
  const algorithm = (KEY_SPEC_TABLE[spec].family === 'RSA' ? 'RSA_PSS_SHA_256' : KEY_SPEC_TABLE[spec].algorithms['SIGN/VERIFY'][0]!) as SigningAlgorithm;
  const digest = randomBytes(32);
  const signed = await call(vault, 'AsymmetricSign', { KeyId: keyId, KeyVersionId: keyVersionId, Algorithm: algorithm, Digest: b64(digest) });
  const pub = file('pub.pem');
  writeFileSync(pub, publicPem);
  const digestFile = file('digest.bin');
  writeFileSync(digestFile, digest);
  const sig = file('sig.bin');
  writeFileSync(sig, Buffer.from(signed.Value as string, 'base64'));
  expect(openssl(pkeyutlVerifyArgs(algorithm, pub, digestFile, sig)).toString('utf8')).toContain('Signature Verified Successfully');
}

async function versionCount(keyId: string): Promise<number> {
  return (await call(vault, 'ListKeyVersions', { KeyId: keyId })).TotalCount as number;
}

describe('ImportKeyMaterial (bring your own key)', () => {
  it.each(KEY_SPECS.map((spec) => [spec, spec === 'EC_SM2' ? 'EC_SM2' : 'RSA_2048'] as const))(
    '%s wrapped by OpenSSL under a %s wrapping key: imported, signs, OpenSSL verifies',
    async (spec, wrappingKeySpec) => {
      const keyId = await externalKey(spec);
      const params = await parameters(keyId, wrappingKeySpec);
      expect(params.KeyId).toBe(keyId);
      expect(Date.parse(params.TokenExpireTime as string) - Date.now()).toBeGreaterThan(23.9 * 3600_000);
      const key = opensslKey(spec);
      const material = wrapWithOpenssl(params.PublicKey as string, ALGORITHM_FOR[wrappingKeySpec], targetMaterial(spec, key));
      const imported = await call(vault, 'ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: b64(material), ImportToken: params.ImportToken });
      const keyVersionId = imported.KeyVersionId as string;
      expect((await call(vault, 'DescribeKey', { KeyId: keyId })).KeyMetadata.KeyState).toBe('Enabled');
      expect((await call(vault, 'GetPublicKey', { KeyId: keyId, KeyVersionId: keyVersionId })).PublicKey).toBe(key.publicPem);
      await signedAndVerified(keyId, keyVersionId, spec, key.publicPem);
      // An imported key gets no other versions.
      expect((await fails(vault, 'CreateKeyVersion', { KeyId: keyId })).error.Code).toBe('InvalidParameter');
    },
  );

  it('EC_SM2 material also travels under the RSA wrapping key; the token survives a restart of the vault', async () => {
    const keyId = await externalKey('EC_SM2');
    const params = await parameters(keyId, 'RSA_2048');
    await vault.close();
    vault = Vault.open(vaultDir);
    const key = opensslKey('EC_SM2');
    const material = wrapWithOpenssl(params.PublicKey as string, ALGORITHM_FOR.RSA_2048, targetMaterial('EC_SM2', key));
    const imported = await call(vault, 'ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: b64(material), ImportToken: params.ImportToken, KeyMaterialExpireUnix: '0' });
    await signedAndVerified(keyId, imported.KeyVersionId as string, 'EC_SM2', key.publicPem);
  });

  it('refuses expired tokens, tokens of another key, tampered, truncated and other-spec material; the vault is unchanged', async () => {
    const keyId = await externalKey('RSA_2048');
    const other = await externalKey('RSA_2048');
    const params = await parameters(keyId, 'RSA_2048');
    const otherParams = await parameters(other, 'RSA_2048');
    const key = opensslKey('RSA_2048');
    const good = wrapWithOpenssl(params.PublicKey as string, ALGORITHM_FOR.RSA_2048, key.pkcs8);
    const attempt = (fields: Record<string, unknown>) =>
      fails(vault, 'ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: b64(good), ImportToken: params.ImportToken, ...fields });

    const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
      ['another key\'s token', { ImportToken: otherParams.ImportToken }, 'InvalidImportToken', /was not issued for key/],
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
      const refused = await attempt(fields);
      expect(refused.error.Code, what).toBe(code);
      expect(refused.error.Message, what).toMatch(message);
      expect(await versionCount(keyId), what).toBe(0);
    }
    // The token expires 24 h after it was issued: a vault whose clock reads 24 h later refuses it.
    const later = Vault.open(vaultDir, { now: () => new Date(Date.now() + 24 * 3600_000 + 1000) });
    try {
      const expired = await fails(later, 'ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: b64(good), ImportToken: params.ImportToken });
      expect(expired.error.Code).toBe('InvalidImportToken.Expired');
    } finally {
      await later.close();
    }
    expect((await call(vault, 'DescribeKey', { KeyId: keyId })).KeyMetadata.KeyState).toBe('PendingImport');
    expect(await versionCount(keyId)).toBe(0);
    const audited = listAuditEntries(vault.store.db, { keyId }).map((e) => e.code);
    expect(audited).toEqual(expect.arrayContaining(['InvalidImportToken', 'IncorrectKeyMaterial', 'InvalidImportToken.Expired']));

    // The good material still imports with the same token.
    const imported = await call(vault, 'ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: b64(good), ImportToken: params.ImportToken });
    await signedAndVerified(keyId, imported.KeyVersionId as string, 'RSA_2048', key.publicPem);
  });

  it('DeleteKeyMaterial returns the key to PendingImport; only the same material imports again, into the same version', async () => {
    const keyId = await externalKey('EC_P256');
    const params = await parameters(keyId, 'RSA_2048');
    const key = opensslKey('EC_P256');
    const wrap = (pkcs8: Uint8Array) => b64(wrapWithOpenssl(params.PublicKey as string, ALGORITHM_FOR.RSA_2048, pkcs8));
    const first = await call(vault, 'ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: wrap(key.pkcs8), ImportToken: params.ImportToken });
    const versionId = first.KeyVersionId as string;
    const different = await fails(vault, 'ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: wrap(opensslKey('EC_P256').pkcs8), ImportToken: params.ImportToken });
    expect(different.error.Code).toBe('IncorrectKeyMaterial');

    await call(vault, 'DeleteKeyMaterial', { KeyId: keyId });
    expect((await call(vault, 'DescribeKey', { KeyId: keyId })).KeyMetadata.KeyState).toBe('PendingImport');
    const digest = b64(randomBytes(32));
    const refused = await fails(vault, 'AsymmetricSign', { KeyId: keyId, KeyVersionId: versionId, Algorithm: 'ECDSA_SHA_256', Digest: digest });
    expect(refused.error.Code).toBe('Rejected.PendingImport');
    expect((await fails(vault, 'DeleteKeyMaterial', { KeyId: keyId })).error.Code).toBe('Rejected.PendingImport');

    const again = await call(vault, 'ImportKeyMaterial', { KeyId: keyId, EncryptedKeyMaterial: wrap(key.pkcs8), ImportToken: params.ImportToken });
    expect(again.KeyVersionId).toBe(versionId);
    expect(await versionCount(keyId)).toBe(1);
    await signedAndVerified(keyId, versionId, 'EC_P256', key.publicPem);
  });

  it('keeps the 10 newest import tokens of a key: an older one is retired with InvalidImportToken', async () => {
    const keyId = await externalKey('EC_P256');
    const tokens: string[] = [];
    for (let i = 0; i < 12; i++) tokens.push((await parameters(keyId, 'RSA_2048')).ImportToken as string);
    const count = (vault.store.db.prepare('SELECT COUNT(*) AS n FROM import_tokens WHERE key_id = ?').get(keyId) as { n: number }).n;
    expect(count).toBe(10);
    const material = b64(Buffer.alloc(300, 1));
    for (const [i, token] of [[0, tokens[0]], [1, tokens[1]]] as const) {
      const retired = await fails(vault, 'ImportKeyMaterial', { KeyId: keyId, ImportToken: token, EncryptedKeyMaterial: material });
      expect(retired.error.Code, `token ${i}`).toBe('InvalidImportToken');
    }
    // The newest is still live: it gets as far as unwrapping (this material is not real).
    const live = await fails(vault, 'ImportKeyMaterial', { KeyId: keyId, ImportToken: tokens[11], EncryptedKeyMaterial: material });
    expect(live.error.Code).not.toBe('InvalidImportToken');
  });

  it('validates the wrapping parameters and the key Origin', async () => {
    const keyId = await externalKey('EC_P256');
    const mismatch = await fails(vault, 'GetParametersForImport', { KeyId: keyId, WrappingKeySpec: 'EC_SM2', WrappingAlgorithm: ALGORITHM_FOR.RSA_2048 });
    expect(mismatch.error).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringMatching(/^WrappingKeySpec: EC_SM2 does not go with/) });
    const symmetric = await fails(vault, 'GetParametersForImport', { KeyId: keyId, WrappingKeySpec: 'RSA_2048', WrappingAlgorithm: 'RSAES_OAEP_SHA_256' });
    expect(symmetric.error.Message).toMatch(/^WrappingAlgorithm: must be one of/);
    const generated = (await call(vault, 'CreateKey', { KeySpec: 'EC_P256' })).KeyMetadata.KeyId as string;
    expect((await fails(vault, 'GetParametersForImport', { KeyId: generated, WrappingKeySpec: 'RSA_2048', WrappingAlgorithm: ALGORITHM_FOR.RSA_2048 })).error.Message).toMatch(/Origin EXTERNAL/);
    expect((await fails(vault, 'CreateKey', { KeySpec: 'EC_P256', Origin: 'EXTERNAL', Exportable: true })).error.Code).toBe('InvalidParameter');
    const pending = await fails(vault, 'ImportKeyVersion', { KeyId: keyId, EncryptedPrivateKey: 'x', Passphrase: 'eA==' });
    expect(pending.error.Message).toMatch(/Origin EXTERNAL/);
  });
});
