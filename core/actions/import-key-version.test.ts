// ImportKeyVersion: an encrypted PKCS#8 (as ExportKeyVersion writes it) as a new version of a key
// of the same spec; wrong passphrases, other specs and damaged files add nothing.
import { describe, expect, it } from 'vitest';
import { b64, useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('import-key-version');
const PASS = b64('export passphrase');

async function exported(spec: 'EC_SM2' | 'EC_P256'): Promise<{ pem: string; publicPem: string }> {
  const key = await v.makeKey(spec, 'SIGN/VERIFY', { Exportable: true });
  const pem = (await v.call('ExportKeyVersion', { KeyId: key.keyId, KeyVersionId: key.versionId, Passphrase: PASS })).EncryptedPrivateKey as string;
  return { pem, publicPem: key.pem };
}

describe('ImportKeyVersion', () => {
  it('imports the exported key as a new version (PEM or base64 DER) holding the same key pair', async () => {
    const source = await exported('EC_SM2');
    const target = await v.makeKey('EC_SM2', 'SIGN/VERIFY');
    const der = b64(Buffer.from(source.pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'));
    for (const given of [source.pem, der]) {
      const imported = await v.call('ImportKeyVersion', { KeyId: target.keyId, EncryptedPrivateKey: given, Passphrase: PASS });
      expect(imported.KeyVersion).toMatchObject({ KeyId: target.keyId, CreationDate: '2026-11-22T12:00:00Z' });
      const versionId = imported.KeyVersion.KeyVersionId as string;
      expect(v.auditOf(imported.RequestId)).toMatchObject({ keyId: target.keyId, keyVersionId: versionId });
      expect((await v.call('GetPublicKey', { KeyId: target.keyId, KeyVersionId: versionId })).PublicKey).toBe(source.publicPem);
    }
    expect((await v.call('ListKeyVersions', { KeyId: target.keyId })).TotalCount).toBe(3);
  });

  it('refuses a wrong passphrase, another spec and a damaged file; the key gains no version', async () => {
    const { pem } = await exported('EC_SM2');
    const keyB = (await v.makeKey('EC_SM2', 'SIGN/VERIFY')).keyId;
    const p256 = (await v.makeKey('EC_P256')).keyId;
    const versions = async (keyId: string) => (await v.call('ListKeyVersions', { KeyId: keyId })).TotalCount as number;

    const wrong = await v.refused('ImportKeyVersion', { KeyId: keyB, EncryptedPrivateKey: pem, Passphrase: b64('not it') }, 'InvalidParameter');
    expect(wrong.Message).toMatch(/passphrase does not decrypt this key or the file is damaged/);
    expect(wrong.audit.keyId).toBe(keyB);
    const otherSpec = await v.refused('ImportKeyVersion', { KeyId: p256, EncryptedPrivateKey: pem, Passphrase: PASS }, 'InvalidParameter');
    expect(otherSpec.Message).toMatch(/is a EC_SM2 key, expected EC_P256/);
    const lines = pem.trim().split('\n');
    const damaged = [...lines.slice(0, 2), lines[2]!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')), ...lines.slice(3)].join('\n');
    await v.refused('ImportKeyVersion', { KeyId: keyB, EncryptedPrivateKey: damaged, Passphrase: PASS }, 'InvalidParameter');
    const truncated = [...lines.slice(0, 2), lines.at(-1)!].join('\n');
    await v.refused('ImportKeyVersion', { KeyId: keyB, EncryptedPrivateKey: truncated, Passphrase: PASS }, 'InvalidParameter');
    expect(await versions(keyB)).toBe(1);
    expect(await versions(p256)).toBe(1);
  });

  it('refuses keys whose material comes from elsewhere, and disabled keys', async () => {
    const external = (await v.call('CreateKey', { KeySpec: 'EC_P256', Origin: 'EXTERNAL' })).KeyMetadata.KeyId as string;
    const pending = await v.refused('ImportKeyVersion', { KeyId: external, EncryptedPrivateKey: 'x', Passphrase: 'eA==' }, 'InvalidParameter');
    expect(pending.Message).toMatch(/Origin EXTERNAL/);
    const { pem } = await exported('EC_P256');
    const disabled = (await v.makeKey('EC_P256')).keyId;
    await v.call('DisableKey', { KeyId: disabled });
    await v.refused('ImportKeyVersion', { KeyId: disabled, EncryptedPrivateKey: pem, Passphrase: PASS }, 'Rejected.Disabled');
  });
});
