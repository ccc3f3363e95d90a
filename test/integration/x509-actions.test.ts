// The CSR and certificate Actions through `deskkms batch` (JSON Lines), as scripts reach them,
// pipelined, checked by openssl. Each Action's own cases (every spec, the public-key formats, the
// refusals) are beside it in core/actions/<operation>.test.ts.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openssl } from '../interop/openssl-peer.ts';
import { requireSecretService, tempDir } from './vault-helpers.ts';

const BIN = resolve(import.meta.dirname, '../../core/hosts/cli/deskkms.ts');
let dir: ReturnType<typeof tempDir>;
let vaultDir: string;
let fileCounter = 0;

function deskkms(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', env: { ...process.env, DESKKMS_VAULT: vaultDir }, cwd: dir.path });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs requests through `deskkms batch`; one parsed response per request, in order. */
function batch(requests: readonly Record<string, unknown>[]): { status: number | null; responses: Record<string, any>[] } {
  const r = deskkms(['batch'], requests.map((q) => JSON.stringify(q)).join('\n') + '\n');
  const responses = r.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);
  expect(responses, r.stderr).toHaveLength(requests.length);
  return { status: r.status, responses };
}

function one(request: Record<string, unknown>): Record<string, any> {
  const { status, responses } = batch([request]);
  expect(responses[0]!.Code, JSON.stringify(responses[0])).toBeUndefined();
  expect(status).toBe(0);
  return responses[0]!;
}

function fileWith(name: string, data: string | Uint8Array): string {
  const file = join(dir.path, `${String(++fileCounter).padStart(3, '0')}-${name}`);
  writeFileSync(file, data);
  return file;
}

function newKey(spec: string, usage = 'SIGN/VERIFY'): { keyId: string; versionId: string } {
  const created = one({ Action: 'CreateKey', KeySpec: spec, KeyUsage: usage });
  const keyId = created.KeyMetadata.KeyId as string;
  const versions = one({ Action: 'ListKeyVersions', KeyId: keyId });
  return { keyId, versionId: versions.KeyVersions.KeyVersion[0].KeyVersionId as string };
}

beforeAll(() => {
  requireSecretService();
  dir = tempDir('deskkms-x509-actions-');
  vaultDir = join(dir.path, 'vault');
  expect(deskkms(['init']).status).toBe(0);
});
afterAll(() => dir?.remove());

describe('CSR and certificate Actions through batch', () => {
  it.each([['EC_SM2', ['-vfyopt', 'distid:1234567812345678']]] as const)('%s: a CSR openssl req -verify accepts; a root issues it; openssl verify -CAfile accepts the chain', (spec, vfy) => {
    const ca = newKey(spec);
    const leaf = newKey('EC_P256');
    const [csr, root] = batch([
      {
        Action: 'CreateCertificateSigningRequest', KeyId: leaf.keyId, KeyVersionId: leaf.versionId, Subject: 'CN=release.example.com,O=Example',
        SubjectAlternativeNames: ['DNS:release.example.com', 'IP:192.0.2.7'], ExtendedKeyUsage: ['codeSigning'],
      },
      { Action: 'CreateSelfSignedCertificate', KeyId: ca.keyId, KeyVersionId: ca.versionId, Subject: `CN=Batch ${spec} Root,O=Example,C=CN`, ValidityDays: 3650, PathLen: 1 },
    ]).responses as [Record<string, any>, Record<string, any>];
    const csrFile = fileWith('leaf.csr', csr.Csr as string);
    const checked = spawnSync('openssl', ['req', '-verify', '-noout', '-in', csrFile], { encoding: 'utf8' });
    expect(checked.stderr + checked.stdout).toMatch(/verify OK/);
    const csrText = openssl(['req', '-text', '-noout', '-in', csrFile]).toString('utf8');
    expect(csrText).toContain('DNS:release.example.com, IP Address:192.0.2.7');
    expect(csrText).toContain('Code Signing');

    const issued = one({ Action: 'IssueCertificate', KeyId: ca.keyId, KeyVersionId: ca.versionId, Csr: csr.Csr, ValidityDays: 90 });
    const rootFile = fileWith('root.pem', root.Certificate as string);
    const leafFile = fileWith('leaf.pem', issued.Certificate as string);
    const verified = spawnSync('openssl', ['verify', ...vfy, '-CAfile', rootFile, leafFile], { encoding: 'utf8' });
    expect(verified.stdout.trim()).toBe(`${leafFile}: OK`);
    expect(issued.CertificateChain).toBe(`${issued.Certificate as string}${root.Certificate as string}`);

    const [attached, leafCerts, rootCerts] = batch([
      { Action: 'AttachCertificate', KeyId: leaf.keyId, KeyVersionId: leaf.versionId, CertificateChain: issued.CertificateChain },
      { Action: 'GetCertificates', KeyId: leaf.keyId, KeyVersionId: leaf.versionId },
      { Action: 'GetCertificates', KeyId: ca.keyId, KeyVersionId: ca.versionId },
    ]).responses as [Record<string, any>, Record<string, any>, Record<string, any>];
    expect(attached.CertificateCount).toBe(2);
    // Requests run pipelined: the second may run before the attach committed, so ask again.
    const certs = (leafCerts.Certificates.length ? leafCerts : one({ Action: 'GetCertificates', KeyId: leaf.keyId, KeyVersionId: leaf.versionId })).Certificates;
    expect(certs).toHaveLength(2);
    expect(certs[0]).toMatchObject({ Subject: 'CN=release.example.com,O=Example', Issuer: `CN=Batch ${spec} Root,O=Example,C=CN`, IsCa: false });
    const serial = openssl(['x509', '-noout', '-serial', '-in', leafFile]).toString('utf8').trim().replace(/^serial=/, '');
    expect(certs[0].SerialNumber.toUpperCase()).toBe(serial.replace(/^0+/, '').padStart(certs[0].SerialNumber.length, '0'));
    expect(rootCerts.Certificates).toEqual([expect.objectContaining({ Pem: root.Certificate, IsCa: true, Subject: `CN=Batch ${spec} Root,O=Example,C=CN` })]);
  });
});
