// Authenticated columns added after a table's rows were first MACed (remote_connections.
// signature_algorithm): a row made before the column (NULL, or no column at all in an older backup
// snapshot) verifies under the MAC it was given then; a value is authenticated like every other
// column, so setting, changing or clearing it is Vault.Corrupt. The rows here are written the way
// the DeskKMS before the column wrote them: its MAC over the six original columns, computed with
// integrityMac directly, not with rowMac (whose handling of the added column is under test).
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from './schema.ts';
import { integrityMac, rowMac, setIntegrityKey, verified, verifyAllRows } from './integrity.ts';
import type { Db } from './store.ts';

const OLD_COLUMNS = ['name', 'endpoint', 'region_id', 'protocol', 'access_key_id', 'creation_date'] as const;
const row = { name: 'prod', endpoint: 'kms.cn-hangzhou.aliyuncs.com', region_id: 'cn-hangzhou', protocol: 'https', access_key_id: 'LTAIexample', creation_date: '2026-01-02T03:04:05Z' };

let db: Db;

/** The MAC the DeskKMS before the column gave a row: its six columns, nothing after them. */
function oldMac(r: Record<string, unknown>): Buffer {
  return integrityMac(db, 'remote_connections', OLD_COLUMNS.map((c) => r[c] as string));
}

function read(name = 'prod'): Record<string, unknown> {
  return db.prepare('SELECT * FROM remote_connections WHERE name = ?').get(name) as Record<string, unknown>;
}

/** A vault database at schema version `version` (the first `version` migrations). */
function schemaAt(version: number): void {
  db = new Database(':memory:');
  for (const migration of MIGRATIONS.slice(0, version)) db.exec(migration);
  setIntegrityKey(db, randomBytes(32));
}

/** The migration that added remote_connections.signature_algorithm (later ones follow it). */
const SIGNATURE_MIGRATION = MIGRATIONS.findIndex((m) => m.includes('ADD COLUMN signature_algorithm'));

afterEach(() => {
  setIntegrityKey(db, undefined);
  db.close();
});

describe('an added authenticated column', () => {
  beforeEach(() => schemaAt(SIGNATURE_MIGRATION));

  it('a row made before it verifies after the migration adds it (NULL), and its MAC is the old one', () => {
    db.prepare('INSERT INTO remote_connections (name, endpoint, region_id, protocol, access_key_id, creation_date, mac) VALUES (@name, @endpoint, @region_id, @protocol, @access_key_id, @creation_date, @mac)').run({ ...row, mac: oldMac(row) });
    // A snapshot of that vault (a backup taken then): no column at all, the row still verifies.
    expect(verified(db, 'remote_connections', read())).toEqual(row);
    db.exec(MIGRATIONS[SIGNATURE_MIGRATION]!);
    expect(verified(db, 'remote_connections', read())).toEqual({ ...row, signature_algorithm: null });
    expect(rowMac(db, 'remote_connections', read())).toEqual(oldMac(row));
    expect(() => verifyAllRows(db)).not.toThrow();
  });

  it.each(['HMAC-SHA1', 'ACS3-HMAC-SHA256'])('setting %s in a row made before it is Vault.Corrupt', (value) => {
    db.exec(MIGRATIONS[SIGNATURE_MIGRATION]!);
    db.prepare('INSERT INTO remote_connections (name, endpoint, region_id, protocol, access_key_id, creation_date, mac) VALUES (@name, @endpoint, @region_id, @protocol, @access_key_id, @creation_date, @mac)').run({ ...row, mac: oldMac(row) });
    db.prepare('UPDATE remote_connections SET signature_algorithm = ?').run(value);
    expect(() => verified(db, 'remote_connections', read())).toThrow(expect.objectContaining({ code: 'Vault.Corrupt', message: expect.stringMatching(/remote_connections row "prod" fails its integrity check/) as unknown }));
  });

  it('a value is authenticated: changed or cleared it is Vault.Corrupt; a wrong type is named', () => {
    db.exec(MIGRATIONS[SIGNATURE_MIGRATION]!);
    const newer = { ...row, signature_algorithm: 'ACS3-HMAC-SM3' };
    db.prepare('INSERT INTO remote_connections (name, endpoint, region_id, protocol, access_key_id, creation_date, signature_algorithm, mac) VALUES (@name, @endpoint, @region_id, @protocol, @access_key_id, @creation_date, @signature_algorithm, @mac)').run({ ...newer, mac: rowMac(db, 'remote_connections', newer) });
    expect(verified(db, 'remote_connections', read())).toEqual(newer);
    // The value is in the MAC: the row's MAC is not the one its six columns alone would have.
    expect(rowMac(db, 'remote_connections', read())).not.toEqual(oldMac(row));
    for (const value of ['ACS3-HMAC-SHA256', 'HMAC-SHA1', null]) {
      db.prepare('UPDATE remote_connections SET signature_algorithm = ?').run(value);
      expect(() => verified(db, 'remote_connections', read()), String(value)).toThrow(expect.objectContaining({ code: 'Vault.Corrupt' }));
    }
    // Read without the column (as from a snapshot before it), a row that has a value does not verify either.
    db.prepare('UPDATE remote_connections SET signature_algorithm = ?').run('ACS3-HMAC-SM3');
    const withoutColumn = read();
    delete withoutColumn.signature_algorithm;
    expect(() => verified(db, 'remote_connections', withoutColumn)).toThrow(expect.objectContaining({ code: 'Vault.Corrupt' }));
    // (The column has TEXT affinity: a number would be stored as text; a blob stays a blob.)
    db.prepare('UPDATE remote_connections SET signature_algorithm = ?').run(Buffer.from('HMAC-SHA1'));
    expect(() => verified(db, 'remote_connections', read())).toThrow(expect.objectContaining({ code: 'Vault.Corrupt', message: expect.stringMatching(/has a signature_algorithm that is not text or NULL/) as unknown }));
  });
});

