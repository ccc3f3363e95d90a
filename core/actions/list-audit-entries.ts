// ListAuditEntries (DeskKMS, local only): the audit log filtered by key, Action, time, kind
// (core/contract/audit-kinds.ts), caller and a search over its ids and names (all in the query, so
// Limit, Truncated and BeforeSeq page the filtered log), oldest or newest first, at most Limit
// entries (Truncated: more matched; BeforeSeq pages further back).
// A KeyId or alias of this vault is resolved to its KeyId; any other text is matched as recorded
// (a remote key, a deleted key's id). A successful read records nothing in the log (dispatch).
import { listAuditEntries as listAuditRows } from '../audit/audit-log.ts';
import { invalidParameter } from '../contract/errors.ts';
import type { Handler } from './operation.ts';

/** The longest KeyId an entry keeps (longer text from a caller is recorded cut, see core/audit/audit-log.ts). */
const RECORDED_KEY_ID_MAX = 128;

export const listAuditEntries: Handler<'ListAuditEntries'> = (vault, req) => {
  const limit = req.Limit;
  const keyId = req.KeyId === undefined ? undefined : vault.resolveKeyIdLenient(req.KeyId);
  if (keyId !== undefined && keyId.length > RECORDED_KEY_ID_MAX) {
    throw invalidParameter('KeyId', `names no key of this vault, and no entry keeps a KeyId longer than ${RECORDED_KEY_ID_MAX} characters`);
  }
  const entries = listAuditRows(vault.store.db, {
    ...(keyId !== undefined ? { keyId } : {}),
    ...(req.Action !== undefined ? { action: req.Action } : {}),
    ...(req.Since !== undefined ? { since: new Date(req.Since) } : {}),
    ...(req.Until !== undefined ? { until: new Date(req.Until) } : {}),
    ...(req.BeforeSeq !== undefined ? { beforeSeq: req.BeforeSeq } : {}),
    ...(req.Kind !== undefined ? { kind: req.Kind } : {}),
    ...(req.Caller !== undefined ? { caller: req.Caller } : {}),
    ...(req.Search !== undefined ? { search: req.Search } : {}),
    // One more than asked tells whether more entries match.
    ...(limit !== undefined ? { limit: limit + 1 } : {}),
    newestFirst: req.NewestFirst,
  });
  const truncated = limit !== undefined && entries.length > limit;
  return Promise.resolve({ response: { Entries: truncated ? entries.slice(0, limit) : entries, Truncated: truncated } });
};
