// VerifyAuditChain through dispatch: the verdict of the chain and its MACed anchor; on a broken log
// (which refuses every other call) it still answers, naming the first broken entry, and records
// nothing; local only.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminVault, EVERYTHING, type AdminVault } from '../../test/support/admin-vault.ts';

let v: AdminVault;
beforeEach(async () => {
  v = await adminVault();
  for (let i = 0; i < 3; i++) await v.ok('CreateKey', { KeySpec: 'EC_P256' });
});
afterEach(() => v.close());

function attack(sql: string): void {
  const db = new Database(join(v.dir, 'vault', 'vault.db'));
  try {
    db.prepare(sql).run();
  } finally {
    db.close();
  }
}

describe('VerifyAuditChain', () => {
  it('an intact log: ok, every entry under the anchor, the head the newest hash; nothing recorded', async () => {
    const { Entries } = await v.ok('ListAuditEntries', { NewestFirst: true, Limit: 1 });
    const verdict = (await v.ok('VerifyAuditChain')).Verdict;
    expect(verdict).toMatchObject({ ok: true, entries: 4, anchored: 4, head: Entries[0].hash });
    expect(v.count()).toBe(4);
  });

  it('an edited entry: ok false naming it, answered though the log refuses every other call', async () => {
    attack("UPDATE audit_log SET code = 'Forbidden.NoPermission' WHERE seq = 2");
    const verdict = (await v.ok('VerifyAuditChain')).Verdict;
    expect(verdict).toMatchObject({ ok: false, entries: 1, firstBroken: 2, reason: expect.stringMatching(/entry 2's contents do not match its hash/) as unknown });
    attack('DELETE FROM audit_log WHERE seq = 4');
    expect((await v.ok('VerifyAuditChain')).Verdict).toMatchObject({ ok: false, firstBroken: 2 });
    expect((await v.refused('ListKeys')).Code).toBe('Vault.AuditBroken');
  });

  it('a cut tail: ok false from the first missing entry; the log is not extended', async () => {
    attack('DELETE FROM audit_log WHERE seq > 2');
    expect((await v.ok('VerifyAuditChain')).Verdict).toMatchObject({ ok: false, entries: 2, firstBroken: 3, reason: expect.stringMatching(/cut at the tail/) as unknown });
    expect(v.count()).toBe(2);
  });

  it('is refused to an access key, audited', async () => {
    expect((await v.refused('VerifyAuditChain', {}, EVERYTHING)).Code).toBe('Forbidden.NoPermission');
    expect(v.audited('VerifyAuditChain').map((e) => e.code)).toEqual(['Forbidden.NoPermission']);
    expect((await v.refused('VerifyAuditChain', { Deep: true })).Code).toBe('InvalidParameter');
  });
});
