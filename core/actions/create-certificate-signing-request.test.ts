// CreateCertificateSigningRequest: a PKCS#10 request signed by the key worker; openssl verifies it.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openssl } from '../../test/interop/openssl-peer.ts';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('create-certificate-signing-request');

describe('CreateCertificateSigningRequest', () => {
  it.each([
    ['RSA_2048', []],
    ['EC_P256', []],
    ['EC_SM2', ['-vfyopt', 'distid:1234567812345678']],
  ] as const)('%s: a CSR with SANs and extended key usage that openssl req -verify accepts', async (spec, vfy) => {
    const { keyId, versionId } = await v.makeKey(spec, 'SIGN/VERIFY');
    const csr = await v.call('CreateCertificateSigningRequest', {
      KeyId: keyId,
      KeyVersionId: versionId,
      Subject: 'CN=release.example.com,O=Example',
      SubjectAlternativeNames: ['DNS:release.example.com', 'IP:192.0.2.7'],
      ExtendedKeyUsage: ['codeSigning'],
    });
    expect(csr).toMatchObject({ KeyId: keyId, KeyVersionId: versionId });
    expect(v.auditOf(csr.RequestId)).toMatchObject({ keyId, keyVersionId: versionId });
    const csrFile = v.file('leaf.csr');
    writeFileSync(csrFile, csr.Csr as string);
    const checked = spawnSync('openssl', ['req', '-verify', ...vfy, '-noout', '-in', csrFile], { encoding: 'utf8' });
    expect(checked.stderr + checked.stdout).toMatch(/verify OK/);
    const text = openssl(['req', '-text', '-noout', '-in', csrFile]).toString('utf8');
    expect(text).toContain('DNS:release.example.com, IP Address:192.0.2.7');
    expect(text).toContain('Code Signing');
    expect(text).toMatch(/Subject: O\s?=\s?Example, CN\s?=\s?release\.example\.com\n/);
  });

  it('refuses ENCRYPT/DECRYPT keys, unknown SAN types, algorithms of another spec and public-key-only versions', async () => {
    const enc = await v.makeKey('RSA_2048', 'ENCRYPT/DECRYPT');
    const usage = await v.refused('CreateCertificateSigningRequest', { KeyId: enc.keyId, KeyVersionId: enc.versionId, Subject: 'CN=x' }, 'InvalidParameter');
    expect(usage.Message).toMatch(/usage ENCRYPT\/DECRYPT/);
    expect(usage.audit.keyId).toBe(enc.keyId);
    const b = await v.makeKey('EC_P256');
    await v.refused('CreateCertificateSigningRequest', { KeyId: b.keyId, KeyVersionId: b.versionId, Subject: 'CN=x', SubjectAlternativeNames: ['FTP:x'] }, 'InvalidParameter');
    await v.refused('CreateCertificateSigningRequest', { KeyId: b.keyId, KeyVersionId: b.versionId, Subject: 'CN=x', Algorithm: 'SM2DSA' }, 'InvalidParameter');
    const publicOnly = (await v.call('CreateKey', { KeySpec: 'EC_P256', Origin: 'EXTERNAL_PUBLIC_KEY' })).KeyMetadata.KeyId as string;
    const version = (await v.call('ImportPublicKeyVersion', { KeyId: publicOnly, PublicKey: b.pem })).KeyVersion.KeyVersionId as string;
    await v.refused('CreateCertificateSigningRequest', { KeyId: publicOnly, KeyVersionId: version, Subject: 'CN=x' }, 'Rejected.PublicKeyOnly');
  });
});
