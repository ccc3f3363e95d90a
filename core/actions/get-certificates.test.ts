// GetCertificates: the chain attached to a version, each certificate described.
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openssl } from '../../test/interop/openssl-peer.ts';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('get-certificates');

describe('GetCertificates', () => {
  it('describes each attached certificate: subject, issuer, serial (as openssl reads it), validity, CA', async () => {
    const ca = await v.makeKey('EC_P256');
    const leaf = await v.makeKey('EC_P256');
    const root = await v.call('CreateSelfSignedCertificate', { KeyId: ca.keyId, KeyVersionId: ca.versionId, Subject: 'CN=Root,O=Example' });
    const csr = (await v.call('CreateCertificateSigningRequest', { KeyId: leaf.keyId, KeyVersionId: leaf.versionId, Subject: 'CN=leaf,O=Example' })).Csr;
    const issued = await v.call('IssueCertificate', { KeyId: ca.keyId, KeyVersionId: ca.versionId, Csr: csr, ValidityDays: 90 });
    await v.call('AttachCertificate', { KeyId: leaf.keyId, KeyVersionId: leaf.versionId, CertificateChain: issued.CertificateChain });
    const got = await v.call('GetCertificates', { KeyId: leaf.keyId, KeyVersionId: leaf.versionId });
    expect(got).toMatchObject({ KeyId: leaf.keyId, KeyVersionId: leaf.versionId });
    expect(v.auditOf(got.RequestId)).toMatchObject({ keyId: leaf.keyId, keyVersionId: leaf.versionId });
    const [first, second] = got.Certificates;
    expect(first).toMatchObject({ Pem: issued.Certificate, Subject: 'CN=leaf,O=Example', Issuer: 'CN=Root,O=Example', IsCa: false, NotBefore: '2026-11-22T12:00:00Z', NotAfter: '2027-02-20T12:00:00Z' });
    expect(second).toMatchObject({ Pem: root.Certificate, Subject: 'CN=Root,O=Example', IsCa: true });
    const file = v.file('leaf.pem');
    writeFileSync(file, issued.Certificate as string);
    const serial = openssl(['x509', '-noout', '-serial', '-in', file]).toString('utf8').trim().replace(/^serial=/, '');
    expect(first.SerialNumber.toUpperCase()).toBe(serial.replace(/^0+/, '').padStart(first.SerialNumber.length, '0'));
  });

  it('answers an empty list for a version without certificates, and refuses an unknown version', async () => {
    const key = await v.makeKey('EC_P256');
    expect((await v.call('GetCertificates', { KeyId: key.keyId, KeyVersionId: key.versionId })).Certificates).toEqual([]);
    const other = await v.makeKey('EC_P256');
    await v.refused('GetCertificates', { KeyId: key.keyId, KeyVersionId: other.versionId }, 'Forbidden.KeyNotFound');
  });
});
