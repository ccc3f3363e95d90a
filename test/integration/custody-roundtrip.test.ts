// Issue 12's "done when": one machine, two HOMEs and two gnome-keyring sessions. In this test's
// Secret Service session: a keychain vault with keys of every spec (signing keys of all six,
// decryption keys RSA and SM2, a key with two versions), backed up with 3-of-5 shares; then the
// vault directory and its keychain entry are destroyed. In a SECOND session (a fresh dbus,
// gnome-keyring and HOME from test/setup/with-secret-service.sh, one shell script): the refusals
// (2 shares, a share of another backup, a flipped byte in the backup, a flipped byte in a share),
// then the restore with 3 shares, and with the restored vault: every key version's public key,
// a signature from every signing version, a decryption by every decryption key, the audit log.
// Back here: every public key identical, openssl verifies each signature over the message,
// each decryption gives the plaintext, the audit verifies and shows the restore.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EncryptionAlgorithm, KeySpec, KeyUsage, SigningAlgorithm } from '../../core/contract/specs.ts';
import { ASYMMETRIC_KEY_SPECS } from '../../core/contract/specs.ts';
import { KEYCHAIN_SERVICE } from '../../core/keychain/keychain.ts';
import { dgstArgs, flipByte, openssl, pkeyutlEncryptArgs } from '../interop/openssl-peer.ts';
import { tempDir } from './vault-helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'core/hosts/cli/deskkms.ts');
const WITH_SECRET_SERVICE = join(ROOT, 'test/setup/with-secret-service.sh');

interface Planned {
  spec: KeySpec;
  usage: KeyUsage;
  algorithm: SigningAlgorithm | EncryptionAlgorithm;
}
// Signing keys of every spec, RSA with both paddings; decryption keys of RSA (two sizes) and SM2.
const PLAN: readonly Planned[] = [
  ...ASYMMETRIC_KEY_SPECS.map((spec): Planned => ({
    spec,
    usage: 'SIGN/VERIFY',
    algorithm: spec === 'EC_SM2' ? 'SM2DSA' : spec.startsWith('RSA_') ? (spec === 'RSA_3072' ? 'RSA_PKCS1_SHA_256' : 'RSA_PSS_SHA_256') : 'ECDSA_SHA_256',
  })),
  { spec: 'RSA_2048', usage: 'ENCRYPT/DECRYPT', algorithm: 'RSAES_OAEP_SHA_256' },
  { spec: 'RSA_4096', usage: 'ENCRYPT/DECRYPT', algorithm: 'RSAES_OAEP_SHA_1' },
  { spec: 'EC_SM2', usage: 'ENCRYPT/DECRYPT', algorithm: 'SM2PKE' },
];

interface Version extends Planned {
  keyId: string;
  versionId: string;
  pem: string;
}

let dir: ReturnType<typeof tempDir>;
let vaultA: string;
let vaultId: string;
const versions: Version[] = [];

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.DESKKMS_VAULT;
  delete env.DESKKMS_PASSPHRASE_FILE;
  return env;
}

function deskkms(args: readonly string[], input?: string): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: cleanEnv(), input, maxBuffer: 64 << 20, timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: Run): Record<string, any> {
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, any>;
}

function batch(vault: string, requests: readonly Record<string, unknown>[]): Record<string, any>[] {
  const r = deskkms(['batch', '--vault', vault], requests.map((q) => JSON.stringify(q)).join('\n'));
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);
}

/** The keychain entries (accounts) of the vault in this session's Secret Service: vault-<id>, or vault-<id>-<random> after a protection change. */
function keychainEntries(id: string): string[] {
  const r = spawnSync('secret-tool', ['search', '--all', 'service', KEYCHAIN_SERVICE], { encoding: 'utf8' });
  return [...r.stderr.matchAll(/^attribute\.username = (.*)$/gm)].map((m) => m[1]!).filter((a) => a === `vault-${id}` || a.startsWith(`vault-${id}-`));
}

function clearKeychain(id: string): void {
  for (const account of keychainEntries(id)) spawnSync('secret-tool', ['clear', 'service', KEYCHAIN_SERVICE, 'username', account]);
}

