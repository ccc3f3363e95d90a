// VerifyAuditChain (DeskKMS, local only): walks the audit log's hash chain, checks it against its
// MACed anchor and runs SQLite's integrity check (core/audit/audit-log.ts), answering the Verdict:
// ok with the entries verified, or the first entry that cannot be trusted and why; acknowledged
// breaks stay reported. It answers on a broken log too (a successful read appends nothing).
import { verifyAuditChain as verifyChain } from '../audit/audit-log.ts';
import type { Handler } from './operation.ts';

export const verifyAuditChain: Handler<'VerifyAuditChain'> = (vault) => Promise.resolve({ response: { Verdict: verifyChain(vault.store.db) } });
