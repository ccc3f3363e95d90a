// CreateBackup through dispatch, and the backup it writes opened by core/custody/backup.ts's verify
// and restore: a passphrase backup and a 3-of-5 SLIP-0039 share backup round-trip (same public keys,
// signatures verify, the audit chain continues with RestoreVault); every way to open one wrongly is
// refused with its Code; the vault records its last backup and status says what came after it.
import { createHash, createVerify } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { b64, useActionVault } from '../../test/support/action-vault.ts';
import { restoreBackup, verifyBackup, type RecoverySecret } from '../custody/backup.ts';
import { Vault } from '../vault/vault.ts';
import { dispatch } from './dispatch.ts';

const v = useActionVault('create-backup');
const RECOVERY = 'the recovery passphrase';

const passphrase = (text: string): RecoverySecret => ({ kind: 'passphrase', passphrase: Buffer.from(text) });
const shares = (list: readonly string[]): RecoverySecret => ({ kind: 'shares', shares: list.map((text, i) => ({ text, where: `share-${i + 1}.txt` })) });

async function refusedWith(run: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await run;
  } catch (error) {
    return { code: (error as { code: string }).code, message: (error as Error).message };
  }
  throw new Error('expected a refusal');
}

async function signsLike(vault: Vault, key: { keyId: string; versionId: string; pem: string }): Promise<boolean> {
  const message = Buffer.from(`restored ${Math.random()}`);
  const signed = await dispatch(vault, 'AsymmetricSign', { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: 'ECDSA_SHA_256', Digest: b64(createHash('sha256').update(message).digest()) }, 'test');
  if (!signed.ok) throw new Error(`${signed.error.Code}: ${signed.error.Message}`);
  return createVerify('sha256').update(message).verify(key.pem, Buffer.from(signed.body.Value, 'base64'));
}

function flipByte(path: string, at: number): string {
  const copy = `${path}.flipped-${at}`;
  const bytes = readFileSync(path);
  bytes[at]! ^= 0x01;
  writeFileSync(copy, bytes);
  return copy;
}

