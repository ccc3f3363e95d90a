// Typed rows of the vault database and the queries the operations need. Reads run directly;
// writes are called from inside Store.write jobs.
import type { KeySpec, KeyUsage } from '../contract/specs.ts';
import type { VersionMaterial, WrappingAlgorithm, WrappingKeySpec } from '../contract/key-import.ts';
import type { Statement } from 'better-sqlite3';
import type { Db } from './store.ts';
import type { StoredKeyState } from '../contract/ids.ts';
import { rowMac, verified, verifiedAll, withMac } from './integrity.ts';
import { cachedRow } from './row-cache.ts';

/** The states a key is stored in (core/contract/ids.ts). */
export type KeyState = StoredKeyState;

export interface KeyRow {
  readonly key_id: string;
  readonly key_spec: KeySpec;
  readonly key_usage: KeyUsage;
  readonly origin: string;
  readonly protection_level: string;
  readonly description: string;
  readonly key_state: KeyState;
  readonly creation_date: string;
  readonly delete_date: string | null;
  /** 1 when the key was created Exportable (immutable). */
  readonly exportable: 0 | 1;
  /** Symmetric keys: 'Enabled' when the vault rotates the key on its own (NULL/absent: never). */
  readonly automatic_rotation?: 'Enabled' | 'Disabled' | null;
  /** Symmetric keys: the automatic rotation interval, Alibaba's form ("604800s"); NULL/absent: none. */
  readonly rotation_interval?: string | null;
}

export interface VersionRow {
  readonly key_version_id: string;
  readonly key_id: string;
  readonly creation_date: string;
  readonly public_key: Uint8Array;
  /** Empty when `material` is PublicOnly or Deleted. */
  readonly sealed_private: Uint8Array;
  /** Absent on rows built before insertion (then Sealed). */
  readonly material?: VersionMaterial;
}

export interface AliasRow {
  readonly alias_name: string;
  readonly key_id: string;
  readonly creation_date: string;
}

export interface TagRow {
  readonly key_id: string;
  readonly tag_key: string;
  readonly tag_value: string;
}

// Prepared statements are compiled once per database handle (~25 µs saved per lookup).
const statements = new WeakMap<Db, Map<string, Statement>>();
function stmt(db: Db, sql: string): Statement {
  let byDb = statements.get(db);
  if (!byDb) statements.set(db, (byDb = new Map<string, Statement>()));
  let statement = byDb.get(sql);
  if (!statement) byDb.set(sql, (statement = db.prepare(sql)));
  return statement;
}

const KEY_COLUMNS = 'key_id, key_spec, key_usage, origin, protection_level, description, key_state, creation_date, delete_date, exportable, automatic_rotation, rotation_interval';

// Reads of authenticated rows select their `mac` and pass through verified() (integrity.ts): a row
// edited outside DeskKMS is Vault.Corrupt, never returned. Writes store the row's MAC with it;
// updates start from the verified row, so an edited row is never re-authenticated by an update.

export function getKey(db: Db, keyId: string): KeyRow | undefined {
  return cachedRow(db, `keys\0${keyId}`, () => verified(db, 'keys', stmt(db, `SELECT ${withMac(KEY_COLUMNS)} FROM keys WHERE key_id = ?`).get(keyId) as KeyRow | undefined));
}

export function countKeys(db: Db): number {
  return (stmt(db, 'SELECT count(*) AS n FROM keys').get() as { n: number }).n;
}

export function listKeys(db: Db, offset: number, limit: number): KeyRow[] {
  return verifiedAll(db, 'keys', stmt(db, `SELECT ${withMac(KEY_COLUMNS)} FROM keys ORDER BY seq LIMIT ? OFFSET ?`).all(limit, offset) as KeyRow[]);
}

function nextSeq(db: Db, table: 'keys' | 'key_versions'): number {
  return (stmt(db, `SELECT coalesce(max(seq), 0) + 1 AS n FROM ${table}`).get() as { n: number }).n;
}

