// The audit head's anchor: (seq, hash) of the newest entry, MACed with the vault's integrity key
// (core/vault/integrity.ts, derived from the data key) and kept in the vault header. A plain hash
// chain cannot show that its tail was cut, that it was emptied, or that it was rewritten with
// recomputed hashes; against the anchor each of these is a mismatch.
//
// The anchor moves in the same transaction as every append made while the vault is unlocked.
// Entries appended while it is locked (refused calls: nothing is done with a locked vault) extend
// the chain past the anchor; they are chain-checked and anchored by the next unlocked append. Until
// then they are the one span a file editor could still cut unseen.
//
// Before each append the anchor is checked (its MAC when the key is known; that the anchored entry
// still exists with the anchored hash; the links of any entries past it): a vault whose log no
// longer matches refuses every write with Vault.AuditBroken, rather than extending a broken chain.
import type { AcknowledgedBreakView } from '../contract/app-api.ts';
import { KmsError } from '../contract/errors.ts';
import { hasIntegrityKey, integrityMac, macsEqual } from '../vault/integrity.ts';
import { readMeta, setMeta } from '../vault/meta.ts';
import type { Db } from '../vault/store.ts';

const ANCHOR_META = 'audit_anchor';
const BREAKS_META = 'audit_breaks';

export interface Anchor {
  readonly seq: number;
  /** Hex SHA-256 of entry `seq` (the genesis hash for seq 0). */
  readonly hash: string;
}

/** A stored anchor as found; `authentic` is undefined while the vault is locked (no key to check it). */
interface StoredAnchor extends Anchor {
  readonly authentic: boolean | undefined;
}

function anchorMac(db: Db, anchor: Anchor): Buffer {
  return integrityMac(db, 'audit-anchor', [anchor.seq, anchor.hash]);
}

/** Records (seq, hash) as the anchored head. Needs the integrity key (an unlocked vault). */
export function setAuditAnchor(db: Db, anchor: Anchor): void {
  const value = JSON.stringify({ seq: anchor.seq, hash: anchor.hash, mac: anchorMac(db, anchor).toString('hex') });
  setMeta(db, ANCHOR_META, value);
}

/** The stored anchor; undefined when there is none; a malformed one reads as not authentic. */
function readAnchor(db: Db): StoredAnchor | undefined {
  const stored = readMeta(db, ANCHOR_META);
  if (stored === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = typeof stored === 'string' ? JSON.parse(stored) : undefined;
  } catch {
    parsed = undefined;
  }
  const p = parsed as { seq?: unknown; hash?: unknown; mac?: unknown } | undefined;
  if (!p || !Number.isSafeInteger(p.seq) || (p.seq as number) < 0 || typeof p.hash !== 'string' || !/^[0-9a-f]{64}$/.test(p.hash) || typeof p.mac !== 'string') {
    return { seq: 0, hash: '', authentic: false };
  }
  const anchor = { seq: p.seq as number, hash: p.hash };
  const authentic = hasIntegrityKey(db) ? macsEqual(Buffer.from(p.mac, 'hex'), anchorMac(db, anchor)) : undefined;
  return { ...anchor, authentic };
}

export type AnchorCheck =
  | { readonly ok: true; readonly anchor: Anchor | undefined; readonly checked: boolean }
  | { readonly ok: false; readonly firstBroken: number; readonly reason: string };

/**
 * Compares the anchor with the chain as stored. `hashAt(seq)` gives the stored hash of entry seq
 * (hex), or undefined when there is no such entry; `headSeq` is the last stored seq (0 when empty).
 * Does not walk the chain: the caller checks the links past the anchor.
 */
