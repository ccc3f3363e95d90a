// The key worker boundary: private material never crosses it; the worker survives bad requests
// and is restarted when it dies; sealed rows are bound to their key and version; and a vault that
// cannot be unlocked says why without changing its keys or header.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../core/audit/audit-log.ts';
import { KEY_SPECS, isSymmetricSpec, KEY_SPEC_TABLE, usagesOf } from '../../core/contract/specs.ts';
import { KmsError } from '../../core/contract/errors.ts';
import { importPrivateKey } from '../../core/crypto/engine.ts';
import { deleteDataKey, loadDataKey, storeDataKey } from '../../core/keychain/data-key.ts';
import { unseal } from '../../core/worker/seal.ts';
import type { KeySpec } from '../../core/contract/specs.ts';
import { Vault } from '../../core/vault/vault.ts';
import { call, fails, requireSecretService, tempDir } from './vault-helpers.ts';
import { join } from 'node:path';
import { createPrivateKey } from 'node:crypto';
import { parseEcPkcs8 } from '../../core/crypto/ec-encoding.ts';

const b64 = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString('base64');

let dir: ReturnType<typeof tempDir>;
beforeAll(() => {
  requireSecretService();
  dir = tempDir('deskkms-isolation-');
});
afterAll(() => dir?.remove());

/** Every byte string reachable in a message: Uint8Arrays, and strings as UTF-8, base64 and hex decodings. */
function byteViews(value: unknown, out: Buffer[] = []): Buffer[] {
  if (value instanceof Uint8Array) out.push(Buffer.from(value));
  else if (typeof value === 'string') {
    out.push(Buffer.from(value, 'utf8'));
    if (/^[A-Za-z0-9+/=\s]+$/.test(value)) out.push(Buffer.from(value, 'base64'));
    if (/^[0-9a-fA-F]+$/.test(value)) out.push(Buffer.from(value, 'hex'));
  } else if (Array.isArray(value)) for (const v of value) byteViews(v, out);
  else if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) byteViews(v, out);
  return out;
}

/** The secret numbers inside a PKCS#8: the EC/SM2 scalar; RSA's d, p and q. */
function secretParts(spec: KeySpec, pkcs8: Buffer): [string, Buffer][] {
  if (spec.startsWith('RSA')) {
    const jwk = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
    return (['d', 'p', 'q'] as const).map((k) => [k, Buffer.from(jwk[k]!, 'base64url')]);
  }
  return [['scalar', Buffer.from(parseEcPkcs8(pkcs8, 'test').scalar)]];
}

