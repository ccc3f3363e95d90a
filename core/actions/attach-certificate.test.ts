// AttachCertificate: a chain whose first certificate holds the version's public key.
import { describe, expect, it } from 'vitest';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('attach-certificate');

describe('AttachCertificate', () => {
  it('attaches an issued chain to the leaf version; GetCertificates lists it', async () => {
    const ca = await v.makeKey('EC_P256');
    const leaf = await v.makeKey('EC_P256');
    await v.call('CreateSelfSignedCertificate', { KeyId: ca.keyId, KeyVersionId: ca.versionId, Subject: 'CN=Root' });
    const csr = (await v.call('CreateCertificateSigningRequest', { KeyId: leaf.keyId, KeyVersionId: leaf.versionId, Subject: 'CN=leaf' })).Csr;
    const issued = await v.call('IssueCertificate', { KeyId: ca.keyId, KeyVersionId: ca.versionId, Csr: csr });
    const attached = await v.call('AttachCertificate', { KeyId: leaf.keyId, KeyVersionId: leaf.versionId, CertificateChain: issued.CertificateChain });
    expect(attached).toMatchObject({ KeyId: leaf.keyId, KeyVersionId: leaf.versionId, CertificateCount: 2 });
    expect(v.auditOf(attached.RequestId)).toMatchObject({ keyId: leaf.keyId, keyVersionId: leaf.versionId });
    const certs = (await v.call('GetCertificates', { KeyId: leaf.keyId, KeyVersionId: leaf.versionId })).Certificates;
    expect(certs.map((c: { Subject: string }) => c.Subject)).toEqual(['CN=leaf', 'CN=Root']);
  });

  it("refuses another key's certificate and text without a PEM certificate, attaching nothing", async () => {
    const a = await v.makeKey('EC_P256');
    const b = await v.makeKey('EC_P256');
    const root = await v.call('CreateSelfSignedCertificate', { KeyId: a.keyId, KeyVersionId: a.versionId, Subject: 'CN=A' });
    const other = await v.refused('AttachCertificate', { KeyId: b.keyId, KeyVersionId: b.versionId, CertificateChain: root.Certificate }, 'InvalidParameter');
    expect(other.Message).toMatch(/^CertificateChain: the first certificate's public key is not key version/);
    expect(other.audit).toMatchObject({ keyId: b.keyId, keyVersionId: b.versionId });
    await v.refused('AttachCertificate', { KeyId: b.keyId, KeyVersionId: b.versionId, CertificateChain: 'no pem here' }, 'InvalidParameter');
    expect((await v.call('GetCertificates', { KeyId: b.keyId, KeyVersionId: b.versionId })).Certificates).toEqual([]);
  });
});
