// Automatic rotation of symmetric keys (CreateKey / UpdateRotationPolicy with EnableAutomaticRotation):
// when a key's primary version is RotationInterval old, the vault makes a new primary version, as
// CreateKeyVersion does and audited as one (caller "rotation"). Old versions keep decrypting.
// It runs with the deletion sweep: whenever a host opens the vault (every CLI run, serve, the agent,
// the app) and every minute in long-running hosts, so a key is rotated once when it is due, by
// whichever host has the vault open then.
import { isSymmetricSpec } from '../contract/specs.ts';
import { keysWithAutomaticRotation, primaryVersionOf, type KeyRow } from '../vault/records.ts';
import { hasIntegrityKey } from '../vault/integrity.ts';
import type { Vault } from '../vault/vault.ts';
import { dispatch } from './dispatch.ts';
import { intervalSeconds } from './key-metadata.ts';

/** The audit caller of the versions rotation makes. */
export const ROTATION_CALLER = 'rotation';

function rotating(key: KeyRow): key is KeyRow & { rotation_interval: string } {
  return isSymmetricSpec(key.key_spec) && key.origin === 'Aliyun_KMS' && key.key_state === 'Enabled' && key.automatic_rotation === 'Enabled' && !!key.rotation_interval;
}

/** The keys whose primary version is at least their interval old at `now`. */
export function keysDueForRotation(vault: Vault, now: Date): string[] {
  const db = vault.store.db;
  const due: string[] = [];
  for (const key of keysWithAutomaticRotation(db)) {
    if (!rotating(key)) continue;
    const primary = primaryVersionOf(db, key.key_id);
    if (primary && Date.parse(primary.creation_date) + intervalSeconds(key.rotation_interval) * 1000 <= now.getTime()) due.push(key.key_id);
  }
  return due;
}

/**
 * Makes a new primary version of every key due (through dispatch: audited, one transaction each).
 * A locked vault rotates later, never on unverified rows. Answers the keys rotated; a key whose
 * rotation failed is reported to `onError` and left for the next sweep.
 */
export async function rotateDueKeys(vault: Vault, onError: (keyId: string, message: string) => void = () => undefined): Promise<string[]> {
  if (!vault.isUnlocked || !hasIntegrityKey(vault.store.db)) return [];
  const rotated: string[] = [];
  for (const keyId of keysDueForRotation(vault, vault.now())) {
    const outcome = await dispatch(vault, 'CreateKeyVersion', { KeyId: keyId }, ROTATION_CALLER);
    if (outcome.ok) rotated.push(keyId);
    else onError(keyId, `${outcome.error.Code}: ${outcome.error.Message}`);
  }
  return rotated;
}

/** What every host does when it opens the vault, and long-running hosts every minute: due deletions, then due rotations. */
export async function sweepDue(vault: Vault): Promise<void> {
  await vault.purgeDueKeys();
  await rotateDueKeys(vault);
}

/** Long-running hosts: sweepDue every `intervalMs` (unref'd; stopped when the vault closes). */
export function startSweeper(vault: Vault, intervalMs?: number): void {
  vault.startDeletionSweeper(intervalMs, () => sweepDue(vault));
}