beforeAll(() => {
  if (process.env.DESKKMS_TEST_SECRET_SERVICE !== '1' || !process.env.DBUS_SESSION_BUS_ADDRESS) {
    throw new Error(
      'the custody round trip needs the private Secret Service of test/setup/with-secret-service.sh: run it via `npm test` ' +
        '(or `bash test/setup/with-secret-service.sh npx vitest run test/integration/custody-roundtrip.test.ts`). ' +
        "It refuses to write to this station's own keychain.",
    );
  }
  dir = tempDir('deskkms-custody-');
  vaultA = join(dir.path, 'first-vault');
});

afterAll(() => {
  if (vaultId) clearKeychain(vaultId);
  dir?.remove();
});

describe('backup, destroy, restore in a second keychain session', () => {
  // Tens of child processes, RSA-4096 generation, two keyring sessions: minutes on a loaded 2-core machine.
  it('restores every key of every spec with 3 of 5 shares; refuses 2 shares, a share of another backup, a flipped byte in the backup or a share', { timeout: 900_000 }, () => {
    // --- The first machine: this session's keychain. ---
    vaultId = ok(deskkms(['init', '--vault', vaultA])).VaultId as string;
    expect(keychainEntries(vaultId)).toEqual([`vault-${vaultId}`]);
    const made = batch(vaultA, PLAN.map((p) => ({ Action: 'CreateKey', KeySpec: p.spec, KeyUsage: p.usage })));
    const keyIds = made.map((m) => m.KeyMetadata.KeyId as string);
    // A second version of the P-256 key: a backup holds every version.
    batch(vaultA, [{ Action: 'CreateKeyVersion', KeyId: keyIds[PLAN.findIndex((p) => p.spec === 'EC_P256')]! }, { Action: 'CreateAlias', KeyId: keyIds[0]!, AliasName: 'alias/release' }]);
    const listed = batch(vaultA, keyIds.map((KeyId) => ({ Action: 'ListKeyVersions', KeyId })));
    PLAN.forEach((p, i) => {
      for (const v of listed[i]!.KeyVersions.KeyVersion as { KeyVersionId: string }[]) versions.push({ ...p, keyId: keyIds[i]!, versionId: v.KeyVersionId, pem: '' });
    });
    expect(versions).toHaveLength(PLAN.length + 1);
    const pems = batch(vaultA, versions.map((v) => ({ Action: 'GetPublicKey', KeyId: v.keyId, KeyVersionId: v.versionId })));
    versions.forEach((v, i) => (v.pem = pems[i]!.PublicKey as string));

    // What the second session will be asked to sign and decrypt, prepared from public keys only.
    const message = join(dir.path, 'release.txt');
    writeFileSync(message, 'release 2.0 of the thing this station signs\n');
    const requests: Record<string, unknown>[] = versions.map((v) => ({ Action: 'GetPublicKey', KeyId: v.keyId, KeyVersionId: v.versionId }));
    const plaintexts: string[] = [];
    versions.forEach((v, i) => {
      const pemFile = join(dir.path, `pub-${i}.pem`);
      writeFileSync(pemFile, v.pem);
      if (v.usage === 'SIGN/VERIFY') {
        const digest =
          v.algorithm === 'SM2DSA'
            ? deskkms(['digest', '--algorithm', 'SM2DSA', '--in', message, '--public-key', pemFile]).stdout.trim()
            : createHash('sha256').update(readFileSync(message)).digest('base64');
        requests.push({ Action: 'AsymmetricSign', KeyId: v.keyId, KeyVersionId: v.versionId, Algorithm: v.algorithm, Digest: digest });
      } else {
        const plain = `the secret for key ${i}, ${v.spec}`;
        plaintexts[i] = plain;
        const plainFile = join(dir.path, `plain-${i}.txt`);
        const ct = join(dir.path, `ct-${i}.bin`);
        writeFileSync(plainFile, plain);
        openssl(pkeyutlEncryptArgs(v.algorithm as EncryptionAlgorithm, pemFile, plainFile, ct));
        requests.push({ Action: 'AsymmetricDecrypt', KeyId: v.keyId, KeyVersionId: v.versionId, Algorithm: v.algorithm, CiphertextBlob: readFileSync(ct).toString('base64') });
      }
    });
    const requestsFile = join(dir.path, 'requests.jsonl');
    writeFileSync(requestsFile, `${requests.map((q) => JSON.stringify(q)).join('\n')}\n`);

    const backup = join(dir.path, 'vault.backup');
    const shares = join(dir.path, 'shares');
    const created = ok(deskkms(['backup', 'create', '--vault', vaultA, '--out', backup, '--shares', '5', '--threshold', '3', '--share-dir', shares]));
    expect(created).toMatchObject({ VaultId: vaultId, Threshold: 3, ShareCount: 5, KeyCount: PLAN.length, KeyVersionCount: versions.length });
    const otherShares = join(dir.path, 'other-shares');
    ok(deskkms(['backup', 'create', '--vault', vaultA, '--out', join(dir.path, 'other.backup'), '--shares', '5', '--threshold', '3', '--share-dir', otherShares]));
    const share = (k: number, d = shares): string => join(d, `share-${k}-of-5.txt`);

    // A flipped byte in a copy of the backup, and in a copy of a share file (a letter of its words).
    const damaged = join(dir.path, 'damaged.backup');
    const backupBytes = new Uint8Array(readFileSync(backup));
    writeFileSync(damaged, flipByte(backupBytes, Math.floor(backupBytes.length / 3)));
    const shareText = readFileSync(share(2), 'utf8');
    const wordsStart = shareText.lastIndexOf('\n#');
    let at = shareText.indexOf('\n', wordsStart + 2) + 1;
    // The first letter of a word (a reader matching words by their first letters still sees it).
    while (!/[a-z]/.test(shareText[at]!) || !/\s/.test(shareText[at - 1]!) || !/[a-z]/.test(String.fromCharCode(shareText.charCodeAt(at) ^ 0x01))) at++;
    const badShare = join(dir.path, 'flipped-share.txt');
    writeFileSync(badShare, flipByte(new Uint8Array(Buffer.from(shareText)), at));

    // --- The first machine is lost: its vault directory and its keychain entry. ---
    // (The temp dir stays: it holds the backup file and the shares, as other media and people would.)
    spawnSync('rm', ['-rf', vaultA]);
    clearKeychain(vaultId);
    expect(existsSync(vaultA)).toBe(false);
    expect(keychainEntries(vaultId)).toEqual([]);

    // --- The second machine: another dbus session, gnome-keyring and HOME; one script. ---
    const out = join(dir.path, 'session-2');
    mkdirSync(out);
    const restored = join(dir.path, 'restored-vault');
    const script = `
set -u
run() { name=$1; shift; "$NODE" "$BIN" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"; echo $? >"$OUT/$name.status"; }
printf '%s' "$HOME" >"$OUT/home"
# secret-tool search writes the attributes on stderr (the secrets on stdout, dropped).
entries() { secret-tool search --all service ${KEYCHAIN_SERVICE} 2>&1 >/dev/null | grep -c "^attribute.username = vault-$VAULT_ID" || true; }
entries >"$OUT/keychain-before"
run two-shares backup restore --in "$BACKUP" --vault "$RESTORED" --share "$SHARES/share-1-of-5.txt" --share "$SHARES/share-4-of-5.txt"
run other-backup backup restore --in "$BACKUP" --vault "$RESTORED" --share "$SHARES/share-1-of-5.txt" --share "$SHARES/share-4-of-5.txt" --share "$OTHER/share-3-of-5.txt"
run damaged-backup backup restore --in "$DAMAGED" --vault "$RESTORED" --share "$SHARES/share-1-of-5.txt" --share "$SHARES/share-3-of-5.txt" --share "$SHARES/share-5-of-5.txt"
run flipped-share backup restore --in "$BACKUP" --vault "$RESTORED" --share "$SHARES/share-1-of-5.txt" --share "$BAD_SHARE" --share "$SHARES/share-5-of-5.txt"
if [ -e "$RESTORED/vault.db" ]; then echo yes; else echo no; fi >"$OUT/vault-after-refusals"
run restore backup restore --in "$BACKUP" --vault "$RESTORED" --share "$SHARES/share-5-of-5.txt" --share "$SHARES/share-2-of-5.txt" --share "$SHARES/share-3-of-5.txt"
entries >"$OUT/keychain-after"
run status status --vault "$RESTORED"
run batch batch --vault "$RESTORED" <"$REQUESTS"
run audit-verify audit verify --vault "$RESTORED"
run audit-list audit list --vault "$RESTORED"
`;
    const session = spawnSync('bash', [WITH_SECRET_SERVICE, 'bash', '-c', script], {
      encoding: 'utf8',
      timeout: 600_000,
      env: {
        ...cleanEnv(),
        NODE: process.execPath,
        BIN,
        OUT: out,
        VAULT_ID: vaultId,
        BACKUP: backup,
        DAMAGED: damaged,
        SHARES: shares,
        OTHER: otherShares,
        BAD_SHARE: badShare,
        RESTORED: restored,
        REQUESTS: requestsFile,
      },
    });
    expect(session.status, session.stderr).toBe(0);
    const result = (name: string): Run => ({
      status: Number(readFileSync(join(out, `${name}.status`), 'utf8')),
      stdout: readFileSync(join(out, `${name}.out`), 'utf8'),
      stderr: readFileSync(join(out, `${name}.err`), 'utf8'),
    });
    const refusal = (name: string): { Code: string; Message: string } => {
      const r = result(name);
      expect(r.status, `${name}: ${r.stdout}${r.stderr}`).toBe(2);
      const lines = r.stderr.trim().split('\n');
      return JSON.parse(lines[lines.length - 1]!) as { Code: string; Message: string };
    };

    // Another HOME and keychain: the entry is not there until the restore puts it there.
    expect(readFileSync(join(out, 'home'), 'utf8')).not.toBe(process.env.HOME);
    expect(readFileSync(join(out, 'keychain-before'), 'utf8').trim()).toBe('0');
    expect(readFileSync(join(out, 'keychain-after'), 'utf8').trim()).toBe('1');
    expect(keychainEntries(vaultId)).toEqual([]);

    expect(refusal('two-shares').Code).toBe('Backup.SharesInsufficient');
    expect(refusal('two-shares').Message).toMatch(/3/);
    expect(refusal('other-backup').Code).toBe('Backup.ShareMismatch');
    expect(refusal('damaged-backup')).toMatchObject({ Code: 'Backup.Damaged', Message: expect.stringContaining('damaged.backup') });
    expect(refusal('flipped-share')).toMatchObject({ Code: 'Backup.ShareInvalid', Message: expect.stringContaining('flipped-share.txt') });
    expect(readFileSync(join(out, 'vault-after-refusals'), 'utf8').trim()).toBe('no');

    expect(ok(result('restore'))).toMatchObject({ VaultId: vaultId, VaultPath: restored, KeyCount: PLAN.length, KeyVersionCount: versions.length, BackupId: created.BackupId });
    expect(ok(result('status'))).toMatchObject({ VaultId: vaultId, KeyCount: PLAN.length, Locked: false, Protection: expect.stringMatching(/^OS keychain/) });

    const answers = result('batch').stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);
    expect(answers).toHaveLength(requests.length);
    for (const a of answers) expect(a.Code, JSON.stringify(a)).toBeUndefined();
    // Every public key identical.
    versions.forEach((v, i) => expect(answers[i]!.PublicKey, `${v.spec} ${v.usage} ${v.versionId}`).toBe(v.pem));
    // Every signature verified by openssl over the message; every decryption gives the plaintext.
    versions.forEach((v, i) => {
      const answer = answers[versions.length + i]!;
      const pemFile = join(dir.path, `pub-${i}.pem`);
      if (v.usage === 'SIGN/VERIFY') {
        const sig = join(dir.path, `sig-${i}.bin`);
        writeFileSync(sig, Buffer.from(answer.Value as string, 'base64'));
        expect(openssl(dgstArgs(v.algorithm as SigningAlgorithm, { verify: pemFile, signature: sig }, message)).toString(), `${v.spec} ${v.algorithm}`).toMatch(/Verified OK/);
      } else {
        expect(Buffer.from(answer.Plaintext as string, 'base64').toString(), `${v.spec} ${v.algorithm}`).toBe(plaintexts[i]);
      }
    });

    // The audit log verifies, holds the first vault's history and then the restore.
    expect(ok(result('audit-verify')).ok).toBe(true);
    const entries = ok(result('audit-list')).Entries as { seq: number; action: string; code: string }[];
    const restores = entries.filter((e) => e.action === 'RestoreVault');
    expect(restores).toHaveLength(1);
    // The chain continues from the backup's head: the restore is the entry right after it, and
    // the first vault's history (its CreateKey entries) is before it.
    expect(restores[0]).toMatchObject({ seq: (created.AuditHead as { Seq: number }).Seq + 1, code: 'OK' });
    const creates = entries.filter((e) => e.action === 'CreateKey');
    expect(creates).toHaveLength(PLAN.length);
    for (const e of creates) expect(e.seq).toBeLessThan(restores[0]!.seq);
  });
});
