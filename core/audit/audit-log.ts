// The vault's audit log: one row per vault call (successful or not), hash-chained so that editing,
// deleting, reordering or replaying a row is detectable by verifyAuditChain.
//
// Chain: hash_n = SHA-256(prev_hash_n || encode(seq, time, action, keyId, keyVersionId, code,
// caller, requestId)), prev_hash_1 = GENESIS, prev_hash_n = hash_(n-1). encode() is a prefix-free
// code: each field is 0x00 (NULL) or 0x01 || u32be(byte length) || UTF-8 bytes, in a fixed order,
// so no two distinct rows encode to the same bytes (plain concatenation would let "ab"+"c" and
// "a"+"bc" collide). prev_hash is always 32 bytes, so prepending it is unambiguous too.
//
// What the unkeyed chain alone cannot detect (a cut tail, an emptied log, a rewrite with
// recomputed hashes, a forged row appended with a correct hash) the anchor does: the head's
// (seq, hash) MACed with the vault's integrity key, moved with every unlocked append and checked
// before each one (anchor.ts). verifyAuditChain walks the chain, checks the anchor, and runs
// SQLite's integrity check over the file.
//
// Concurrency: several processes (CLI, desktop app) append to the same vault. appendAuditEntries
// reads the head and inserts inside the caller's write transaction, which the store opens with
// BEGIN IMMEDIATE, so no other writer can interleave between the read and the insert. seq is the
// primary key, so even a caller that wrongly used a deferred transaction could not fork the chain:
// its insert would fail (SQLITE_BUSY or a constraint error) rather than duplicate a seq.
import { createHash, randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { KmsError, invalidParameter, toKmsError } from '../contract/errors.ts';
import { hasUnsafeText } from '../contract/escape-text.ts';
import { acknowledgedBreaks, auditBroken, checkAnchor, recordAcknowledgedBreak, setAuditAnchor, type AnchorCheck } from './anchor.ts';
import type { AuditVerdictView } from '../contract/app-api.ts';
import { actionsOfKind, AUDIT_KINDS, isAuditKind, type AuditKind } from '../contract/audit-kinds.ts';
import { digest } from '../crypto/hmac.ts';
import { hasIntegrityKey } from '../vault/integrity.ts';

export const AUDIT_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS audit_log (
  seq            INTEGER PRIMARY KEY CHECK (seq >= 1),
  time           TEXT NOT NULL,
  action         TEXT NOT NULL,
  key_id         TEXT,
  key_version_id TEXT,
  code           TEXT NOT NULL,
  caller         TEXT NOT NULL,
  request_id     TEXT NOT NULL,
  prev_hash      BLOB NOT NULL CHECK (length(prev_hash) = 32),
  hash           BLOB NOT NULL CHECK (length(hash) = 32)
) STRICT;
CREATE INDEX IF NOT EXISTS audit_log_by_key ON audit_log (key_id, seq) WHERE key_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_log_by_action ON audit_log (action, seq);
CREATE INDEX IF NOT EXISTS audit_log_by_time ON audit_log (time);
`;

export interface AuditEntryInput {
  readonly action: string;
  readonly keyId?: string;
  readonly keyVersionId?: string;
  /** 'OK' or the error Code, e.g. 'Rejected.Disabled'. */
  readonly code: string;
  /** 'cli' | 'app' | 'api:<AccessKeyId>' | 'batch' ... */
  readonly caller: string;
  readonly requestId: string;
  /** Defaults to now. */
  readonly time?: Date;
}

export interface AuditEntry extends Required<Omit<AuditEntryInput, 'time' | 'keyId' | 'keyVersionId'>> {
  seq: number;
  /** ISO-8601 UTC with milliseconds, e.g. 2025-01-31T12:00:00.000Z. */
  time: string;
  keyId: string | null;
  keyVersionId: string | null;
  /** Hex. */
  prevHash: string;
  /** Hex. */
  hash: string;
}

export interface AuditFilter {
  keyId?: string;
  action?: string;
  /** Inclusive. */
  since?: Date;
  /** Inclusive. */
  until?: Date;
  /** The first `limit` matching entries in seq order; 1..100000. */
  limit?: number;
  /** Newest first (descending seq): with `limit`, the latest entries. */
  newestFirst?: boolean;
  /** Only entries with a seq below this (a page cursor for newest-first listing). */
  beforeSeq?: number;
  /** Only entries of this kind (core/contract/audit-kinds.ts auditKind). */
  kind?: AuditKind;
  /** Only entries of this caller, exactly. */
  caller?: string;
  /** Only entries whose requestId, action, keyId, keyVersionId, caller or code holds this text (ASCII case ignored). */
  search?: string;
}

/**
 * ok: every row verified; `entries` rows, `head` the last hash (hex), null for an empty log.
 * not ok: `firstBroken` is the lowest seq that cannot be trusted (for a missing row, the missing
 * seq); `entries` is the number of rows before it that verified. The shape is the contract's, the
 * one the app shows.
 */
export type ChainVerdict = AuditVerdictView;

const GENESIS: Buffer = createHash('sha256').update('deskkms-audit-v1', 'utf8').digest();
const HASH_BYTES = 32;
const MAX_ACTION = 64;
const MAX_CODE = 128;
const MAX_CALLER = 128;
const MAX_ID = 128;
const MAX_LIMIT = 100_000;
const COLUMNS = 'seq, time, action, key_id, key_version_id, code, caller, request_id, prev_hash, hash';
/** The columns a search looks in (a NULL key column matches nothing). */
const SEARCHED_COLUMNS = ['request_id', 'action', 'key_id', 'key_version_id', 'caller', 'code'] as const;

interface AuditRow {
  seq: number;
  time: string;
  action: string;
  key_id: string | null;
  key_version_id: string | null;
  code: string;
  caller: string;
  request_id: string;
  prev_hash: Buffer;
  hash: Buffer;
}

/** The hashed fields of a row, in encoding order. */
type ChainFields = readonly [seq: number, time: string, action: string, keyId: string | null, keyVersionId: string | null, code: string, caller: string, requestId: string];

interface Statements {
  readonly head: Database.Statement<[], { seq: number; hash: Buffer }>;
  readonly insert: Database.Statement<unknown[]>;
  readonly after: Database.Statement<[number], AuditRow>;
  readonly hashAt: Database.Statement<[number], { hash: unknown }>;
  /** Runs the inserts in a SAVEPOINT, so a failure part-way leaves none of the batch behind. */
  readonly insertBatch: Database.Transaction<(rows: readonly (readonly unknown[])[]) => void>;
  readonly lists: Map<string, Database.Statement<unknown[], AuditRow>>;
}

const statementCache = new WeakMap<Database.Database, Statements>();

function statements(db: Database.Database): Statements {
  let s = statementCache.get(db);
  if (s === undefined) {
    const insert = db.prepare<unknown[]>(`INSERT INTO audit_log (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    s = {
      head: db.prepare<[], { seq: number; hash: Buffer }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1'),
      insert,
      after: db.prepare<[number], AuditRow>(`SELECT ${COLUMNS} FROM audit_log WHERE seq > ? ORDER BY seq`),
      hashAt: db.prepare<[number], { hash: unknown }>('SELECT hash FROM audit_log WHERE seq = ?'),
      insertBatch: db.transaction((rows: readonly unknown[][]) => {
        for (const row of rows) insert.run(...row);
      }),
      lists: new Map(),
    };
    statementCache.set(db, s);
  }
  return s;
}

