// AddAgentIdentity (DeskKMS, local only): the agent serves this signing key version (to ssh-agent
// clients when OpenSSH has a key type for its spec, and to DeskKMS's own commands), with or without
// confirmation on each use. Adding a version that is there already changes its Confirm setting.
import { KmsError } from '../contract/errors.ts';
import { kmsDate } from '../vault/vault.ts';
import { getAgentIdentity, putAgentIdentity, type AgentIdentityRow } from '../vault/agent-identities.ts';
import { agentIdentityView } from './agent-identities.ts';
import { assertPrivateMaterial } from './key-policy.ts';
import type { Handler } from './operation.ts';
import { currentKey, resolveKey, resolveVersion } from './targets.ts';

export const addAgentIdentity: Handler<'AddAgentIdentity'> = (vault, req, ctx) => {
  const key = resolveKey(vault, req.KeyId, ctx);
  const version = resolveVersion(vault, key, req.KeyVersionId, ctx);
  if (key.key_usage !== 'SIGN/VERIFY') {
    throw new KmsError('InvalidParameter', `KeyId: key ${key.key_id} is a ${key.key_usage} key; the agent serves signing keys only`);
  }
  assertPrivateMaterial(key, version);
  const row: AgentIdentityRow = { key_version_id: version.key_version_id, key_id: key.key_id, confirm: req.Confirm ? 1 : 0, added_date: kmsDate(vault.now()) };
  return Promise.resolve({
    response: { Identity: agentIdentityView(vault.store.db, row) },
    write: (db) => {
      currentKey(db, key.key_id);
      // Re-adding keeps the first date (the order ssh-add -L lists in), only Confirm changes.
      const existing = getAgentIdentity(db, row.key_version_id);
      putAgentIdentity(db, existing ? { ...row, added_date: existing.added_date } : row);
    },
  });
};
