// The audit log on a real better-sqlite3 database file in WAL mode: appending, filtering, the hash
// chain and each way of tampering with it, and two processes appending to one file at once.
import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KmsError } from '../../core/contract/errors.ts';
import {
  AUDIT_SCHEMA_SQL,
  anchorAuditHead,
  appendAuditEntries,
  listAuditEntries,
  verifyAuditChain,
  type AuditEntry,
  type AuditEntryInput,
  type ChainVerdict,
} from '../../core/audit/audit-log.ts';
import { formatAuditTable } from '../../core/hosts/cli/audit-table.ts';
import { setIntegrityKey } from '../../core/vault/integrity.ts';

const AUDIT_MODULE = resolve(import.meta.dirname, '../../core/audit/audit-log.ts');
const REPO_ROOT = resolve(import.meta.dirname, '../..');
const KEY_A = '3f1b2c4d-0000-4000-8000-00000000000a';
const KEY_B = '3f1b2c4d-0000-4000-8000-00000000000b';
const VERSION_A = '9a8b7c6d-0000-4000-8000-0000000000a1';
const T0 = Date.parse('2025-03-01T10:00:00.000Z');

let dir: string;
let db: Database.Database;

function openDb(file: string): Database.Database {
  const handle = new Database(file);
  handle.pragma('journal_mode = WAL');
  handle.pragma('synchronous = FULL');
  handle.pragma('busy_timeout = 5000');
  handle.exec(AUDIT_SCHEMA_SQL);
  // The anchor lives in the vault header (core/audit/anchor.ts).
  handle.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
  return handle;
}

/** As the store does it: one BEGIN IMMEDIATE transaction per batch. */
function append(entries: readonly AuditEntryInput[], handle = db): AuditEntry[] {
  return handle.transaction(() => appendAuditEntries(handle, entries)).immediate();
}

function entry(i: number, overrides: Partial<AuditEntryInput> = {}): AuditEntryInput {
  return {
    action: ['AsymmetricSign', 'AsymmetricVerify', 'CreateKey'][i % 3]!,
    keyId: [KEY_A, KEY_B, undefined][i % 3],
    keyVersionId: i % 3 === 0 ? VERSION_A : undefined,
    code: i % 5 === 4 ? 'Rejected.Disabled' : 'OK',
    caller: i % 2 === 0 ? 'cli' : 'api:LTAI5tExample',
    requestId: randomUUID(),
    time: new Date(T0 + i * 60_000),
    ...overrides,
  };
}