export function insertKey(db: Db, row: KeyRow): void {
  const stored = { ...row, automatic_rotation: row.automatic_rotation ?? null, rotation_interval: row.rotation_interval ?? null };
  stmt(db, 
    `INSERT INTO keys (${KEY_COLUMNS}, seq, mac) VALUES (@key_id, @key_spec, @key_usage, @origin, @protection_level, @description, @key_state, @creation_date, @delete_date, @exportable, @automatic_rotation, @rotation_interval, @seq, @mac)`,
  ).run({ ...stored, seq: nextSeq(db, 'keys'), mac: rowMac(db, 'keys', stored) });
}

/** Rewrites a verified key row with `changes`, and its MAC. */
function updateKey(db: Db, keyId: string, changes: Partial<Pick<KeyRow, 'key_state' | 'delete_date' | 'description'>>): void {
  const current = getKey(db, keyId);
  if (!current) return;
  const row = { ...current, ...changes };
  stmt(db, 'UPDATE keys SET key_state = @key_state, delete_date = @delete_date, description = @description, mac = @mac WHERE key_id = @key_id').run({
    key_id: row.key_id,
    key_state: row.key_state,
    delete_date: row.delete_date,
    description: row.description,
    mac: rowMac(db, 'keys', row),
  });
}

/**
 * Sets a symmetric key's automatic rotation: enabled with its interval in seconds, or disabled
 * (the interval kept, as Alibaba's DescribeKey still answers it).
 */
export function setRotationPolicy(db: Db, keyId: string, enabled: boolean, intervalSeconds: number | null): void {
  const current = getKey(db, keyId);
  if (!current) return;
  const row: KeyRow = {
    ...current,
    automatic_rotation: enabled ? 'Enabled' : 'Disabled',
    rotation_interval: intervalSeconds === null ? (current.rotation_interval ?? null) : `${intervalSeconds}s`,
  };
  stmt(db, 'UPDATE keys SET automatic_rotation = @automatic_rotation, rotation_interval = @rotation_interval, mac = @mac WHERE key_id = @key_id').run({
    key_id: row.key_id,
    automatic_rotation: row.automatic_rotation,
    rotation_interval: row.rotation_interval,
    mac: rowMac(db, 'keys', row),
  });
}

export function updateKeyState(db: Db, keyId: string, state: KeyState, deleteDate: string | null): void {
  updateKey(db, keyId, { key_state: state, delete_date: deleteDate });
}

export function updateDescription(db: Db, keyId: string, description: string): void {
  updateKey(db, keyId, { description });
}

export function deleteKey(db: Db, keyId: string): void {
  stmt(db, 'DELETE FROM keys WHERE key_id = ?').run(keyId);
}

/**
 * Keys whose deletion window has passed at `now` (ISO time). Each candidate is verified before it
 * is named: an edited state or date must not get a key destroyed.
 */
export function keysDueForDeletion(db: Db, now: string): string[] {
  const candidates = stmt(db, `SELECT ${withMac(KEY_COLUMNS)} FROM keys WHERE key_state = 'PendingDeletion' AND delete_date <= ?`).all(now) as KeyRow[];
  return verifiedAll(db, 'keys', candidates).map((r) => r.key_id);
}

/**
 * Keys with automatic rotation on (symmetric keys made here), each verified before it is named. The
 * filter runs in SQL, so a vault of many keys pays for these rows only; a row edited to drop its
 * policy is a rotation not made (denial, as a deleted row), never a key rotated on unverified data.
 */
export function keysWithAutomaticRotation(db: Db): KeyRow[] {
  const candidates = stmt(db, `SELECT ${withMac(KEY_COLUMNS)} FROM keys WHERE automatic_rotation = 'Enabled' ORDER BY seq`).all() as KeyRow[];
  return verifiedAll(db, 'keys', candidates);
}