/** The fields as hashed: per field 0x00 for NULL, or 0x01, its UTF-8 length (u32 BE) and its UTF-8 bytes. */
function encodeFields(fields: ChainFields, prefix?: Buffer): Buffer {
  const texts = fields.map((field) => (field === null ? null : typeof field === 'number' ? String(field) : field));
  let size = prefix?.length ?? 0;
  for (const text of texts) size += text === null ? 1 : 5 + Buffer.byteLength(text, 'utf8');
  const out = Buffer.allocUnsafe(size);
  let at = prefix ? prefix.copy(out, 0) : 0;
  for (const text of texts) {
    if (text === null) {
      out[at++] = 0;
      continue;
    }
    out[at] = 1;
    const length = out.write(text, at + 5, 'utf8');
    out.writeUInt32BE(length, at + 1);
    at += 5 + length;
  }
  return out;
}

/** SHA-256 over the previous entry's hash and this entry's encoded fields (one buffer, one-shot). */
function chainHash(prevHash: Buffer, fields: ChainFields): Buffer {
  return digest('sha256', encodeFields(fields, prevHash));
}

// Lone surrogates would be replaced on the way into SQLite, and control, bidi and other invisible
// characters have no place in these fields (they would garble or reorder the table): text from
// outside reaches an entry through escapeText (core/contract/escape-text.ts), so a raw one here
// means a caller bug.