describe('the key worker boundary', () => {
  it('no message from the worker contains a private key, a private scalar, or the data key', async () => {
    const seen: unknown[] = [];
    const vault = await Vault.init(join(dir.path, 'tapped'), { worker: { tap: (m) => seen.push(m) } });
    try {
      for (const spec of KEY_SPECS) {
        for (const usage of usagesOf(spec)) {
          const created = await call(vault, 'CreateKey', { KeySpec: spec, KeyUsage: usage });
          const keyId = created.KeyMetadata.KeyId as string;
          const version = (await call(vault, 'CreateKeyVersion', { KeyId: keyId })).KeyVersion.KeyVersionId as string;
          if (isSymmetricSpec(spec)) {
            // A symmetric key: Encrypt under the new primary version, Decrypt back.
            const blob = await call(vault, 'Encrypt', { KeyId: keyId, Plaintext: b64('hello'), EncryptionContext: '{"t":"1"}' });
            await call(vault, 'Decrypt', { CiphertextBlob: blob.CiphertextBlob, EncryptionContext: '{"t":"1"}' });
            continue;
          }
          const alg = KEY_SPEC_TABLE[spec].algorithms[usage][0]!;
          const ref = { KeyId: keyId, KeyVersionId: version, Algorithm: alg };
          if (usage === 'SIGN/VERIFY') await call(vault, 'AsymmetricSign', { ...ref, Digest: b64(Buffer.alloc(32, 7)) });
          else {
            const ct = await call(vault, 'AsymmetricEncrypt', { ...ref, Plaintext: b64('hello') });
            await call(vault, 'AsymmetricDecrypt', { ...ref, CiphertextBlob: ct.CiphertextBlob });
          }
        }
      }
      expect(seen.length).toBeGreaterThan(30);
      // What must never appear: the data key, every version's PKCS#8, and a 24-byte window of its secret part.
      const dataKey = Buffer.from((await loadDataKey(`vault-${vault.vaultId}`))!);
      const secrets: [string, Buffer][] = [['data key', dataKey]];
      const rows = vault.store.db.prepare('SELECT v.key_id, v.key_version_id, k.key_spec, v.sealed_private FROM key_versions v JOIN keys k USING (key_id)').all() as {
        key_id: string;
        key_version_id: string;
        key_spec: KeySpec;
        sealed_private: Uint8Array;
      }[];
      expect(rows.length).toBe(2 * KEY_SPECS.reduce((n, s) => n + usagesOf(s).length, 0));
      for (const row of rows) {
        const pkcs8 = Buffer.from(unseal(dataKey, { keyId: row.key_id, keyVersionId: row.key_version_id, spec: row.key_spec }, row.sealed_private));
        if (isSymmetricSpec(row.key_spec)) {
          // The raw symmetric key: never in a message either.
          expect(pkcs8.length).toBe(KEY_SPEC_TABLE[row.key_spec].symmetric!.keyBytes);
          secrets.push([`${row.key_spec} ${row.key_version_id} key`, pkcs8]);
          continue;
        }
        expect(importPrivateKey(pkcs8, row.key_spec).spec).toBe(row.key_spec);
        secrets.push([`${row.key_spec} ${row.key_version_id} PKCS#8`, pkcs8]);
        for (const [name, value] of secretParts(row.key_spec, pkcs8)) secrets.push([`${row.key_spec} ${row.key_version_id} ${name}`, value]);
      }
      const views = seen.flatMap((m) => byteViews(m));
      for (const [what, secret] of secrets) {
        for (const view of views) expect(view.includes(secret), `${what} crossed the worker boundary`).toBe(false);
      }
      // The check itself can see secrets: the sealed blobs it did see are not plaintext.
      expect(views.some((v) => rows.some((r) => v.equals(Buffer.from(r.sealed_private))))).toBe(true);
    } finally {
      await vault.close();
    }
  });

  it('survives malformed requests, and after a crash fails the in-flight requests and recovers', async () => {
    const vault = await Vault.init(join(dir.path, 'crash'));
    try {
      const created = await call(vault, 'CreateKey', { KeySpec: 'RSA_4096', KeyUsage: 'SIGN/VERIFY' });
      const keyId = created.KeyMetadata.KeyId as string;
      const version = (await call(vault, 'ListKeyVersions', { KeyId: keyId })).KeyVersions.KeyVersion[0].KeyVersionId as string;
      const sign = { KeyId: keyId, KeyVersionId: version, Algorithm: 'RSA_PSS_SHA_256', Digest: b64(Buffer.alloc(32, 3)) };

      const malformed = vault.worker.request({ op: 'sign', key: { keyId: 1 }, algorithm: 'x', digest: 'y' } as never);
      await expect(malformed).rejects.toMatchObject({ code: 'InternalFailure', message: expect.stringMatching(/malformed key worker request/) as unknown });
      await call(vault, 'AsymmetricSign', sign);

      const inFlight = Array.from({ length: 20 }, () => vault.worker.request({ op: 'generate', keyId, keyVersionId: crypto.randomUUID(), spec: 'RSA_4096' }));
      await vault.worker.kill();
      const results = await Promise.allSettled(inFlight);
      const failed = results.filter((r) => r.status === 'rejected');
      expect(failed.length).toBeGreaterThan(0);
      for (const r of failed) {
        expect(r.reason).toBeInstanceOf(KmsError);
        expect((r.reason as KmsError).message).toMatch(/key worker stopped unexpectedly .* during generate; the request was not completed/);
      }
      expect(vault.worker.restarts).toBe(1);
      // The replacement starts locked; a keychain vault unlocks again by itself.
      expect((await call(vault, 'AsymmetricSign', sign)).Value).toBeTruthy();
    } finally {
      await vault.close();
    }
  });
});

