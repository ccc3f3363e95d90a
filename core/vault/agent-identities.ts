// The key versions the user chose for the agent (deskkms agent add, the app's agent panel), with
// their confirm-on-use setting. Authenticated rows (core/vault/integrity.ts): the agent obeys a
// row only when its MAC holds, so whoever can edit vault.db cannot add a key to the agent or turn
// its confirmation off by editing a row; deleting a row only takes a key out of the agent (a
// denial, never a grant). Not stopped, as for every authenticated row: writing back an older
// authentic copy of the row (rollback: a copy of vault.db taken while the version was in the
// agent without confirmation brings that back). The audit log still shows every AddAgentIdentity.
import type { Db } from './store.ts';
import { rowMac, verified, verifiedAll } from './integrity.ts';

export interface AgentIdentityRow {
  readonly key_version_id: string;
  readonly key_id: string;
  /** 1: every use needs the user's approval (the app's dialog, or SSH_ASKPASS for the CLI agent). */
  readonly confirm: 0 | 1;
  readonly added_date: string;
}

const COLUMNS = 'key_version_id, key_id, confirm, added_date, mac';

/** Adds the version, or replaces its confirm setting (and date) when it is there already. */
export function putAgentIdentity(db: Db, row: AgentIdentityRow): void {
  db.prepare(
    'INSERT INTO agent_identities (key_version_id, key_id, confirm, added_date, mac) VALUES (@key_version_id, @key_id, @confirm, @added_date, @mac) ' +
      'ON CONFLICT(key_version_id) DO UPDATE SET confirm = excluded.confirm, added_date = excluded.added_date, mac = excluded.mac',
  ).run({ ...row, mac: rowMac(db, 'agent_identities', row) });
}

export function getAgentIdentity(db: Db, keyVersionId: string): AgentIdentityRow | undefined {
  return verified(db, 'agent_identities', db.prepare(`SELECT ${COLUMNS} FROM agent_identities WHERE key_version_id = ?`).get(keyVersionId) as AgentIdentityRow | undefined);
}

/** Every identity, oldest first (the order ssh-add -L lists them in). */
export function listAgentIdentities(db: Db): AgentIdentityRow[] {
  return verifiedAll(db, 'agent_identities', db.prepare(`SELECT ${COLUMNS} FROM agent_identities ORDER BY added_date, rowid`).all() as AgentIdentityRow[]);
}

/** Removes one version (keyVersionId given) or every version of the key; answers how many. */
export function deleteAgentIdentities(db: Db, keyId: string, keyVersionId?: string): number {
  return keyVersionId === undefined
    ? db.prepare('DELETE FROM agent_identities WHERE key_id = ?').run(keyId).changes
    : db.prepare('DELETE FROM agent_identities WHERE key_id = ? AND key_version_id = ?').run(keyId, keyVersionId).changes;
}