function internal(message: string): KmsError {
  return new KmsError('InternalFailure', `audit log: ${message}`);
}

function checkText(name: string, value: unknown, max: number, index: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max || hasUnsafeText(value)) {
    throw internal(`entry ${index}: ${name} must be a printable string of 1 to ${max} characters`);
  }
  return value;
}

function checkOptionalText(name: string, value: unknown, max: number, index: number): string | null {
  return value === undefined ? null : checkText(name, value, max, index);
}

function isValidDate(value: unknown): value is Date {
  return value instanceof Date && Number.isFinite(value.getTime());
}

/** Years 0000-9999 keep toISOString fixed-width, so text order is time order. */
function isoTime(value: Date): string | undefined {
  if (!isValidDate(value)) return undefined;
  const year = value.getUTCFullYear();
  return year >= 0 && year <= 9999 ? value.toISOString() : undefined;
}

function validateInput(entry: AuditEntryInput, index: number, now: string | undefined): ChainFields {
  if (typeof entry !== 'object' || entry === null) throw internal(`entry ${index} is not an object`);
  const time = entry.time === undefined ? now : isoTime(entry.time);
  if (time === undefined) throw internal(`entry ${index}: time must be a valid Date between years 0 and 9999`);
  return [
    0, // seq, assigned at insert
    time,
    checkText('action', entry.action, MAX_ACTION, index),
    checkOptionalText('keyId', entry.keyId, MAX_ID, index),
    checkOptionalText('keyVersionId', entry.keyVersionId, MAX_ID, index),
    checkText('code', entry.code, MAX_CODE, index),
    checkText('caller', entry.caller, MAX_CALLER, index),
    checkText('requestId', entry.requestId, MAX_ID, index),
  ];
}

function toEntry(row: AuditRow): AuditEntry {
  return {
    seq: row.seq,
    time: row.time,
    action: row.action,
    keyId: row.key_id,
    keyVersionId: row.key_version_id,
    code: row.code,
    caller: row.caller,
    requestId: row.request_id,
    prevHash: row.prev_hash.toString('hex'),
    hash: row.hash.toString('hex'),
  };
}

/**
 * Appends entries in order; MUST be called inside a write transaction (BEGIN IMMEDIATE, so the head
 * read here cannot go stale before the insert). Throws InternalFailure outside a transaction or for
 * an invalid entry (entries come from our own code, so a bad one is a bug); all entries are
 * validated before any is written, and a failed insert leaves none of the batch behind.
 */
export function appendAuditEntries(db: Database.Database, entries: readonly AuditEntryInput[]): AuditEntry[] {
  return appendRows(db, entries).map(([seq, time, action, keyId, keyVersionId, code, caller, requestId, prevHash, hash]) => ({
    seq,
    time,
    action,
    keyId,
    keyVersionId,
    code,
    caller,
    requestId,
    prevHash: prevHash.toString('hex'),
    hash: hash.toString('hex'),
  }));
}

/** appendAuditEntries without building its answer: what the vault's own callers use (they never read it). */
export function recordAuditEntries(db: Database.Database, entries: readonly AuditEntryInput[]): void {
  appendRows(db, entries);
}

type AppendedRow = [seq: number, time: string, action: string, keyId: string | null, keyVersionId: string | null, code: string, caller: string, requestId: string, prevHash: Buffer, hash: Buffer];

