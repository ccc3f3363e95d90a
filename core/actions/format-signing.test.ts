// The one route to a signature in a release format: key choice, the single audited
// AsymmetricSign ("<caller>:<format>"), the key search of the git programs, and the raw format
// checked by openssl.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { listAuditEntries } from '../audit/audit-log.ts';
import { rawFormat } from '../formats/raw.ts';
import { useActionVault } from '../../test/support/action-vault.ts';
import { chooseSigningKey, findSigningKeys, signMessage, type Signer } from './format-signing.ts';

const v = useActionVault('format-signing');
const signer = (): Signer => ({ vault: v.vault, caller: 'test' });

const chunks = (...parts: string[]): AsyncIterable<Uint8Array> => Readable.from(parts.map((part) => Buffer.from(part)));

function recentAudit(count: number) {
  return listAuditEntries(v.vault.store.db, { newestFirst: true, limit: count });
}

describe('chooseSigningKey', () => {
  it("takes the key's newest version when none is named, the named one otherwise", async () => {
    const key = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    v.now = new Date(v.now.getTime() + 60_000);
    const second = await v.call('CreateKeyVersion', { KeyId: key.keyId });
    const newest = await chooseSigningKey(signer(), key.keyId);
    expect(newest).toMatchObject({ keyId: key.keyId, keyVersionId: second.KeyVersion.KeyVersionId, spec: 'EC_P256', newest: true });
    const named = await chooseSigningKey(signer(), key.keyId, key.versionId);
    expect(named).toMatchObject({ keyVersionId: key.versionId, newest: false });
    expect(named.created.getTime()).toBeLessThan(newest.created.getTime());
    // The SPKI is the version's own public key.
    expect(Buffer.from(named.spki).toString('base64')).toBe(key.pem.replace(/-----[A-Z ]+-----|\s/g, ''));
  });

  it('refuses a disabled key for signing, but lets its public key be published', async () => {
    const key = await v.makeKey('RSA_2048', 'SIGN/VERIFY');
    await v.call('DisableKey', { KeyId: key.keyId });
    await expect(chooseSigningKey(signer(), key.keyId)).rejects.toMatchObject({ code: 'Rejected.Disabled' });
    await expect(chooseSigningKey(signer(), key.keyId, undefined, { forSigning: false })).resolves.toMatchObject({ keyVersionId: key.versionId });
  });

  it('names a missing key or version with the Action\'s own code', async () => {
    await expect(chooseSigningKey(signer(), 'alias/no-such-key')).rejects.toMatchObject({ code: 'Forbidden.AliasNotFound' });
    const key = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    await expect(chooseSigningKey(signer(), key.keyId, '00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({ code: 'Forbidden.KeyNotFound' });
  });
});

describe('signMessage', () => {
  it('signs once, through AsymmetricSign audited as <caller>:<format>; openssl verifies the raw file', async () => {
    const key = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    await v.call('CreateAlias', { KeyId: key.keyId, AliasName: 'alias/format-route' });
    const { output, key: used } = await signMessage(signer(), { key: 'alias/format-route', version: key.versionId, format: 'raw' }, chunks('release ', 'tarball ', 'bytes'));
    expect(used.keyVersionId).toBe(key.versionId);
    const [sign, publicKey, describe, version] = recentAudit(4);
    expect(sign).toMatchObject({ action: 'AsymmetricSign', caller: 'test:raw', code: 'OK', keyId: key.keyId, keyVersionId: key.versionId });
    // The reads that chose the key are audited under the caller itself.
    expect([publicKey?.action, describe?.action, version?.action]).toEqual(['GetPublicKey', 'DescribeKey', 'DescribeKeyVersion']);
    expect(publicKey?.caller).toBe('test');

    const pem = v.file('pub.pem');
    const msg = v.file('msg.bin');
    const sig = v.file('msg.bin.sig');
    writeFileSync(pem, key.pem);
    writeFileSync(msg, 'release tarball bytes');
    writeFileSync(sig, output);
    expect(execFileSync('openssl', ['dgst', '-sha256', '-verify', pem, '-signature', sig, msg], { encoding: 'utf8' })).toMatch(/Verified OK/);
    writeFileSync(msg, 'release tarball bytez');
    expect(() => execFileSync('openssl', ['dgst', '-sha256', '-verify', pem, '-signature', sig, msg], { stdio: 'pipe' })).toThrow();

    // The raw format's own verifier agrees, and refuses the changed message.
    const check = (message: string) => {
      const pending = rawFormat.verify(output, { publicKey: Buffer.from(key.pem) });
      pending.update(Buffer.from(message));
      return pending.result();
    };
    expect(check('release tarball bytes')).toMatchObject({ valid: true });
    expect(check('release tarball bytez')).toMatchObject({ valid: false, reason: expect.stringMatching(/does not match/) });
  });

  it('refuses an algorithm the spec cannot use before anything is signed', async () => {
    const key = await v.makeKey('EC_SM2', 'SIGN/VERIFY');
    await expect(signMessage(signer(), { key: key.keyId, format: 'raw', options: { algorithm: 'ECDSA_SHA_256' } }, chunks('x'))).rejects.toMatchObject({ code: 'InvalidParameter' });
    expect(recentAudit(1)[0]).toMatchObject({ action: 'GetPublicKey', code: 'OK' });
  });
});

describe('findSigningKeys', () => {
  it('finds Enabled SIGN/VERIFY versions by their public facts, and skips disabled keys', async () => {
    const wanted = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const spki = Buffer.from(wanted.pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    const same = (k: { spki: Uint8Array }) => Buffer.from(k.spki).equals(spki);
    const found = await findSigningKeys(v.vault, same);
    expect(found.map((k) => [k.keyId, k.keyVersionId, k.spec])).toEqual([[wanted.keyId, wanted.versionId, 'EC_P256']]);
    const chosen = await chooseSigningKey(signer(), wanted.keyId, wanted.versionId);
    expect(found[0]!.created.getTime()).toBe(chosen.created.getTime());
    await v.call('DisableKey', { KeyId: wanted.keyId });
    expect(await findSigningKeys(v.vault, same)).toEqual([]);
    await v.call('EnableKey', { KeyId: wanted.keyId });
    expect(await findSigningKeys(v.vault, same)).toHaveLength(1);
    // Encryption keys never sign.
    const enc = await v.makeKey('RSA_2048', 'ENCRYPT/DECRYPT');
    expect(await findSigningKeys(v.vault, (k) => k.keyId === enc.keyId)).toEqual([]);
  });
});
