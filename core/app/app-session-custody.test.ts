// The app's custody methods (Backup.Inspect, Backup.Verify, Vault.Restore, Backup.SharePages) and
// the status fields the app shows, against real vaults: a backup made through Kms.Call with 2-of-3
// shares, its pages and share files, verified without any vault, restored on a second session's
// first run; and what the methods refuse before anything reaches a backup or a vault.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppResult } from '../contract/app-api.ts';
import { readShareFile } from '../custody/share-file.ts';
import { AppSession } from './app-session.ts';

const PASSPHRASE = 'station passphrase';
let dir: string;
const sessions: AppSession[] = [];

function session(name: string): AppSession {
  const s = new AppSession({ vaultDir: join(dir, name), caller: 'test' });
  sessions.push(s);
  return s;
}

async function value<T = Record<string, unknown>>(s: AppSession, method: string, params: unknown = {}): Promise<T> {
  const result = (await s.call({ method, params })) as AppResult<T>;
  if (!result.ok) throw new Error(`${method}: ${result.error.Code}: ${result.error.Message}`);
  return result.value;
}

async function refusal(s: AppSession, method: string, params: unknown): Promise<{ Code: string; Message: string }> {
  const result = await s.call({ method, params });
  if (result.ok) throw new Error(`${method} was not refused`);
  return result.error;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'deskkms-app-custody-'));
});

afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Created {
  BackupId: string;
  VaultId: string;
  Created: string;
  Threshold: number;
  ShareCount: number;
  ShareIdentifier: number;
  Shares: string[];
}

