// Someone who can write vault.db but has no data key: each field that decides what a key may do is
// edited with SQL from another connection (as an attacker would, with the sqlite3 shell), and the
// vault must refuse to use the row (Vault.Corrupt naming it), never obey the edited value. Then the
// audit log: a cut tail, an emptied log, a rewrite with recomputed hashes.
import { spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../core/audit/audit-log.ts';
import { AccessKeyAuthenticator } from '../../core/hosts/http/access-key-auth.ts';
import { rpcSignedRequest, type RpcSignedRequest } from '../../core/hosts/http/rpc-signature.ts';
import { loadDataKey } from '../../core/keychain/data-key.ts';
import { remoteProvider } from '../../core/providers/connections.ts';
import { Vault } from '../../core/vault/vault.ts';
import { seal } from '../../core/worker/seal.ts';
import { call, fails, requireSecretService, tempDir } from './vault-helpers.ts';

const CLI = fileURLToPath(new URL('../../core/hosts/cli/deskkms.ts', import.meta.url));
const b64 = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString('base64');
const DIGEST = b64(createHash('sha256').update('release.tar.gz').digest());

let dir: ReturnType<typeof tempDir>;
let vaultDir: string;
let vault: Vault;

beforeAll(() => {
  requireSecretService();
  dir = tempDir('deskkms-tamper-');
});
afterAll(() => dir?.remove());

beforeEach(async () => {
  vaultDir = join(dir.path, randomUUID());
  vault = await Vault.init(vaultDir);
});
afterEach(async () => {
  await vault.close();
});

/** Runs SQL against vault.db from a connection of its own, as an attacker with write access would. */
function attack(sql: string, ...params: unknown[]): void {
  const db = new Database(join(vaultDir, 'vault.db'));
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

function raw<T>(sql: string, ...params: unknown[]): T {
  const db = new Database(join(vaultDir, 'vault.db'), { readonly: true });
  try {
    return db.prepare(sql).get(...params) as T;
  } finally {
    db.close();
  }
}

async function newKey(params: Record<string, unknown>): Promise<{ keyId: string; versionId: string }> {
  const keyId = (await call(vault, 'CreateKey', params)).KeyMetadata.KeyId as string;
  const versionId = (await call(vault, 'ListKeyVersions', { KeyId: keyId })).KeyVersions.KeyVersion[0].KeyVersionId as string;
  return { keyId, versionId };
}

async function corrupt(action: string, params: Record<string, unknown>, row: RegExp): Promise<string> {
  const refused = await fails(vault, action, params);
  expect(refused.error.Code, `${action}: ${refused.error.Message}`).toBe('Vault.Corrupt');
  expect(refused.error.Message).toMatch(row);
  return refused.error.Message;
}

describe('edited key metadata is never obeyed', () => {
  it('Exportable 0 -> 1: export is refused (API and CLI), no private key leaves', async () => {
    const { keyId, versionId } = await newKey({ KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
    const exportParams = { KeyId: keyId, KeyVersionId: versionId, Passphrase: b64('a long export passphrase') };
    expect((await fails(vault, 'ExportKeyVersion', exportParams)).error.Code).toBe('Forbidden.NoPermission');
    attack('UPDATE keys SET exportable = 1 WHERE key_id = ?', keyId);
    const message = await corrupt('ExportKeyVersion', exportParams, new RegExp(`keys row "${keyId}" fails its integrity check`));
    expect(message).toMatch(/changed outside DeskKMS and is not used/);

    await vault.close();
    const passFile = join(dir.path, `${randomUUID()}.pass`);
    (await import('node:fs')).writeFileSync(passFile, 'a long export passphrase\n');
    const cli = spawnSync(process.execPath, [CLI, 'export', keyId, '--version', versionId, '--export-passphrase-file', passFile, '--vault', vaultDir], { encoding: 'utf8' });
    expect(cli.status).not.toBe(0);
    expect(cli.stdout).not.toMatch(/PRIVATE KEY/);
    expect(JSON.parse(cli.stderr)).toMatchObject({ Code: 'Vault.Corrupt' });
    vault = Vault.open(vaultDir);
  });

  it('Disabled -> Enabled: the key still refuses to sign', async () => {
    const { keyId, versionId } = await newKey({ KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
    await call(vault, 'DisableKey', { KeyId: keyId });
    const sign = { KeyId: keyId, KeyVersionId: versionId, Algorithm: 'ECDSA_SHA_256', Digest: DIGEST };
    expect((await fails(vault, 'AsymmetricSign', sign)).error.Code).toBe('Rejected.Disabled');
    attack("UPDATE keys SET key_state = 'Enabled' WHERE key_id = ?", keyId);
    await corrupt('AsymmetricSign', sign, /keys row .* fails its integrity check/);
    await corrupt('DescribeKey', { KeyId: keyId }, /keys row/);
    await corrupt('ListKeys', {}, /keys row/);
  });

  it('KeyUsage, KeySpec, Origin, Description and the deletion date are each authenticated', async () => {
    const { keyId, versionId } = await newKey({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN/VERIFY' });
    const encrypt = { KeyId: keyId, KeyVersionId: versionId, Algorithm: 'RSAES_OAEP_SHA_256', Plaintext: b64('x') };
    expect((await fails(vault, 'AsymmetricEncrypt', encrypt)).error.Code).toBe('InvalidParameter');
    for (const [column, value] of [
      ['key_usage', 'ENCRYPT/DECRYPT'],
      ['key_spec', 'RSA_4096'],
      ['origin', 'EXTERNAL'],
      ['description', 'the production release key'],
      ['protection_level', 'HSM'],
    ] as const) {
      const before = raw<Record<string, unknown>>(`SELECT ${column} AS v FROM keys WHERE key_id = ?`, keyId).v;
      attack(`UPDATE keys SET ${column} = ? WHERE key_id = ?`, value, keyId);
      await corrupt('AsymmetricEncrypt', encrypt, /keys row .* fails its integrity check/);
      attack(`UPDATE keys SET ${column} = ? WHERE key_id = ?`, before, keyId);
      await call(vault, 'DescribeKey', { KeyId: keyId }); // the authentic row works again
    }
  });

  it('a deletion date moved into the past never gets the key destroyed', async () => {
    const { keyId } = await newKey({ KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
    await call(vault, 'ScheduleKeyDeletion', { KeyId: keyId, PendingWindowInDays: 30 });
    attack("UPDATE keys SET delete_date = '2000-01-01T00:00:00Z' WHERE key_id = ?", keyId);
    await expect(vault.purgeDueKeys()).rejects.toMatchObject({ code: 'Vault.Corrupt' });
    expect(raw<{ n: number }>('SELECT count(*) AS n FROM key_versions WHERE key_id = ?', keyId).n).toBe(1);
    // An Enabled key disguised as PendingDeletion, likewise.
    const other = await newKey({ KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
    attack("UPDATE keys SET key_state = 'PendingDeletion', delete_date = '2000-01-01T00:00:00Z' WHERE key_id = ?", other.keyId);
    await expect(vault.purgeDueKeys()).rejects.toMatchObject({ code: 'Vault.Corrupt' });
    expect(raw<{ n: number }>('SELECT count(*) AS n FROM keys WHERE key_id = ?', other.keyId).n).toBe(1);
  });

  it("a version's public key swapped for another key's: GetPublicKey and AsymmetricVerify refuse", async () => {
    const mine = await newKey({ KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
    const theirs = await newKey({ KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
    const forged = (await call(vault, 'AsymmetricSign', { KeyId: theirs.keyId, KeyVersionId: theirs.versionId, Algorithm: 'ECDSA_SHA_256', Digest: DIGEST })).Value as string;
    const verify = { KeyId: mine.keyId, KeyVersionId: mine.versionId, Algorithm: 'ECDSA_SHA_256', Digest: DIGEST, Value: forged };
    expect((await call(vault, 'AsymmetricVerify', verify)).Value).toBe(false);
    attack('UPDATE key_versions SET public_key = (SELECT public_key FROM key_versions WHERE key_version_id = ?) WHERE key_version_id = ?', theirs.versionId, mine.versionId);
    await corrupt('AsymmetricVerify', verify, new RegExp(`key_versions row "${mine.versionId}" fails its integrity check`));
    await corrupt('GetPublicKey', { KeyId: mine.keyId, KeyVersionId: mine.versionId }, /key_versions row/);
  });

  it('a version moved to another key, or its material relabelled, is refused', async () => {
    const a = await newKey({ KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
    const b = await newKey({ KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
    attack('UPDATE key_versions SET key_id = ? WHERE key_version_id = ?', b.keyId, a.versionId);
    await corrupt('AsymmetricSign', { KeyId: b.keyId, KeyVersionId: a.versionId, Algorithm: 'ECDSA_SHA_256', Digest: DIGEST }, /key_versions row/);
    attack('UPDATE key_versions SET key_id = ? WHERE key_version_id = ?', a.keyId, a.versionId);
    attack("UPDATE key_versions SET material = 'PublicOnly' WHERE key_version_id = ?", a.versionId);
    await corrupt('AsymmetricSign', { KeyId: a.keyId, KeyVersionId: a.versionId, Algorithm: 'ECDSA_SHA_256', Digest: DIGEST }, /key_versions row/);
  });

  it('an alias repointed to another key is refused, not followed', async () => {
    const mine = await newKey({ KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
    const theirs = await newKey({ KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
    await call(vault, 'CreateAlias', { AliasName: 'alias/release', KeyId: mine.keyId });
    attack("UPDATE aliases SET key_id = ? WHERE alias_name = 'alias/release'", theirs.keyId);
    await corrupt('AsymmetricSign', { KeyId: 'alias/release', KeyVersionId: theirs.versionId, Algorithm: 'ECDSA_SHA_256', Digest: DIGEST }, /aliases row "alias\/release" fails its integrity check/);
    await corrupt('ListAliases', {}, /aliases row/);
  });

  it('tags and attached certificates are authenticated too', async () => {
    const { keyId, versionId } = await newKey({ KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY', Tags: JSON.stringify([{ TagKey: 'env', TagValue: 'test' }]) });
    attack("UPDATE tags SET tag_value = 'prod' WHERE key_id = ?", keyId);
    await corrupt('ListResourceTags', { KeyId: keyId }, /tags row/);
    attack("UPDATE tags SET tag_value = 'test' WHERE key_id = ?", keyId);
    await call(vault, 'CreateSelfSignedCertificate', { KeyId: keyId, KeyVersionId: versionId, Subject: 'CN=Release', ValidityDays: 30 }); // attaches it
    expect(raw<{ n: number }>('SELECT count(*) AS n FROM certificates').n).toBe(1);
    await call(vault, 'GetCertificates', { KeyId: keyId, KeyVersionId: versionId });
    attack("UPDATE certificates SET chain_pem = replace(chain_pem, 'A', 'B')");
    await corrupt('GetCertificates', { KeyId: keyId, KeyVersionId: versionId }, /certificates row/);
  });

  it('wrong column types and a missing MAC are Vault.Corrupt, never InternalFailure', async () => {
    const { keyId, versionId } = await newKey({ KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
    const sign = { KeyId: keyId, KeyVersionId: versionId, Algorithm: 'ECDSA_SHA_256', Digest: DIGEST };
    for (const [sql, column] of [
      ["UPDATE keys SET description = X'00' WHERE key_id = ?", /description that is not text/],
      ['UPDATE key_versions SET sealed_private = 42 WHERE key_id = ?', /sealed_private that is not blob/],
      ["UPDATE key_versions SET public_key = 'PEM' WHERE key_id = ?", /public_key that is not blob/],
      ['UPDATE keys SET mac = NULL WHERE key_id = ?', /fails its integrity check/],
      ['UPDATE keys SET mac = zeroblob(32) WHERE key_id = ?', /fails its integrity check/],
    ] as const) {
      const db = new Database(join(vaultDir, 'vault.db'));
      const snapshot = db.prepare('SELECT * FROM keys WHERE key_id = ?').get(keyId) as Record<string, unknown>;
      const version = db.prepare('SELECT * FROM key_versions WHERE key_id = ?').get(keyId) as Record<string, unknown>;
      db.close();
      attack(sql, keyId);
      await corrupt('AsymmetricSign', sign, column);
      attack('UPDATE keys SET description = ?, mac = ? WHERE key_id = ?', snapshot.description, snapshot.mac, keyId);
      attack('UPDATE key_versions SET sealed_private = ?, public_key = ? WHERE key_id = ?', version.sealed_private, version.public_key, keyId);
    }
    await call(vault, 'AsymmetricSign', sign);
  });
});

/** A request as the server hands it on, its signature wrong: the access key row is read (and refused) before the signature is checked. */
function unsigned(accessKeyId: string): RpcSignedRequest {
  return rpcSignedRequest('POST', { AccessKeyId: accessKeyId, Timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), SignatureNonce: randomUUID(), Signature: 'AAAA' });
}

describe('edited access keys and remote connections are never obeyed', () => {
  it("an access key's policy raised to everything, or its state re-enabled, is refused", async () => {
    const limited = await call(vault, 'CreateAccessKey', { Policy: { Actions: ['DescribeKey'], Keys: ['alias/none'] } });
    await vault.close();
    const db = new Database(join(vaultDir, 'vault.db'));
    db.prepare("UPDATE access_keys SET policy = '{\"Actions\":[\"*\"],\"Keys\":[\"*\"]}' WHERE access_key_id = ?").run(limited.AccessKeyId);
    db.close();
    vault = Vault.open(vaultDir);
    const authenticator = new AccessKeyAuthenticator(vault);
    await expect(authenticator.authenticate(unsigned(limited.AccessKeyId))).rejects.toMatchObject({
      code: 'Vault.Corrupt',
      message: expect.stringMatching(/access_keys row .* fails its integrity check/) as unknown,
    });
    expect((await fails(vault, 'ListAccessKeys')).error.Code).toBe('Vault.Corrupt');

    const disabled = await call(vault, 'CreateAccessKey');
    await call(vault, 'DisableAccessKey', { AccessKeyId: disabled.AccessKeyId });
    await expect(authenticator.authenticate(unsigned(disabled.AccessKeyId))).rejects.toMatchObject({ code: 'InvalidAccessKeyId.Inactive' });
    attack("UPDATE access_keys SET state = 'Enabled' WHERE access_key_id = ?", disabled.AccessKeyId);
    await expect(authenticator.authenticate(unsigned(disabled.AccessKeyId))).rejects.toMatchObject({ code: 'Vault.Corrupt' });
  });

  it("a remote connection's endpoint redirected elsewhere is refused before any request", async () => {
    await call(vault, 'AddRemoteConnection', { Name: 'prod', Endpoint: 'kms.cn-hangzhou.aliyuncs.com', AccessKeyId: 'LTAIexample', AccessKeySecret: 'secret' });
    attack("UPDATE remote_connections SET endpoint = '127.0.0.1:8443', protocol = 'http' WHERE name = 'prod'");
    await expect(remoteProvider(vault, 'prod')).rejects.toMatchObject({ code: 'Vault.Corrupt', message: expect.stringMatching(/remote_connections row "prod"/) as unknown });
    expect((await fails(vault, 'ListRemoteConnections')).error.Code).toBe('Vault.Corrupt');
    await call(vault, 'RemoveRemoteConnection', { Name: 'prod' }); // and its secret leaves the keychain
  });
});

describe('a vault made before authenticated metadata', () => {
  it('gets its MACs and anchor at its first unlock, and from then on edits are caught', async () => {
    const { keyId, versionId } = await newKey({ KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
    const other = await newKey({ KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
    await call(vault, 'CreateAlias', { AliasName: 'alias/old', KeyId: keyId });
    const vaultId = vault.vaultId;
    await vault.close();
    // Make it look as an older DeskKMS left it: no MACs, no anchor, the v1 verifier.
    const dataKey = (await loadDataKey(`vault-${vaultId}`))!;
    const v1 = b64(seal(dataKey, { keyId: 'vault', keyVersionId: vaultId, spec: 'EC_P256' }, Buffer.from('deskkms data key verifier')));
    const db = new Database(join(vaultDir, 'vault.db'));
    for (const table of ['keys', 'key_versions', 'aliases', 'tags', 'access_keys', 'remote_connections', 'certificates', 'import_tokens']) db.exec(`UPDATE ${table} SET mac = NULL`);
    db.exec("DELETE FROM meta WHERE key IN ('audit_anchor', 'header_check')");
    db.prepare("UPDATE meta SET value = ? WHERE key = 'verifier'").run(v1);
    db.close();

    vault = Vault.open(vaultDir);
    await call(vault, 'AsymmetricSign', { KeyId: 'alias/old', KeyVersionId: versionId, Algorithm: 'ECDSA_SHA_256', Digest: DIGEST });
    expect(raw<{ n: number }>('SELECT count(*) AS n FROM keys WHERE mac IS NULL').n).toBe(0);
    expect(raw<{ value: string }>("SELECT value FROM meta WHERE key = 'verifier'").value).not.toBe(v1);
    expect(verifyAuditChain(vault.store.db)).toMatchObject({ ok: true, anchored: expect.any(Number) as unknown });
    attack("UPDATE aliases SET key_id = ? WHERE alias_name = 'alias/old'", other.keyId);
    await corrupt('DescribeKey', { KeyId: 'alias/old' }, /aliases row/);
  });
});

describe('the audit log against its anchor', () => {
  async function withEntries(): Promise<void> {
    for (let i = 0; i < 3; i++) await newKey({ KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
  }

  function verifyCli(): { status: number | null; verdict: Record<string, unknown> } {
    const run = spawnSync(process.execPath, [CLI, 'audit', 'verify', '--vault', vaultDir], { encoding: 'utf8' });
    return { status: run.status, verdict: JSON.parse(run.stdout || run.stderr) as Record<string, unknown> };
  }

  async function refusedEverywhere(reason: RegExp): Promise<void> {
    const refused = await fails(vault, 'ListKeys', {});
    expect(refused.error.Code).toBe('Vault.AuditBroken');
    expect(refused.error.Message).toMatch(reason);
    const cli = verifyCli();
    expect(cli.status).toBe(1);
    expect(cli.verdict).toMatchObject({ ok: false, reason: expect.stringMatching(reason) as unknown });
  }

  it('an intact log verifies with every entry anchored (CLI)', async () => {
    await withEntries();
    const cli = verifyCli();
    expect(cli.status).toBe(0);
    expect(cli.verdict).toMatchObject({ ok: true });
    expect(cli.verdict.anchored).toBe(cli.verdict.entries);
  });

  it('a cut tail: every later call is refused and verify names the cut', async () => {
    await withEntries();
    const { n } = raw<{ n: number }>('SELECT max(seq) AS n FROM audit_log');
    attack('DELETE FROM audit_log WHERE seq > ?', n - 2);
    await refusedEverywhere(/cut at the tail/);
    expect(raw<{ n: number }>('SELECT max(seq) AS n FROM audit_log').n).toBe(n - 2); // nothing appended to it
  });

  it('acknowledge-break: after a cut the owner accepts the log as it stands; calls work, the break stays reported', async () => {
    await withEntries();
    const { n } = raw<{ n: number }>('SELECT max(seq) AS n FROM audit_log');
    attack('DELETE FROM audit_log WHERE seq > ?', n - 2);
    await vault.close(); // the CLI is another process on the same vault
    const ack = spawnSync(process.execPath, [CLI, 'audit', 'acknowledge-break', '--vault', vaultDir], { encoding: 'utf8' });
    expect(ack.status, ack.stderr).toBe(0);
    expect(JSON.parse(ack.stdout)).toMatchObject({ Acknowledged: { ok: false, firstBroken: n - 1, reason: expect.stringMatching(/cut at the tail/) as unknown } });
    vault = Vault.open(vaultDir);
    await call(vault, 'ListKeys', {});
    const cli = verifyCli();
    expect(cli.status).toBe(0);
    expect(cli.verdict).toMatchObject({ ok: true, acknowledged: [{ firstBroken: n - 1, headSeq: n - 2, reason: expect.stringMatching(/cut at the tail/) as unknown }] });
    const [entry] = (await import('../../core/audit/audit-log.ts')).listAuditEntries(vault.store.db, { action: 'AcknowledgeAuditBreak' });
    expect(entry).toMatchObject({ seq: n - 1, caller: 'cli', code: 'OK' });
    // An intact log has nothing to acknowledge; an edited record of breaks is itself a break.
    const again = spawnSync(process.execPath, [CLI, 'audit', 'acknowledge-break', '--vault', vaultDir], { encoding: 'utf8' });
    expect(again.status).not.toBe(0);
    expect(JSON.parse(again.stderr)).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringMatching(/intact/) as unknown });
    attack("UPDATE meta SET value = replace(value, 'cut at the tail', 'nothing happened') WHERE key = 'audit_breaks'");
    expect(verifyCli()).toMatchObject({ status: 1, verdict: { ok: false, reason: expect.stringMatching(/acknowledged audit breaks was edited/) as unknown } });
  });

  it('an edited entry in the middle: acknowledged, calls work again, but verify keeps naming the entry', async () => {
    await withEntries();
    attack("UPDATE audit_log SET code = 'Forbidden.NoPermission' WHERE seq = 2");
    expect(verifyCli()).toMatchObject({ status: 1, verdict: { firstBroken: 2 } });
    await vault.close();
    expect(spawnSync(process.execPath, [CLI, 'audit', 'acknowledge-break', '--vault', vaultDir], { encoding: 'utf8' }).status).toBe(0);
    vault = Vault.open(vaultDir);
    await call(vault, 'ListKeys', {});
    expect(verifyCli()).toMatchObject({ status: 1, verdict: { ok: false, firstBroken: 2, acknowledged: [{ firstBroken: 2 }] } });
  });

  it('an emptied log', async () => {
    await withEntries();
    attack('DELETE FROM audit_log');
    await refusedEverywhere(/emptied/);
  });

  it('a log rewritten with recomputed hashes', async () => {
    await withEntries();
    // Recompute the chain after changing entry 2's code, as the audit module would hash it.
    const db = new Database(join(vaultDir, 'vault.db'));
    const rows = db.prepare('SELECT * FROM audit_log ORDER BY seq').all() as Record<string, any>[];
    let prev = createHash('sha256').update('deskkms-audit-v1', 'utf8').digest();
    const field = (v: string | null): Buffer => (v === null ? Buffer.of(0) : Buffer.concat([Buffer.of(1), Buffer.from([0, 0, 0, Buffer.byteLength(v)]), Buffer.from(v)]));
    const update = db.prepare('UPDATE audit_log SET code = ?, prev_hash = ?, hash = ? WHERE seq = ?');
    db.transaction(() => {
      for (const row of rows) {
        const code = row.seq === 2 ? 'Rejected.Disabled' : (row.code as string);
        const hash = createHash('sha256')
          .update(prev)
          .update(Buffer.concat([field(String(row.seq)), field(row.time), field(row.action), field(row.key_id), field(row.key_version_id), field(code), field(row.caller), field(row.request_id)]))
          .digest();
        update.run(code, prev, hash, row.seq);
        prev = hash;
      }
    })();
    db.close();
    await refusedEverywhere(/rewritten/);
  });
});