function count(): number {
  return (db.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n;
}

function expectKmsError(fn: () => unknown, code: string, message?: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(KmsError);
  expect((thrown as KmsError).code).toBe(code);
  if (message) expect((thrown as KmsError).message).toMatch(message);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'deskkms-audit-'));
  db = openDb(join(dir, 'vault.db'));
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('appendAuditEntries', () => {
  it('appends entries with contiguous seqs from 1 and returns them as stored', () => {
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const first = append([entry(0), entry(1)]);
    const second = append([entry(2)]);
    expect([...first, ...second].map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(listAuditEntries(db)).toEqual([...first, ...second]);
    expect(first[0]).toMatchObject({
      action: 'AsymmetricSign',
      keyId: KEY_A,
      keyVersionId: VERSION_A,
      code: 'OK',
      caller: 'cli',
      time: '2025-03-01T10:00:00.000Z',
    });
    expect(first[1]).toMatchObject({ keyId: KEY_B, keyVersionId: null });
    expect(second[0]).toMatchObject({ keyId: null, keyVersionId: null });
  });

  it('chains each entry to the previous one, from SHA-256("deskkms-audit-v1"), over a length-prefixed encoding', () => {
    const [e1, e2] = append([entry(0), entry(2)]);
    // An independent implementation of the documented construction.
    const field = (v: string | null): Buffer => {
      if (v === null) return Buffer.of(0);
      const bytes = Buffer.from(v, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(bytes.length);
      return Buffer.concat([Buffer.of(1), len, bytes]);
    };
    const expected = (prev: string, e: AuditEntry): string =>
      createHash('sha256')
        .update(Buffer.from(prev, 'hex'))
        .update(Buffer.concat([String(e.seq), e.time, e.action, e.keyId, e.keyVersionId, e.code, e.caller, e.requestId].map(field)))
        .digest('hex');
    const genesis = createHash('sha256').update('deskkms-audit-v1').digest('hex');
    expect(e1!.prevHash).toBe(genesis);
    expect(e1!.hash).toBe(expected(genesis, e1!));
    expect(e2!.prevHash).toBe(e1!.hash);
    expect(e2!.hash).toBe(expected(e1!.hash, e2!));
    expect(e1!.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('tells fields apart that plain concatenation would not (NULL vs a value, shifted boundaries)', () => {
    const base = { code: 'OK', requestId: 'r', time: new Date(T0) };
    const hashes = [
      { action: 'ab', caller: 'c', ...base },
      { action: 'a', caller: 'bc', ...base },
      { action: 'a', caller: 'c', keyId: 'k', ...base },
      { action: 'a', caller: 'c', keyVersionId: 'k', ...base },
    ].map((input) => {
      const [appended] = db.transaction(() => {
        const [e] = appendAuditEntries(db, [input]);
        db.exec('DELETE FROM audit_log'); // keep seq 1 / genesis so only the fields differ
        return [e!];
      })();
      return appended!.hash;
    });
    expect(new Set(hashes).size).toBe(hashes.length);
  });

  it('defaults time to now, as ISO-8601 UTC with milliseconds', () => {
    const before = Date.now();
    const [e] = append([entry(0, { time: undefined })]);
    const after = Date.now();
    expect(e!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(e!.time)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(e!.time)).toBeLessThanOrEqual(after);
  });

  it('throws InternalFailure outside a transaction and writes nothing', () => {
    expectKmsError(() => appendAuditEntries(db, [entry(0)]), 'InternalFailure', /transaction/);
    expect(count()).toBe(0);
  });

  it('rejects a bad entry as InternalFailure (a bug in our code) and writes none of its batch', () => {
    const bad: Partial<AuditEntryInput>[] = [
      { action: '' },
      { action: 'A'.repeat(65) },
      { action: 42 as unknown as string },
      { code: '' },
      { caller: '' },
      { caller: 'c'.repeat(129) },
      { requestId: '' },
      { requestId: 'r'.repeat(129) },
      { keyId: '' },
      { keyId: 'k'.repeat(129) },
      { keyVersionId: 'v'.repeat(129) },
      { action: 'Sign\nforged line' },
      { caller: 'cli\uD800' },
      { caller: 'api:\u202Eevil' },
      { keyId: 'zero\u200Bwidth' },
      { action: 'C1\u0085' },
      { time: new Date(Number.NaN) },
      { time: '2025-01-01' as unknown as Date },
    ];
    for (const overrides of bad) {
      expectKmsError(() => append([entry(0), entry(1), entry(2, overrides)]), 'InternalFailure', /entry 2/);
    }
    expect(count()).toBe(0);
    // Limits are inclusive.
    append([entry(0, { action: 'A'.repeat(64), caller: 'c'.repeat(128), keyId: 'k'.repeat(128), requestId: 'r'.repeat(128) })]);
    expect(count()).toBe(1);
  });

  it('leaves none of a batch behind when an insert fails part-way, even if the caller carries on', () => {
    append([entry(0)]);
    db.exec(`CREATE TEMP TRIGGER boom BEFORE INSERT ON audit_log WHEN NEW.action = 'Boom'
             BEGIN SELECT RAISE(ABORT, 'boom'); END`);
    db.transaction(() => {
      expect(() => appendAuditEntries(db, [entry(1), entry(2, { action: 'Boom' })])).toThrow(/boom/);
      expect(count()).toBe(1);
      appendAuditEntries(db, [entry(3)]);
    }).immediate();
    expect(listAuditEntries(db).map((e) => e.seq)).toEqual([1, 2]);
    expect(verifyAuditChain(db)).toMatchObject({ ok: true, entries: 2 });
  });

  it('returns [] for an empty batch', () => {
    expect(append([])).toEqual([]);
    expect(count()).toBe(0);
  });
});

describe('listAuditEntries', () => {
  let all: AuditEntry[];
  beforeEach(() => {
    all = append(Array.from({ length: 30 }, (_, i) => entry(i)));
  });

  it('filters by keyId, action, since and until (inclusive), combined with AND, in seq order', () => {
    const since = new Date(T0 + 5 * 60_000);
    const until = new Date(T0 + 20 * 60_000);
    const cases: [Parameters<typeof listAuditEntries>[1], (e: AuditEntry) => boolean][] = [
      [{}, () => true],
      [{ keyId: KEY_A }, (e) => e.keyId === KEY_A],
      [{ action: 'AsymmetricVerify' }, (e) => e.action === 'AsymmetricVerify'],
      [{ since }, (e) => e.seq >= 6],
      [{ until }, (e) => e.seq <= 21],
      [{ since, until }, (e) => e.seq >= 6 && e.seq <= 21],
      [{ keyId: KEY_B, action: 'AsymmetricVerify', since, until }, (e) => e.keyId === KEY_B && e.seq >= 6 && e.seq <= 21],
      [{ keyId: KEY_B, action: 'AsymmetricSign' }, () => false],
      [{ since: until, until }, (e) => e.seq === 21],
    ];
    for (const [filter, predicate] of cases) {
      const expected = all.filter(predicate);
      expect(listAuditEntries(db, filter), JSON.stringify(filter)).toEqual(expected);
    }
  });

  it('returns the first `limit` matching entries', () => {
    expect(listAuditEntries(db, { limit: 4 }).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(listAuditEntries(db, { keyId: KEY_A, limit: 2 }).map((e) => e.seq)).toEqual([1, 4]);
    expect(listAuditEntries(db, { limit: 100_000 })).toHaveLength(30);
  });

  it('rejects a bad filter with InvalidParameter naming it', () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ limit: 0 }, 'limit'],
      [{ limit: -1 }, 'limit'],
      [{ limit: 1.5 }, 'limit'],
      [{ limit: 100_001 }, 'limit'],
      [{ limit: Number.NaN }, 'limit'],
      [{ limit: '5' }, 'limit'],
      [{ since: new Date('not a date') }, 'since'],
      [{ since: '2025-03-01' }, 'since'],
      [{ until: new Date(Number.NaN) }, 'until'],
      [{ until: new Date('+010000-01-01T00:00:00Z') }, 'until'],
      [{ since: new Date(T0 + 1), until: new Date(T0) }, 'since'],
      [{ keyId: '' }, 'keyId'],
      [{ keyId: 7 }, 'keyId'],
      [{ action: 'A'.repeat(65) }, 'action'],
    ];
    for (const [filter, name] of bad) {
      expectKmsError(() => listAuditEntries(db, filter), 'InvalidParameter', new RegExp(`^${name}:`));
    }
  });
});

describe('verifyAuditChain', () => {
  it('verifies an empty log', () => {
    expect(verifyAuditChain(db)).toEqual({ ok: true, entries: 0, head: null, anchored: null });
  });

  it('verifies 1,000 entries appended in batches of varying size', () => {
    const appended: AuditEntry[] = [];
    for (let size = 1; appended.length < 1000; size = (size % 64) + 1) {
      const n = Math.min(size, 1000 - appended.length);
      appended.push(...append(Array.from({ length: n }, (_, i) => entry(appended.length + i))));
    }
    expect(appended.map((e) => e.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(verifyAuditChain(db)).toEqual({ ok: true, entries: 1000, head: appended[999]!.hash, anchored: null });
  });

  describe('detects tampering with raw SQL and reports the first broken seq', () => {
    const N = 20;
    let original: AuditEntry[];
    beforeEach(() => {
      original = append(Array.from({ length: N }, (_, i) => entry(i)));
      expect(verifyAuditChain(db)).toMatchObject({ ok: true, entries: N });
    });

    /** Tampers inside a transaction, verifies, and rolls back so each case starts from the intact chain. */
    function tampered(sql: string, ...params: unknown[]): ChainVerdict {
      db.exec('BEGIN');
      try {
        for (const statement of sql.split(';').filter((s) => s.trim())) {
          db.prepare(statement).run(...(statement.includes('?') ? params : []));
        }
        return verifyAuditChain(db);
      } finally {
        db.exec('ROLLBACK');
      }
    }

    function broken(firstBroken: number, reason: RegExp): object {
      return { ok: false, entries: firstBroken - 1, firstBroken, reason: expect.stringMatching(reason) as unknown };
    }

    it('an edited field in any row', () => {
      // Each expression differs from the stored value, whatever it is.
      const edits = [
        "time = replace(time, '2025-', '2024-')",
        "action = action || 'x'",
        `key_id = CASE WHEN key_id IS NULL THEN '${KEY_B}' ELSE NULL END`,
        "key_id = coalesce(key_id || 'x', 'x')",
        "key_version_id = coalesce(key_version_id || 'x', 'x')",
        "code = code || 'x'",
        "caller = caller || 'x'",
        "request_id = request_id || 'x'",
        'hash = randomblob(32)',
      ];
      for (const seq of [1, 7, N]) {
        for (const edit of edits) {
          const verdict = tampered(`UPDATE audit_log SET ${edit} WHERE seq = ${seq}`);
          expect(verdict, `${edit} in ${seq}`).toEqual(broken(seq, /contents do not match its hash/));
        }
      }
      expect(verifyAuditChain(db)).toMatchObject({ ok: true, entries: N });
    });

    it('an edited row whose own hash was recomputed breaks the next row', () => {
      const e = original[9]!;
      const bytes = (v: string): Buffer => Buffer.concat([Buffer.of(1), Buffer.from([0, 0, 0, Buffer.byteLength(v)]), Buffer.from(v)]);
      const nul = Buffer.of(0);
      const forgedHash = createHash('sha256')
        .update(Buffer.from(e.prevHash, 'hex'))
        .update(Buffer.concat([bytes('10'), bytes(e.time), bytes(e.action), e.keyId ? bytes(e.keyId) : nul, e.keyVersionId ? bytes(e.keyVersionId) : nul, bytes('OK'), bytes(e.caller), bytes(e.requestId)]))
        .digest();
      expect(e.code).toBe('Rejected.Disabled');
      const verdict = tampered(`UPDATE audit_log SET code = 'OK', hash = ? WHERE seq = 10`, forgedHash);
      expect(verdict).toEqual(broken(11, /prev_hash does not match the hash of entry 10/));
    });

    it('a deleted row in the middle (seq gap)', () => {
      expect(tampered('DELETE FROM audit_log WHERE seq = 10')).toEqual(broken(10, /entry 10 is missing \(next stored entry is 11\)/));
      expect(tampered('DELETE FROM audit_log WHERE seq BETWEEN 10 AND 12')).toEqual(broken(10, /entries 10 to 12 are missing/));
      expect(tampered('DELETE FROM audit_log WHERE seq = 1')).toEqual(broken(1, /entry 1 is missing/));
    });

    it('a deleted row whose gap was closed by renumbering', () => {
      const verdict = tampered('DELETE FROM audit_log WHERE seq = 10; UPDATE audit_log SET seq = seq + 1000000 WHERE seq > 10; UPDATE audit_log SET seq = seq - 1000001 WHERE seq > 1000000');
      expect(verdict).toEqual(broken(10, /prev_hash does not match the hash of entry 9/));
    });

    it('reordered rows', () => {
      const verdict = tampered('UPDATE audit_log SET seq = seq + 1000000 WHERE seq IN (5, 6); UPDATE audit_log SET seq = 6 WHERE seq = 1000005; UPDATE audit_log SET seq = 5 WHERE seq = 1000006');
      expect(verdict).toEqual(broken(5, /prev_hash does not match the hash of entry 4/));
    });

    it('a duplicated (replayed) row, at the end or in the middle', () => {
      const copy = `INSERT INTO audit_log SELECT ?, time, action, key_id, key_version_id, code, caller, request_id, prev_hash, hash FROM audit_log WHERE seq = 5`;
      expect(tampered(copy, N + 1)).toEqual(broken(N + 1, /prev_hash does not match the hash of entry 20/));
      const shiftThenCopy = `UPDATE audit_log SET seq = seq + 1000000 WHERE seq > 5; UPDATE audit_log SET seq = seq - 999999 WHERE seq > 1000000; ${copy}`;
      expect(tampered(shiftThenCopy, 6)).toEqual(broken(6, /prev_hash does not match the hash of entry 5/));
    });

    it("a row whose prev_hash doesn't match the previous hash", () => {
      const verdict = tampered('UPDATE audit_log SET prev_hash = ? WHERE seq = 9', Buffer.from(original[2]!.hash, 'hex'));
      expect(verdict).toEqual(broken(9, /prev_hash does not match the hash of entry 8/));
    });

    it('a broken genesis', () => {
      expect(tampered('UPDATE audit_log SET prev_hash = zeroblob(32) WHERE seq = 1')).toEqual(broken(1, /genesis/));
    });

    it('without the integrity key (no anchor), a cut tail verifies as a shorter chain and says it is unanchored', () => {
      expect(tampered(`DELETE FROM audit_log WHERE seq > 15`)).toEqual({ ok: true, entries: 15, head: original[14]!.hash, anchored: null });
    });
  });
});

describe('the anchored head (an unlocked vault: the integrity key is set)', () => {
  const N = 12;
  let original: AuditEntry[];
  beforeEach(() => {
    setIntegrityKey(db, randomBytes(32));
    db.transaction(() => anchorAuditHead(db)).immediate();
    original = append(Array.from({ length: N }, (_, i) => entry(i)));
  });
  afterEach(() => setIntegrityKey(db, undefined));

  function anchorValue(): { seq: number; hash: string; mac: string } {
    return JSON.parse((db.prepare("SELECT value FROM meta WHERE key = 'audit_anchor'").get() as { value: string }).value) as never;
  }

  const countRows = (): number => (db.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n;

  function refusedAppend(): KmsError {
    try {
      append([entry(0)]);
    } catch (error) {
      return error as KmsError;
    }
    throw new Error('the append was not refused');
  }

  it('moves with every append, and the verdict says how many entries it covers', () => {
    expect(anchorValue()).toMatchObject({ seq: N, hash: original[N - 1]!.hash });
    expect(verifyAuditChain(db)).toEqual({ ok: true, entries: N, head: original[N - 1]!.hash, anchored: N });
  });

  it('a cut tail is detected, by verify and before the next append', () => {
    db.exec('DELETE FROM audit_log WHERE seq > 9');
    expect(verifyAuditChain(db)).toEqual({ ok: false, entries: 9, firstBroken: 10, reason: expect.stringMatching(/entries 10 to 12 are missing.*cut at the tail/) });
    const refused = refusedAppend();
    expect(refused.code).toBe('Vault.AuditBroken');
    expect(refused.message).toMatch(/from entry 10: .*cut at the tail/);
    expect(countRows()).toBe(9); // nothing was appended to the broken log
  });

  it('an emptied log is detected', () => {
    db.exec('DELETE FROM audit_log');
    expect(verifyAuditChain(db)).toMatchObject({ ok: false, entries: 0, firstBroken: 1, reason: expect.stringMatching(/empty but its anchor records 12/) });
    expect(refusedAppend().code).toBe('Vault.AuditBroken');
  });

  it('a log rewritten from the genesis with recomputed hashes is detected', () => {
    // The attacker rebuilds a fully consistent chain (entry 3 says another code) in a scratch file.
    const scratch = openDb(join(dir, 'scratch.db'));
    scratch.transaction(() => appendAuditEntries(scratch, original.map((e, i) => ({ ...e, keyId: e.keyId ?? undefined, keyVersionId: e.keyVersionId ?? undefined, time: new Date(e.time), code: i === 2 ? 'Rewritten' : e.code })))).immediate();
    const forged = scratch.prepare('SELECT * FROM audit_log ORDER BY seq').all() as Record<string, unknown>[];
    scratch.close();
    db.exec('DELETE FROM audit_log');
    const insert = db.prepare('INSERT INTO audit_log VALUES (@seq, @time, @action, @key_id, @key_version_id, @code, @caller, @request_id, @prev_hash, @hash)');
    for (const row of forged) insert.run(row);
    expect(verifyAuditChain(db)).toMatchObject({ ok: false, firstBroken: 1, reason: expect.stringMatching(/entry 12 does not carry the anchored hash: the log up to it was rewritten/) });
    expect(refusedAppend().code).toBe('Vault.AuditBroken');
  });

  it('an edited, deleted or moved-back anchor is detected', () => {
    const value = anchorValue();
    const setAnchor = (v: unknown): void => void db.prepare("UPDATE meta SET value = ? WHERE key = 'audit_anchor'").run(typeof v === 'string' ? v : JSON.stringify(v));
    // Moved back to entry 9 with its real hash (to hide a cut), keeping the old MAC.
    setAnchor({ ...value, seq: 9, hash: original[8]!.hash });
    expect(verifyAuditChain(db)).toMatchObject({ ok: false, reason: expect.stringMatching(/not authentic/) });
    setAnchor('not json');
    expect(verifyAuditChain(db)).toMatchObject({ ok: false, reason: expect.stringMatching(/not authentic/) });
    db.exec("DELETE FROM meta WHERE key = 'audit_anchor'");
    expect(verifyAuditChain(db)).toMatchObject({ ok: false, firstBroken: 1, reason: expect.stringMatching(/anchor is missing/) });
    expect(refusedAppend().code).toBe('Vault.AuditBroken');
  });

  it('entries appended while locked are chain-checked and anchored by the next unlocked append', () => {
    const key = randomBytes(32);
    setIntegrityKey(db, key);
    db.transaction(() => anchorAuditHead(db)).immediate();
    setIntegrityKey(db, undefined); // locked: refused calls are still recorded, past the anchor
    append([entry(1), entry(2)]);
    expect(verifyAuditChain(db)).toMatchObject({ ok: true, entries: N + 2, anchored: null });
    setIntegrityKey(db, key);
    expect(verifyAuditChain(db)).toMatchObject({ ok: true, entries: N + 2, anchored: N });
    append([entry(3)]);
    expect(verifyAuditChain(db)).toMatchObject({ ok: true, entries: N + 3, anchored: N + 3 });
  });

  it('a forged entry slipped in past the anchor is refused at the next append', () => {
    db.prepare('INSERT INTO audit_log VALUES (?, ?, ?, NULL, NULL, ?, ?, ?, ?, ?)').run(N + 1, new Date(T0).toISOString(), 'CreateKey', 'OK', 'cli', 'forged', randomBytes(32), randomBytes(32));
    const refused = refusedAppend();
    expect(refused.code).toBe('Vault.AuditBroken');
    expect(refused.message).toMatch(/from entry 13: entry 13's prev_hash does not match/);
  });

  it("verify runs SQLite's integrity check: a garbage page in an index is reported", () => {
    const file = join(dir, 'damaged.db');
    const damaged = openDb(file);
    damaged.transaction(() => appendAuditEntries(damaged, Array.from({ length: 300 }, (_, i) => entry(i)))).immediate();
    expect(verifyAuditChain(damaged)).toMatchObject({ ok: true, entries: 300 });
    const { rootpage } = damaged.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'audit_log_by_time'").get() as { rootpage: number };
    const pageSize = damaged.pragma('page_size', { simple: true }) as number;
    damaged.pragma('wal_checkpoint(TRUNCATE)');
    damaged.close();
    // Every row still reads (the table is intact); one index page is garbage.
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(pageSize - 8, 0x5a), 0, pageSize - 8, (rootpage - 1) * pageSize + 8);
    closeSync(fd);
    const reopened = new Database(file);
    try {
      expect(verifyAuditChain(reopened)).toMatchObject({ ok: false, firstBroken: 1, reason: expect.stringMatching(/fails SQLite's integrity check/) });
    } finally {
      reopened.close();
    }
  });
});

describe('two processes appending to one vault', () => {
  // Each child opens the file as the store does, waits for "go" on stdin so both start together,
  // then appends 200 entries, one BEGIN IMMEDIATE transaction each, and prints its seqs.
  const CHILD = `
    import Database from 'better-sqlite3';
    import { appendAuditEntries } from ${JSON.stringify(pathToFileURL(AUDIT_MODULE).href)};
    const db = new Database(process.env.AUDIT_DB);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    const pause = new Int32Array(new SharedArrayBuffer(4));
    process.stdout.write('ready\\n');
    process.stdin.once('data', () => {
      const seqs = [];
      for (let i = 0; i < 200; i++) {
        const [e] = db.transaction(() => appendAuditEntries(db, [{
          action: 'AsymmetricSign', code: 'OK', caller: process.env.AUDIT_CALLER, requestId: String(i),
        }])).immediate();
        seqs.push(e.seq);
        Atomics.wait(pause, 0, 0, 1); // let the other process take the lock now and then
      }
      db.close();
      process.stdout.write(JSON.stringify(seqs) + '\\n');
      process.exit(0);
    });
  `;

  function startChild(caller: string): { ready: Promise<void>; go: () => void; done: Promise<number[]> } {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      cwd: REPO_ROOT,
      env: { ...process.env, AUDIT_DB: join(dir, 'vault.db'), AUDIT_CALLER: caller },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let signalReady: () => void = () => undefined;
    const ready = new Promise<void>((res) => (signalReady = res));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.startsWith('ready\n')) signalReady();
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const done = new Promise<number[]>((res, rej) => {
      child.on('error', rej);
      child.on('close', (status) => {
        if (status !== 0) rej(new Error(`child ${caller} exited ${status}: ${stderr}`));
        else res(JSON.parse(stdout.slice('ready\n'.length)) as number[]);
      });
    });
    done.catch(() => signalReady()); // a child that dies before "ready" must not hang the test
    return { ready, go: () => child.stdin.end('go\n'), done };
  }

  it('keeps one contiguous, verifying chain of 400 entries', async () => {
    const children = [startChild('cli'), startChild('app')];
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.go();
    const [cliSeqs, appSeqs] = await Promise.all(children.map((c) => c.done));

    expect(verifyAuditChain(db)).toMatchObject({ ok: true, entries: 400 });
    const entries = listAuditEntries(db);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    expect([...cliSeqs!, ...appSeqs!].sort((a, b) => a - b)).toEqual(entries.map((e) => e.seq));
    for (const [caller, seqs] of [['cli', cliSeqs!], ['app', appSeqs!]] as const) {
      expect(seqs.map((s) => entries[s - 1]!.caller)).toEqual(Array(200).fill(caller));
      expect(seqs.map((s) => entries[s - 1]!.requestId)).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
    }
    // The appends really interleaved (otherwise this test would not exercise concurrency).
    const switches = entries.filter((e, i) => i > 0 && e.caller !== entries[i - 1]!.caller).length;
    expect(switches).toBeGreaterThan(10);
  });
});

describe('formatAuditTable (deskkms audit list --format table)', () => {
  it('shows a header and one aligned line per entry, "-" for no key', () => {
    const entries = append([entry(0), entry(2, { caller: 'batch' }), entry(4)]);
    // The last action could only get there by tampering (validation refuses it), so write it raw.
    db.prepare(`UPDATE audit_log SET action = 'Evil' || char(27) || '[2J', caller = 'api:' || char(8238) || 'exe.txt' WHERE seq = 3`).run();
    const lines = formatAuditTable(listAuditEntries(db)).split('\n');
    expect(lines).toHaveLength(5); // header, 3 rows, trailing newline
    expect(lines[4]).toBe('');
    const header = lines[0]!;
    expect(header.split(/ {2,}/)).toEqual(['SEQ', 'TIME', 'ACTION', 'CODE', 'CALLER', 'KEY ID', 'KEY VERSION ID', 'REQUEST ID']);
    const [, first, second, third] = lines;
    for (const column of ['TIME', 'ACTION', 'CODE', 'CALLER', 'KEY ID']) {
      const at = header.indexOf(column);
      expect(first!.slice(at)).not.toMatch(/^ /);
      expect(second!.slice(at)).not.toMatch(/^ /);
    }
    expect(first).toContain('2025-03-01T10:00:00.000Z');
    expect(first!.slice(header.indexOf('KEY ID'))).toMatch(new RegExp(`^${KEY_A}`));
    expect(first!.slice(header.indexOf('KEY VERSION ID'))).toMatch(new RegExp(`^${VERSION_A}`));
    expect(second!.slice(header.indexOf('KEY ID'))).toMatch(/^- +- +/);
    expect(second!.slice(header.indexOf('CALLER'))).toMatch(/^batch /);
    expect(first!.endsWith(entries[0]!.requestId)).toBe(true);
    expect(third).toContain('Evil\\x1B[2J');
    expect(third).not.toContain('\u001b');
    // A right-to-left override would reorder the rest of the line: shown escaped instead.
    expect(third).toContain('api:\\u202Eexe.txt');
    expect(third).not.toContain('\u202E');
  });

  it('shows only the header for no entries', () => {
    expect(formatAuditTable([])).toBe('SEQ  TIME  ACTION  CODE  CALLER  KEY ID  KEY VERSION ID  REQUEST ID\n');
  });
});
