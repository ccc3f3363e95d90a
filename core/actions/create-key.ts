// CreateKey: a new key; Origin Aliyun_KMS keys get their first version from the key worker now,
// EXTERNAL keys start without key material (PendingImport), EXTERNAL_PUBLIC_KEY keys without versions.
import { randomUUID } from 'node:crypto';
import { insertKey, insertVersion, reportedKeyState, type KeyRow } from '../vault/records.ts';
import { kmsDate } from '../vault/vault.ts';
import { generateVersion } from './generated-version.ts';
import { keyMetadata } from './key-metadata.ts';
import { assertOriginMayBeExportable, usageForNewKey } from './key-policy.ts';
import type { Handler } from './operation.ts';
import { applyTags } from './tags.ts';

export const createKey: Handler<'CreateKey'> = async (vault, req, ctx) => {
  const usage = usageForNewKey(req.KeySpec, req.KeyUsage);
  assertOriginMayBeExportable(req.Origin, req.Exportable);
  const keyId = randomUUID();
  ctx.keyId = keyId;
  const row: KeyRow = {
    key_id: keyId,
    key_spec: req.KeySpec,
    key_usage: usage,
    origin: req.Origin,
    protection_level: req.ProtectionLevel,
    description: req.Description,
    key_state: 'Enabled',
    creation_date: kmsDate(vault.now()),
    delete_date: null,
    exportable: req.Exportable ? 1 : 0,
  };
  const v = req.Origin === 'Aliyun_KMS' ? await generateVersion(vault, row, ctx) : undefined;
  return {
    // KeyVersionId (DeskKMS): the first version, which every call on the key names (asymmetric
    // keys have no PrimaryKeyVersion).
    response: { KeyMetadata: keyMetadata(row, v?.creation_date ?? '', reportedKeyState(row, v !== undefined)), ...(v ? { KeyVersionId: v.key_version_id } : {}) },
    write: (db) => {
      insertKey(db, row);
      if (v) insertVersion(db, v);
      applyTags(db, keyId, req.Tags ?? []);
    },
  };
};
