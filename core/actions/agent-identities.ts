// What ListAgentIdentities and AddAgentIdentity answer for a key version the agent serves: its
// key's facts, aliases and, where OpenSSH has a key type for its spec, the line ssh-add -L shows.
import type { AgentIdentity } from '../contract/responses.ts';
import { blobFingerprint, sshKeyBlob, sshUnsupported } from '../formats/ssh-wire.ts';
import type { AgentIdentityRow } from '../vault/agent-identities.ts';
import { aliasesOf, getKey, getVersion } from '../vault/records.ts';
import type { Db } from '../vault/store.ts';
import { KmsError } from '../contract/errors.ts';

/** The OpenSSH comment of an identity: which vault version it is (ssh-add -L prints it). */
export function sshComment(keyId: string, keyVersionId: string): string {
  return `deskkms:${keyId}:${keyVersionId}`;
}

export function agentIdentityView(db: Db, row: AgentIdentityRow): AgentIdentity {
  const key = getKey(db, row.key_id);
  const version = key ? getVersion(db, row.key_id, row.key_version_id) : undefined;
  if (!key || !version) throw new KmsError('Vault.Corrupt', `vault.db: agent identity ${row.key_version_id} names no key version`);
  const view: AgentIdentity = {
    KeyId: row.key_id,
    KeyVersionId: row.key_version_id,
    KeySpec: key.key_spec,
    KeyState: key.key_state,
    Aliases: aliasesOf(db, row.key_id),
    Confirm: row.confirm === 1,
    AddedDate: row.added_date,
  };
  if (sshUnsupported(key.key_spec) !== undefined) return view;
  const { type, blob } = sshKeyBlob(version.public_key);
  return {
    ...view,
    SshPublicKey: `${type} ${Buffer.from(blob).toString('base64')} ${sshComment(row.key_id, row.key_version_id)}`,
    SshFingerprint: blobFingerprint(blob),
  };
}
