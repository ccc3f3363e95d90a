// Authenticated vault metadata. Sealed key material was always bound to its key (AEAD associated
// data), but the fields that decide what a key may do lived in plain columns: someone who can write
// vault.db, with no data key, could flip Exportable, re-enable a disabled key, repoint an alias,
// widen an access key's policy or swap a version's public key. Every such row now carries a MAC:
// HMAC-SHA256 under an integrity key that the key worker derives from the data key (and that
// cannot be had without it) over a prefix-free, type-tagged encoding of the row's columns. A row
// whose MAC does not match, or whose columns have the wrong SQL types, is Vault.Corrupt naming the
// row, wherever it is read: nothing in it is obeyed.
//
// The integrity key lives in this (main) thread while the vault is unlocked: it authenticates
// metadata only and opens nothing (private keys stay sealed under the data key in the worker).
// Reads and writes of authenticated rows therefore need an unlocked vault; locked, they are
// Vault.Locked.
//
// What a MAC per row does not stop (README, security section): deleting a row (a key, an alias, an
// access key disappears: denial, never a grant), and putting back an older authentic copy of a row
// or of the whole file (rollback) by someone who kept one. The audit head is anchored the same way
// (core/audit/anchor.ts).
import { timingSafeEqual } from 'node:crypto';
import { hmac } from '../crypto/hmac.ts';
import { KmsError } from '../contract/errors.ts';
import type { Db } from './store.ts';

type ColumnType = 'text' | 'text?' | 'int' | 'blob';

interface TableSpec {
  /** The columns naming a row, for messages. */
  readonly id: readonly string[];
  /** Authenticated columns, in MAC order. */
  readonly macd: Readonly<Record<string, ColumnType>>;
  /** Columns checked for type only: sealed blobs, which their own AEAD already binds. */
  readonly typed?: Readonly<Record<string, ColumnType>>;
  /**
   * Authenticated columns added after the table's rows were first MACed, in MAC order after `macd`;
   * NULL in a row made before the column existed (absent altogether in a backup snapshot taken
   * then). A NULL here is left out of the MAC, so such a row keeps verifying under the MAC it was
   * given; a value is MACed like `macd`. Setting one in an old row, or changing or clearing one in a
   * newer row, therefore fails the check like any other edit.
   */
  readonly added?: Readonly<Record<string, ColumnType>>;
}

export const AUTHENTICATED_TABLES = {
  keys: {
    id: ['key_id'],
    macd: {
      key_id: 'text',
      key_spec: 'text',
      key_usage: 'text',
      origin: 'text',
      protection_level: 'text',
      description: 'text',
      key_state: 'text',
      creation_date: 'text',
      delete_date: 'text?',
      exportable: 'int',
    },
    // Symmetric keys' rotation policy (issue 18): NULL in asymmetric keys and in keys made before.
    added: { automatic_rotation: 'text?', rotation_interval: 'text?' },
  },
  key_versions: {
    id: ['key_version_id'],
    macd: { key_version_id: 'text', key_id: 'text', creation_date: 'text', public_key: 'blob', origin: 'text', material: 'text' },
    typed: { sealed_private: 'blob' },
  },
  aliases: { id: ['alias_name'], macd: { alias_name: 'text', key_id: 'text', creation_date: 'text' } },
  tags: { id: ['key_id', 'tag_key'], macd: { key_id: 'text', tag_key: 'text', tag_value: 'text' } },
  access_keys: {
    id: ['access_key_id'],
    macd: { access_key_id: 'text', state: 'text', policy: 'text', description: 'text', creation_date: 'text' },
    typed: { sealed_secret: 'blob' },
  },
  remote_connections: {
    id: ['name'],
    macd: { name: 'text', endpoint: 'text', region_id: 'text', protocol: 'text', access_key_id: 'text', creation_date: 'text' },
    added: { signature_algorithm: 'text?' },
  },
  certificates: { id: ['key_version_id'], macd: { key_version_id: 'text', chain_pem: 'text', attached_date: 'text' } },
  import_tokens: {
    id: ['token_sha256'],
    macd: {
      token_sha256: 'text',
      key_id: 'text',
      wrapping_algorithm: 'text',
      wrapping_key_spec: 'text',
      public_key: 'blob',
      creation_date: 'text',
      expire_time: 'text',
    },
    typed: { sealed_private: 'blob' },
  },
  agent_identities: { id: ['key_version_id'], macd: { key_version_id: 'text', key_id: 'text', confirm: 'int', added_date: 'text' } },
} as const satisfies Record<string, TableSpec>;

