// ExportKeyVersion: only for keys created Exportable, only encrypted (PKCS#8 PBES2) under the
// caller's passphrase; openssl reads what comes out.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { b64, useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('export-key-version');
const PASS = b64('export passphrase');

describe('ExportKeyVersion', () => {
  it('exports an encrypted PKCS#8 that openssl opens with the passphrase, holding the same key', async () => {
    const key = await v.makeKey('EC_P256', 'SIGN/VERIFY', { Exportable: 'true' });
    expect((await v.call('DescribeKey', { KeyId: key.keyId })).KeyMetadata.Exportable).toBe(true);
    for (const kdf of ['scrypt', 'pbkdf2']) {
      const exported = await v.call('ExportKeyVersion', { KeyId: key.keyId, KeyVersionId: key.versionId, Passphrase: PASS, Kdf: kdf });
      expect(exported).toMatchObject({ KeyId: key.keyId, KeyVersionId: key.versionId, KeySpec: 'EC_P256' });
      expect(exported.EncryptedPrivateKey).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
      expect(v.auditOf(exported.RequestId)).toMatchObject({ keyId: key.keyId, keyVersionId: key.versionId });
      const pem = v.file('k.pem');
      const pass = v.file('pass.txt');
      writeFileSync(pem, exported.EncryptedPrivateKey as string);
      writeFileSync(pass, 'export passphrase');
      expect(execFileSync('openssl', ['pkey', '-in', pem, '-passin', `file:${pass}`, '-pubout'], { encoding: 'utf8' })).toBe(key.pem);
    }
  });

  it('refuses a key not created Exportable, and audits the refusal', async () => {
    const key = await v.makeKey('EC_P256');
    expect((await v.call('DescribeKey', { KeyId: key.keyId })).KeyMetadata.Exportable).toBe(false);
    const refused = await v.refused('ExportKeyVersion', { KeyId: key.keyId, KeyVersionId: key.versionId, Passphrase: PASS }, 'Forbidden.NoPermission');
    expect(refused.Message).toMatch(/was not created Exportable/);
    expect(refused.audit).toMatchObject({ keyId: key.keyId, keyVersionId: key.versionId });
  });

  it('refuses a passphrase shorter than 8 bytes, before any key material is touched, and a disabled key', async () => {
    const key = await v.makeKey('EC_P256', undefined, { Exportable: true });
    const short = await v.refused('ExportKeyVersion', { KeyId: key.keyId, KeyVersionId: key.versionId, Passphrase: b64('7 bytes') }, 'InvalidParameter');
    expect(short.Message).toMatch(/^Passphrase: must be at least 8 bytes/);
    expect(short.audit.keyId).toBeNull();
    expect((await v.call('ExportKeyVersion', { KeyId: key.keyId, KeyVersionId: key.versionId, Passphrase: b64('8 bytes!') })).EncryptedPrivateKey).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    await v.call('DisableKey', { KeyId: key.keyId });
    await v.refused('ExportKeyVersion', { KeyId: key.keyId, KeyVersionId: key.versionId, Passphrase: PASS }, 'Rejected.Disabled');
  });
});
