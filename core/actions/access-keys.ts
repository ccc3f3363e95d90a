// API access keys the vault issues: the secret is generated in the key worker, shown once, and
// stored sealed under the vault data key; request signatures (RPC HMAC-SHA1, as the official
// Node SDK signs) are computed inside the worker too, so the secret never rests in this thread.
import { randomUUID } from 'node:crypto';
import { appendAuditEntries } from '../audit/audit-log.ts';
import { KmsError } from '../contract/errors.ts';
import { escapeText } from '../contract/escape-text.ts';
import { FULL_ACCESS, parsePolicy, type Policy } from '../contract/policy.ts';
import { deleteAccessKey, getAccessKey, insertAccessKey, listAccessKeys, setAccessKeyState } from '../vault/records.ts';
import type { Db } from '../vault/store.ts';
import { kmsDate, type Vault } from '../vault/vault.ts';
import { randomBase62 } from '../crypto/random-text.ts';
import { rpcStringToSign, signaturesMatch, type RpcSignedRequest } from '../hosts/http/rpc-signature.ts';

export interface AccessKeyInfo {
  readonly AccessKeyId: string;
  readonly State: 'Enabled' | 'Disabled';
  readonly Policy: Policy;
  readonly Description: string;
  readonly CreationDate: string;
}

const ACCESS_KEY_ID = /^DKMS[A-Za-z0-9]{20}$/;

function audit(db: Db, action: string, accessKeyId: string, caller: string): void {
  appendAuditEntries(db, [{ action, code: 'OK', caller, requestId: randomUUID(), keyId: accessKeyId }]);
}

function info(row: { access_key_id: string; state: 'Enabled' | 'Disabled'; policy: string; description: string; creation_date: string }): AccessKeyInfo {
  return { AccessKeyId: row.access_key_id, State: row.state, Policy: parsePolicy(row.policy), Description: row.description, CreationDate: row.creation_date };
}

export async function createAccessKey(
  vault: Vault,
  options: { policy?: Policy; description?: string; caller?: string } = {},
): Promise<AccessKeyInfo & { AccessKeySecret: string }> {
  await vault.ensureUnlocked();
  const accessKeyId = `DKMS${randomBase62(20)}`;
  const policy = options.policy ?? FULL_ACCESS;
  const { secret, sealed } = await vault.worker.request({ op: 'newAccessKey', accessKeyId });
  const row = {
    access_key_id: accessKeyId,
    sealed_secret: sealed,
    state: 'Enabled' as const,
    policy: JSON.stringify(policy),
    description: options.description ?? '',
    creation_date: kmsDate(vault.now()),
  };
  await vault.store.write((db) => {
    insertAccessKey(db, row);
    audit(db, 'CreateAccessKey', accessKeyId, options.caller ?? 'cli');
  });
  return { ...info(row), AccessKeySecret: secret };
}

export async function listVaultAccessKeys(vault: Vault): Promise<AccessKeyInfo[]> {
  await vault.ensureUnlocked();
  return listAccessKeys(vault.store.db).map(info);
}

function requireId(accessKeyId: string): void {
  if (!ACCESS_KEY_ID.test(accessKeyId)) throw new KmsError('InvalidParameter', `--id: "${accessKeyId}" is not a DeskKMS access key id`);
}

export async function setAccessKeyEnabled(vault: Vault, accessKeyId: string, enabled: boolean, caller = 'cli'): Promise<void> {
  requireId(accessKeyId);
  await vault.ensureUnlocked();
  await vault.store.write((db) => {
    if (!setAccessKeyState(db, accessKeyId, enabled ? 'Enabled' : 'Disabled')) {
      throw new KmsError('InvalidAccessKeyId.NotFound', `access key ${accessKeyId} does not exist`);
    }
    audit(db, enabled ? 'EnableAccessKey' : 'DisableAccessKey', accessKeyId, caller);
  });
}

