// The database half of a data-key rotation (core/actions/protection-change.ts drives it; the key
// worker reseals): every sealed secret of the vault is listed, then replaced by its resealed copy,
// and every authenticated record is MACed again under the new integrity key, in the one
// transaction that also moves the verifier and the data key's protection. Before anything is
// rewritten, everything is checked under the old key: a row edited outside DeskKMS is refused
// (Vault.Corrupt), never laundered into an authentic one by the rotation.
import { KmsError } from '../contract/errors.ts';
import { acknowledgedBreaks, rewriteAcknowledgedBreaks } from '../audit/anchor.ts';
import { anchorAuditHead, verifyAuditChain } from '../audit/audit-log.ts';
import type { SealedItem } from '../worker/protocol.ts';
import { lastBackup, setLastBackup } from './custody-meta.ts';
import { authenticateAllRows, integrityKey, setIntegrityKey, verifiedAll, verifyAllRows } from './integrity.ts';
import type { KeySpec } from '../contract/specs.ts';
import type { Db } from './store.ts';

/** Where a sealed secret lives, so its resealed copy goes back to the same row. */
type SealedRow = { readonly table: 'key_versions'; readonly id: string } | { readonly table: 'access_keys'; readonly id: string };

export interface SealedInventory {
  readonly items: SealedItem[];
  readonly rows: SealedRow[];
  /** Outstanding import tokens: their wrapping keys are sealed under a context naming the token, which the vault never stores (only its hash), so a rotation revokes them. */
  readonly importTokens: number;
}

/** Every sealed secret in the vault, read from authenticated rows (Vault.Corrupt on an edited one). */
export function sealedInventory(db: Db): SealedInventory {
  const items: SealedItem[] = [];
  const rows: SealedRow[] = [];
  const versions = verifiedAll(
    db,
    'key_versions',
    db
      .prepare(
        'SELECT v.key_version_id, v.key_id, v.creation_date, v.public_key, v.origin, v.material, v.sealed_private, v.mac, k.key_spec FROM key_versions v JOIN keys k ON k.key_id = v.key_id ORDER BY v.seq',
      )
      .all() as { key_version_id: string; key_id: string; material: string; sealed_private: Uint8Array; key_spec: KeySpec; mac: unknown }[],
  );
  for (const v of versions) {
    if (v.material !== 'Sealed') continue;
    items.push({ kind: 'key', keyId: v.key_id, keyVersionId: v.key_version_id, spec: v.key_spec, sealed: v.sealed_private });
    rows.push({ table: 'key_versions', id: v.key_version_id });
  }
  const accessKeys = verifiedAll(db, 'access_keys', db.prepare('SELECT * FROM access_keys ORDER BY access_key_id').all() as { access_key_id: string; sealed_secret: Uint8Array }[]);
  for (const a of accessKeys) {
    items.push({ kind: 'secret', label: `access-key\0${a.access_key_id}`, sealed: a.sealed_secret });
    rows.push({ table: 'access_keys', id: a.access_key_id });
  }
  const importTokens = (db.prepare('SELECT count(*) AS n FROM import_tokens').get() as { n: number }).n;
  return { items, rows, importTokens };
}

/** Every authenticated row checked under the current integrity key, and the audit log's chain and anchor. */
function checkEverything(db: Db): void {
  verifyAllRows(db);
  const verdict = verifyAuditChain(db);
  if (!verdict.ok) {
    throw new KmsError('Vault.AuditBroken', `the audit log does not verify (${verdict.reason}); the data key was not rotated. Acknowledge the break first (deskkms audit verify)`);
  }
}

function sameSealed(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

/**
 * In the rotation's write transaction: checks that the vault still holds exactly the sealed secrets
 * that were resealed (another process may have added a key meanwhile: then Vault.Busy, nothing
 * changed), writes the resealed copies, and MACs every record under `nextIntegrityKey`. Returns the
 * old integrity key (a copy) for the caller to restore if the transaction does not commit.
 */
export function applyRotation(db: Db, before: SealedInventory, resealed: readonly Uint8Array[], nextIntegrityKey: Uint8Array): Buffer {
  checkEverything(db);
  const now = sealedInventory(db);
  const unchanged =
    now.items.length === before.items.length &&
    now.rows.every((row, i) => row.table === before.rows[i]!.table && row.id === before.rows[i]!.id && sameSealed(now.items[i]!.sealed, before.items[i]!.sealed));
  if (!unchanged) {
    throw new KmsError('Vault.Busy', "the vault's keys changed while the data key was being rotated (another DeskKMS process wrote to it); nothing was changed: try again");
  }
  const breaks = acknowledgedBreaks(db).breaks;
  const backup = lastBackup(db);
  const updateVersion = db.prepare('UPDATE key_versions SET sealed_private = ? WHERE key_version_id = ?');
  const updateAccessKey = db.prepare('UPDATE access_keys SET sealed_secret = ? WHERE access_key_id = ?');
  before.rows.forEach((row, i) => (row.table === 'key_versions' ? updateVersion : updateAccessKey).run(resealed[i], row.id));
  db.prepare('DELETE FROM import_tokens').run();
  const previous = Buffer.from(integrityKey(db));
  setIntegrityKey(db, nextIntegrityKey);
  try {
    authenticateAllRows(db);
    anchorAuditHead(db);
    rewriteAcknowledgedBreaks(db, breaks);
    if (backup) setLastBackup(db, backup);
  } catch (error) {
    // This job is rolled back: the jobs after it in the batch, and every later call, need the old key.
    setIntegrityKey(db, previous);
    previous.fill(0);
    throw error;
  }
  return previous;
}
