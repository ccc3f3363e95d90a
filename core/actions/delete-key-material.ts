// DeleteKeyMaterial: an EXTERNAL key's imported material is deleted (the key becomes PendingImport;
// the same material can be imported again). The key worker's live copy is dropped too.
import { setVersionMaterial } from '../vault/records.ts';
import { importedVersion } from './key-material.ts';
import { assertExternalOrigin, assertMaterialToDelete, assertNotPendingDeletion } from './key-policy.ts';
import type { Handler } from './operation.ts';
import { resolveKey } from './targets.ts';

export const deleteKeyMaterial: Handler<'DeleteKeyMaterial'> = async (vault, req, ctx) => {
  const key = resolveKey(vault, req.KeyId, ctx);
  assertExternalOrigin(key);
  assertNotPendingDeletion(key);
  const version = importedVersion(vault.store.db, key.key_id);
  assertMaterialToDelete(key, version);
  ctx.keyVersionId = version.key_version_id;
  // Drop the worker's live copy now, and again once the deletion is committed: a signature that
  // read the sealed row before the commit may have loaded it again in between.
  const forget = async (): Promise<void> => {
    if (vault.isUnlocked) await vault.worker.request({ op: 'forget', keyVersionIds: [version.key_version_id] });
  };
  await forget();
  return {
    response: {},
    afterCommit: forget,
    write: (db) => {
      const now = importedVersion(db, key.key_id);
      assertMaterialToDelete(key, now);
      setVersionMaterial(db, now.key_version_id, 'Deleted', new Uint8Array(0));
    },
  };
};