// keys.automatic_rotation and rotation_interval (issue 18): a symmetric key's rotation policy decides
// when the vault makes a new primary version, so it is authenticated like the key's state.
describe("a key's rotation columns", () => {
  const ROTATION_MIGRATION = MIGRATIONS.findIndex((m) => m.includes('ADD COLUMN automatic_rotation'));
  const key = {
    key_id: '0b8a3c2e-5d4f-4e6a-8b7c-9d0e1f2a3b4c',
    key_spec: 'Aliyun_AES_256',
    key_usage: 'ENCRYPT/DECRYPT',
    origin: 'Aliyun_KMS',
    protection_level: 'SOFTWARE',
    description: '',
    key_state: 'Enabled',
    creation_date: '2026-01-02T03:04:05Z',
    delete_date: null,
    exportable: 0,
  };
  const insert = (r: Record<string, unknown>) =>
    db
      .prepare('INSERT INTO keys (key_id, key_spec, key_usage, origin, protection_level, description, key_state, creation_date, delete_date, exportable, automatic_rotation, rotation_interval, seq, mac) VALUES (@key_id, @key_spec, @key_usage, @origin, @protection_level, @description, @key_state, @creation_date, @delete_date, @exportable, @automatic_rotation, @rotation_interval, 1, @mac)')
      .run({ automatic_rotation: null, rotation_interval: null, ...r, mac: rowMac(db, 'keys', r) });
  const readKey = () => db.prepare('SELECT * FROM keys').get() as Record<string, unknown>;

  beforeEach(() => {
    expect(ROTATION_MIGRATION).toBeGreaterThan(SIGNATURE_MIGRATION);
    schemaAt(ROTATION_MIGRATION + 1);
  });

  it('a key without a policy (asymmetric, or made before) verifies; giving it one by an edit is Vault.Corrupt', () => {
    insert(key);
    expect(verified(db, 'keys', readKey())).toMatchObject({ ...key, automatic_rotation: null, rotation_interval: null });
    db.prepare("UPDATE keys SET automatic_rotation = 'Enabled', rotation_interval = '604800s'").run();
    expect(() => verified(db, 'keys', readKey())).toThrow(expect.objectContaining({ code: 'Vault.Corrupt' }));
  });

  it('a policy is authenticated: turning rotation off or changing its interval by an edit is Vault.Corrupt', () => {
    insert({ ...key, automatic_rotation: 'Enabled', rotation_interval: '604800s' });
    expect(verified(db, 'keys', readKey())).toMatchObject({ automatic_rotation: 'Enabled', rotation_interval: '604800s' });
    for (const [column, value] of [['automatic_rotation', 'Disabled'], ['rotation_interval', '31536000s'], ['rotation_interval', null]] as const) {
      db.prepare(`UPDATE keys SET ${column} = ?`).run(value);
      expect(() => verified(db, 'keys', readKey()), `${column} ${String(value)}`).toThrow(expect.objectContaining({ code: 'Vault.Corrupt' }));
      db.prepare("UPDATE keys SET automatic_rotation = 'Enabled', rotation_interval = '604800s'").run();
    }
    expect(() => verified(db, 'keys', readKey())).not.toThrow();
  });

  it('the schema refuses a policy value other than Enabled or Disabled', () => {
    expect(() => insert({ ...key, automatic_rotation: 'Sometimes', rotation_interval: '604800s' })).toThrow(/CHECK constraint/);
  });
});
