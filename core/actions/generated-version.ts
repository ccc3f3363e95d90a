// A key pair made in the key worker (CreateKey of Origin Aliyun_KMS, CreateKeyVersion), as the
// version row to insert. The vault is unlocked: dispatch ensured it just before the handler.
import { randomUUID } from 'node:crypto';
import type { VersionRow, KeyRow } from '../vault/records.ts';
import { kmsDate, type Vault } from '../vault/vault.ts';
import type { CallContext } from './operation.ts';

export async function generateVersion(vault: Vault, key: Pick<KeyRow, 'key_id' | 'key_spec'>, ctx: CallContext): Promise<VersionRow> {
  const keyVersionId = randomUUID();
  ctx.keyVersionId = keyVersionId;
  const generated = await vault.worker.request({ op: 'generate', keyId: key.key_id, keyVersionId, spec: key.key_spec });
  return { key_version_id: keyVersionId, key_id: key.key_id, creation_date: kmsDate(vault.now()), public_key: generated.publicKey, sealed_private: generated.sealed };
}
