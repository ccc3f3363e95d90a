// AddAgentIdentity (DeskKMS, local only): the agent serves this signing key version (to ssh-agent
// clients when OpenSSH has a key type for its spec, and to DeskKMS's own commands), with or without
// confirmation on each use. Adding a version that is there already changes its Confirm setting.
// A version whose public key another identity has already (the same private key imported into a
// second key) is refused: an ssh-agent request names only the public key, so two identities with
// one key would leave it to the agent which one's Confirm and state apply.
import { KmsError } from '../contract/errors.ts';
import { kmsDate } from '../vault/vault.ts';
import { getAgentIdentity, listAgentIdentities, putAgentIdentity, type AgentIdentityRow } from '../vault/agent-identities.ts';
import { getVersion } from '../vault/records.ts';
import type { Db } from '../vault/store.ts';
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
  assertNoTwin(vault.store.db, version.key_version_id, version.public_key);
  const row: AgentIdentityRow = { key_version_id: version.key_version_id, key_id: key.key_id, confirm: req.Confirm ? 1 : 0, added_date: kmsDate(vault.now()) };
  return Promise.resolve({
    response: { Identity: agentIdentityView(vault.store.db, row) },
    write: (db) => {
      currentKey(db, key.key_id);
      assertNoTwin(db, row.key_version_id, version.public_key);
      // Re-adding keeps the first date (the order ssh-add -L lists in), only Confirm changes.
      const existing = getAgentIdentity(db, row.key_version_id);
      putAgentIdentity(db, existing ? { ...row, added_date: existing.added_date } : row);
    },
  });
};

/** InvalidParameter when another identity's version has this public key. */
function assertNoTwin(db: Db, keyVersionId: string, publicKey: Uint8Array): void {
  for (const other of listAgentIdentities(db)) {
    if (other.key_version_id === keyVersionId) continue;
    const twin = getVersion(db, other.key_id, other.key_version_id);
    if (twin && Buffer.from(twin.public_key).equals(publicKey)) {
      throw new KmsError(
        'InvalidParameter',
        `KeyVersionId: key version ${keyVersionId} has the same public key as agent identity ${other.key_id} version ${other.key_version_id}; an SSH client names only the public key, so one key can be one identity only (deskkms agent remove ${other.key_id} --version ${other.key_version_id} first)`,
      );
    }
  }
}
