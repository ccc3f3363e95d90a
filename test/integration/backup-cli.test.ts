// deskkms backup create | verify | restore and deskkms vault change-passphrase | protect |
// rotate-data-key, as an operator runs them (child processes): passphrase-protected vaults, a
// recovery passphrase and 2-of-3 shares, restored vaults whose signatures openssl verifies, each
// refusal with its Code, and the README's "Backup and recovery" recipe run as written.
// The round trip across two keychain sessions is custody-roundtrip.test.ts.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readShareFile } from '../../core/custody/share-file.ts';
import { SLIP39_WORDS } from '../../core/custody/slip39-words.ts';
import type { CliIO } from '../../core/hosts/cli/command.ts';
import { runCli } from '../../core/hosts/cli/run.ts';
import { KEYCHAIN_SERVICE } from '../../core/keychain/keychain.ts';
import { flipByte, openssl, pkeyutlEncryptArgs, pkeyutlVerifyArgs } from '../interop/openssl-peer.ts';
import { requireSecretService, tempDir } from './vault-helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
// Every step is a child process (and a passphrase vault's unlock is scrypt at N=2^17): generous
// limits for a loaded 2-core machine running the rest of the suite beside it.
const SLOW = { timeout: 300_000 };
const BIN = join(ROOT, 'core/hosts/cli/deskkms.ts');

let dir: ReturnType<typeof tempDir>;
let vaultA: string;
let vaultPass: string;
let recoveryPass: string;
/** Vaults a test put in the suite's Secret Service session: their entries are removed after. */
const keychainVaults: string[] = [];

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function deskkms(args: readonly string[], env: Record<string, string | undefined> = {}, input?: string): Run {
  const base = { ...process.env };
  delete base.DESKKMS_VAULT;
  delete base.DESKKMS_PASSPHRASE_FILE;
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir.path, encoding: 'utf8', env: { ...base, ...env }, input, maxBuffer: 64 << 20, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI in this process, for refusals that happen before any vault is opened (no child start-up). */
async function inProcess(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (text: string) => ((stdout += text), true) },
    stderr: { write: (text: string) => ((stderr += text), true) },
    stdin: process.stdin,
    cwd: dir.path,
    env: { PATH: process.env.PATH, ...env },
  } as unknown as CliIO;
  const status = await runCli(args, io);
  return { status, stdout, stderr };
}

function ok(r: Run): Record<string, any> {
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, any>;
}

/** The {"Code","Message"} of a refused command (exit 2; 1 for a call the vault refused). */
function refused(r: Run, status = 2): { Code: string; Message: string } {
  expect(r.status, `expected a refusal; stdout: ${r.stdout}`).toBe(status);
  const lines = r.stderr.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as { Code: string; Message: string };
}

const onA = (): Record<string, string> => ({ DESKKMS_VAULT: vaultA, DESKKMS_PASSPHRASE_FILE: vaultPass });