export function insertVersion(db: Db, row: VersionRow, origin: 'Generated' | 'Imported' = 'Generated'): void {
  const stored = { ...row, origin, material: row.material ?? 'Sealed' };
  stmt(db, 
    'INSERT INTO key_versions (key_version_id, key_id, creation_date, public_key, sealed_private, seq, origin, material, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  ).run(row.key_version_id, row.key_id, row.creation_date, row.public_key, row.sealed_private, nextSeq(db, 'key_versions'), origin, stored.material, rowMac(db, 'key_versions', stored));
}

/** Replaces a version's private material (re-import after DeleteKeyMaterial, or its deletion). */
export function setVersionMaterial(db: Db, keyVersionId: string, material: 'Sealed' | 'Deleted', sealed: Uint8Array): void {
  const current = verified(db, 'key_versions', stmt(db, `SELECT ${withMac(`${VERSION_COLUMNS}, origin`)} FROM key_versions WHERE key_version_id = ?`).get(keyVersionId) as VersionRow | undefined);
  if (!current) return;
  const mac = rowMac(db, 'key_versions', { ...current, material });
  stmt(db, 'UPDATE key_versions SET material = ?, sealed_private = ?, mac = ? WHERE key_version_id = ?').run(material, sealed, mac, keyVersionId);
}

const VERSION_COLUMNS = 'key_version_id, key_id, creation_date, public_key, sealed_private, material';
/** What reads select: the version's columns, the authenticated origin, and the MAC. */
const VERSION_READ = withMac(`${VERSION_COLUMNS}, origin`);

/** The version as callers see it: the origin column is read only to be authenticated. */
function versionRow(row: VersionRow & { origin?: string }): VersionRow {
  const version = { ...row };
  delete version.origin;
  return version;
}

export function getVersion(db: Db, keyId: string, keyVersionId: string): VersionRow | undefined {
  return cachedRow(db, `key_versions\0${keyId}\0${keyVersionId}`, () => {
    const row = verified(db, 'key_versions', stmt(db, `SELECT ${VERSION_READ} FROM key_versions WHERE key_id = ? AND key_version_id = ?`).get(keyId, keyVersionId) as VersionRow | undefined);
    return row && versionRow(row);
  });
}

/**
 * A symmetric key's primary version: its newest version (what Encrypt uses), by the authenticated
 * creation date (the row order, seq, is not authenticated: it only breaks a tie within one second).
 * Undefined when the key has none, or when the newest holds no key material (an EXTERNAL key whose
 * material was deleted): an older version is never promoted by an edit of the file.
 */
export function primaryVersionOf(db: Db, keyId: string): VersionRow | undefined {
  let primary: VersionRow | undefined;
  for (const v of listVersions(db, keyId)) if (!primary || v.creation_date >= primary.creation_date) primary = v;
  return primary && (primary.material ?? 'Sealed') === 'Sealed' ? primary : undefined;
}

export function listVersions(db: Db, keyId: string, offset = 0, limit = -1): VersionRow[] {
  const rows = stmt(db, `SELECT ${VERSION_READ} FROM key_versions WHERE key_id = ? ORDER BY seq LIMIT ? OFFSET ?`).all(keyId, limit, offset) as VersionRow[];
  return verifiedAll(db, 'key_versions', rows).map(versionRow);
}

/**
 * The KeyState callers see: a key of Origin EXTERNAL without sealed key material (none imported
 * yet, or deleted with DeleteKeyMaterial) is PendingImport; otherwise the stored state.
 * `hasSealedMaterial` may be a function, asked only for an Enabled EXTERNAL key (a read of its
 * versions that other keys need not pay).
 */
export function reportedKeyState(key: Pick<KeyRow, 'key_state' | 'origin'>, hasSealedMaterial: boolean | (() => boolean)): KeyState | 'PendingImport' {
  if (key.key_state !== 'Enabled' || key.origin !== 'EXTERNAL') return key.key_state;
  const sealed = typeof hasSealedMaterial === 'function' ? hasSealedMaterial() : hasSealedMaterial;
  return sealed ? key.key_state : 'PendingImport';
}

export interface ImportTokenRow {
  readonly token_sha256: string;
  readonly key_id: string;
  readonly wrapping_algorithm: WrappingAlgorithm;
  readonly wrapping_key_spec: WrappingKeySpec;
  readonly public_key: Uint8Array;
  readonly sealed_private: Uint8Array;
  readonly creation_date: string;
  readonly expire_time: string;
}

export function insertImportToken(db: Db, row: ImportTokenRow): void {
  stmt(db,
    'INSERT INTO import_tokens (token_sha256, key_id, wrapping_algorithm, wrapping_key_spec, public_key, sealed_private, creation_date, expire_time, mac) VALUES (@token_sha256, @key_id, @wrapping_algorithm, @wrapping_key_spec, @public_key, @sealed_private, @creation_date, @expire_time, @mac)',
  ).run({ ...row, mac: rowMac(db, 'import_tokens', row) });
}

export function getImportToken(db: Db, tokenSha256: string): ImportTokenRow | undefined {
  return verified(db, 'import_tokens', stmt(db, 'SELECT * FROM import_tokens WHERE token_sha256 = ?').get(tokenSha256) as ImportTokenRow | undefined);
}

/** Drops tokens past their expiry (ISO time `now`); they can never be used again. */
export function deleteExpiredImportTokens(db: Db, now: string): void {
  stmt(db, 'DELETE FROM import_tokens WHERE expire_time <= ?').run(now);
}

/** Keeps the `keep` newest tokens of a key (each holds a sealed wrapping key), dropping older ones. */
export function pruneImportTokens(db: Db, keyId: string, keep: number): void {
  stmt(
    db,
    'DELETE FROM import_tokens WHERE key_id = ? AND rowid NOT IN (SELECT rowid FROM import_tokens WHERE key_id = ? ORDER BY creation_date DESC, rowid DESC LIMIT ?)',
  ).run(keyId, keyId, keep);
}

export function countVersions(db: Db, keyId: string): number {
  return (stmt(db, 'SELECT count(*) AS n FROM key_versions WHERE key_id = ?').get(keyId) as { n: number }).n;
}

const ALIAS_READ = withMac('alias_name, key_id, creation_date');

export function getAlias(db: Db, aliasName: string): AliasRow | undefined {
  return cachedRow(db, `aliases\0${aliasName}`, () => verified(db, 'aliases', stmt(db, `SELECT ${ALIAS_READ} FROM aliases WHERE alias_name = ?`).get(aliasName) as AliasRow | undefined));
}

export function insertAlias(db: Db, row: AliasRow): void {
  stmt(db, 'INSERT INTO aliases (alias_name, key_id, creation_date, mac) VALUES (?, ?, ?, ?)').run(row.alias_name, row.key_id, row.creation_date, rowMac(db, 'aliases', row));
}

export function repointAlias(db: Db, aliasName: string, keyId: string): void {
  const current = getAlias(db, aliasName);
  if (!current) return;
  stmt(db, 'UPDATE aliases SET key_id = ?, mac = ? WHERE alias_name = ?').run(keyId, rowMac(db, 'aliases', { ...current, key_id: keyId }), aliasName);
}

export function deleteAlias(db: Db, aliasName: string): void {
  stmt(db, 'DELETE FROM aliases WHERE alias_name = ?').run(aliasName);
}

export function listAliases(db: Db, keyId: string | undefined, offset: number, limit: number): { rows: AliasRow[]; total: number } {
  const where = keyId === undefined ? '' : 'WHERE key_id = @keyId';
  const rows = verifiedAll(
    db,
    'aliases',
    stmt(db, `SELECT ${ALIAS_READ} FROM aliases ${where} ORDER BY alias_name LIMIT @limit OFFSET @offset`).all({ keyId, limit, offset }) as AliasRow[],
  );
  const total = (stmt(db, `SELECT count(*) AS n FROM aliases ${where}`).get(keyId === undefined ? {} : { keyId }) as { n: number }).n;
  return { rows, total };
}

export function listTags(db: Db, keyId: string): TagRow[] {
  return verifiedAll(db, 'tags', stmt(db, 'SELECT key_id, tag_key, tag_value, mac FROM tags WHERE key_id = ? ORDER BY tag_key').all(keyId) as TagRow[]);
}

export function upsertTag(db: Db, row: TagRow): void {
  stmt(db, 
    'INSERT INTO tags (key_id, tag_key, tag_value, mac) VALUES (?, ?, ?, ?) ON CONFLICT(key_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value, mac = excluded.mac',
  ).run(row.key_id, row.tag_key, row.tag_value, rowMac(db, 'tags', row));
}

export function deleteTag(db: Db, keyId: string, tagKey: string): void {
  stmt(db, 'DELETE FROM tags WHERE key_id = ? AND tag_key = ?').run(keyId, tagKey);
}

export function aliasesOf(db: Db, keyId: string): string[] {
  return [...cachedRow(db, `aliases of\0${keyId}`, () => verifiedAll(db, 'aliases', stmt(db, `SELECT ${ALIAS_READ} FROM aliases WHERE key_id = ?`).all(keyId) as AliasRow[]).map((r) => r.alias_name))!];
}

export interface AccessKeyRow {
  readonly access_key_id: string;
  readonly sealed_secret: Uint8Array;
  readonly state: 'Enabled' | 'Disabled';
  readonly policy: string;
  readonly description: string;
  readonly creation_date: string;
}

export function getAccessKey(db: Db, accessKeyId: string): AccessKeyRow | undefined {
  return cachedRow(db, `access_keys\0${accessKeyId}`, () => verified(db, 'access_keys', stmt(db, 'SELECT * FROM access_keys WHERE access_key_id = ?').get(accessKeyId) as AccessKeyRow | undefined));
}

export function listAccessKeys(db: Db): AccessKeyRow[] {
  return verifiedAll(db, 'access_keys', stmt(db, 'SELECT * FROM access_keys ORDER BY creation_date, access_key_id').all() as AccessKeyRow[]);
}

export function insertAccessKey(db: Db, row: AccessKeyRow): void {
  stmt(db, 
    'INSERT INTO access_keys (access_key_id, sealed_secret, state, policy, description, creation_date, mac) VALUES (@access_key_id, @sealed_secret, @state, @policy, @description, @creation_date, @mac)',
  ).run({ ...row, mac: rowMac(db, 'access_keys', row) });
}

export function setAccessKeyState(db: Db, accessKeyId: string, state: 'Enabled' | 'Disabled'): boolean {
  const current = getAccessKey(db, accessKeyId);
  if (!current) return false;
  return stmt(db, 'UPDATE access_keys SET state = ?, mac = ? WHERE access_key_id = ?').run(state, rowMac(db, 'access_keys', { ...current, state }), accessKeyId).changes === 1;
}

export function deleteAccessKey(db: Db, accessKeyId: string): boolean {
  return stmt(db, 'DELETE FROM access_keys WHERE access_key_id = ?').run(accessKeyId).changes === 1;
}

/** Attaches (or replaces) the PEM certificate chain of a key version. */
export function attachChain(db: Db, keyVersionId: string, chainPem: string, attachedDate: string): void {
  const mac = rowMac(db, 'certificates', { key_version_id: keyVersionId, chain_pem: chainPem, attached_date: attachedDate });
  stmt(db, 
    'INSERT INTO certificates (key_version_id, chain_pem, attached_date, mac) VALUES (?, ?, ?, ?) ON CONFLICT(key_version_id) DO UPDATE SET chain_pem = excluded.chain_pem, attached_date = excluded.attached_date, mac = excluded.mac',
  ).run(keyVersionId, chainPem, attachedDate, mac);
}

export function attachedChain(db: Db, keyVersionId: string): string | undefined {
  const row = stmt(db, 'SELECT key_version_id, chain_pem, attached_date, mac FROM certificates WHERE key_version_id = ?').get(keyVersionId) as
    | { key_version_id: string; chain_pem: string; attached_date: string }
    | undefined;
  return verified(db, 'certificates', row)?.chain_pem;
}
