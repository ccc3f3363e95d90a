// Export from vault A, import into vault B: the encrypted PKCS#8 openssl reads, RSA PKCS#1 v1.5
// signatures identical from both vaults, ECDSA/SM2 signatures from B verifying with A's public
// key, and the same from the CLI. Each Action's refusals are beside it (core/actions/
// export-key-version.test.ts, import-key-version.test.ts).
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASYMMETRIC_KEY_SPECS, KEY_SPEC_TABLE } from '../../core/contract/specs.ts';
import { Vault } from '../../core/vault/vault.ts';
import { call, requireSecretService, tempDir } from './vault-helpers.ts';

const b64 = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString('base64');
const PASS = b64('export passphrase');
let dir: ReturnType<typeof tempDir>;
let a: Vault;
let b: Vault;

beforeAll(async () => {
  requireSecretService();
  dir = tempDir('deskkms-transfer-');
  a = await Vault.init(join(dir.path, 'a'));
  b = await Vault.init(join(dir.path, 'b'));
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  dir?.remove();
});

async function firstVersion(vault: Vault, keyId: string): Promise<string> {
  return (await call(vault, 'ListKeyVersions', { KeyId: keyId })).KeyVersions.KeyVersion[0].KeyVersionId as string;
}

describe('encrypted export and import of key versions', () => {
  it('round-trips every spec from vault A to vault B; openssl reads the export', async () => {
    for (const spec of ASYMMETRIC_KEY_SPECS) {
      const alg = KEY_SPEC_TABLE[spec].family === 'RSA' ? 'RSA_PKCS1_SHA_256' : KEY_SPEC_TABLE[spec].algorithms['SIGN/VERIFY'][0]!;
      const made = await call(a, 'CreateKey', { KeySpec: spec, KeyUsage: 'SIGN/VERIFY', Exportable: 'true' });
      expect(made.KeyMetadata.Exportable).toBe(true);
      const keyA = made.KeyMetadata.KeyId as string;
      const versionA = await firstVersion(a, keyA);
      const exported = await call(a, 'ExportKeyVersion', { KeyId: keyA, KeyVersionId: versionA, Passphrase: PASS, Kdf: spec === 'RSA_2048' ? 'pbkdf2' : 'scrypt' });
      const pem = exported.EncryptedPrivateKey as string;
      expect(pem).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
      const pubA = (await call(a, 'GetPublicKey', { KeyId: keyA, KeyVersionId: versionA })).PublicKey as string;
      writeFileSync(join(dir.path, 'k.pem'), pem);
      writeFileSync(join(dir.path, 'pass.txt'), 'export passphrase');
      const opensslPub = execFileSync('openssl', ['pkey', '-in', join(dir.path, 'k.pem'), '-passin', `file:${join(dir.path, 'pass.txt')}`, '-pubout'], { encoding: 'utf8' });
      expect(opensslPub).toBe(pubA);

      const keyB = (await call(b, 'CreateKey', { KeySpec: spec, KeyUsage: 'SIGN/VERIFY' })).KeyMetadata.KeyId as string;
      const imported = await call(b, 'ImportKeyVersion', { KeyId: keyB, EncryptedPrivateKey: pem, Passphrase: PASS });
      const versionB = imported.KeyVersion.KeyVersionId as string;
      expect((await call(b, 'GetPublicKey', { KeyId: keyB, KeyVersionId: versionB })).PublicKey).toBe(pubA);

      const digest = b64(Buffer.alloc(32, 0x42));
      const sigA = (await call(a, 'AsymmetricSign', { KeyId: keyA, KeyVersionId: versionA, Algorithm: alg, Digest: digest })).Value as string;
      const sigB = (await call(b, 'AsymmetricSign', { KeyId: keyB, KeyVersionId: versionB, Algorithm: alg, Digest: digest })).Value as string;
      if (alg === 'RSA_PKCS1_SHA_256') expect(sigB).toBe(sigA);
      expect((await call(a, 'AsymmetricVerify', { KeyId: keyA, KeyVersionId: versionA, Algorithm: alg, Digest: digest, Value: sigB })).Value).toBe(true);
    }
  });

  it('works from the CLI with passphrase files', async () => {
    const BIN = resolve(import.meta.dirname, '../../core/hosts/cli/deskkms.ts');
    const keyA = (await call(a, 'CreateKey', { KeySpec: 'RSA_2048', KeyUsage: 'SIGN/VERIFY', Exportable: true })).KeyMetadata.KeyId as string;
    const versionA = await firstVersion(a, keyA);
    const keyB = (await call(b, 'CreateKey', { KeySpec: 'RSA_2048', KeyUsage: 'SIGN/VERIFY' })).KeyMetadata.KeyId as string;
    const passFile = join(dir.path, 'cli-pass.txt');
    writeFileSync(passFile, 'cli passphrase\n');
    const out = join(dir.path, 'cli.pem');
    await a.close();
    await b.close();
    try {
      const run = (vault: string, args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, DESKKMS_VAULT: join(dir.path, vault) } });
      const exported = run('a', ['export', keyA, '--version', versionA, '--export-passphrase-file', passFile, '-o', out]);
      expect(exported.status, exported.stderr).toBe(0);
      const imported = run('b', ['import', keyB, '--in', out, '--import-passphrase-file', passFile]);
      expect(imported.status, imported.stderr).toBe(0);
      expect(JSON.parse(imported.stdout).KeyVersion.KeyId).toBe(keyB);
    } finally {
      a = Vault.open(join(dir.path, 'a'));
      b = Vault.open(join(dir.path, 'b'));
    }
  });
});
