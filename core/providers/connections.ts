// Remote KMS connections registered in the vault: name, endpoint, region, protocol, AccessKey id
// and signature scheme in the vault (authenticated, core/vault/integrity.ts: how a connection
// authenticates is not editable in the file); the AccessKey secret in the OS keychain only (never
// in the vault file, the audit log or a message). The Actions that manage them (core/actions/add-remote-connection.ts,
// list-remote-connections.ts, remove-remote-connection.ts) use the records here; dispatch audits them.
import { isSignatureAlgorithm, type SignatureAlgorithm } from '../contract/api-signatures.ts';
import { KmsError, invalidParameter } from '../contract/errors.ts';
import type { RemoteConnectionInfo } from '../contract/responses.ts';
import { deleteSecret, loadSecretText, storeSecretText } from '../keychain/keychain.ts';
import type { Db } from '../vault/store.ts';
import { rowMac, verified, verifiedAll } from '../vault/integrity.ts';
import type { Vault } from '../vault/vault.ts';
import type { RemoteConnection, RemoteKmsProvider } from './remote.ts';

export interface ConnectionRow {
  readonly name: string;
  readonly endpoint: string;
  readonly region_id: string;
  readonly protocol: 'http' | 'https';
  readonly access_key_id: string;
  readonly creation_date: string;
  /** NULL in a row made before the column (schema migration 8): LEGACY_SIGNATURE_ALGORITHM. */
  readonly signature_algorithm: SignatureAlgorithm | null;
}

/**
 * What a connection made before it had a SignatureAlgorithm signs with: HMAC-SHA1 (V1), the only
 * scheme DeskKMS spoke then, so the server it was made for (an older deskkms serve takes V1 only;
 * Alibaba Cloud KMS takes both) keeps answering it. Remove and add the connection to change it.
 */
export const LEGACY_SIGNATURE_ALGORITHM: SignatureAlgorithm = 'HMAC-SHA1';

function account(vault: Vault, name: string): string {
  return `remote-${vault.vaultId}-${name}`;
}

function what(name: string): string {
  return `the AccessKey secret of remote connection "${name}"`;
}

/** The scheme the connection signs with. */
export function signatureAlgorithmOf(row: ConnectionRow): SignatureAlgorithm {
  return row.signature_algorithm ?? LEGACY_SIGNATURE_ALGORITHM;
}

function toConnection(row: ConnectionRow): RemoteConnection {
  return {
    name: row.name,
    endpoint: row.endpoint,
    regionId: row.region_id,
    protocol: row.protocol,
    accessKeyId: row.access_key_id,
    signatureAlgorithm: signatureAlgorithmOf(row),
  };
}

/** The row as the connection Actions answer it. */
export function connectionInfo(row: ConnectionRow): RemoteConnectionInfo {
  return {
    Name: row.name,
    Endpoint: row.endpoint,
    RegionId: row.region_id,
    Protocol: row.protocol,
    AccessKeyId: row.access_key_id,
    SignatureAlgorithm: signatureAlgorithmOf(row),
    CreationDate: row.creation_date,
  };
}

/**
 * An authentic row (its MAC checked) whose scheme this DeskKMS does not know was written by a newer
 * one: refused rather than guessed, since the scheme decides how the connection authenticates.
 */
function knownScheme(row: ConnectionRow): ConnectionRow {
  if (row.signature_algorithm !== null && !isSignatureAlgorithm(row.signature_algorithm)) {
    throw new KmsError(
      'Vault.Corrupt',
      `vault.db: remote connection ${JSON.stringify(row.name.slice(0, 80))} signs with ${JSON.stringify(String(row.signature_algorithm).slice(0, 40))}, a scheme this DeskKMS does not know; upgrade DeskKMS`,
    );
  }
  return row;
}

export function getConnection(db: Db, name: string): ConnectionRow | undefined {
  const row = verified(db, 'remote_connections', db.prepare('SELECT * FROM remote_connections WHERE name = ?').get(name) as ConnectionRow | undefined);
  return row && knownScheme(row);
}

export function listConnections(db: Db): ConnectionRow[] {
  return verifiedAll(db, 'remote_connections', db.prepare('SELECT * FROM remote_connections ORDER BY name').all() as ConnectionRow[]).map(knownScheme);
}

export function connectionExists(name: string): KmsError {
  return invalidParameter('Name', `a connection named "${name}" already exists`);
}

export function noSuchConnection(name: string): KmsError {
  return invalidParameter('Name', `no remote connection named "${name}"`);
}

/** Inserts the row (MACed); a connection of that name is refused. Inside a write transaction. */
export function insertConnection(db: Db, row: ConnectionRow): void {
  if (db.prepare('SELECT 1 FROM remote_connections WHERE name = ?').get(row.name) !== undefined) throw connectionExists(row.name);
  db.prepare(
    'INSERT INTO remote_connections (name, endpoint, region_id, protocol, access_key_id, creation_date, signature_algorithm, mac) VALUES (@name, @endpoint, @region_id, @protocol, @access_key_id, @creation_date, @signature_algorithm, @mac)',
  ).run({ ...row, mac: rowMac(db, 'remote_connections', row) });
}

/** Deletes the row; false when there is none. Inside a write transaction. */
export function deleteConnection(db: Db, name: string): boolean {
  return db.prepare('DELETE FROM remote_connections WHERE name = ?').run(name).changes === 1;
}

/** Puts the connection's AccessKey secret in the OS keychain (replacing any left there). */
export async function storeConnectionSecret(vault: Vault, name: string, secret: string): Promise<void> {
  await storeSecretText(account(vault, name), secret, what(name));
}

/** Removes the connection's AccessKey secret from the OS keychain, and the provider holding it. */
export async function deleteConnectionSecret(vault: Vault, name: string): Promise<void> {
  providers.get(vault)?.delete(name);
  await deleteSecret(account(vault, name), what(name));
}

const providers = new WeakMap<Vault, Map<string, RemoteKmsProvider>>();

/** The provider of a registered connection; its secret is read from the keychain once. */
export async function remoteProvider(vault: Vault, name: string): Promise<RemoteKmsProvider> {
  let byName = providers.get(vault);
  if (!byName) providers.set(vault, (byName = new Map<string, RemoteKmsProvider>()));
  const cached = byName.get(name);
  if (cached) return cached;
  await vault.ensureUnlocked();
  const row = getConnection(vault.store.db, name);
  if (!row) throw new KmsError('Forbidden.KeyNotFound', `no remote KMS connection named "${name}"; see "deskkms remote list"`);
  const secret = await loadSecretText(account(vault, name), what(name));
  if (!secret) throw new KmsError('Vault.KeychainUnavailable', `the OS keychain holds no secret for remote connection "${name}"; remove and add it again`);
  // Loaded on first use: the Alibaba Cloud client it is built on loads ~130 modules (~80 ms of a
  // command's start), which a vault without remote keys never needs.
  const { RemoteKmsProvider } = await import('./remote.ts');
  const provider = new RemoteKmsProvider(toConnection(row), secret);
  byName.set(name, provider);
  return provider;
}