export function checkAnchor(db: Db, headSeq: number, hashAt: (seq: number) => string | undefined, genesis: string): AnchorCheck {
  const anchor = readAnchor(db);
  const keyed = hasIntegrityKey(db);
  if (anchor === undefined) {
    // Every vault with an integrity key has had an anchor since its first unlocked write.
    return keyed ? { ok: false, firstBroken: 1, reason: 'the audit anchor is missing from the vault header: the log cannot be trusted (it may have been emptied or replaced)' } : { ok: true, anchor: undefined, checked: false };
  }
  if (anchor.authentic === false) {
    return { ok: false, firstBroken: 1, reason: 'the audit anchor in the vault header is not authentic: it was edited outside DeskKMS' };
  }
  if (headSeq < anchor.seq) {
    const first = headSeq + 1;
    return {
      ok: false,
      firstBroken: first,
      reason:
        headSeq === 0
          ? `the log is empty but its anchor records ${anchor.seq} entries: it was emptied`
          : `entries ${first} to ${anchor.seq} are missing: the log ends at ${headSeq} but its anchor records ${anchor.seq} (cut at the tail)`,
    };
  }
  const stored = anchor.seq === 0 ? genesis : hashAt(anchor.seq);
  if (stored !== anchor.hash) {
    return { ok: false, firstBroken: 1, reason: `entry ${anchor.seq} does not carry the anchored hash: the log up to it was rewritten` };
  }
  return { ok: true, anchor, checked: keyed };
}

export function auditBroken(firstBroken: number, reason: string): KmsError {
  return new KmsError(
    'Vault.AuditBroken',
    `the audit log cannot be trusted from entry ${firstBroken}: ${reason}. The vault refuses changes so that nothing is recorded on a broken log; run "deskkms audit verify" and restore the vault from a backup`,
  );
}

// Acknowledged breaks. A vault whose log is broken refuses writes; its owner may instead accept
// the log as it stands (after keeping a copy for investigation) with "deskkms audit
// acknowledge-break": the break found is recorded in the header, MACed like the anchor, the head
// re-anchored, and an AcknowledgeAuditBreak entry appended. The break stays visible: verify reports
// every acknowledged one, and a chain broken in the middle keeps failing verify at that entry.


/** As the contract shows it; headSeq: the last entry when the break was acknowledged (later ones are on the new anchor). */
export type AcknowledgedBreak = AcknowledgedBreakView;

function breaksMac(db: Db, breaks: readonly AcknowledgedBreak[]): Buffer {
  return integrityMac(db, 'audit-breaks', [JSON.stringify(breaks)]);
}

/**
 * The acknowledged breaks; `authentic` is false when the record was edited (then the log cannot be
 * trusted either), undefined while the vault is locked.
 */
export function acknowledgedBreaks(db: Db): { breaks: AcknowledgedBreak[]; authentic: boolean | undefined } {
  const stored = readMeta(db, BREAKS_META);
  if (stored === undefined) return { breaks: [], authentic: true };
  try {
    const parsed = JSON.parse(typeof stored === 'string' ? stored : '') as { breaks?: unknown; mac?: unknown };
    if (!Array.isArray(parsed.breaks) || typeof parsed.mac !== 'string') return { breaks: [], authentic: false };
    const breaks = parsed.breaks as AcknowledgedBreak[];
    const authentic = hasIntegrityKey(db) ? macsEqual(Buffer.from(parsed.mac, 'hex'), breaksMac(db, breaks)) : undefined;
    return { breaks, authentic };
  } catch {
    return { breaks: [], authentic: false };
  }
}

/** Adds a break to the record (needs the integrity key); the caller re-anchors in the same transaction. */
export function recordAcknowledgedBreak(db: Db, entry: AcknowledgedBreak): void {
  const { breaks, authentic } = acknowledgedBreaks(db);
  if (authentic !== true) throw auditBroken(1, 'the record of acknowledged audit breaks was edited outside DeskKMS');
  const next = [...breaks, entry];
  const value = JSON.stringify({ breaks: next, mac: breaksMac(db, next).toString('hex') });
  setMeta(db, BREAKS_META, value);
}

/** The record of acknowledged breaks written again as it is (a data-key rotation MACs it under the new integrity key). */
export function rewriteAcknowledgedBreaks(db: Db, breaks: readonly AcknowledgedBreak[]): void {
  if (breaks.length === 0 && readMeta(db, BREAKS_META) === undefined) return;
  setMeta(db, BREAKS_META, JSON.stringify({ breaks, mac: breaksMac(db, breaks).toString('hex') }));
}