function appendRows(db: Database.Database, entries: readonly AuditEntryInput[]): AppendedRow[] {
  if (!db.inTransaction) throw internal('appendAuditEntries must be called inside a write transaction');
  const list: readonly AuditEntryInput[] = entries; // (Array.isArray would widen it to any[])
  if (!Array.isArray(entries)) throw internal('entries must be an array');
  // One time for the entries that bring none (toISOString costs ~0.4 µs; a group shares it).
  const now = isoTime(new Date());
  const validated = list.map((entry, i) => validateInput(entry, i, now));
  if (validated.length === 0) return [];

  const s = statements(db);
  const head = s.head.get();
  let seq = head?.seq ?? 0;
  let prevHash = head?.hash ?? GENESIS;
  if (!Number.isSafeInteger(seq) || !Buffer.isBuffer(prevHash) || prevHash.length !== HASH_BYTES) {
    throw new KmsError('Vault.Corrupt', 'audit log: the last entry is malformed');
  }
  // Nothing is appended to a log that no longer matches its anchor (see anchor.ts).
  const anchor = anchorCheck(db, seq);
  if (!anchor.ok) throw auditBroken(anchor.firstBroken, anchor.reason);
  if (anchor.anchor !== undefined && seq > anchor.anchor.seq) {
    const tail = walkChain(db, anchor.anchor.seq, Buffer.from(anchor.anchor.hash, 'hex'));
    if (!tail.ok) throw auditBroken(tail.firstBroken, tail.reason);
  }

  const rows: AppendedRow[] = [];
  for (const [, time, action, keyId, keyVersionId, code, caller, requestId] of validated) {
    seq += 1;
    const hash = chainHash(prevHash, [seq, time, action, keyId, keyVersionId, code, caller, requestId]);
    rows.push([seq, time, action, keyId, keyVersionId, code, caller, requestId, prevHash, hash]);
    prevHash = hash;
  }
  s.insertBatch(rows);
  if (hasIntegrityKey(db)) setAuditAnchor(db, { seq, hash: prevHash.toString('hex') });
  return rows;
}

/**
 * What a call answers when its audit entry could not be written: it failed (DESIGN.md section 4),
 * with the write's Code and saying so. One wording for every host that records refusals.
 */
export function auditWriteFailed(error: unknown): KmsError {
  const e = toKmsError(error);
  return new KmsError(e.code, `the audit entry could not be written (${e.message}); the call failed`);
}

function anchorCheck(db: Database.Database, headSeq: number): AnchorCheck {
  const hashAt = (seq: number): string | undefined => {
    const hash = statements(db).hashAt.get(seq)?.hash;
    return Buffer.isBuffer(hash) ? hash.toString('hex') : undefined;
  };
  return checkAnchor(db, headSeq, hashAt, GENESIS.toString('hex'));
}

/**
 * Anchors the log at its current head: for a new vault (the genesis, before its first entry) and
 * for a vault made before anchoring, when it is first unlocked. Needs the integrity key.
 */
export function anchorAuditHead(db: Database.Database): void {
  const head = statements(db).head.get();
  setAuditAnchor(db, { seq: head?.seq ?? 0, hash: (head?.hash ?? GENESIS).toString('hex') });
}

function checkFilterText(name: string, value: unknown, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw invalidParameter(name, `must be a string of 1 to ${max} characters`);
  }
  return value;
}

function checkFilterDate(name: string, value: unknown): string {
  const iso = isValidDate(value) ? isoTime(value) : undefined;
  if (iso === undefined) throw invalidParameter(name, 'must be a valid date between years 0 and 9999');
  return iso;
}

