// THE key policy: what a key and its versions may do. Every operation asks this module before it
// uses, changes or lets out a key; no operation file writes such a rule itself.
// - usable state: Disabled and PendingDeletion keys refuse use (assertUsable) and state changes
//   have their own preconditions (assertMayEnableOrDisable, ...Deletion);
// - usage and algorithm: the algorithm must belong to the key's spec and usage;
// - private material: Sign, Decrypt, Export and certificates need the version's sealed private key;
// - origin: which keys take generated, PKCS#8-imported, BYOK-imported or public-key-only versions;
// - exportable: only keys created Exportable let versions out (encrypted).
import { KmsError, invalidParameter } from '../contract/errors.ts';
import { keyStateRefusal } from '../contract/key-state-refusal.ts';
import { KEY_SPEC_TABLE, isSymmetricSpec, usagesOf, type KeySpec, type KeyUsage } from '../contract/specs.ts';
import { assertAlgorithmFor } from '../crypto/engine.ts';
import type { KeyRow, VersionRow } from '../vault/records.ts';

type KeyOrigin = KeyRow['origin'];

/** Use of the key (crypto, new versions, imports, exports) needs it Enabled. */
export function assertUsable(key: KeyRow): void {
  if (key.key_state === 'Disabled') throw keyStateRefusal(key.key_id, key.key_state);
  assertNotPendingDeletion(key);
}

/** Changes of a key pending deletion (other than cancelling it) are refused. */
export function assertNotPendingDeletion(key: KeyRow): void {
  if (key.key_state === 'PendingDeletion') throw keyStateRefusal(key.key_id, key.key_state, key.delete_date);
}

/** EnableKey / DisableKey: from Enabled or Disabled only. */
export function assertMayEnableOrDisable(key: KeyRow): void {
  const from = ['Enabled', 'Disabled'] as const;
  assertNotPendingDeletion(key);
  if (!(from as readonly string[]).includes(key.key_state)) {
    throw invalidParameter('KeyId', `key ${key.key_id} is ${key.key_state}; this call needs it ${from.join(' or ')}`);
  }
}

export function assertMayScheduleDeletion(key: KeyRow): void {
  if (key.key_state === 'PendingDeletion') throw new KmsError('Rejected.PendingDeletion', `key ${key.key_id} is already pending deletion (due ${key.delete_date ?? '?'})`);
}

export function assertMayCancelDeletion(key: KeyRow): void {
  if (key.key_state !== 'PendingDeletion') throw invalidParameter('KeyId', `key ${key.key_id} is ${key.key_state}, not pending deletion`);
}

/** The algorithm for a call of `usage`: valid for the key's spec and usage (named in the refusal). */
export function assertAlgorithmAllowed(key: KeyRow, algorithm: string, usage: KeyUsage): void {
  if (key.key_usage !== usage) {
    assertAlgorithmFor(key.key_spec, algorithm, key.key_usage);
  }
  assertAlgorithmFor(key.key_spec, algorithm, usage);
}

/** Requests and certificates are signed by SIGN/VERIFY keys. */
export function assertSignsCertificates(key: KeyRow): void {
  if (key.key_usage !== 'SIGN/VERIFY') throw invalidParameter('KeyId', `key ${key.key_id} has usage ${key.key_usage}; requests and certificates are signed by SIGN/VERIFY keys`);
}

/** The usage a new key of `spec` gets (its default unless given), refused when the spec has no such usage. */
export function usageForNewKey(spec: KeySpec, requested: KeyUsage | undefined): KeyUsage {
  const usage = requested ?? KEY_SPEC_TABLE[spec].defaultUsage;
  if (!usagesOf(spec).includes(usage)) {
    throw invalidParameter('KeyUsage', `${usage} is not available for ${spec}; valid: ${usagesOf(spec).join(', ')}`);
  }
  return usage;
}

/**
 * Symmetric keys (Aliyun_AES_256, Aliyun_SM4) are used only through Encrypt, Decrypt and the
 * data-key Actions: an Action on a key's public key, private key or versions' certificates refuses them.
 */
export function assertAsymmetric(key: Pick<KeyRow, 'key_id' | 'key_spec'>, action: string): void {
  if (isSymmetricSpec(key.key_spec)) {
    throw new KmsError('UnsupportedOperation', `key ${key.key_id} is ${key.key_spec}, a symmetric key: ${action} needs an asymmetric key (use Encrypt, Decrypt and GenerateDataKey with it)`);
  }
}

/** What a new key of `spec` and `origin` may be: symmetric keys are never public-key-only or exportable. */
export function assertSpecFitsOrigin(spec: KeySpec, origin: KeyOrigin, exportable: boolean): void {
  if (!isSymmetricSpec(spec)) return;
  if (origin === 'EXTERNAL_PUBLIC_KEY') throw invalidParameter('Origin', `EXTERNAL_PUBLIC_KEY holds public keys; ${spec} is a symmetric key, which has none`);
  if (exportable) throw invalidParameter('Exportable', `${spec} keys cannot be created Exportable: a symmetric key never leaves the vault (export data keys with ExportDataKey)`);
}

