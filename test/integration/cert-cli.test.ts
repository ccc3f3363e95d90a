// deskkms cert as an offline CA: a root per CA spec, a leaf issued from a deskkms csr, and
// openssl verify -CAfile accepting the chain; chains attached to versions and exported.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireSecretService, tempDir } from './vault-helpers.ts';

const BIN = resolve(import.meta.dirname, '../../core/hosts/cli/deskkms.ts');
let dir: ReturnType<typeof tempDir>;
let vaultDir: string;

function deskkms(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, DESKKMS_VAULT: vaultDir }, cwd: dir.path });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function newKey(spec: string): { keyId: string; versionId: string } {
  const keyId = (JSON.parse(deskkms(['CreateKey', '--KeySpec', spec, '--KeyUsage', 'SIGN/VERIFY']).stdout) as { KeyMetadata: { KeyId: string } }).KeyMetadata.KeyId;
  const versions = JSON.parse(deskkms(['ListKeyVersions', '--KeyId', keyId]).stdout) as { KeyVersions: { KeyVersion: { KeyVersionId: string }[] } };
  return { keyId, versionId: versions.KeyVersions.KeyVersion[0]!.KeyVersionId };
}

beforeAll(() => {
  requireSecretService();
  dir = tempDir('deskkms-cert-');
  vaultDir = join(dir.path, 'vault');
  expect(deskkms(['init']).status).toBe(0);
});
afterAll(() => dir?.remove());

describe('deskkms cert', () => {
  it.each([
    ['RSA_2048', []],
    ['EC_P256', []],
    ['EC_SM2', ['-vfyopt', 'distid:1234567812345678']],
  ] as const)('a %s root issues a leaf from a CSR; openssl verify accepts the chain', (caSpec, verifyOpts) => {
    const ca = newKey(caSpec);
    const root = deskkms(['cert', 'self-sign', ca.keyId, '--version', ca.versionId, '--subject', `CN=Offline ${caSpec} Root,O=Example,C=CN`, '--days', '3650', '-o', 'root.pem']);
    expect(root.status, root.stderr).toBe(0);
    expect(deskkms(['cert', 'export', ca.keyId, '--version', ca.versionId]).stdout).toBe(readFileSync(join(dir.path, 'root.pem'), 'utf8'));

    const leaf = newKey('EC_P256');
    expect(deskkms(['csr', leaf.keyId, '--version', leaf.versionId, '--subject', 'CN=release.example.com', '--san', 'DNS:release.example.com', '-o', 'leaf.csr']).status).toBe(0);
    const issued = deskkms(['cert', 'issue', ca.keyId, '--version', ca.versionId, '--csr', 'leaf.csr', '--days', '90', '-o', 'leaf-chain.pem']);
    expect(issued.status, issued.stderr).toBe(0);
    const chain = readFileSync(join(dir.path, 'leaf-chain.pem'), 'utf8');
    const leafPem = chain.slice(0, chain.indexOf('-----END CERTIFICATE-----') + 26);
    writeFileSync(join(dir.path, 'leaf.pem'), leafPem);
    const verified = spawnSync('openssl', ['verify', ...verifyOpts, '-CAfile', join(dir.path, 'root.pem'), join(dir.path, 'leaf.pem')], { encoding: 'utf8' });
    expect(verified.stdout.trim()).toBe(`${join(dir.path, 'leaf.pem')}: OK`);
    expect(verified.status).toBe(0);
    const text = spawnSync('openssl', ['x509', '-text', '-noout', '-in', join(dir.path, 'leaf.pem')], { encoding: 'utf8' }).stdout;
    expect(text).toContain('DNS:release.example.com');
    expect(text).toContain(`Issuer: C = CN, O = Example, CN = Offline ${caSpec} Root`);

    // The issued chain attaches to the leaf's version and exports again.
    expect(deskkms(['cert', 'attach', leaf.keyId, '--version', leaf.versionId, '--in', 'leaf-chain.pem']).status).toBe(0);
    expect(deskkms(['cert', 'export', leaf.keyId, '--version', leaf.versionId]).stdout).toBe(chain);

    // ...and travels with the version's public-key bundle, named in the manifest.
    const bundleDir = join(dir.path, `bundle-${caSpec}`);
    const bundled = deskkms(['pubkey', leaf.keyId, '--version', leaf.versionId, '--bundle', bundleDir]);
    expect(bundled.status, bundled.stderr).toBe(0);
    const chainFile = join(bundleDir, `${leaf.versionId}.chain.pem`);
    expect(readFileSync(chainFile, 'utf8')).toBe(chain);
    const manifest = JSON.parse(readFileSync(join(bundleDir, 'manifest.json'), 'utf8'));
    expect(manifest.certificateChain).toEqual({
      file: `${leaf.versionId}.chain.pem`,
      sha256: createHash('sha256').update(chain).digest('hex'),
      mediaType: 'application/pem-certificate-chain',
      certificates: 2,
    });
    const fromBundle = spawnSync('openssl', ['verify', ...verifyOpts, '-CAfile', join(dir.path, 'root.pem'), chainFile], { encoding: 'utf8' });
    expect(fromBundle.stdout.trim()).toBe(`${chainFile}: OK`);
    // A version without a certificate has no chain file and no manifest entry.
    const plain = newKey('EC_P256');
    const plainDir = join(dir.path, `plain-${caSpec}`);
    expect(deskkms(['pubkey', plain.keyId, '--version', plain.versionId, '--bundle', plainDir]).status).toBe(0);
    expect(existsSync(join(plainDir, `${plain.versionId}.chain.pem`))).toBe(false);
    expect(JSON.parse(readFileSync(join(plainDir, 'manifest.json'), 'utf8')).certificateChain).toBeUndefined();
  });

  it('refuses to attach a certificate of another key, and to issue from a CA version without a certificate', () => {
    const a = newKey('EC_P256');
    const b = newKey('EC_P256');
    expect(deskkms(['cert', 'self-sign', a.keyId, '--version', a.versionId, '--subject', 'CN=A', '-o', 'a.pem']).status).toBe(0);
    const wrong = deskkms(['cert', 'attach', b.keyId, '--version', b.versionId, '--in', 'a.pem']);
    expect(wrong.status).toBe(1); // AttachCertificate refused
    expect(wrong.stderr).toMatch(/public key is not key version/);
    expect(deskkms(['csr', a.keyId, '--version', a.versionId, '--subject', 'CN=x', '-o', 'x.csr']).status).toBe(0);
    const noCert = deskkms(['cert', 'issue', b.keyId, '--version', b.versionId, '--csr', 'x.csr']);
    expect(noCert.status).toBe(1); // IssueCertificate refused
    expect(noCert.stderr).toMatch(/has no certificate attached/);
  });
});