function file(name: string, text: string): string {
  const path = join(dir.path, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

interface KeyRef {
  keyId: string;
  versionId: string;
  spec: string;
  usage: 'SIGN/VERIFY' | 'ENCRYPT/DECRYPT';
}
const keys: KeyRef[] = [];

/** Runs Actions through `deskkms batch` (one unlock); every answer must succeed. */
function batch(env: Record<string, string>, requests: readonly Record<string, unknown>[]): Record<string, any>[] {
  const r = deskkms(['batch'], env, requests.map((q) => JSON.stringify(q)).join('\n'));
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);
}

function publicKeys(env: Record<string, string>): string[] {
  return batch(env, keys.map((k) => ({ Action: 'GetPublicKey', KeyId: k.keyId, KeyVersionId: k.versionId }))).map((a) => a.PublicKey as string);
}

/**
 * The vault of `env` holds `keys` as they were, in one batch (one unlock): every public key equals
 * `pems`, each signing key signs (openssl verifies with the public key from before), each decrypting
 * key opens what openssl encrypted to it, alias/release names keys[0], and the audit chain
 * verifies. Returns the Actions of its audit log.
 */
function sameKeys(env: Record<string, string>, pems: readonly string[]): string[] {
  const digest = createHash('sha256').update('release 1.0').digest();
  const digestFile = join(dir.path, 'digest.bin');
  writeFileSync(digestFile, digest);
  const signing = keys.flatMap((k, i) => (k.usage === 'SIGN/VERIFY' ? [{ k, i, algorithm: k.spec === 'EC_P256' ? 'ECDSA_SHA_256' : 'RSA_PSS_SHA_256' } as const] : []));
  const decrypting = keys.flatMap((k, i) => (k.usage === 'ENCRYPT/DECRYPT' ? [{ k, i }] : []));
  const requests = [
    ...keys.map((k) => ({ Action: 'GetPublicKey', KeyId: k.keyId, KeyVersionId: k.versionId })),
    ...signing.map(({ k, algorithm }) => ({ Action: 'AsymmetricSign', KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: algorithm, Digest: digest.toString('base64') })),
    ...decrypting.map(({ k, i }) => {
      const plain = file(`plain-${i}.txt`, `secret ${i}`);
      const ct = join(dir.path, `ct-${i}.bin`);
      openssl(pkeyutlEncryptArgs('RSAES_OAEP_SHA_256', file(`enc-pub-${i}.pem`, pems[i]!), plain, ct));
      return { Action: 'AsymmetricDecrypt', KeyId: k.keyId, KeyVersionId: k.versionId, Algorithm: 'RSAES_OAEP_SHA_256', CiphertextBlob: readFileSync(ct).toString('base64') };
    }),
    { Action: 'DescribeKey', KeyId: 'alias/release' },
    { Action: 'VerifyAuditChain' },
    { Action: 'ListAuditEntries' },
  ];
  const answers = batch(env, requests);
  expect(answers.slice(0, keys.length).map((a) => a.PublicKey as string)).toEqual(pems);
  let at = keys.length;
  for (const { i, algorithm } of signing) {
    const sig = join(dir.path, `sig-${i}.bin`);
    writeFileSync(sig, Buffer.from(answers[at++]!.Value as string, 'base64'));
    expect(openssl(pkeyutlVerifyArgs(algorithm, file(`pub-${i}.pem`, pems[i]!), digestFile, sig)).toString()).toMatch(/Signature Verified Successfully/);
  }
  for (const { i } of decrypting) expect(Buffer.from(answers[at++]!.Plaintext as string, 'base64').toString()).toBe(`secret ${i}`);
  expect(answers[at++]!.KeyMetadata.KeyId).toBe(keys[0]!.keyId);
  expect(answers[at++]!.Verdict.ok).toBe(true);
  return (answers[at]!.Entries as { action: string }[]).map((e) => e.action);
}

beforeAll(() => {
  requireSecretService();
  dir = tempDir('deskkms-backup-cli-');
  vaultA = join(dir.path, 'a');
  vaultPass = file('vault-pass.txt', 'vault passphrase of A\n');
  recoveryPass = file('recovery.txt', 'the recovery passphrase\n');
  ok(deskkms(['init', '--vault', vaultA, '--passphrase-file', vaultPass]));
  const specs = [
    { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' },
    { KeySpec: 'RSA_2048', KeyUsage: 'SIGN/VERIFY' },
    { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT/DECRYPT' },
  ] as const;
  const made = batch(onA(), specs.map((s) => ({ Action: 'CreateKey', ...s })));
  const versions = batch(onA(), made.map((m) => ({ Action: 'ListKeyVersions', KeyId: m.KeyMetadata.KeyId })));
  specs.forEach((s, i) => {
    keys.push({ keyId: made[i]!.KeyMetadata.KeyId as string, versionId: versions[i]!.KeyVersions.KeyVersion[0].KeyVersionId as string, spec: s.KeySpec, usage: s.KeyUsage });
  });
  batch(onA(), [{ Action: 'CreateAlias', KeyId: keys[0]!.keyId, AliasName: 'alias/release' }]);
}, SLOW.timeout);


/** Removes the keychain entries of a vault from the suite's Secret Service: vault-<id>, and vault-<id>-<random> after a protection change. */
function clearKeychain(vaultId: string): void {
  // secret-tool search writes the attributes on stderr (the secrets on stdout).
  const r = spawnSync('secret-tool', ['search', '--all', 'service', KEYCHAIN_SERVICE], { encoding: 'utf8' });
  const accounts = [...r.stderr.matchAll(/^attribute\.username = (.*)$/gm)].map((m) => m[1]!);
  for (const account of accounts.filter((a) => a === `vault-${vaultId}` || a.startsWith(`vault-${vaultId}-`))) {
    spawnSync('secret-tool', ['clear', 'service', KEYCHAIN_SERVICE, 'username', account]);
  }
}

afterAll(() => {
  for (const vaultId of keychainVaults) clearKeychain(vaultId);
  dir?.remove();
});

describe('deskkms status and backups', SLOW, () => {
  it('warns while the vault has no backup', () => {
    const r = deskkms(['status'], onA());
    const status = ok(r);
    expect(status.LastBackup).toBeUndefined();
    expect(status.KeyVersionsSinceBackup).toBe(3);
    expect(status.BackupAdvice).toEqual(expect.any(String));
    expect(r.stderr).toBe(`warning: ${status.BackupAdvice}\n`);
  });
});

describe('a backup under a recovery passphrase', SLOW, () => {
  let backup: string;
  let created: Record<string, any>;
  let pems: string[];

  it('create writes the file, answers what it holds without any secret, and status records it', () => {
    pems = publicKeys(onA());
    backup = join(dir.path, 'p.backup');
    const r = deskkms(['backup', 'create', '--out', backup, '--passphrase-file', recoveryPass], onA());
    created = ok(r);
    expect(created).toMatchObject({ Path: backup, Recovery: 'passphrase', KeyCount: 3, KeyVersionCount: 3, VaultId: expect.any(String), BackupId: expect.any(String) });
    expect(created.Shares).toBeUndefined();
    expect(created.RequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.stdout).not.toContain('the recovery passphrase');
    expect(r.stderr).toMatch(/Backup written to .*p\.backup/);
    expect(statSync(backup).size).toBe(created.Size);
    const status = deskkms(['status'], onA());
    expect(ok(status)).toMatchObject({ LastBackup: { BackupId: created.BackupId, Recovery: 'passphrase' }, KeyVersionsSinceBackup: 0 });
    expect(ok(status).BackupAdvice).toBeUndefined();
    expect(status.stderr).not.toMatch(/warning/);
  });

  it('verify lists the keys, versions and audit head; a wrong passphrase is Backup.WrongSecret', () => {
    const contents = ok(deskkms(['backup', 'verify', '--in', backup, '--passphrase-file', recoveryPass]));
    expect(contents).toMatchObject({ BackupId: created.BackupId, VaultId: created.VaultId, KeyCount: 3, KeyVersionCount: 3, AuditHead: created.AuditHead });
    expect((contents.Keys as { KeyId: string }[]).map((k) => k.KeyId).sort()).toEqual(keys.map((k) => k.keyId).sort());
    expect(contents.Keys.find((k: { KeyId: string }) => k.KeyId === keys[0]!.keyId).Aliases).toEqual(['alias/release']);
    const wrong = refused(deskkms(['backup', 'verify', '--in', backup, '--passphrase-file', file('wrong.txt', 'not the recovery passphrase')]));
    expect(wrong.Code).toBe('Backup.WrongSecret');
    // The header alone needs no secret, and says it proved nothing.
    const header = deskkms(['backup', 'verify', '--in', backup]);
    expect(ok(header)).toMatchObject({ BackupId: created.BackupId, Recovery: 'passphrase' });
    expect(ok(header).Keys).toBeUndefined();
    expect(header.stderr).toMatch(/Header only/);
  });

  it('restore makes a passphrase vault whose keys are the same: openssl verifies its signatures, it decrypts, its audit shows the restore', () => {
    const restored = join(dir.path, 'r1');
    const newPass = file('r1-pass.txt', 'restored vault passphrase');
    const r = deskkms(['backup', 'restore', '--in', backup, '--vault', restored, '--passphrase-file', recoveryPass, '--protection', 'passphrase', '--new-passphrase-file', newPass]);
    expect(ok(r)).toMatchObject({ VaultPath: restored, BackupId: created.BackupId, KeyCount: 3 });
    const onR = { DESKKMS_VAULT: restored, DESKKMS_PASSPHRASE_FILE: newPass };
    expect(ok(deskkms(['status'], onR))).toMatchObject({ KeyCount: 3, Locked: false, Protection: expect.stringMatching(/^passphrase/) });
    expect(sameKeys(onR, pems).filter((a) => a === 'RestoreVault')).toHaveLength(1);
    // The old passphrase of A does not open it; the same directory is not restored into twice.
    expect(ok(deskkms(['status'], { DESKKMS_VAULT: restored, DESKKMS_PASSPHRASE_FILE: vaultPass })).UnlockError.Code).toBe('Vault.Locked');
    const again = deskkms(['backup', 'restore', '--in', backup, '--vault', restored, '--passphrase-file', recoveryPass, '--new-passphrase-file', newPass]);
    expect(again.status).toBe(2);
  });
});

describe('a backup split 2 of 3', SLOW, () => {
  let backup: string;
  let shareDir: string;
  let created: Record<string, any>;
  const share = (k: number, d = shareDir): string => join(d, `share-${k}-of-3.txt`);

  it('create writes each share as a 0600 text file and page in a 0700 directory, and prints no words', () => {
    backup = join(dir.path, 's.backup');
    shareDir = join(dir.path, 'shares');
    const r = deskkms(['backup', 'create', '--out', backup, '--shares', '3', '--threshold', '2', '--share-dir', shareDir], onA());
    created = ok(r);
    expect(created).toMatchObject({ Recovery: 'shares', Threshold: 2, ShareCount: 3, ShareIdentifier: expect.any(Number) });
    expect(created.Shares).toBeUndefined();
    expect(created.ShareFiles).toEqual([1, 2, 3].map((k) => ({ Index: k, Text: share(k), Page: join(shareDir, `share-${k}-of-3.html`) })));
    expect(readdirSync(shareDir).sort()).toEqual(['share-1-of-3.html', 'share-1-of-3.txt', 'share-2-of-3.html', 'share-2-of-3.txt', 'share-3-of-3.html', 'share-3-of-3.txt']);
    expect(statSync(shareDir).mode & 0o777).toBe(0o700);
    for (const name of readdirSync(shareDir)) expect(statSync(join(shareDir, name)).mode & 0o777).toBe(0o600);
    const words = [1, 2, 3].map((k) => readShareFile(readFileSync(share(k), 'utf8'), `share ${k}`));
    expect(new Set(words).size).toBe(3);
    for (const [i, mnemonic] of words.entries()) {
      expect(mnemonic.split(' ').length).toBeGreaterThanOrEqual(20);
      expect(readFileSync(join(shareDir, `share-${i + 1}-of-3.html`), 'utf8')).toContain(mnemonic.split(' ')[3]);
      // No run of the share's words reaches stdout or stderr (the JSON lists files). Runs of
      // three: a single word of the list may be an English word of the advice.
      const shown = `${r.stdout}${r.stderr}`.toLowerCase().replace(/\s+/g, ' ');
      const list = mnemonic.split(' ');
      for (let w = 0; w + 3 <= list.length; w++) expect(shown).not.toContain(list.slice(w, w + 3).join(' '));
    }
    expect(readFileSync(share(1), 'utf8')).toContain(`# Backup id: ${created.BackupId as string}`);
    expect(r.stderr).toMatch(/print/);
    expect(r.stderr).toMatch(/different person/);
    expect(r.stderr).toMatch(/delete the \.txt and \.html share files/);
  });

  it('verify and restore with any 2 shares; one share is Backup.SharesInsufficient', () => {
    for (const pair of [[1, 2], [1, 3], [3, 2]]) {
      const contents = ok(deskkms(['backup', 'verify', '--in', backup, '--share', share(pair[0]!), '--share', share(pair[1]!)]));
      expect(contents).toMatchObject({ BackupId: created.BackupId, KeyCount: 3, Threshold: 2, ShareCount: 3 });
    }
    const one = refused(deskkms(['backup', 'verify', '--in', backup, '--share', share(2)]));
    expect(one.Code).toBe('Backup.SharesInsufficient');
    const restored = join(dir.path, 'r2');
    const pass = file('r2-pass.txt', 'r2 passphrase');
    const tooFew = refused(deskkms(['backup', 'restore', '--in', backup, '--vault', restored, '--share', share(3), '--new-passphrase-file', pass]));
    expect(tooFew.Code).toBe('Backup.SharesInsufficient');
    expect(existsSync(join(restored, 'vault.db'))).toBe(false);
    ok(deskkms(['backup', 'restore', '--in', backup, '--vault', restored, '--share', share(3), '--share', share(1), '--new-passphrase-file', pass]));
    sameKeys({ DESKKMS_VAULT: restored, DESKKMS_PASSPHRASE_FILE: pass }, publicKeys(onA()));
  });

  it('refuses existing share files without --force, before any backup is made', () => {
    const before = readdirSync(shareDir).map((n) => sha256(join(shareDir, n)));
    const out = join(dir.path, 'never.backup');
    const again = refused(deskkms(['backup', 'create', '--out', out, '--shares', '3', '--threshold', '2', '--share-dir', shareDir], onA()));
    expect(again).toMatchObject({ Code: 'InvalidParameter' });
    expect(again.Message).toMatch(/share-1-of-3\.txt.*--force/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(shareDir).map((n) => sha256(join(shareDir, n)))).toEqual(before);
    // An existing backup file is not replaced either.
    const backupBefore = sha256(backup);
    const sameFile = deskkms(['backup', 'create', '--out', backup, '--passphrase-file', recoveryPass], onA());
    expect(sameFile.status).toBe(1); // CreateBackup refused (Overwrite false)
    expect(sha256(backup)).toBe(backupBefore);
  });

  it('a share from another backup is Backup.ShareMismatch; a mistyped word is Backup.ShareInvalid naming the file; a flipped byte in the backup is Backup.Damaged naming it', () => {
    const otherDir = join(dir.path, 'other-shares');
    const other = ok(deskkms(['backup', 'create', '--out', join(dir.path, 'other.backup'), '--shares', '3', '--threshold', '2', '--share-dir', otherDir], onA()));
    expect(other.BackupId).not.toBe(created.BackupId);
    const mismatch = refused(deskkms(['backup', 'verify', '--in', backup, '--share', share(1), '--share', share(2, otherDir)]));
    expect(mismatch.Code).toBe('Backup.ShareMismatch');

    // One word replaced by another word of the list: the checksum catches it.
    const text = readFileSync(share(2), 'utf8');
    const words = readShareFile(text, 'share 2').split(' ');
    const at = 7;
    const replacement = SLIP39_WORDS.find((w) => w !== words[at] && !words.includes(w))!;
    const mistyped = file('mistyped-share.txt', `${words.with(at, replacement).join(' ')}\n`);
    expect(readShareFile(readFileSync(mistyped, 'utf8'), 'x').split(' ')).toHaveLength(words.length);
    const invalid = refused(deskkms(['backup', 'verify', '--in', backup, '--share', share(1), '--share', mistyped]));
    expect(invalid.Code).toBe('Backup.ShareInvalid');
    expect(invalid.Message).toContain('mistyped-share.txt');

    const bytes = new Uint8Array(readFileSync(backup));
    for (const at of [0, 100, Math.floor(bytes.length / 2), bytes.length - 1]) {
      const damaged = join(dir.path, `damaged-${at}.backup`);
      writeFileSync(damaged, flipByte(bytes, at));
      const error = refused(deskkms(['backup', 'verify', '--in', damaged, '--share', share(1), '--share', share(2)]));
      expect(error.Code, `byte ${at}`).toBe('Backup.Damaged');
      expect(error.Message).toContain(`damaged-${at}.backup`);
    }
  });

  it('usage errors exit 2 with InvalidParameter or MissingParameter', async () => {
    const cases: [string[], string, RegExp][] = [
      [['backup'], 'InvalidParameter', /create.*verify.*restore/],
      [['backup', 'create', '--shares', '3', '--threshold', '2', '--share-dir', shareDir], 'MissingParameter', /--out/],
      [['backup', 'create', '--out', 'x'], 'MissingParameter', /--passphrase-file/],
      [['backup', 'create', '--out', 'x', '--passphrase-file', recoveryPass, '--shares', '3'], 'InvalidParameter', /not both/],
      [['backup', 'create', '--out', 'x', '--shares', '17', '--threshold', '2', '--share-dir', 'd'], 'InvalidParameter', /--shares/],
      [['backup', 'create', '--out', 'x', '--shares', '3', '--threshold', '4', '--share-dir', 'd'], 'InvalidParameter', /--threshold/],
      [['backup', 'create', '--out', 'x', '--shares', '3', '--threshold', '2'], 'MissingParameter', /--share-dir/],
      [['backup', 'restore', '--in', backup, '--share', share(1)], 'MissingParameter', /--vault/],
      [['backup', 'restore', '--in', backup, '--vault', 'v', '--share', share(1), '--protection', 'passphrase'], 'MissingParameter', /--new-passphrase-file/],
      [['backup', 'restore', '--in', backup, '--vault', 'v', '--share', share(1), '--protection', 'hsm'], 'InvalidParameter', /--protection/],
      [['backup', 'verify', '--in', backup, '--share', share(1), '--passphrase-file', recoveryPass], 'InvalidParameter', /not both/],
      [['backup', 'verify', '--in', join(dir.path, 'missing.backup'), '--share', share(1)], 'InvalidParameter', /missing\.backup: no such file/],
      [['backup', 'verify', '--in', backup, '--share', join(dir.path, 'no-such-share.txt')], 'InvalidParameter', /no-such-share\.txt: no such file/],
    ];
    for (const [args, code, message] of cases) {
      const error = refused(await inProcess(args, onA()));
      expect(error.Code, args.join(' ')).toBe(code);
      expect(error.Message, args.join(' ')).toMatch(message);
    }
    expect((await inProcess(['backup', '--help'])).stdout).toMatch(/Usage: deskkms backup create --out FILE/);
    const vaultUsage: [string[], RegExp][] = [
      [['vault'], /change-passphrase/],
      [['vault', 'protect'], /--with/],
      [['vault', 'change-passphrase', '--passphrase-file', vaultPass], /--new-passphrase-file/],
      [['vault', 'protect', '--with', 'keychain', '--new-passphrase-file', vaultPass], /--new-passphrase-file/],
      [['vault', 'rotate-data-key', '--new-passphrase-file', vaultPass], /change-passphrase/],
    ];
    for (const [args, message] of vaultUsage) expect(refused(await inProcess(args, onA())).Message, args.join(' ')).toMatch(message);
  });

  it('status counts key versions made since the last backup and warns', () => {
    ok(deskkms(['CreateKeyVersion', '--KeyId', keys[0]!.keyId], onA()));
    const r = deskkms(['status'], onA());
    const status = ok(r);
    expect(status.KeyVersionsSinceBackup).toBe(1);
    expect(status.BackupAdvice).toMatch(/1/);
    expect(r.stderr).toBe(`warning: ${status.BackupAdvice}\n`);
  });
});

describe('changing how a vault is protected from the CLI', SLOW, () => {
  it('change-passphrase, rotate-data-key, protect --with keychain and back: the vault keeps signing with the same keys', () => {
    const v = join(dir.path, 'p');
    const first = file('p-1.txt', 'first passphrase');
    const second = file('p-2.txt', 'second passphrase');
    const third = file('p-3.txt', 'third passphrase');
    ok(deskkms(['backup', 'restore', '--in', join(dir.path, 'p.backup'), '--vault', v, '--passphrase-file', recoveryPass, '--new-passphrase-file', first]));
    const withPass = (p: string): Record<string, string> => ({ DESKKMS_VAULT: v, DESKKMS_PASSPHRASE_FILE: p });
    const pems = publicKeys(withPass(first));

    const changed = deskkms(['vault', 'change-passphrase', '--passphrase-file', first, '--new-passphrase-file', second], { DESKKMS_VAULT: v });
    expect(ok(changed)).toMatchObject({ Protection: expect.stringMatching(/passphrase/) });
    expect(ok(deskkms(['status'], withPass(first))).UnlockError.Code).toBe('Vault.Locked');
    expect(ok(deskkms(['status'], withPass(second))).Locked).toBe(false);
    // A wrong current passphrase is refused and changes nothing.
    refused(deskkms(['vault', 'change-passphrase', '--passphrase-file', first, '--new-passphrase-file', third], { DESKKMS_VAULT: v }), 1);
    expect(ok(deskkms(['status'], withPass(second))).Locked).toBe(false);

    const rotated = ok(deskkms(['vault', 'rotate-data-key'], withPass(second)));
    expect(rotated.ResealedSecrets).toBeGreaterThanOrEqual(3);
    sameKeys(withPass(second), pems);

    const toKeychain = ok(deskkms(['vault', 'protect', '--with', 'keychain', '--passphrase-file', second], { DESKKMS_VAULT: v }));
    expect(toKeychain.Protection).toMatch(/keychain/i);
    keychainVaults.push(toKeychain.VaultId as string);
    const keychainStatus = ok(deskkms(['status', '--vault', v]));
    expect(keychainStatus).toMatchObject({ Locked: false, Protection: expect.stringMatching(/^OS keychain/) });
    sameKeys({ DESKKMS_VAULT: v }, pems);

    ok(deskkms(['vault', 'protect', '--with', 'passphrase', '--new-passphrase-file', third], { DESKKMS_VAULT: v }));
    expect(ok(deskkms(['status'], withPass(third)))).toMatchObject({ Locked: false, Protection: expect.stringMatching(/^passphrase/) });
    const actions = sameKeys(withPass(third), pems);
    for (const action of ['RestoreVault', 'ChangePassphrase', 'RotateDataKey', 'ChangeProtection']) expect(actions).toContain(action);

    // Nothing of this vault is left in the keychain (the recipe below restores the same VaultId into it).
    clearKeychain(toKeychain.VaultId as string);
  });
});

describe("the README's Backup and recovery recipe, run as written", { timeout: 600_000 }, () => {
  it('back up with 5 shares, verify, shred, restore on a "new machine" into its keychain, change its protection', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf('\n## Backup and recovery\n');
    expect(start).toBeGreaterThan(0);
    const end = readme.indexOf('\n## ', start + 1);
    const section = readme.slice(start, end);
    const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
    // create + verify; shred + status; restore + checks; protection changes. A new block needs its place here.
    expect(blocks).toHaveLength(4);

    const station = join(dir.path, 'recipe-station');
    const newHome = join(dir.path, 'recipe-new-machine');
    mkdirSync(station);
    mkdirSync(join(newHome, '.local/share'), { recursive: true });
    // `npx deskkms` is this checkout's CLI (npx would resolve the same bin; this skips its start-up).
    const prelude = `set -euo pipefail\nnpx() { if [ "$1" != deskkms ]; then echo "npx $1: not in the recipe" >&2; return 127; fi; shift; "${process.execPath}" "${BIN}" "$@"; }\n`;
    const base = { ...process.env };
    delete base.DESKKMS_VAULT;
    delete base.DESKKMS_PASSPHRASE_FILE;
    const sh = (block: string, cwd: string, env: Record<string, string>): Run => {
      const r = spawnSync('bash', ['-c', prelude + block], { cwd, env: { ...base, ...env }, encoding: 'utf8', timeout: 300_000 });
      expect(r.status, `${block}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`).toBe(0);
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const pems = publicKeys(onA());

    // On the station (vault A, passphrase from the environment).
    const made = sh(blocks[0]!, station, onA());
    expect(made.stdout).toMatch(/"ShareCount": 5/);
    const shareTexts = [1, 2, 3, 4, 5].map((k) => readFileSync(join(station, 'shares', `share-${k}-of-5.txt`), 'utf8'));
    // The printed pages: what the share holders will type back, from paper.
    const typed = [shareTexts[1]!, shareTexts[3]!, shareTexts[4]!].map((t) => readShareFile(t, 'paper').toUpperCase().replace(/ /g, (_, i: number) => (i % 3 === 0 ? '\n' : '  ')));
    const shredded = sh(blocks[1]!, station, onA());
    expect(readdirSync(join(station, 'shares'))).toEqual([]);
    expect(shredded.stderr).not.toMatch(/warning/);
    expect(shredded.stdout).toMatch(/"LastBackup"/);

    // The new machine: another HOME, no vault, the backup file and three shares typed into files.
    const onNew = { HOME: newHome, XDG_DATA_HOME: join(newHome, '.local/share') };
    writeFileSync(join(newHome, 'vault.backup'), readFileSync(join(station, 'vault.backup')));
    ['share-a.txt', 'share-b.txt', 'share-c.txt'].forEach((name, i) => writeFileSync(join(newHome, name), `${typed[i]!}\n`));
    const restored = sh(blocks[2]!, newHome, onNew);
    const restoredVault = join(newHome, '.local/share/deskkms');
    const vaultId = JSON.parse(restored.stdout.slice(0, restored.stdout.indexOf('\n}\n') + 2)).VaultId as string;
    keychainVaults.push(vaultId);
    expect(restored.stdout).toMatch(/"Protection": "OS keychain/);
    expect(restored.stdout).toMatch(/"ok": true/);
    expect(restored.stdout).toMatch(/"action": "RestoreVault"/);

    writeFileSync(join(newHome, 'pass.txt'), 'recipe passphrase one\n');
    writeFileSync(join(newHome, 'new-pass.txt'), 'recipe passphrase two\n');
    sh(blocks[3]!, newHome, onNew);
    const status = ok(deskkms(['status'], { DESKKMS_VAULT: restoredVault }));
    expect(status).toMatchObject({ Locked: false, Protection: expect.stringMatching(/^OS keychain/) });
    const actions = sameKeys({ DESKKMS_VAULT: restoredVault }, pems);
    expect(actions.filter((a) => a === 'ChangeProtection')).toHaveLength(2);
  });
});