describe('app custody methods', () => {
  it('backs up with 2-of-3 shares, renders the pages, verifies without a vault and restores on first run', async () => {
    const first = session('first');
    await value(first, 'Vault.Create', { Protection: 'passphrase', Passphrase: PASSPHRASE });
    const status0 = await value<{ BackupAdvice?: string; KeyVersionsSinceBackup?: number }>(first, 'Vault.Status');
    expect(status0.BackupAdvice).toBeTruthy();
    const key = await value<{ KeyMetadata: { KeyId: string } }>(first, 'Kms.Call', {
      Action: 'CreateKey',
      Params: { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' },
    });
    const path = join(dir, 'first.backup');
    const created = await value<Created>(first, 'Kms.Call', { Action: 'CreateBackup', Params: { Path: path, Recovery: 'shares', Shares: 3, Threshold: 2 } });
    expect(created.Shares).toHaveLength(3);
    const status1 = await value<{ LastBackup?: { BackupId: string; Path: string }; KeyVersionsSinceBackup?: number; BackupAdvice?: string }>(first, 'Vault.Status');
    expect(status1.LastBackup).toMatchObject({ BackupId: created.BackupId, Path: path });
    expect(status1.KeyVersionsSinceBackup).toBe(0);
    expect(status1.BackupAdvice).toBeUndefined();

    // The pages: the HTML page, the QR code's SVG and the share file, whose words read back exactly.
    const shares = created.Shares.map((mnemonic, i) => ({
      index: i + 1,
      count: created.ShareCount,
      threshold: created.Threshold,
      identifier: created.ShareIdentifier,
      backupId: created.BackupId,
      vaultId: created.VaultId,
      created: created.Created,
      mnemonic,
    }));
    const { Pages } = await value<{ Pages: { Index: number; Html: string; QrSvg: string; Text: string; FileStem: string }[] }>(first, 'Backup.SharePages', {
      Shares: shares,
    });
    expect(Pages.map((p) => p.FileStem)).toEqual(['share-1-of-3', 'share-2-of-3', 'share-3-of-3']);
    for (const [i, page] of Pages.entries()) {
      expect(page.Html).toContain(`DeskKMS recovery share ${i + 1} of 3`);
      expect(page.QrSvg).toMatch(/^<svg /);
      expect(readShareFile(page.Text, page.FileStem)).toBe(created.Shares[i]);
    }

    // Verify and Inspect need no vault: a session on an empty directory reads the backup.
    const second = session('second');
    const header = await value<{ Recovery: string; Threshold: number; ShareCount: number }>(second, 'Backup.Inspect', { Path: path });
    expect(header).toMatchObject({ Recovery: 'shares', Threshold: 2, ShareCount: 3 });
    expect((await refusal(second, 'Backup.Verify', { Path: path, Shares: [created.Shares[0]] })).Code).toBe('Backup.SharesInsufficient');
    const bad = (await refusal(second, 'Backup.Verify', { Path: path, Shares: [created.Shares[0], 'not a share'] })).Message;
    expect(bad).toMatch(/share 2/);
    const contents = await value<{ KeyCount: number; Keys: { KeyId: string }[] }>(second, 'Backup.Verify', {
      Path: path,
      Shares: [Pages[2]!.Text, created.Shares[0]],
    });
    expect(contents.KeyCount).toBe(1);
    expect(contents.Keys.map((k) => k.KeyId)).toEqual([key.KeyMetadata.KeyId]);
    expect((await value<{ Initialized: boolean }>(second, 'Vault.Status')).Initialized).toBe(false);

    // Restore on first run, under a new passphrase: the session holds the vault, unlocked.
    const restored = await value<{ Initialized: boolean; Locked: boolean; ProtectionKind: string; KeyCount: number; Restored: { BackupId: string; KeyCount: number } }>(
      second,
      'Vault.Restore',
      { Path: path, Shares: [created.Shares[1], created.Shares[2]], Protection: 'passphrase', NewPassphrase: 'another station passphrase' },
    );
    expect(restored).toMatchObject({ Initialized: true, Locked: false, ProtectionKind: 'passphrase', KeyCount: 1 });
    expect(restored.Restored).toMatchObject({ BackupId: created.BackupId, KeyCount: 1 });
    const { Keys } = await value<{ Keys: { KeyId: string }[] }>(second, 'Keys.Inventory');
    expect(Keys.map((k) => k.KeyId)).toEqual([key.KeyMetadata.KeyId]);
    // The directory holds a vault now: a second restore is refused, and so is a create.
    const again = await refusal(second, 'Vault.Restore', { Path: path, Shares: created.Shares, Protection: 'passphrase', NewPassphrase: 'another station passphrase' });
    expect(again).toMatchObject({ Code: 'InvalidParameter' });
    expect(again.Message).toMatch(/already holds a vault/);
  });

  it('refuses a request that names no secret, both secrets, or a new passphrase that does not fit the protection', async () => {
    const s = session('vault');
    const path = join(dir, 'none.backup');
    const neither = await refusal(s, 'Backup.Verify', { Path: path });
    expect(neither).toEqual({ Code: 'MissingParameter', Message: 'Passphrase or Shares is required' });
    const both = await refusal(s, 'Backup.Verify', { Path: path, Passphrase: 'x', Shares: ['y'] });
    expect(both).toEqual({ Code: 'InvalidParameter', Message: 'Shares: give the recovery passphrase or the shares, not both' });
    expect((await refusal(s, 'Backup.Verify', { Path: path, Shares: [] })).Message).toMatch(/^Shares: holds no share/);
    expect((await refusal(s, 'Backup.Verify', { Path: path, Shares: Array(17).fill('w') })).Message).toMatch(/more than 16 shares/);
    expect((await refusal(s, 'Backup.Verify', { Path: '', Passphrase: 'x' })).Message).toBe('Path: is empty');
    const noNew = await refusal(s, 'Vault.Restore', { Path: path, Passphrase: 'x', Protection: 'passphrase' });
    expect(noNew).toEqual({ Code: 'MissingParameter', Message: 'NewPassphrase is required' });
    const extra = await refusal(s, 'Vault.Restore', { Path: path, Passphrase: 'x', Protection: 'keychain', NewPassphrase: 'long enough one' });
    expect(extra).toEqual({ Code: 'InvalidParameter', Message: 'NewPassphrase: is only for Protection passphrase' });
    expect((await refusal(s, 'Vault.Restore', { Path: path, Passphrase: 'x', Protection: 'disk' })).Message).toMatch(/^Protection: must be keychain or passphrase/);
    expect((await refusal(s, 'Backup.SharePages', { Shares: [{ index: 1 }] })).Code).toMatch(/Parameter$/);
    // A file that is not there is the backup's own refusal (it names the file); nothing was created.
    const missing = await refusal(s, 'Backup.Inspect', { Path: path });
    expect(missing.Message).toContain('none.backup');
    const restore = await refusal(s, 'Vault.Restore', { Path: path, Passphrase: 'recovery words', Protection: 'passphrase', NewPassphrase: 'long enough one' });
    expect(restore.Message).toContain('none.backup');
    expect((await value<{ Initialized: boolean }>(s, 'Vault.Status')).Initialized).toBe(false);
  });
});
