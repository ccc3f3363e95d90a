// How keys, versions and aliases are shown to callers: KeyMetadata, ARNs, KeyVersion entries.
import type { KeyMetadata } from '../contract/responses.ts';
import { listVersions, reportedKeyState, type KeyRow, type VersionRow } from '../vault/records.ts';
import type { Db } from '../vault/store.ts';

const ARN_PREFIX = 'acs:kms:local:deskkms';
/** Every key's Creator (DescribeKey; the Creator filter of ListKeys): keys are created by this vault's user. */
export const KEY_CREATOR = 'deskkms';

export function keyArn(keyId: string): string {
  return `${ARN_PREFIX}:key/${keyId}`;
}

export function aliasArn(aliasName: string): string {
  return `${ARN_PREFIX}:${aliasName}`;
}

export function keyMetadata(key: KeyRow, lastRotationDate: string, state: KeyMetadata['KeyState'] = key.key_state): KeyMetadata {
  return {
    KeyId: key.key_id,
    Arn: keyArn(key.key_id),
    KeySpec: key.key_spec,
    KeyUsage: key.key_usage,
    KeyState: state,
    Description: key.description,
    CreationDate: key.creation_date,
    DeleteDate: key.delete_date ?? '',
    Creator: KEY_CREATOR,
    Origin: key.origin,
    ProtectionLevel: key.protection_level,
    MaterialExpireTime: '',
    // Asymmetric keys have no primary version here: every call names its KeyVersionId.
    PrimaryKeyVersion: '',
    LastRotationDate: lastRotationDate,
    AutomaticRotation: 'Disabled',
    RotationInterval: '',
    NextRotationDate: '',
    Exportable: key.exportable === 1,
  };
}

/**
 * A stored key's metadata: its state as callers see it (PendingImport for an EXTERNAL key without
 * sealed material) and the date of its newest version, from one verified read of its versions.
 */
export function storedKeyMetadata(db: Db, key: KeyRow): KeyMetadata {
  const versions = listVersions(db, key.key_id);
  const hasSealed = versions.some((v) => v.material === 'Sealed');
  return keyMetadata(key, versions.at(-1)?.creation_date ?? key.creation_date, reportedKeyState(key, hasSealed));
}

/** A KeyVersion entry (CreateKeyVersion, DescribeKeyVersion, ListKeyVersions, imports). */
export function keyVersionInfo(keyId: string, version: Pick<VersionRow, 'key_version_id' | 'creation_date'>) {
  return { KeyId: keyId, KeyVersionId: version.key_version_id, CreationDate: version.creation_date };
}
