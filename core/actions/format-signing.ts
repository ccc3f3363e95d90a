// Signing in a release format (core/formats): the one route from a host to a signature file.
// The key version and its public key are read through dispatch (DescribeKeyVersion or
// ListKeyVersions, GetPublicKey), the format hashes the message, and the one signature is an
// AsymmetricSign dispatched like any other call, audited with the caller and the format
// ("cli:ssh", "app:openpgp"). No private key is reached any other way.
import { decodeBase64, encodeBase64 } from '../contract/base64.ts';
import { KmsError } from '../contract/errors.ts';
import type { ActionName, ActionParams } from '../contract/actions.ts';
import type { ActionResponse, KeyVersionInfo } from '../contract/responses.ts';
import { importPublicKey } from '../crypto/public-key.ts';
import type { FormatOptions, PendingSignature, SignatureFormatName, SigningKeyInfo } from '../formats/format.ts';
import { signatureFormat } from '../formats/registry.ts';
import { getKey, listKeys, listVersions } from '../vault/records.ts';
import type { Vault } from '../vault/vault.ts';
import { dispatch, type DispatchOptions } from './dispatch.ts';

/** Who signs, and how the host wants internal errors reported (its log). */
export interface Signer {
  readonly vault: Vault;
  /** The host's caller name ("cli", "app"); the audit entry reads "<caller>:<format>". */
  readonly caller: string;
  readonly dispatchOptions?: DispatchOptions;
}

/** An Action through dispatch as the signer's caller (or "<caller>:<via>"); a refusal throws its KmsError with the RequestId. */
export async function call<A extends ActionName>(signer: Signer, action: A, params: ActionParams<A>, via?: string): Promise<ActionResponse<A>> {
  const outcome = await dispatch(signer.vault, action, params, via ? `${signer.caller}:${via}` : signer.caller, signer.dispatchOptions);
  if (!outcome.ok) throw new KmsError(outcome.error.Code, `${action}: ${outcome.error.Message} (RequestId ${outcome.error.RequestId})`);
  return outcome.body;
}

/**
 * The key's newest version (latest CreationDate; of versions made in the same second, the one
 * listed last), read page by page through ListKeyVersions.
 */
export async function newestKeyVersion(signer: Signer, keyRef: string): Promise<KeyVersionInfo> {
  let newest: KeyVersionInfo | undefined;
  for (let page = 1; ; page++) {
    const listed = await call(signer, 'ListKeyVersions', { KeyId: keyRef, PageSize: 100, PageNumber: page });
    for (const v of listed.KeyVersions.KeyVersion) if (!newest || v.CreationDate >= newest.CreationDate) newest = v;
    if (listed.KeyVersions.KeyVersion.length === 0 || page * 100 >= listed.TotalCount) break;
  }
  if (!newest) throw new KmsError('Forbidden.KeyNotFound', `key ${keyRef} has no key version`);
  return newest;
}

export interface ChosenKey extends SigningKeyInfo {
  /** True when no version was named and the newest one was taken (hosts say which). */
  readonly newest: boolean;
}

/**
 * The key version that will sign: the one named, or the key's newest version (the CLI's
 * convenience; the KMS API itself stays explicit). Refuses a key that is not Enabled unless the
 * caller only publishes its public key (`forSigning: false`).
 */
export async function chooseSigningKey(signer: Signer, keyRef: string, keyVersionId?: string, { forSigning = true }: { readonly forSigning?: boolean } = {}): Promise<ChosenKey> {
  const version =
    keyVersionId !== undefined ? (await call(signer, 'DescribeKeyVersion', { KeyId: keyRef, KeyVersionId: keyVersionId })).KeyVersion : await newestKeyVersion(signer, keyRef);
  const keyId = version.KeyId;
  const described = await call(signer, 'DescribeKey', { KeyId: keyId });
  const state = described.KeyMetadata.KeyState;
  if (forSigning && state !== 'Enabled') throw new KmsError(state === 'PendingDeletion' ? 'Rejected.PendingDeletion' : 'Rejected.Disabled', `key ${keyRef} is ${state}: it cannot sign`);
  const pem = await call(signer, 'GetPublicKey', { KeyId: keyId, KeyVersionId: version.KeyVersionId });
  const publicKey = importPublicKey(pem.PublicKey, 'PublicKey');
  return {
    keyId,
    keyVersionId: version.KeyVersionId,
    spec: publicKey.spec,
    spki: publicKey.spki,
    created: new Date(version.CreationDate),
    newest: keyVersionId === undefined,
  };
}

/** A signature begun in a format for a chosen key: feed the message, then completeSignature. */
export function beginSignature(key: SigningKeyInfo, format: SignatureFormatName, options: FormatOptions = {}): PendingSignature {
  return signatureFormat(format).begin(key, options);
}

/** The one AsymmetricSign of a format's signature, audited as "<caller>:<format>"; returns the file's bytes. */
export async function completeSignature(signer: Signer, key: SigningKeyInfo, format: SignatureFormatName, pending: PendingSignature): Promise<Uint8Array> {
  const { algorithm, digest } = pending.toSign();
  const signed = await call(signer, 'AsymmetricSign', { KeyId: key.keyId, KeyVersionId: key.keyVersionId, Algorithm: algorithm, Digest: encodeBase64(digest) }, format);
  return pending.finish(decodeBase64(signed.Value, 'Value'));
}

/** Signs a whole message (any size, streamed) in a format: the file's bytes and the key that signed. */
export async function signMessage(
  signer: Signer,
  request: { readonly key: string; readonly version?: string; readonly format: SignatureFormatName; readonly options?: FormatOptions },
  message: AsyncIterable<Uint8Array>,
  onProgress?: (bytes: number) => void,
): Promise<{ readonly output: Uint8Array; readonly key: ChosenKey }> {
  const key = await chooseSigningKey(signer, request.key, request.version);
  const pending = beginSignature(key, request.format, request.options);
  let bytes = 0;
  for await (const chunk of message) {
    pending.update(chunk);
    bytes += chunk.length;
    onProgress?.(bytes);
  }
  return { output: await completeSignature(signer, key, request.format, pending), key };
}

/**
 * This vault's own key versions whose public facts match (the git programs find the vault key by
 * the public key or OpenPGP fingerprint git names). A search of public rows only, not audited
 * itself: the signature that follows is. Keys that are not Enabled are skipped.
 */
export async function findSigningKeys(vault: Vault, matches: (key: SigningKeyInfo) => boolean): Promise<SigningKeyInfo[]> {
  await vault.ensureUnlocked();
  const found: SigningKeyInfo[] = [];
  const db = vault.store.db;
  for (let offset = 0; ; offset += 200) {
    const keys = listKeys(db, offset, 200);
    if (keys.length === 0) break;
    for (const key of keys) {
      const current = getKey(db, key.key_id);
      if (!current || current.key_state !== 'Enabled' || current.key_usage !== 'SIGN/VERIFY') continue;
      for (const version of listVersions(db, key.key_id)) {
        if (version.material !== undefined && version.material !== 'Sealed') continue; // public-only or deleted: cannot sign
        const info: SigningKeyInfo = {
          keyId: key.key_id,
          keyVersionId: version.key_version_id,
          spec: key.key_spec,
          spki: version.public_key,
          created: new Date(version.creation_date),
        };
        if (matches(info)) found.push(info);
      }
    }
  }
  return found;
}