export type AuthenticatedTable = keyof typeof AUTHENTICATED_TABLES;

const MAC_BYTES = 32;
const integrityKeys = new WeakMap<Db, Buffer>();
/** Counts the integrity keys a handle has had: rows verified under one are not served under the next (row-cache.ts). */
const epochs = new WeakMap<Db, number>();

/** Per handle: whether its integrity key is no longer the vault's (another process rotated the data key). */
const superseded = new WeakMap<Db, () => boolean>();

/**
 * Set by the vault when its worker unlocks (and cleared on lock): the key that authenticates
 * metadata. `isSuperseded` tells whether another process has since rotated the data key: a row
 * that fails its MAC then is one MACed under the new key, and the read answers Vault.Locked
 * (unlock again) rather than Vault.Corrupt (changed outside DeskKMS).
 */
export function setIntegrityKey(db: Db, key: Uint8Array | undefined, isSuperseded?: () => boolean): void {
  epochs.set(db, (epochs.get(db) ?? 0) + 1);
  integrityKeys.get(db)?.fill(0);
  if (key === undefined) integrityKeys.delete(db);
  else integrityKeys.set(db, Buffer.from(key));
  if (key !== undefined && isSuperseded) superseded.set(db, isSuperseded);
  else superseded.delete(db);
}

/** What a call is answered when another DeskKMS process changed the vault's data key since this one unlocked it. */
export function rotatedElsewhere(): KmsError {
  return new KmsError('Vault.Locked', "another DeskKMS process changed this vault's data key since this one unlocked it: unlock it again (nothing was done)");
}

export function integrityEpoch(db: Db): number {
  return epochs.get(db) ?? 0;
}

export function hasIntegrityKey(db: Db): boolean {
  return integrityKeys.has(db);
}

/** The integrity key, or Vault.Locked: authenticated rows are neither read nor written without it. */
export function integrityKey(db: Db): Buffer {
  const key = integrityKeys.get(db);
  if (!key) throw new KmsError('Vault.Locked', 'the vault is locked: its records cannot be authenticated until it is unlocked');
  return key;
}

/** HMAC-SHA256 under the integrity key over a domain label and prefix-free, type-tagged fields. */
export function integrityMac(db: Db, label: string, fields: readonly (string | number | null | Uint8Array)[]): Buffer {
  const parts: (string | Uint8Array)[] = [`deskkms-integrity-v1\0${label}\0`];
  for (const field of fields) {
    if (field === null) {
      parts.push(NULL_FIELD);
      continue;
    }
    const [tag, bytes] =
      typeof field === 'string' ? [1, Buffer.from(field, 'utf8')] : typeof field === 'number' ? [2, Buffer.from(String(field), 'utf8')] : [3, field];
    const header = Buffer.allocUnsafe(5);
    header[0] = tag;
    header.writeUInt32BE(bytes.length, 1);
    parts.push(header, bytes);
  }
  return hmac('sha256', integrityKey(db), parts);
}

const NULL_FIELD = Buffer.of(0);

export function macsEqual(stored: unknown, expected: Buffer): boolean {
  return Buffer.isBuffer(stored) && stored.length === MAC_BYTES && timingSafeEqual(stored, expected);
}

function hasType(value: unknown, type: ColumnType): boolean {
  switch (type) {
    case 'text':
      return typeof value === 'string';
    case 'text?':
      return value === null || typeof value === 'string';
    case 'int':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'blob':
      return value instanceof Uint8Array;
  }
}

/** How a row is named in messages; its values came from the file, so they are quoted and cut short. */
function rowName(table: AuthenticatedTable, row: Record<string, unknown>): string {
  const id = AUTHENTICATED_TABLES[table].id.map((column) => JSON.stringify(typeof row[column] === 'string' ? (row[column]).slice(0, 80) : String(row[column])));
  return `${table} row ${id.join(' ')}`;
}