describe('sealed rows', () => {
  it('a sealed row moved to another version, or altered, opens as Vault.Corrupt naming it; other keys keep working', async () => {
    const vault = await Vault.init(join(dir.path, 'corrupt'));
    try {
      const a = (await call(vault, 'CreateKey', { KeySpec: 'EC_P256' })).KeyMetadata.KeyId as string;
      const a1 = (await call(vault, 'ListKeyVersions', { KeyId: a })).KeyVersions.KeyVersion[0].KeyVersionId as string;
      const a2 = (await call(vault, 'CreateKeyVersion', { KeyId: a })).KeyVersion.KeyVersionId as string;
      const b = (await call(vault, 'CreateKey', { KeySpec: 'EC_P256' })).KeyMetadata.KeyId as string;
      const b1 = (await call(vault, 'ListKeyVersions', { KeyId: b })).KeyVersions.KeyVersion[0].KeyVersionId as string;
      // A fresh process: nothing cached in the worker.
      await vault.close();
      const db = (await import('better-sqlite3')).default(join(dir.path, 'corrupt', 'vault.db'));
      const sealed = (id: string) => (db.prepare('SELECT sealed_private FROM key_versions WHERE key_version_id = ?').get(id) as { sealed_private: Buffer }).sealed_private;
      db.prepare('UPDATE key_versions SET sealed_private = ? WHERE key_version_id = ?').run(sealed(a1), a2);
      const flipped = Buffer.from(sealed(b1));
      flipped[flipped.length - 20]! ^= 1;
      db.prepare('UPDATE key_versions SET sealed_private = ? WHERE key_version_id = ?').run(flipped, b1);
      db.close();

      const reopened = Vault.open(join(dir.path, 'corrupt'));
      try {
        const digest = b64(Buffer.alloc(32, 9));
        const moved = await fails(reopened, 'AsymmetricSign', { KeyId: a, KeyVersionId: a2, Algorithm: 'ECDSA_SHA_256', Digest: digest });
        expect(moved.error).toMatchObject({ Code: 'Vault.Corrupt' });
        expect(moved.error.Message).toContain(a2);
        const altered = await fails(reopened, 'AsymmetricSign', { KeyId: b, KeyVersionId: b1, Algorithm: 'ECDSA_SHA_256', Digest: digest });
        expect(altered.error.Message).toContain(b1);
        expect(moved.httpStatus).toBe(500);
        await call(reopened, 'AsymmetricSign', { KeyId: a, KeyVersionId: a1, Algorithm: 'ECDSA_SHA_256', Digest: digest });
      } finally {
        await reopened.close();
      }
    } finally {
      if (vault) await vault.close().catch(() => undefined);
    }
  });
});