/**
 * Automatic rotation: only symmetric keys whose material is made here (Origin Aliyun_KMS), with an
 * interval. Asymmetric keys get new versions by CreateKeyVersion only.
 */
export function assertRotationPolicy(key: Pick<KeyRow, 'key_id' | 'key_spec' | 'origin'>, enable: boolean, interval: string | undefined): void {
  if (!enable) return;
  if (!isSymmetricSpec(key.key_spec)) throw invalidParameter('EnableAutomaticRotation', `${key.key_spec} keys have no automatic rotation (asymmetric keys); create versions with CreateKeyVersion`);
  if (key.origin !== 'Aliyun_KMS') throw invalidParameter('EnableAutomaticRotation', `keys of Origin ${key.origin} have no automatic rotation: their material comes from ImportKeyMaterial`);
  if (interval === undefined) throw new KmsError('MissingParameter', 'RotationInterval is required when EnableAutomaticRotation is true (7d-365d, e.g. 365d)');
}

/** Only keys whose material is made here (Origin Aliyun_KMS) can be created Exportable. */
export function assertOriginMayBeExportable(origin: KeyOrigin, exportable: boolean | undefined): void {
  if (origin !== 'Aliyun_KMS' && exportable) {
    throw invalidParameter('Exportable', `keys of Origin ${origin} hold material from elsewhere and cannot be created Exportable`);
  }
}

/** Sign, Decrypt and Export need the version's private key sealed in this vault. */
export function assertPrivateMaterial(key: KeyRow, version: VersionRow): void {
  if (version.material === 'PublicOnly') {
    throw new KmsError('Rejected.PublicKeyOnly', `key version ${version.key_version_id} of key ${key.key_id} holds only a public key: it can verify and encrypt, not sign, decrypt or be exported`);
  }
  if (version.material === 'Deleted') {
    throw new KmsError('Rejected.PendingImport', `the key material of key ${key.key_id} was deleted (DeleteKeyMaterial); import the same material again with GetParametersForImport and ImportKeyMaterial`);
  }
}

/** DeleteKeyMaterial: the (EXTERNAL) key's version must hold sealed material to delete. */
export function assertMaterialToDelete(key: KeyRow, version: VersionRow | undefined): asserts version is VersionRow {
  if (!version || version.material !== 'Sealed') {
    throw new KmsError('Rejected.PendingImport', `key ${key.key_id} has no key material to delete`);
  }
}

/** Keys whose versions come from elsewhere (ImportKeyMaterial, ImportPublicKeyVersion) get no generated or PKCS#8-imported versions. */
export function assertGeneratedOrigin(key: KeyRow, action: string): void {
  if (key.origin === 'EXTERNAL') {
    throw invalidParameter('KeyId', `key ${key.key_id} has Origin EXTERNAL: its key material comes only from ImportKeyMaterial, not ${action}`);
  }
  if (key.origin === 'EXTERNAL_PUBLIC_KEY') {
    throw invalidParameter('KeyId', `key ${key.key_id} has Origin EXTERNAL_PUBLIC_KEY: its versions come only from ImportPublicKeyVersion, not ${action}`);
  }
}

/** Wrapped key material (GetParametersForImport, ImportKeyMaterial, DeleteKeyMaterial) is only for keys of Origin EXTERNAL. */
export function assertExternalOrigin(key: KeyRow): void {
  if (key.origin !== 'EXTERNAL') {
    throw invalidParameter('KeyId', `key ${key.key_id} has Origin ${key.origin}; key material can be imported only into keys created with Origin EXTERNAL`);
  }
}

/** Public-key-only versions go only into keys of Origin EXTERNAL_PUBLIC_KEY. */
export function assertExternalPublicKeyOrigin(key: KeyRow): void {
  if (key.origin !== 'EXTERNAL_PUBLIC_KEY') {
    throw invalidParameter('KeyId', `key ${key.key_id} has Origin ${key.origin}; public-key-only versions go into keys created with Origin EXTERNAL_PUBLIC_KEY`);
  }
}

/** A public-key-only version must be of the key's spec. */
export function assertPublicKeySpec(key: KeyRow, spec: KeySpec): void {
  if (spec !== key.key_spec) throw invalidParameter('PublicKey', `is a ${spec} key; key ${key.key_id} is ${key.key_spec}`);
}

/** Versions leave the vault only for keys created Exportable. */
export function assertExportable(key: KeyRow): void {
  if (key.exportable !== 1) {
    throw new KmsError('Forbidden.NoPermission', `key ${key.key_id} was not created Exportable; its versions can never leave the vault`);
  }
}
