// GetPublicKeyBundle: every format of a version's public key, checked by independent peers:
// openssl reads the DER, ssh-keygen the OpenSSH line, node:crypto the JWK.
import { spawnSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ASYMMETRIC_KEY_SPECS } from '../contract/specs.ts';
import { openssl } from '../../test/interop/openssl-peer.ts';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('get-public-key-bundle');

function fileWith(name: string, data: string | Uint8Array): string {
  const file = v.file(name);
  writeFileSync(file, data);
  return file;
}

describe('GetPublicKeyBundle', () => {
  it.each(ASYMMETRIC_KEY_SPECS)('%s: every format names the same key; openssl, ssh-keygen and node:crypto agree', async (spec) => {
    const { keyId, versionId, pem } = await v.makeKey(spec, 'SIGN/VERIFY');
    const bundle = await v.call('GetPublicKeyBundle', { KeyId: keyId, KeyVersionId: versionId });
    expect(bundle).toMatchObject({ KeyId: keyId, KeyVersionId: versionId, KeySpec: spec, PublicKeyPem: pem });
    expect(v.auditOf(bundle.RequestId)).toMatchObject({ keyId, keyVersionId: versionId });
    // OpenSSL reads the DER and writes the same PEM.
    const der = Buffer.from(bundle.PublicKeyDer as string, 'base64');
    const fromDer = openssl(['pkey', '-pubin', '-inform', 'DER', '-outform', 'PEM', '-in', fileWith('pub.der', der)]).toString('utf8');
    expect(fromDer).toBe(bundle.PublicKeyPem);
    const hash = openssl(['dgst', '-sha256', '-binary', fileWith('pub.der', der)]);
    expect(bundle.Fingerprints.SpkiSha256Hex).toBe(hash.toString('hex'));
    expect(bundle.Fingerprints.SpkiSha256Base64).toBe(hash.toString('base64'));
    expect(bundle.CertificateChain).toBeUndefined();

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

  it('carries the certificate chain attached to the version', async () => {
    const { keyId, versionId } = await v.makeKey('EC_P256');
    const root = await v.call('CreateSelfSignedCertificate', { KeyId: keyId, KeyVersionId: versionId, Subject: 'CN=Bundle Root' });
    expect((await v.call('GetPublicKeyBundle', { KeyId: keyId, KeyVersionId: versionId })).CertificateChain).toBe(root.Certificate);
  });

  it('refuses unknown versions and malformed requests with their codes', async () => {
    const { keyId } = await v.makeKey('EC_P256');
    const unknown = await v.refused('GetPublicKeyBundle', { KeyId: keyId, KeyVersionId: '00000000-0000-4000-8000-000000000000' }, 'Forbidden.KeyNotFound');
    expect(unknown.audit.keyId).toBe(keyId);
    await v.refused('GetPublicKeyBundle', { KeyId: keyId }, 'MissingParameter');
    await v.refused('GetPublicKeyBundle', { KeyId: keyId, KeyVersionId: 'nope' }, 'InvalidParameter');
  });
});
