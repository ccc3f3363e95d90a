// API access keys the vault issues: the secret is generated in the key worker, shown once, and
// stored sealed under the vault data key; request signatures (RPC HMAC-SHA1, as the official
// Node SDK signs) are computed inside the worker too, so the secret never rests in this thread.
// The Actions that manage them (create-access-key.ts, list-access-keys.ts, enable-/disable-/
// delete-access-key.ts) share what is here. The API host authenticates requests with
// core/hosts/http/access-key-auth.ts, which only reads (no audit entry: dispatch records the call).
import { KmsError } from '../contract/errors.ts';
import { parsePolicy, type Policy } from '../contract/policy.ts';
import type { AccessKeyInfo } from '../contract/responses.ts';
import type { AccessKeyRow } from '../vault/records.ts';
import { kmsDate, type Vault } from '../vault/vault.ts';
import { randomBase62 } from '../crypto/random-text.ts';

/** The row as the access-key Actions answer it (never its sealed secret). */
export function accessKeyInfo(row: Pick<AccessKeyRow, 'access_key_id' | 'state' | 'policy' | 'description' | 'creation_date'>): AccessKeyInfo {
  return { AccessKeyId: row.access_key_id, State: row.state, Policy: parsePolicy(row.policy), Description: row.description, CreationDate: row.creation_date };
}

/**
 * A new access key, not stored yet: its id, and its secret generated and sealed in the key worker
 * (the secret is answered once; the row holds it sealed under the data key). Needs an unlocked vault.
 */
export async function newAccessKey(vault: Vault, policy: Policy, description: string): Promise<{ row: AccessKeyRow; secret: string }> {
  const accessKeyId = `DKMS${randomBase62(20)}`; // the shape ACCESS_KEY_ID (core/contract/actions.ts) checks
  const { secret, sealed } = await vault.worker.request({ op: 'newAccessKey', accessKeyId });
  const row: AccessKeyRow = {
    access_key_id: accessKeyId,
    sealed_secret: sealed,
    state: 'Enabled',
    policy: JSON.stringify(policy),
    description,
    creation_date: kmsDate(vault.now()),
  };
  return { row, secret };
}

/** No access key of this vault has this id. */
export function accessKeyNotFound(accessKeyId: string): KmsError {
  return new KmsError('InvalidAccessKeyId.NotFound', `access key ${accessKeyId} does not exist`);
}
