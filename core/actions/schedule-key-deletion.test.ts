import { describe, expect, it } from 'vitest';
import { listAuditEntries } from '../audit/audit-log.ts';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('schedule-key-deletion');

describe('ScheduleKeyDeletion', () => {
  it('marks the key PendingDeletion, due after the window', async () => {
    const key = await v.makeKey('EC_P256');
    await v.call('ScheduleKeyDeletion', { KeyId: key.keyId, PendingWindowInDays: 7 });
    expect((await v.call('DescribeKey', { KeyId: key.keyId })).KeyMetadata).toMatchObject({ KeyState: 'PendingDeletion', DeleteDate: '2026-11-29T12:00:00Z' });
  });

  it('destroys the key, its versions and aliases once the window has passed', async () => {
    const key = await v.makeKey('EC_P256K');
    await v.call('CreateKeyVersion', { KeyId: key.keyId });
    await v.call('CreateAlias', { KeyId: key.keyId, AliasName: 'alias/doomed' });
    await v.call('ScheduleKeyDeletion', { KeyId: key.keyId, PendingWindowInDays: 7 });
    v.now = new Date(v.now.getTime() + 6 * 86_400_000);
    expect(await v.vault.purgeDueKeys()).toEqual([]);
    v.now = new Date(v.now.getTime() + 1 * 86_400_000 + 1000);
    expect(await v.vault.purgeDueKeys()).toContain(key.keyId);
    await v.refused('DescribeKey', { KeyId: key.keyId }, 'Forbidden.KeyNotFound');
    await v.refused('DescribeKey', { KeyId: 'alias/doomed' }, 'Forbidden.AliasNotFound');
    const row = v.vault.store.db.prepare('SELECT count(*) AS n FROM key_versions WHERE key_id = ?').get(key.keyId) as { n: number };
    expect(row.n).toBe(0);
    expect(listAuditEntries(v.vault.store.db, { keyId: key.keyId, action: 'DeleteKeyMaterial' })).toHaveLength(1);
  });

  it('refuses a window under 7 days and a key already pending deletion', async () => {
    const key = await v.makeKey('EC_P256');
    expect((await v.refused('ScheduleKeyDeletion', { KeyId: key.keyId, PendingWindowInDays: 6 }, 'InvalidParameter')).Message).toMatch(/PendingWindowInDays: must be at least 7/);
    await v.call('ScheduleKeyDeletion', { KeyId: key.keyId, PendingWindowInDays: 30 });
    const again = await v.refused('ScheduleKeyDeletion', { KeyId: key.keyId, PendingWindowInDays: 7 }, 'Rejected.PendingDeletion');
    expect(again.Message).toMatch(/is already pending deletion/);
    expect(again.audit.keyId).toBe(key.keyId);
  });
});