describe('CreateBackup', () => {
  it('a passphrase backup: verified before the answer, encrypted (no SQLite, no key id in the clear), restored under a new passphrase with the same keys and a continuing audit chain', async () => {
    const key = await v.makeKey('EC_P256');
    await v.call('CreateAlias', { KeyId: key.keyId, AliasName: 'alias/release' });
    const path = v.file('vault.dkbackup');
    const made = await v.call('CreateBackup', { Path: path, Recovery: 'passphrase', Passphrase: b64(RECOVERY) });
    expect(made).toMatchObject({ Path: path, VaultId: v.vault.vaultId, Recovery: 'passphrase', KeyCount: 1, KeyVersionCount: 1 });
    expect(made.Shares).toBeUndefined();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(path).size).toBe(made.Size);
    const bytes = readFileSync(path);
    expect(bytes.includes(Buffer.from('SQLite format 3'))).toBe(false);
    expect(bytes.includes(Buffer.from(key.keyId))).toBe(false);
    expect(bytes.includes(Buffer.from('alias/release'))).toBe(false);
    // Nothing of the making is left beside it.
    expect(readdirSync(dirname(path)).filter((f) => f.includes('.deskkms-'))).toEqual([]);

    const contents = await verifyBackup(path, passphrase(RECOVERY));
    expect(contents).toMatchObject({ BackupId: made.BackupId, KeyCount: 1, KeyVersionCount: 1, PrivateKeysChecked: 1, AuditHead: made.AuditHead });
    expect(contents.Keys).toEqual([expect.objectContaining({ KeyId: key.keyId, KeySpec: 'EC_P256', Aliases: ['alias/release'], Versions: [expect.objectContaining({ KeyVersionId: key.versionId })] })]);

    const restoredDir = join(v.file('restored'), 'vault');
    const restored = await restoreBackup({ path, secret: passphrase(RECOVERY), vaultDir: restoredDir, protection: 'passphrase', newPassphrase: Buffer.from('restored vault passphrase'), kdfN: 2 ** 14, caller: 'test' });
    expect(restored).toMatchObject({ VaultPath: restoredDir, Protection: 'passphrase', KeyCount: 1 });
    const vault = Vault.open(restoredDir, { passphrase: Buffer.from('restored vault passphrase') });
    try {
      const pub = await dispatch(vault, 'GetPublicKey', { KeyId: 'alias/release', KeyVersionId: key.versionId }, 'test');
      expect(pub.ok && pub.body.PublicKey).toBe(key.pem);
      expect(await signsLike(vault, key)).toBe(true);
      const verdict = await dispatch(vault, 'VerifyAuditChain', {}, 'test');
      expect(verdict.ok && verdict.body.Verdict).toMatchObject({ ok: true });
      const log = await dispatch(vault, 'ListAuditEntries', { Since: '2000-01-01T00:00:00Z' }, 'test');
      const entries = log.ok ? (log.body.Entries as { seq: number; action: string; hash: string }[]) : [];
      expect(entries.find((e) => e.seq === made.AuditHead.Seq)?.hash).toBe(made.AuditHead.Hash);
      expect(entries.find((e) => e.seq === made.AuditHead.Seq + 1)?.action).toBe('RestoreVault');
      // The restored vault knows it is what this backup holds.
      expect(vault.status('test')).toMatchObject({ LastBackup: { BackupId: made.BackupId }, KeyVersionsSinceBackup: 0 });
    } finally {
      await vault.close();
    }
    // A refused restore leaves no directory it made.
    const refusedDir = join(v.file('refused'), 'vault');
    expect((await refusedWith(restoreBackup({ path, secret: passphrase('wrong recovery passphrase'), vaultDir: refusedDir, protection: 'passphrase', newPassphrase: Buffer.from('x'.repeat(10)) }))).code).toBe('Backup.WrongSecret');
    expect(existsSync(refusedDir)).toBe(false);
    // A vault already there is never overwritten.
    expect((await refusedWith(restoreBackup({ path, secret: passphrase(RECOVERY), vaultDir: restoredDir, protection: 'passphrase', newPassphrase: Buffer.from('x'.repeat(10)) }))).code).toBe('InvalidParameter');
    expect((await refusedWith(verifyBackup(path, passphrase('not the recovery passphrase')))).code).toBe('Backup.WrongSecret');
    expect((await refusedWith(verifyBackup(path, shares(['a b c'])))).code).toBe('Backup.WrongSecret');
  });

  it('3-of-5 shares: any 3 open it; 2 do not; a share of another backup, a changed word and a changed byte anywhere in the file are refused naming what is wrong', async () => {
    const key = await v.makeKey('EC_P256');
    const path = v.file('shares.dkbackup');
    const made = await v.call('CreateBackup', { Path: path, Recovery: 'shares', Shares: 5, Threshold: 3 });
    expect(made).toMatchObject({ Recovery: 'shares', Threshold: 3, ShareCount: 5 });
    const words = made.Shares as string[];
    expect(words).toHaveLength(5);
    for (const mnemonic of words) expect(mnemonic.split(' ')).toHaveLength(33);
    // The audit entry names no share, the vault keeps none.
    const file = readFileSync(join(v.dir, 'vault.db'));
    for (const mnemonic of words) expect(file.includes(Buffer.from(mnemonic.split(' ').slice(0, 4).join(' ')))).toBe(false);

    for (const pick of [[0, 1, 2], [2, 3, 4], [4, 0, 2]]) {
      const contents = await verifyBackup(path, shares(pick.map((i) => words[i]!)));
      expect(contents.Keys.map((k) => k.KeyId)).toContain(key.keyId);
    }
    const two = await refusedWith(verifyBackup(path, shares([words[0]!, words[3]!])));
    expect(two).toMatchObject({ code: 'Backup.SharesInsufficient', message: expect.stringMatching(/2 different shares given; this backup needs any 3 of its 5/) as unknown });

    const other = await v.call('CreateBackup', { Path: v.file('other.dkbackup'), Recovery: 'shares', Shares: 3, Threshold: 2 });
    const foreign = await refusedWith(verifyBackup(path, shares([words[0]!, words[1]!, (other.Shares as string[])[0]!])));
    expect(foreign).toMatchObject({ code: 'Backup.ShareMismatch', message: expect.stringMatching(/share-3\.txt belongs to another backup/) as unknown });
    // A whole other set (enough of another backup's shares) does not open this one either.
    expect((await refusedWith(verifyBackup(path, shares((other.Shares as string[]).slice(0, 2))))).code).toMatch(/^Backup\.(ShareMismatch|SharesInsufficient)$/);

    const changed = words[1]!.split(' ');
    changed[7] = changed[7] === 'academic' ? 'acid' : 'academic';
    const word = await refusedWith(verifyBackup(path, shares([words[0]!, changed.join(' '), words[2]!])));
    expect(word).toMatchObject({ code: 'Backup.ShareInvalid', message: expect.stringContaining('share-2.txt') as unknown });

    const size = statSync(path).size;
    for (const at of [0, 20, 200, Math.floor(size / 2), size - 40, size - 1]) {
      const refusal = await refusedWith(verifyBackup(flipByte(path, at), shares(words.slice(0, 3))));
      expect(refusal.code, `byte ${at}`).toBe('Backup.Damaged');
      expect(refusal.message).toContain(`shares.dkbackup.flipped-${at}`);
    }
  });

  it('a header changed on purpose (its checksum recomputed) is refused by its MAC; a cut file by its checksum', async () => {
    const path = v.file('altered.dkbackup');
    await v.call('CreateBackup', { Path: path, Recovery: 'passphrase', Passphrase: b64(RECOVERY) });
    const bytes = readFileSync(path);
    const headerLength = bytes.readUInt32BE(17);
    const header = JSON.parse(bytes.subarray(21, 21 + headerLength).toString()) as { Created: string };
    const altered = Buffer.from(JSON.stringify({ ...header, Created: header.Created.replace(/^\d{4}/, '1999') }));
    expect(altered.length).toBe(headerLength);
    const body = Buffer.concat([bytes.subarray(0, 21), altered, bytes.subarray(21 + headerLength, bytes.length - 32)]);
    const forged = v.file('forged.dkbackup');
    writeFileSync(forged, Buffer.concat([body, createHash('sha256').update(body).digest()]));
    expect(await refusedWith(verifyBackup(forged, passphrase(RECOVERY)))).toMatchObject({ code: 'Backup.Damaged', message: expect.stringMatching(/header was altered/) as unknown });
    const cut = v.file('cut.dkbackup');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
    expect(await refusedWith(verifyBackup(cut, passphrase(RECOVERY)))).toMatchObject({ code: 'Backup.Damaged' });
  });

  it('records the last backup; status counts the key versions made after it', async () => {
    const path = v.file('latest.dkbackup');
    const made = await v.call('CreateBackup', { Path: path, Recovery: 'passphrase', Passphrase: b64(RECOVERY) });
    expect(v.vault.status('test')).toMatchObject({ LastBackup: { BackupId: made.BackupId, Path: path, Recovery: 'passphrase' }, KeyVersionsSinceBackup: 0 });
    expect(v.vault.status('test').BackupAdvice).toBeUndefined();
    // Made in the same second as the backup (the fixture's clock stands still): counted all the same.
    await v.makeKey('EC_P256');
    expect(v.vault.status('test')).toMatchObject({ KeyVersionsSinceBackup: 1, BackupAdvice: expect.stringMatching(/1 key version was created after the last backup/) as unknown });
  });

  it('refuses what it cannot do, naming the parameter: an existing file, a missing directory, shares without a threshold, a threshold above the shares', async () => {
    const path = v.file('exists.dkbackup');
    writeFileSync(path, 'something');
    expect((await v.refused('CreateBackup', { Path: path, Recovery: 'passphrase', Passphrase: b64(RECOVERY) }, 'InvalidParameter')).Message).toMatch(/exists; choose another name or overwrite it/);
    expect(readFileSync(path, 'utf8')).toBe('something');
    await v.call('CreateBackup', { Path: path, Recovery: 'passphrase', Passphrase: b64(RECOVERY), Overwrite: true });
    expect((await v.refused('CreateBackup', { Path: join(v.file('nowhere'), 'b'), Recovery: 'passphrase', Passphrase: b64(RECOVERY) }, 'InvalidParameter')).Message).toMatch(/does not exist/);
    expect((await v.refused('CreateBackup', { Path: v.file('x'), Recovery: 'shares', Shares: 3 }, 'MissingParameter')).Message).toMatch(/Threshold/);
    expect((await v.refused('CreateBackup', { Path: v.file('x'), Recovery: 'shares', Shares: 3, Threshold: 4 }, 'InvalidParameter')).Message).toMatch(/Threshold: must be at most Shares/);
    expect((await v.refused('CreateBackup', { Path: v.file('x'), Recovery: 'passphrase', Passphrase: b64('short') }, 'InvalidParameter')).Message).toMatch(/Passphrase: must be at least 8 bytes/);
    expect((await v.refused('CreateBackup', { Path: v.file('x'), Recovery: 'shares', Shares: 17, Threshold: 2 }, 'InvalidParameter')).Message).toMatch(/Shares/);
  });
});
