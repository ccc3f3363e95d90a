// IssueCertificate: a CA key version with its certificate attached issues a certificate for a
// CSR; openssl verify -CAfile accepts the chain.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('issue-certificate');

async function leafCsr(): Promise<string> {
  const leaf = await v.makeKey('EC_P256');
  return (await v.call('CreateCertificateSigningRequest', { KeyId: leaf.keyId, KeyVersionId: leaf.versionId, Subject: 'CN=release.example.com' })).Csr as string;
}

describe('IssueCertificate', () => {
  it.each([
    ['RSA_2048', []],
    ['EC_P256', []],
    ['EC_SM2', ['-vfyopt', 'distid:1234567812345678']],
  ] as const)('%s CA: the issued certificate and its chain verify with openssl', async (spec, vfy) => {
    const ca = await v.makeKey(spec, 'SIGN/VERIFY');
    const root = await v.call('CreateSelfSignedCertificate', { KeyId: ca.keyId, KeyVersionId: ca.versionId, Subject: `CN=${spec} Root`, PathLen: 1 });
    const issued = await v.call('IssueCertificate', { KeyId: ca.keyId, KeyVersionId: ca.versionId, Csr: await leafCsr(), ValidityDays: 90 });
    expect(issued).toMatchObject({ KeyId: ca.keyId, KeyVersionId: ca.versionId });
    expect(issued.CertificateChain).toBe(`${issued.Certificate as string}${root.Certificate as string}`);
    expect(v.auditOf(issued.RequestId)).toMatchObject({ keyId: ca.keyId, keyVersionId: ca.versionId });
    const rootFile = v.file('root.pem');
    const leafFile = v.file('leaf.pem');
    writeFileSync(rootFile, root.Certificate as string);
    writeFileSync(leafFile, issued.Certificate as string);
    const verified = spawnSync('openssl', ['verify', ...vfy, '-CAfile', rootFile, leafFile], { encoding: 'utf8' });
    expect(verified.stdout.trim(), verified.stderr).toBe(`${leafFile}: OK`);
  });

  it('refuses a CA version without a certificate, PathLen without IsCa and a malformed CSR', async () => {
    const ca = await v.makeKey('EC_P256');
    const csr = await leafCsr();
    const bare = await v.refused('IssueCertificate', { KeyId: ca.keyId, KeyVersionId: ca.versionId, Csr: csr }, 'InvalidParameter');
    expect(bare.Message).toMatch(/has no certificate attached/);
    expect(bare.audit).toMatchObject({ keyId: ca.keyId, keyVersionId: ca.versionId });
    await v.call('CreateSelfSignedCertificate', { KeyId: ca.keyId, KeyVersionId: ca.versionId, Subject: 'CN=Root' });
    expect((await v.refused('IssueCertificate', { KeyId: ca.keyId, KeyVersionId: ca.versionId, Csr: csr, PathLen: 0 }, 'InvalidParameter')).Message).toMatch(/^PathLen: applies only with IsCa true/);
    await v.refused('IssueCertificate', { KeyId: ca.keyId, KeyVersionId: ca.versionId, Csr: 'x' }, 'InvalidParameter');
  });
});
