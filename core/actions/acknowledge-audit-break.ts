// AcknowledgeAuditBreak (DeskKMS, local only): a way out of a vault that refuses every call over a
// broken audit log. The break found is recorded (MACed, verify keeps reporting it) and the head
// re-anchored in the write, so this Action's own entry, in the same transaction, extends the log
// again. Refused (InvalidParameter) on an intact log.
import { acknowledgeAuditBreak as acknowledgeBreak, nothingToAcknowledge, verifyAuditChain } from '../audit/audit-log.ts';
import type { Handler } from './operation.ts';

export const acknowledgeAuditBreak: Handler<'AcknowledgeAuditBreak'> = (vault) => {
  const verdict = verifyAuditChain(vault.store.db);
  if (verdict.ok) throw nothingToAcknowledge();
  const now = vault.now();
  return Promise.resolve({
    response: { Acknowledged: verdict },
    // Checked again in the transaction: the break recorded is the one found there.
    write: (db) => void acknowledgeBreak(db, now),
  });
};
