// AcknowledgeAuditBreak through dispatch: on an intact log it is refused (audited with its Code);
// after a cut it records the break, re-anchors, and its own entry extends the log, so calls work
// again while verify keeps reporting the break; local only.
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

describe('AcknowledgeAuditBreak', () => {
  it('an intact log has nothing to acknowledge: InvalidParameter, audited', async () => {
    const error = await v.refused('AcknowledgeAuditBreak');
    expect(error).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringMatching(/intact: there is no break to acknowledge/) as unknown });
    expect(v.audited('AcknowledgeAuditBreak')).toEqual([expect.objectContaining({ code: 'InvalidParameter', requestId: error.RequestId })]);
  });

  it('after a cut tail: the break is recorded, its entry extends the log, calls work, verify reports the acknowledged break', async () => {
    const db = new Database(join(v.dir, 'vault', 'vault.db'));
    db.prepare('DELETE FROM audit_log WHERE seq > 2').run();
    db.close();
    expect((await v.refused('ListKeys')).Code).toBe('Vault.AuditBroken');
    const ack = await v.ok('AcknowledgeAuditBreak');
    expect(ack.Acknowledged).toMatchObject({ ok: false, firstBroken: 3, reason: expect.stringMatching(/cut at the tail/) as unknown });
    expect(v.audited('AcknowledgeAuditBreak')).toEqual([expect.objectContaining({ seq: 3, code: 'OK', caller: 'cli', requestId: ack.RequestId })]);
    await v.ok('ListKeys');
    expect((await v.ok('VerifyAuditChain')).Verdict).toMatchObject({ ok: true, entries: 4, anchored: 4, acknowledged: [{ firstBroken: 3, headSeq: 2 }] });
    // Intact again: a second acknowledgement is refused.
    expect((await v.refused('AcknowledgeAuditBreak')).Code).toBe('InvalidParameter');
  });

  it('is refused to an access key, even on a broken log (that refusal cannot be written either)', async () => {
    expect((await v.refused('AcknowledgeAuditBreak', {}, EVERYTHING)).Code).toBe('Forbidden.NoPermission');
    expect(v.audited('AcknowledgeAuditBreak').map((e) => e.code)).toEqual(['Forbidden.NoPermission']);
  });
});