function corrupt(table: AuthenticatedTable, row: Record<string, unknown>, why: string): KmsError {
  return new KmsError(
    'Vault.Corrupt',
    `vault.db: the ${rowName(table, row)} ${why}; it was changed outside DeskKMS and is not used (restore the vault from a backup, or remove the row with DeskKMS)`,
  );
}

function macdFields(table: AuthenticatedTable, row: Record<string, unknown>): (string | number | null | Uint8Array)[] {
  const spec: TableSpec = AUTHENTICATED_TABLES[table];
  const fields = Object.keys(spec.macd).map((column) => row[column] as string | number | null | Uint8Array);
  for (const column of Object.keys(spec.added ?? {})) {
    const value = row[column] as string | number | null | Uint8Array | undefined;
    if (value !== null && value !== undefined) fields.push(value);
  }
  return fields;
}

/** The MAC a row of `table` must carry (its authenticated columns as given). */
export function rowMac(db: Db, table: AuthenticatedTable, row: object): Buffer {
  return integrityMac(db, table, macdFields(table, row as Record<string, unknown>));
}

function checkTypes(table: AuthenticatedTable, row: Record<string, unknown>): void {
  const spec: TableSpec = AUTHENTICATED_TABLES[table];
  for (const columns of [spec.macd, spec.added ?? {}, spec.typed ?? {}]) {
    for (const [column, type] of Object.entries(columns)) {
      if (column in row && !hasType(row[column], type)) throw corrupt(table, row, `has a ${column} that is not ${type === 'text?' ? 'text or NULL' : type}`);
    }
  }
}

/**
 * Checks a row read with its `mac` column: column types, then the MAC. Returns the row without
 * `mac`, typed as the caller's row type; throws Vault.Corrupt naming the row, or Vault.Locked.
 */
export function verified<T>(db: Db, table: AuthenticatedTable, row: (T & { mac?: unknown }) | undefined): T | undefined {
  if (row === undefined) return undefined;
  const record = row as Record<string, unknown>;
  checkTypes(table, record);
  // An `added` column may be absent: a backup snapshot taken before it existed has rows without it,
  // MACed without it (read as NULL). A row that has a value there does not verify without it.
  for (const column of Object.keys(AUTHENTICATED_TABLES[table].macd)) {
    if (!(column in record)) throw new KmsError('InternalFailure', `integrity: ${table} read without its column ${column}`);
  }
  if (!macsEqual(record.mac, rowMac(db, table, record))) {
    // (deskkms batch looks for other processes' commits once per chunk of input, so a request
    // may read a row another process re-MACed since: that is a rotation, not an edit)
    if (superseded.get(db)?.() === true) throw rotatedElsewhere();
    throw corrupt(table, record, 'fails its integrity check');
  }
  const rest = { ...record };
  delete rest.mac;
  return rest as T;
}

export function verifiedAll<T>(db: Db, table: AuthenticatedTable, rows: readonly (T & { mac?: unknown })[]): T[] {
  return rows.map((row) => verified(db, table, row)!);
}

/** `SELECT` column list for a table's authenticated reads: the given columns plus `mac`. */
export function withMac(columns: string): string {
  return `${columns}, mac`;
}

/** Checks every row of every authenticated table (Vault.Corrupt naming the first that fails): a rotation and a backup do. */
export function verifyAllRows(db: Db): void {
  for (const table of Object.keys(AUTHENTICATED_TABLES) as AuthenticatedTable[]) {
    verifiedAll(db, table, db.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[]);
  }
}

/**
 * Gives every row of every authenticated table its MAC: run once, when a vault made before
 * authenticated metadata is first unlocked (what it held then is trusted from then on).
 */
export function authenticateAllRows(db: Db): number {
  let count = 0;
  for (const table of Object.keys(AUTHENTICATED_TABLES) as AuthenticatedTable[]) {
    const update = db.prepare(`UPDATE ${table} SET mac = ? WHERE rowid = ?`);
    for (const row of db.prepare(`SELECT rowid AS _rowid, * FROM ${table}`).all() as (Record<string, unknown> & { _rowid: number })[]) {
      checkTypes(table, row);
      update.run(rowMac(db, table, row), row._rowid);
      count++;
    }
  }
  return count;
}
