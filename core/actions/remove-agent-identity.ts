// RemoveAgentIdentity (DeskKMS, local only): the agent stops serving one version of the key
// (KeyVersionId given) or all of its versions. Refused when there is nothing to remove, so a typo
// is not mistaken for a removal.
import { KmsError } from '../contract/errors.ts';
import { deleteAgentIdentities, listAgentIdentities } from '../vault/agent-identities.ts';
import type { Handler } from './operation.ts';
import { resolveKey, resolveVersion } from './targets.ts';

export const removeAgentIdentity: Handler<'RemoveAgentIdentity'> = (vault, req, ctx) => {
  const key = resolveKey(vault, req.KeyId, ctx);
  const keyVersionId = req.KeyVersionId === undefined ? undefined : resolveVersion(vault, key, req.KeyVersionId, ctx, 'allowed').key_version_id;
  const named = (db: typeof vault.store.db) =>
    listAgentIdentities(db).filter((row) => row.key_id === key.key_id && (keyVersionId === undefined || row.key_version_id === keyVersionId)).length;
  const notAdded = () => new KmsError('Agent.KeyNotAdded', `key ${key.key_id}${keyVersionId ? ` version ${keyVersionId}` : ''} is not in the agent (deskkms agent list shows what is)`);
  const removed = named(vault.store.db);
  if (removed === 0) throw notAdded();
  return Promise.resolve({
    response: { Removed: removed },
    write: (db) => {
      if (deleteAgentIdentities(db, key.key_id, keyVersionId) === 0) throw notAdded();
    },
  });
};
