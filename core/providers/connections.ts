// Remote KMS connections registered in the vault: name, endpoint, region, protocol and AccessKey
// id in the vault; the AccessKey secret in the OS keychain only (never in the vault file).
import { randomUUID } from 'node:crypto';
import { appendAuditEntries } from '../audit/audit-log.ts';
import { KmsError, invalidParameter } from '../contract/errors.ts';
import { CONNECTION_NAME } from '../contract/ids.ts';
import { deleteSecret, loadSecretText, storeSecretText } from '../keychain/keychain.ts';
import type { Db } from '../vault/store.ts';
import { rowMac, verified, verifiedAll } from '../vault/integrity.ts';
import { kmsDate, type Vault } from '../vault/vault.ts';
import { RemoteKmsProvider, type RemoteConnection } from './remote.ts';

const ENDPOINT = /^[A-Za-z0-9.-]+(:\d{1,5})?$/;

interface ConnectionRow {
  name: string;
  endpoint: string;
  region_id: string;
  protocol: 'http' | 'https';
  access_key_id: string;
  creation_date: string;
}

function account(vault: Vault, name: string): string {
  return `remote-${vault.vaultId}-${name}`;
}

function what(name: string): string {
  return `the AccessKey secret of remote connection "${name}"`;
}

function toConnection(row: ConnectionRow): RemoteConnection & { creationDate: string } {
  return { name: row.name, endpoint: row.endpoint, regionId: row.region_id, protocol: row.protocol, accessKeyId: row.access_key_id, creationDate: row.creation_date };
}

function getRow(db: Db, name: string): ConnectionRow | undefined {
  return verified(db, 'remote_connections', db.prepare('SELECT * FROM remote_connections WHERE name = ?').get(name) as ConnectionRow | undefined);
}

export async function addConnection(vault: Vault, connection: RemoteConnection, accessKeySecret: string, caller = 'cli'): Promise<void> {
  if (!CONNECTION_NAME.test(connection.name)) throw invalidParameter('--name', 'must be 1-32 characters of a-z 0-9 -, starting with a letter or digit');
  if (!ENDPOINT.test(connection.endpoint)) throw invalidParameter('--endpoint', 'must be host or host:port');
  if (connection.protocol !== 'http' && connection.protocol !== 'https') throw invalidParameter('--protocol', 'must be http or https');
  if (!connection.accessKeyId) throw invalidParameter('--access-key-id', 'is required');
  await vault.ensureUnlocked(); // connection rows are authenticated with the vault's integrity key
  if (getRow(vault.store.db, connection.name)) throw invalidParameter('--name', `a connection named "${connection.name}" already exists`);
  await storeSecretText(account(vault, connection.name), accessKeySecret, what(connection.name));
  try {
    await vault.store.write((db) => {
      const row: ConnectionRow = {
        name: connection.name,
        endpoint: connection.endpoint,
        region_id: connection.regionId,
        protocol: connection.protocol,
        access_key_id: connection.accessKeyId,
        creation_date: kmsDate(vault.now()),
      };
      db.prepare(
        'INSERT INTO remote_connections (name, endpoint, region_id, protocol, access_key_id, creation_date, mac) VALUES (@name, @endpoint, @region_id, @protocol, @access_key_id, @creation_date, @mac)',
      ).run({ ...row, mac: rowMac(db, 'remote_connections', row) });
      appendAuditEntries(db, [{ action: 'AddRemoteConnection', code: 'OK', caller, requestId: randomUUID(), keyId: `remote/${connection.name}` }]);
    });
  } catch (error) {
    await deleteSecret(account(vault, connection.name), what(connection.name)).catch(() => undefined);
    throw error;
  }
}

export async function listConnections(vault: Vault): Promise<(RemoteConnection & { creationDate: string })[]> {
  await vault.ensureUnlocked();
  const db = vault.store.db;
  return verifiedAll(db, 'remote_connections', db.prepare('SELECT * FROM remote_connections ORDER BY name').all() as ConnectionRow[]).map(toConnection);
}

export async function removeConnection(vault: Vault, name: string, caller = 'cli'): Promise<void> {
  await vault.ensureUnlocked();
  await vault.store.write((db) => {
    if (db.prepare('DELETE FROM remote_connections WHERE name = ?').run(name).changes !== 1) {
      throw invalidParameter('--name', `no remote connection named "${name}"`);
    }
    appendAuditEntries(db, [{ action: 'RemoveRemoteConnection', code: 'OK', caller, requestId: randomUUID(), keyId: `remote/${name}` }]);
  });
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
  const row = getRow(vault.store.db, name);
  if (!row) throw new KmsError('Forbidden.KeyNotFound', `no remote KMS connection named "${name}"; see "deskkms remote list"`);
  const secret = await loadSecretText(account(vault, name), what(name));
  if (!secret) throw new KmsError('Vault.KeychainUnavailable', `the OS keychain holds no secret for remote connection "${name}"; remove and add it again`);
  const provider = new RemoteKmsProvider(toConnection(row), secret);
  byName.set(name, provider);
  return provider;
}
