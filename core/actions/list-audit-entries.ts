// ListAuditEntries (DeskKMS, local only): the audit log filtered by key, Action and time, oldest or
// newest first, at most Limit entries (Truncated: more matched; BeforeSeq pages further back).
// A KeyId or alias of this vault is resolved to its KeyId; any other text is matched as recorded
// (a remote key, a deleted key's id). A successful read records nothing in the log (dispatch).
import { listAuditEntries as listAuditRows } from '../audit/audit-log.ts';
import type { Handler } from './operation.ts';

export const listAuditEntries: Handler<'ListAuditEntries'> = (vault, req) => {
  const limit = req.Limit;
  const entries = listAuditRows(vault.store.db, {
    ...(req.KeyId !== undefined ? { keyId: vault.resolveKeyIdLenient(req.KeyId) } : {}),
    ...(req.Action !== undefined ? { action: req.Action } : {}),
    ...(req.Since !== undefined ? { since: new Date(req.Since) } : {}),
    ...(req.Until !== undefined ? { until: new Date(req.Until) } : {}),
    ...(req.BeforeSeq !== undefined ? { beforeSeq: req.BeforeSeq } : {}),
    // One more than asked tells whether more entries match.
    ...(limit !== undefined ? { limit: limit + 1 } : {}),
    newestFirst: req.NewestFirst,
  });
  const truncated = limit !== undefined && entries.length > limit;
  return Promise.resolve({ response: { Entries: truncated ? entries.slice(0, limit) : entries, Truncated: truncated } });
};