/** Entries matching every given filter (AND), in seq order (or newest first). Throws InvalidParameter naming a bad filter. */
export function listAuditEntries(db: Database.Database, filter: AuditFilter = {}): AuditEntry[] {
  if (typeof filter !== 'object' || filter === null) throw invalidParameter('filter', 'must be an object');
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.keyId !== undefined) {
    where.push('key_id = ?');
    params.push(checkFilterText('keyId', filter.keyId, MAX_ID));
  }
  if (filter.action !== undefined) {
    where.push('action = ?');
    params.push(checkFilterText('action', filter.action, MAX_ACTION));
  }
  const since = filter.since === undefined ? undefined : checkFilterDate('since', filter.since);
  const until = filter.until === undefined ? undefined : checkFilterDate('until', filter.until);
  if (since !== undefined && until !== undefined && since > until) {
    throw invalidParameter('since', 'must not be later than until');
  }
  if (since !== undefined) {
    where.push('time >= ?');
    params.push(since);
  }
  if (until !== undefined) {
    where.push('time <= ?');
    params.push(until);
  }
  if (filter.kind !== undefined) {
    if (!isAuditKind(filter.kind)) throw invalidParameter('kind', `must be one of ${AUDIT_KINDS.join(', ')}`);
    if (filter.kind === 'refused') {
      where.push("code <> 'OK'");
    } else {
      // auditKind in SQL: a successful entry is a read unless its Action is a change or a private-key use.
      const named = filter.kind === 'read' ? [...actionsOfKind('change'), ...actionsOfKind('private-key')] : actionsOfKind(filter.kind);
      where.push(`code = 'OK' AND action ${filter.kind === 'read' ? 'NOT IN' : 'IN'} (${named.map(() => '?').join(', ')})`);
      params.push(...named);
    }
  }
  if (filter.caller !== undefined) {
    where.push('caller = ?');
    params.push(checkFilterText('caller', filter.caller, MAX_CALLER));
  }
  if (filter.search !== undefined) {
    const text = checkFilterText('search', filter.search, MAX_ID).toLowerCase();
    where.push(`(${SEARCHED_COLUMNS.map((c) => `instr(lower(${c}), ?) > 0`).join(' OR ')})`);
    params.push(...SEARCHED_COLUMNS.map(() => text));
  }
  if (filter.beforeSeq !== undefined) {
    if (!Number.isSafeInteger(filter.beforeSeq) || filter.beforeSeq < 1) throw invalidParameter('beforeSeq', 'must be a positive integer');
    where.push('seq < ?');
    params.push(filter.beforeSeq);
  }
  let limit = '';
  if (filter.limit !== undefined) {
    if (!Number.isSafeInteger(filter.limit) || filter.limit < 1 || filter.limit > MAX_LIMIT) {
      throw invalidParameter('limit', `must be an integer from 1 to ${MAX_LIMIT}`);
    }
    limit = ' LIMIT ?';
    params.push(filter.limit);
  }

  const sql = `SELECT ${COLUMNS} FROM audit_log${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq${filter.newestFirst === true ? ' DESC' : ''}${limit}`;
  const s = statements(db);
  let statement = s.lists.get(sql);
  if (statement === undefined) {
    statement = db.prepare<unknown[], AuditRow>(sql);
    s.lists.set(sql, statement);
  }
  return statement.all(...params).map(toEntry);
}

/**
 * Walks the whole log in seq order, streaming (constant memory), and reports the first row that
 * breaks the chain: a seq gap (deleted row) or a seq not starting at 1, a prev_hash that is not the
 * genesis (seq 1) or the previous row's hash (reordered, replayed or re-linked row), or a hash that
 * does not match the row's contents (edited field). An edited row whose hash was recomputed shows as
 * a broken prev_hash on the next row. Then the anchor: a log shorter than its anchor (cut, emptied)
 * or whose anchored entry lost its hash (rewritten) is broken too; and the file must pass SQLite's
 * integrity check.
 */
export function verifyAuditChain(db: Database.Database): ChainVerdict {
  const { breaks, authentic } = acknowledgedBreaks(db);
  const acknowledged = breaks.length > 0 ? { acknowledged: breaks } : {};
  if (authentic === false) {
    return { ok: false, entries: 0, firstBroken: 1, reason: 'the record of acknowledged audit breaks was edited outside DeskKMS' };
  }
  const damaged = databaseDamage(db);
  if (damaged !== undefined) return { ok: false, entries: 0, firstBroken: 1, reason: `vault.db fails SQLite's integrity check (${damaged}): the file is damaged`, ...acknowledged };
  const chain = walkChain(db, 0, GENESIS);
  if (!chain.ok) return { ...chain, ...acknowledged };
  const anchor = anchorCheck(db, chain.entries);
  if (!anchor.ok) {
    return { ok: false, entries: Math.min(chain.entries, anchor.firstBroken - 1), firstBroken: anchor.firstBroken, reason: anchor.reason, ...acknowledged };
  }
  return { ok: true, entries: chain.entries, head: chain.head, anchored: anchor.checked && anchor.anchor ? anchor.anchor.seq : null, ...acknowledged };
}

/** The refusal of an acknowledgement on a log that verifies. */
export function nothingToAcknowledge(): KmsError {
  return invalidParameter('AcknowledgeAuditBreak', 'the audit log is intact: there is no break to acknowledge');
}

