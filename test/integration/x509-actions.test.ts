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

const BIN = resolve(import.meta.dirname, '../../core/cli/deskkms.ts');
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
    } else {
      expect(bundle.Jwk.kid).toBe(versionId);
      const fromJwk = createPublicKey({ key: bundle.Jwk, format: 'jwk' }).export({ format: 'der', type: 'spki' });
      expect(Buffer.from(fromJwk).equals(der)).toBe(true);
    }
    if (spec === 'EC_SM2' || spec === 'EC_P256K') {
      expect(bundle.OpenSsh).toBeUndefined();
      expect(bundle.Fingerprints.OpenSsh).toBeUndefined();
    } else {
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