describe('a vault that cannot be unlocked', () => {
  function snapshot(vault: Vault): string {
    const db = vault.store.db;
    return JSON.stringify([
      db.prepare('SELECT * FROM meta ORDER BY key').all(),
      db.prepare('SELECT key_id, key_state, description FROM keys ORDER BY key_id').all(),
      db.prepare('SELECT key_version_id, hex(sealed_private) AS s FROM key_versions ORDER BY key_version_id').all(),
    ]);
  }

  it('passphrase vault: locked without the passphrase, refuses a wrong one, opens with the right one', async () => {
    const path = join(dir.path, 'pass');
    const first = await Vault.init(path, { passphrase: Buffer.from('correct horse'), kdfN: 2 ** 14 });
    const keyId = (await call(first, 'CreateKey', { KeySpec: 'EC_SM2', KeyUsage: 'SIGN/VERIFY' })).KeyMetadata.KeyId as string;
    const version = (await call(first, 'ListKeyVersions', { KeyId: keyId })).KeyVersions.KeyVersion[0].KeyVersionId as string;
    await first.close();
    const sign = { KeyId: keyId, KeyVersionId: version, Algorithm: 'SM2DSA', Digest: b64(Buffer.alloc(32, 1)) };

    const noPass = Vault.open(path);
    const before = snapshot(noPass);
    expect(noPass.status('-').Protection).toMatch(/^passphrase \(scrypt N=2\^14, r=8, p=1; AES-256-GCM\)$/);
    const locked = await fails(noPass, 'AsymmetricSign', sign);
    expect(locked.error).toMatchObject({ Code: 'Vault.Locked' });
    expect(locked.error.Message).toMatch(/--passphrase-file/);
    // Metadata is authenticated with a key derived from the data key: without the passphrase, no
    // row can be verified, so not even DescribeKey answers (it would otherwise show unverified data).
    expect((await fails(noPass, 'DescribeKey', { KeyId: keyId })).error).toMatchObject({ Code: 'Vault.Locked' });
    await noPass.close();

    const wrong = Vault.open(path, { passphrase: Buffer.from('wrong horse') });
    const refused = await fails(wrong, 'AsymmetricSign', sign);
    expect(refused.error).toMatchObject({ Code: 'Vault.Locked', Message: 'the passphrase does not unlock this vault' });
    expect(snapshot(wrong)).toBe(before);
    expect(verifyAuditChain(wrong.store.db).ok).toBe(true);
    await wrong.close();

    const right = Vault.open(path, { passphrase: Buffer.from('correct horse') });
    await call(right, 'AsymmetricSign', sign);
    await right.close();
  });

  it('keychain vault whose keychain entry is missing: Vault.KeychainUnavailable, nothing changed; works again once restored', async () => {
    const path = join(dir.path, 'kc');
    const vault = await Vault.init(path);
    const keyId = (await call(vault, 'CreateKey', { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT/DECRYPT' })).KeyMetadata.KeyId as string;
    const version = (await call(vault, 'ListKeyVersions', { KeyId: keyId })).KeyVersions.KeyVersion[0].KeyVersionId as string;
    const ct = await call(vault, 'AsymmetricEncrypt', { KeyId: keyId, KeyVersionId: version, Algorithm: 'RSAES_OAEP_SHA_256', Plaintext: b64('x') });
    const account = `vault-${vault.vaultId}`;
    const saved = (await loadDataKey(account))!;
    await vault.close();
    expect(await deleteDataKey(account)).toBe(true);

    const reopened = Vault.open(path);
    const before = snapshot(reopened);
    // Encrypting reads the version's public key, an authenticated row: it too needs the data key.
    const encrypt = await fails(reopened, 'AsymmetricEncrypt', { KeyId: keyId, KeyVersionId: version, Algorithm: 'RSAES_OAEP_SHA_256', Plaintext: b64('x') });
    expect(encrypt.error.Code).toBe('Vault.KeychainUnavailable');
    const missing = await fails(reopened, 'AsymmetricDecrypt', { KeyId: keyId, KeyVersionId: version, Algorithm: 'RSAES_OAEP_SHA_256', CiphertextBlob: ct.CiphertextBlob });
    expect(missing.error.Code).toBe('Vault.KeychainUnavailable');
    expect(missing.error.Message).toMatch(/holds no data key for this vault/);
    expect(snapshot(reopened)).toBe(before);

    await storeDataKey(account, saved);
    const plain = await call(reopened, 'AsymmetricDecrypt', { KeyId: keyId, KeyVersionId: version, Algorithm: 'RSAES_OAEP_SHA_256', CiphertextBlob: ct.CiphertextBlob });
    expect(Buffer.from(plain.Plaintext as string, 'base64').toString()).toBe('x');
    await reopened.close();
  });

  it('another vault\'s data key in the keychain entry does not open this one', async () => {
    const one = await Vault.init(join(dir.path, 'one'));
    const two = await Vault.init(join(dir.path, 'two'));
    const keyId = (await call(one, 'CreateKey', { KeySpec: 'EC_P256' })).KeyMetadata.KeyId as string;
    const version = (await call(one, 'ListKeyVersions', { KeyId: keyId })).KeyVersions.KeyVersion[0].KeyVersionId as string;
    await one.close();
    await storeDataKey(`vault-${one.vaultId}`, (await loadDataKey(`vault-${two.vaultId}`))!);
    await two.close();
    const reopened = Vault.open(join(dir.path, 'one'));
    const refused = await fails(reopened, 'AsymmetricSign', { KeyId: keyId, KeyVersionId: version, Algorithm: 'ECDSA_SHA_256', Digest: b64(Buffer.alloc(32)) });
    expect(refused.error.Code).toBe('Vault.Locked');
    expect(refused.error.Message).toMatch(new RegExp(`\\(entry DeskKMS/vault-${one.vaultId}\\) does not open this vault: the entry was overwritten or holds another vault's key`));
    await reopened.close();
  });

  it('an unreadable vault database is Vault.Corrupt', async () => {
    const { writeFileSync, mkdirSync } = await import('node:fs');
    mkdirSync(join(dir.path, 'garbage'));
    writeFileSync(join(dir.path, 'garbage', 'vault.db'), Buffer.alloc(4096, 0x41));
    expect(() => Vault.open(join(dir.path, 'garbage'))).toThrow(expect.objectContaining({ code: 'Vault.Corrupt' }) as unknown);
    expect(() => Vault.open(join(dir.path, 'absent'))).toThrow(/holds no vault; create one with "deskkms init/);
  });
});