export async function removeAccessKey(vault: Vault, accessKeyId: string, caller = 'cli'): Promise<void> {
  requireId(accessKeyId);
  await vault.ensureUnlocked();
  await vault.store.write((db) => {
    if (!deleteAccessKey(db, accessKeyId)) throw new KmsError('InvalidAccessKeyId.NotFound', `access key ${accessKeyId} does not exist`);
    audit(db, 'DeleteAccessKey', accessKeyId, caller);
  });
  if (vault.isUnlocked) await vault.worker.request({ op: 'forget', keyVersionIds: [accessKeyId] });
}

export interface ApiCaller {
  readonly accessKeyId: string;
  readonly caller: string;
  readonly policy: Policy;
}

const SKEW_MS = 15 * 60 * 1000;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/**
 * Verifies an RPC-signed request: known and enabled access key, timestamp within 15 minutes,
 * signature, and a nonce not seen in the last 30 minutes (kept in memory: a server restart or a
 * second server on the same vault does not share it; the timestamp window bounds the exposure).
 */
export class AccessKeyAuthenticator {
  private readonly vault: Vault;
  private readonly nonces = new Map<string, number>();
  private lastPrune = 0;

  constructor(vault: Vault) {
    this.vault = vault;
  }

  /** The parameters' presence was checked by rpcSignedRequest; their values are checked here. */
  async authenticate(request: RpcSignedRequest): Promise<ApiCaller> {
    const { params, accessKeyId, timestamp, nonce, signature } = request;
    await this.vault.ensureUnlocked(); // access key rows are authenticated: reading one needs the integrity key
    const row = getAccessKey(this.vault.store.db, accessKeyId);
    if (!row) throw new KmsError('InvalidAccessKeyId.NotFound', `Specified access key is not found: ${escapeText(accessKeyId, 64)}`); // any text a client sent
    if (row.state !== 'Enabled') throw new KmsError('InvalidAccessKeyId.Inactive', `Specified access key ${accessKeyId} is disabled`);

    const time = TIMESTAMP.test(timestamp) ? Date.parse(timestamp) : Number.NaN;
    if (Number.isNaN(time)) throw new KmsError('InvalidTimeStamp.Format', `Specified timestamp "${escapeText(timestamp, 64)}" is not in ISO 8601 UTC form`);
    const now = this.vault.now().getTime();
    if (Math.abs(now - time) > SKEW_MS) {
      throw new KmsError('InvalidTimeStamp.Expired', `Specified time stamp ${timestamp} is more than 15 minutes from the server time ${new Date(now).toISOString()}`);
    }

    const stringToSign = rpcStringToSign(request.method, params);
    const { mac } = await this.vault.worker.request({ op: 'hmacSha1', accessKeyId, sealed: row.sealed_secret, data: Buffer.from(stringToSign, 'utf8') });
    if (!signaturesMatch(signature, Buffer.from(mac).toString('base64'))) {
      // As Alibaba's gateway does: the string to sign (public request data) helps fix a client.
      throw new KmsError('SignatureDoesNotMatch', `Specified signature does not match our calculation. server string to sign is: ${stringToSign.slice(0, 1024)}`);
    }
    // Recorded only after the signature checks out, so a forger cannot burn others' nonces.
    this.prune(now);
    const nonceKey = `${accessKeyId}\0${nonce}`;
    if (this.nonces.has(nonceKey)) throw new KmsError('SignatureNonceUsed', `Specified signature nonce was used already: ${nonce}`);
    this.nonces.set(nonceKey, now + 2 * SKEW_MS);
    return { accessKeyId, caller: `api:${accessKeyId}`, policy: parsePolicy(row.policy) };
  }

  private prune(now: number): void {
    if (now - this.lastPrune < 60_000) return;
    this.lastPrune = now;
    for (const [key, expiry] of this.nonces) if (expiry < now) this.nonces.delete(key);
  }
}
