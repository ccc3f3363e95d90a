// CreateKey: a new key; Origin Aliyun_KMS keys get their first version from the key worker now,
// EXTERNAL keys start without key material (PendingImport), EXTERNAL_PUBLIC_KEY keys without versions.
import { randomUUID } from 'node:crypto';
import { insertKey, insertVersion, reportedKeyState, type KeyRow } from '../vault/records.ts';
import { kmsDate } from '../vault/vault.ts';
import { generateVersion } from './generated-version.ts';
import { intervalSeconds, keyMetadata } from './key-metadata.ts';
import { assertOriginMayBeExportable, assertRotationPolicy, assertSpecFitsOrigin, usageForNewKey } from './key-policy.ts';
import type { Handler } from './operation.ts';
import { applyTags } from './tags.ts';

export const createKey: Handler<'CreateKey'> = async (vault, req, ctx) => {
  const usage = usageForNewKey(req.KeySpec, req.KeyUsage);
  assertOriginMayBeExportable(req.Origin, req.Exportable);
  assertSpecFitsOrigin(req.KeySpec, req.Origin, req.Exportable);
  assertRotationPolicy({ key_id: 'new', key_spec: req.KeySpec, origin: req.Origin }, req.EnableAutomaticRotation, req.RotationInterval);
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
    ...(req.EnableAutomaticRotation && req.RotationInterval ? { automatic_rotation: 'Enabled' as const, rotation_interval: `${intervalSeconds(req.RotationInterval)}s` } : {}),
  };
  const v = req.Origin === 'Aliyun_KMS' ? await generateVersion(vault, row, ctx) : undefined;
  return {
    // KeyVersionId (DeskKMS): the first version, which every call on an asymmetric key names (a
    // symmetric key's first version is its PrimaryKeyVersion).
    response: {
      KeyMetadata: keyMetadata(row, v?.creation_date ?? '', reportedKeyState(row, v !== undefined), v?.key_version_id ?? ''),
      ...(v ? { KeyVersionId: v.key_version_id } : {}),
    },
    write: (db) => {
      insertKey(db, row);
      if (v) insertVersion(db, v);
      applyTags(db, keyId, req.Tags ?? []);
    },
  };
};
