// The public-key, CSR and certificate Actions through `deskkms batch` (JSON Lines), as scripts and
// the desktop app reach them, checked by independent peers: openssl reads the public keys, CSRs
// and chains, ssh-keygen the OpenSSH line, node:crypto the JWK.
import { spawnSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_SPECS } from '../../core/contract/specs.ts';
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

describe('GetPublicKeyBundle', () => {
  it.each(KEY_SPECS)('%s: every format names the same key; openssl, ssh-keygen and node:crypto agree', (spec) => {
    const { keyId, versionId } = newKey(spec);
    const [bundle, plain] = batch([
      { Action: 'GetPublicKeyBundle', KeyId: keyId, KeyVersionId: versionId },
      { Action: 'GetPublicKey', KeyId: keyId, KeyVersionId: versionId },
    ]).responses as [Record<string, any>, Record<string, any>];
    expect(bundle).toMatchObject({ KeyId: keyId, KeyVersionId: versionId, KeySpec: spec, PublicKeyPem: plain.PublicKey });
    // OpenSSL reads the DER and writes the same PEM.
    const der = Buffer.from(bundle.PublicKeyDer as string, 'base64');
    const fromDer = openssl(['pkey', '-pubin', '-inform', 'DER', '-outform', 'PEM', '-in', fileWith('pub.der', der)]).toString('utf8');
    expect(fromDer).toBe(bundle.PublicKeyPem);
    const hash = openssl(['dgst', '-sha256', '-binary', fileWith('pub.der', der)]);
    expect(bundle.Fingerprints.SpkiSha256Hex).toBe(hash.toString('hex'));
    expect(bundle.Fingerprints.SpkiSha256Base64).toBe(hash.toString('base64'));

    if (spec === 'EC_SM2') {
      expect(bundle.Jwk).toBeUndefined();
      expect(bundle.Omitted.Jwk).toMatch(/^SM2 has no registered JWK curve/);
    } else {
      expect(bundle.Omitted.Jwk).toBeUndefined();
      expect(bundle.Jwk.kid).toBe(versionId);
      const fromJwk = createPublicKey({ key: bundle.Jwk, format: 'jwk' }).export({ format: 'der', type: 'spki' });
      expect(Buffer.from(fromJwk).equals(der)).toBe(true);
    }
    if (spec === 'EC_SM2' || spec === 'EC_P256K') {
      expect(bundle.OpenSsh).toBeUndefined();
      expect(bundle.Fingerprints.OpenSsh).toBeUndefined();
      expect(bundle.Omitted.OpenSsh).toMatch(/^OpenSSH has no key type for (SM2|secp256k1)/);
    } else {
      expect(bundle.Omitted.OpenSsh).toBeUndefined();
      expect(bundle.OpenSsh).not.toContain('\n');
      const listed = spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', fileWith('key.pub', `${bundle.OpenSsh as string}\n`)], { encoding: 'utf8' });
      expect(listed.status, listed.stderr).toBe(0);
      expect(listed.stdout.split(' ')[1]).toBe(bundle.Fingerprints.OpenSsh);
    }
  });

  it('refuses unknown versions and malformed requests with their codes', () => {
    const { keyId } = newKey('EC_P256');
    const { status, responses } = batch([
      { Action: 'GetPublicKeyBundle', KeyId: keyId, KeyVersionId: '00000000-0000-4000-8000-000000000000' },
      { Action: 'GetPublicKeyBundle', KeyId: keyId },
      { Action: 'GetPublicKeyBundle', KeyId: keyId, KeyVersionId: 'nope' },
    ]);
    expect(status).toBe(1);
    expect(responses.map((r) => r.Code)).toEqual(['Forbidden.KeyNotFound', 'MissingParameter', 'InvalidParameter']);
  });
});

describe('CSR and certificate Actions through batch', () => {
  it.each([
    ['RSA_2048', []],
    ['EC_P256', []],
    ['EC_SM2', ['-vfyopt', 'distid:1234567812345678']],
  ] as const)('%s: a CSR openssl req -verify accepts; a root issues it; openssl verify -CAfile accepts the chain', (spec, vfy) => {
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

  it('refuses what does not fit, and changes nothing', () => {
    const a = newKey('EC_P256');
    const b = newKey('EC_P256');
    const root = one({ Action: 'CreateSelfSignedCertificate', KeyId: a.keyId, KeyVersionId: a.versionId, Subject: 'CN=A' });
    const enc = newKey('RSA_2048', 'ENCRYPT/DECRYPT');
    const { status, responses } = batch([
      { Action: 'AttachCertificate', KeyId: b.keyId, KeyVersionId: b.versionId, CertificateChain: root.Certificate },
      { Action: 'AttachCertificate', KeyId: b.keyId, KeyVersionId: b.versionId, CertificateChain: 'no pem here' },
      { Action: 'IssueCertificate', KeyId: b.keyId, KeyVersionId: b.versionId, Csr: 'x' },
      { Action: 'CreateCertificateSigningRequest', KeyId: enc.keyId, KeyVersionId: enc.versionId, Subject: 'CN=x' },
      { Action: 'CreateCertificateSigningRequest', KeyId: b.keyId, KeyVersionId: b.versionId, Subject: 'CN=x', SubjectAlternativeNames: ['FTP:x'] },
      { Action: 'CreateCertificateSigningRequest', KeyId: b.keyId, KeyVersionId: b.versionId, Subject: 'CN=x', Algorithm: 'SM2DSA' },
      { Action: 'GetCertificates', KeyId: b.keyId, KeyVersionId: b.versionId },
    ]);
    expect(status).toBe(1);
    expect(responses.slice(0, 6).map((r) => r.Code)).toEqual(Array(6).fill('InvalidParameter'));
    expect(responses[0]!.Message).toMatch(/^CertificateChain: the first certificate's public key is not key version/);
    expect(responses[2]!.Message).toMatch(/has no certificate attached/);
    expect(responses[3]!.Message).toMatch(/usage ENCRYPT\/DECRYPT/);
    expect(responses[6]!.Certificates).toEqual([]);
  });
});
