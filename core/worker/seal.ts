// Sealing of private key versions at rest: AES-256-GCM under the vault data key, with associated
// data binding KeyId, KeyVersionId and KeySpec, so a sealed row moved to another key or version
// (or relabelled with another spec) fails to open. Runs only in the key worker.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { KmsError } from '../contract/errors.ts';
import type { KeySpec } from '../contract/specs.ts';

const FORMAT = 0x01;
const NONCE = 12;
const TAG = 16;

export interface SealContext {
  readonly keyId: string;
  readonly keyVersionId: string;
  readonly spec: KeySpec;
}

function aad({ keyId, keyVersionId, spec }: SealContext): Buffer {
  return Buffer.from(`deskkms-seal-v1\0${keyId}\0${keyVersionId}\0${spec}`, 'utf8');
}

export function seal(dataKey: Uint8Array, context: SealContext, plaintext: Uint8Array): Uint8Array {
  return sealWith(dataKey, aad(context), plaintext);
}

function sealWith(dataKey: Uint8Array, associated: Buffer, plaintext: Uint8Array): Uint8Array {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', dataKey, nonce);
  cipher.setAAD(associated);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return new Uint8Array(Buffer.concat([Buffer.from([FORMAT]), nonce, body, cipher.getAuthTag()]));
}

export function unseal(dataKey: Uint8Array, context: SealContext, sealed: Uint8Array): Uint8Array {
  const corrupt = new KmsError(
    'Vault.Corrupt',
    `key version ${context.keyVersionId} of key ${context.keyId} cannot be opened: its sealed key material is corrupt or belongs to another key`,
  );
  return unsealWith(dataKey, aad(context), sealed, corrupt);
}

/** Sealing of other vault secrets (access key secrets), bound to a label such as "access-key\0ID". */
export function sealSecret(dataKey: Uint8Array, label: string, plaintext: Uint8Array): Uint8Array {
  return sealWith(dataKey, Buffer.from(`deskkms-secret-v1\0${label}`, 'utf8'), plaintext);
}

export function unsealSecret(dataKey: Uint8Array, label: string, sealed: Uint8Array): Uint8Array {
  const corrupt = new KmsError('Vault.Corrupt', `the sealed secret of ${label.replace('\0', ' ')} is corrupt or belongs to something else`);
  return unsealWith(dataKey, Buffer.from(`deskkms-secret-v1\0${label}`, 'utf8'), sealed, corrupt);
}

function unsealWith(dataKey: Uint8Array, associated: Buffer, sealed: Uint8Array, corrupt: KmsError): Uint8Array {
  if (sealed.length < 1 + NONCE + TAG + 1 || sealed[0] !== FORMAT) throw corrupt;
  try {
    const decipher = createDecipheriv('aes-256-gcm', dataKey, sealed.subarray(1, 1 + NONCE));
    decipher.setAAD(associated);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
    return new Uint8Array(Buffer.concat([decipher.update(sealed.subarray(1 + NONCE, sealed.length - TAG)), decipher.final()]));
  } catch {
    throw corrupt;
  }
}

const VERIFIER_V1 = Buffer.from('deskkms data key verifier', 'utf8');
/**
 * Vaults whose verifier says v2 were born with (or upgraded to) authenticated metadata, so a row
 * without its MAC is corrupt there. Someone who can edit the file cannot turn a v2 verifier back
 * into v1 (it is sealed under the data key) except by restoring one from a copy made before the
 * upgrade.
 */
const VERIFIER_V2 = Buffer.from('deskkms data key verifier v2: authenticated metadata', 'utf8');

function verifierContext(vaultId: string): SealContext {
  return { keyId: 'vault', keyVersionId: vaultId, spec: 'EC_P256' };
}

/** Proof (stored in the vault) that a data key is this vault's: a sealed constant. */
export function makeVerifier(dataKey: Uint8Array, vaultId: string): string {
  return Buffer.from(seal(dataKey, verifierContext(vaultId), VERIFIER_V2)).toString('base64');
}

/** 2 for a current verifier, 1 for one written before authenticated metadata, undefined if it does not open. */
export function verifierVersion(dataKey: Uint8Array, vaultId: string, verifier: string): 1 | 2 | undefined {
  try {
    const opened = Buffer.from(unseal(dataKey, verifierContext(vaultId), Buffer.from(verifier, 'base64')));
    return opened.equals(VERIFIER_V2) ? 2 : opened.equals(VERIFIER_V1) ? 1 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The key that authenticates vault metadata and the audit anchor (core/vault/integrity.ts), bound
 * to this vault. It leaves the worker; the data key does not, and this key cannot give it back.
 */
export function deriveIntegrityKey(dataKey: Uint8Array, vaultId: string): Uint8Array {
  return new Uint8Array(createHmac('sha256', dataKey).update(`deskkms-integrity-key-v1\0${vaultId}`, 'utf8').digest());
}
