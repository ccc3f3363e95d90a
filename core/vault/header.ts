// The vault header's checksum: SHA-256 over the meta rows that say how the vault unlocks
// (vault_id, protection, verifier, wrapped_data_key), stored beside them as header_check. It tells
// a damaged header (a flipped byte in the wrapped key's salt or ciphertext, a truncated verifier)
// from a wrong passphrase or keychain entry, which otherwise fail the same AES-GCM tag. It is a
// checksum against damage, not a MAC against tampering: whoever can write vault.db can recompute
// it (what such a person can and cannot do is core/vault/integrity.ts's subject).
//
// meta.ts's setMeta refreshes it whenever a header row is written, so every legitimate writer
// (init, a verifier upgrade, a future protection change) keeps it right. A vault made before it
// has no header_check and works as before; it gets one the first time a header row is written.
import { createHash } from 'node:crypto';
import { KmsError } from '../contract/errors.ts';

export const HEADER_FIELDS = ['vault_id', 'protection', 'verifier', 'wrapped_data_key', 'keychain_account'] as const;
/**
 * Fields added after the checksum was introduced: hashed only when present, so the checksum of a
 * vault written before them is unchanged. (keychain_account: the keychain entry holding the data
 * key, once a rotation or a move to the keychain gave it a name other than vault-<vault id>.)
 */
const OPTIONAL_FIELDS: ReadonlySet<string> = new Set(['keychain_account']);
export const HEADER_CHECK = 'header_check';
const PREFIX = 'sha256:';

type MetaReader = (key: string) => string | undefined;

/** sha256:HEX over each field's name and value, length-prefixed (absent fields marked as such). */
export function headerChecksum(read: MetaReader): string {
  const hash = createHash('sha256').update('deskkms-header-v1\0');
  for (const name of HEADER_FIELDS) {
    const value = read(name);
    if (value === undefined && OPTIONAL_FIELDS.has(name)) continue;
    hash.update(`${name}\0`);
    if (value === undefined) hash.update('-\0');
    else {
      const bytes = Buffer.from(value, 'utf8');
      hash.update(`${bytes.length}\0`).update(bytes);
    }
  }
  return PREFIX + hash.digest('hex');
}

export function isHeaderField(key: string): boolean {
  return (HEADER_FIELDS as readonly string[]).includes(key);
}

/**
 * Throws Vault.Corrupt when the header does not match its checksum. Run before trying a secret, so
 * that a damaged header is never reported as a wrong passphrase. A vault without a checksum passes.
 */
export function checkHeader(read: MetaReader, where: string): void {
  const stored = read(HEADER_CHECK);
  if (stored === undefined) return;
  if (stored !== headerChecksum(read)) {
    throw new KmsError(
      'Vault.Corrupt',
      `the vault header is damaged (${HEADER_FIELDS.filter((f) => !OPTIONAL_FIELDS.has(f) || read(f) !== undefined).join(', ')} in ${where} do not match their checksum ${HEADER_CHECK}); no passphrase or keychain entry was tried. To fix: restore vault.db from a backup`,
    );
  }
}