/**
 * Accepts a broken log as it stands (see anchor.ts): records the break found and re-anchors the
 * head, in the caller's write transaction, so that the AcknowledgeAuditBreak Action's own entry
 * (appended by dispatch in the same transaction) extends the log again. Needs the integrity key.
 * Refused (InvalidParameter) when the log is intact.
 */
export function acknowledgeAuditBreak(db: Database.Database, now = new Date()): ChainVerdict {
  const verdict = verifyAuditChain(db);
  if (verdict.ok) throw nothingToAcknowledge();
  const head = statements(db).head.get();
  recordAcknowledgedBreak(db, { firstBroken: verdict.firstBroken, reason: verdict.reason, headSeq: head?.seq ?? 0, time: now.toISOString() });
  anchorAuditHead(db);
  return verdict;
}

/** A new vault's log, in the vault's first write transaction: anchored at the genesis, then its InitVault entry. */
export function startAuditLog(db: Database.Database, caller: string): void {
  anchorAuditHead(db);
  appendAuditEntries(db, [{ action: 'InitVault', code: 'OK', caller, requestId: randomUUID() }]);
}

/** The vault's own destruction of keys whose deletion window passed, in the transaction that deletes them. */
export function recordPurgedKeys(db: Database.Database, keyIds: readonly string[]): void {
  appendAuditEntries(
    db,
    keyIds.map((keyId) => ({ action: 'DeleteKeyMaterial', keyId, code: 'OK', caller: 'vault', requestId: randomUUID() })),
  );
}

/** SQLite's own check of the file (pages, indexes); undefined when it is sound. */
function databaseDamage(db: Database.Database): string | undefined {
  let problems: { integrity_check: string }[];
  try {
    problems = db.pragma('integrity_check(5)') as { integrity_check: string }[];
  } catch (error) {
    return error instanceof Error ? error.message : 'unreadable';
  }
  const text = problems.map((p) => p.integrity_check).join('; ');
  return text === 'ok' ? undefined : text.slice(0, 300);
}

/**
 * Walks the entries after `startSeq` (whose hash is `startHash`) in seq order, streaming (constant
 * memory), and reports the first one that breaks the chain.
 */
function walkChain(db: Database.Database, startSeq: number, startHash: Buffer): { ok: true; entries: number; head: string | null } | { ok: false; entries: number; firstBroken: number; reason: string } {
  let expectedSeq = startSeq + 1;
  let prevHash = startHash;
  let verified = startSeq;
  const broken = (firstBroken: number, reason: string) => ({ ok: false as const, entries: verified, firstBroken, reason });

  for (const row of statements(db).after.iterate(startSeq)) {
    if (row.seq > expectedSeq) {
      const missing = row.seq === expectedSeq + 1 ? `entry ${expectedSeq} is` : `entries ${expectedSeq} to ${row.seq - 1} are`;
      return broken(expectedSeq, `${missing} missing (next stored entry is ${row.seq})`);
    }
    if (row.seq < expectedSeq) return broken(row.seq, `unexpected entry ${row.seq}: sequence numbers start at 1`);
    if (!Buffer.isBuffer(row.prev_hash) || row.prev_hash.length !== HASH_BYTES || !Buffer.isBuffer(row.hash) || row.hash.length !== HASH_BYTES) {
      return broken(row.seq, `entry ${row.seq} has a malformed hash`);
    }
    if (!row.prev_hash.equals(prevHash)) {
      return broken(
        row.seq,
        row.seq === 1
          ? 'entry 1 does not start from the genesis hash'
          : `entry ${row.seq}'s prev_hash does not match the hash of entry ${row.seq - 1}`,
      );
    }
    const hash = chainHash(prevHash, [row.seq, row.time, row.action, row.key_id, row.key_version_id, row.code, row.caller, row.request_id]);
    if (!hash.equals(row.hash)) return broken(row.seq, `entry ${row.seq}'s contents do not match its hash (edited)`);
    prevHash = row.hash;
    expectedSeq += 1;
    verified += 1;
  }
  return { ok: true, entries: verified, head: verified === 0 ? null : prevHash.toString('hex') };
}
