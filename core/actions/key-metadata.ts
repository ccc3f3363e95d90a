// How keys, versions and aliases are shown to callers: KeyMetadata, ARNs, KeyVersion entries.
import type { KeyMetadata } from '../contract/responses.ts';
import { isSymmetricSpec } from '../contract/specs.ts';
import { listVersions, primaryVersionOf, reportedKeyState, type KeyRow, type VersionRow } from '../vault/records.ts';
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

/** Seconds of an interval in Alibaba's form ("604800s", or with d, h, m). */
export function intervalSeconds(interval: string): number {
  return Number(interval.slice(0, -1)) * { d: 86400, h: 3600, m: 60, s: 1 }[interval.at(-1) as 'd' | 'h' | 'm' | 's'];
}

/** When a key rotating every `interval` is next due, from its primary version's date. */
export function nextRotationDate(lastRotationDate: string, interval: string): string {
  return new Date(Date.parse(lastRotationDate) + intervalSeconds(interval) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * `lastRotationDate` is the newest version's creation date. For a symmetric key, `primary` is its
 * primary version's id (what Encrypt uses) and its date the last rotation; asymmetric keys have no
 * primary version here (every call names its KeyVersionId) and no automatic rotation.
 */
export function keyMetadata(key: KeyRow, lastRotationDate: string, state: KeyMetadata['KeyState'] = key.key_state, primary = ''): KeyMetadata {
  const symmetric = isSymmetricSpec(key.key_spec);
  const rotating = symmetric && key.automatic_rotation === 'Enabled' && !!key.rotation_interval && lastRotationDate !== '';
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
    PrimaryKeyVersion: symmetric ? primary : '',
    LastRotationDate: lastRotationDate,
    AutomaticRotation: symmetric && key.automatic_rotation === 'Enabled' ? 'Enabled' : 'Disabled',
    RotationInterval: symmetric ? (key.rotation_interval ?? '') : '',
    NextRotationDate: rotating ? nextRotationDate(lastRotationDate, key.rotation_interval) : '',
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
  const primary = isSymmetricSpec(key.key_spec) ? primaryVersionOf(db, key.key_id) : undefined;
  return keyMetadata(key, primary?.creation_date ?? versions.at(-1)?.creation_date ?? key.creation_date, reportedKeyState(key, hasSealed), primary?.key_version_id ?? '');
}

/** A KeyVersion entry (CreateKeyVersion, DescribeKeyVersion, ListKeyVersions, imports). */
export function keyVersionInfo(keyId: string, version: Pick<VersionRow, 'key_version_id' | 'creation_date'>) {
  return { KeyId: keyId, KeyVersionId: version.key_version_id, CreationDate: version.creation_date };
}
