// Bring your own key, as Alibaba Cloud KMS has it for asymmetric keys (CreateKey Origin EXTERNAL,
// GetParametersForImport, ImportKeyMaterial, DeleteKeyMaterial): what those operations share.
// Wrapping keys are made and used in the key worker; the main thread sees their public halves
// and sealed private halves only. Import tokens are stored by their SHA-256 only.
import { createHash } from 'node:crypto';
import { listVersions, type VersionRow } from '../vault/records.ts';
import type { Db } from '../vault/store.ts';

export function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** An EXTERNAL key has at most one version: the one its first ImportKeyMaterial created. */
export function importedVersion(db: Db, keyId: string): VersionRow | undefined {
  return listVersions(db, keyId, 0, 1)[0];
}
