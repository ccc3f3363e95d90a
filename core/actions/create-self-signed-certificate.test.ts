// CreateSelfSignedCertificate: a CA certificate for the version, attached to it in the same write.
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openssl } from '../../test/interop/openssl-peer.ts';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('create-self-signed-certificate');

describe('CreateSelfSignedCertificate', () => {
  it('makes a root openssl verifies against itself, valid for ValidityDays, and attaches it', async () => {
    const { keyId, versionId } = await v.makeKey('EC_P256');
    const root = await v.call('CreateSelfSignedCertificate', { KeyId: keyId, KeyVersionId: versionId, Subject: 'CN=Test Root,O=Example,C=CN', ValidityDays: 3650, PathLen: 1 });
    expect(root).toMatchObject({ KeyId: keyId, KeyVersionId: versionId });
    expect(v.auditOf(root.RequestId)).toMatchObject({ keyId, keyVersionId: versionId });
    const file = v.file('root.pem');
    writeFileSync(file, root.Certificate as string);
    expect(openssl(['verify', '-CAfile', file, file]).toString('utf8').trim()).toBe(`${file}: OK`);
    const text = openssl(['x509', '-noout', '-text', '-in', file]).toString('utf8');
    expect(text).toContain('CA:TRUE, pathlen:1');
    expect(text).toContain('Not Before: Nov 22 12:00:00 2026 GMT');
    expect(text).toContain('Not After : Nov 19 12:00:00 2036 GMT');
    const certs = (await v.call('GetCertificates', { KeyId: keyId, KeyVersionId: versionId })).Certificates;
    expect(certs).toEqual([expect.objectContaining({ Pem: root.Certificate, IsCa: true, Subject: 'CN=Test Root,O=Example,C=CN' })]);
  });

  it('refuses disabled keys and an empty subject', async () => {
    const { keyId, versionId } = await v.makeKey('EC_P256');
    await v.refused('CreateSelfSignedCertificate', { KeyId: keyId, KeyVersionId: versionId, Subject: '' }, 'InvalidParameter');
    await v.call('DisableKey', { KeyId: keyId });
    const disabled = await v.refused('CreateSelfSignedCertificate', { KeyId: keyId, KeyVersionId: versionId, Subject: 'CN=A' }, 'Rejected.Disabled');
    expect(disabled.audit).toMatchObject({ keyId, keyVersionId: versionId });
    expect((await v.call('GetCertificates', { KeyId: keyId, KeyVersionId: versionId })).Certificates).toEqual([]);
  });
});
