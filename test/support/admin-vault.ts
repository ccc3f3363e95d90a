// For the tests of the DeskKMS administration Actions (core/actions/*-access-key*, *remote*,
// *audit*): a fresh vault per test, calls through dispatch as the vault's own user or as an API
// access key (a caller with a policy), and the audit entries of the calls.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { dispatch, type ApiOutcome } from '../../core/actions/dispatch.ts';
import { listAuditEntries, type AuditEntry } from '../../core/audit/audit-log.ts';
import { FULL_ACCESS, type Policy } from '../../core/contract/policy.ts';
import { toKmsError } from '../../core/contract/errors.ts';
import { AccessKeyAuthenticator } from '../../core/hosts/http/access-key-auth.ts';
import { rpcSignedRequest } from '../../core/hosts/http/rpc-signature.ts';
import { Vault } from '../../core/vault/vault.ts';
import { requireSecretService, tempDir } from '../integration/vault-helpers.ts';
import { assertResponseSchema } from './action-vault.ts';

export interface AdminVault {
  readonly vault: Vault;
  readonly dir: string;
  /** The Action's body, checked against its response schema; fails the test when it is refused or answers outside its schema. */
  ok(action: string, params?: Record<string, unknown>): Promise<Record<string, any>>;
  /** The refusal; fails the test when the Action succeeds. */
  refused(action: string, params?: Record<string, unknown>, policy?: Policy): Promise<Extract<ApiOutcome, { ok: false }>['error']>;
  /** Every audit entry of `action`, oldest first. */
  audited(action: string): AuditEntry[];
  /** How many entries the log holds. */
  count(): number;
  /** The Code "deskkms serve" refuses a request from this access key with, its signature wrong (the key's row is read first). */
  apiRefusal(accessKeyId: string): Promise<string>;
  close(): Promise<void>;
}

/** A passphrase vault (no keychain needed) unless `keychain` is set (remote connections keep their secrets there). */
export async function adminVault(options: { keychain?: boolean } = {}): Promise<AdminVault> {
  const dir = tempDir('deskkms-admin-');
  const vaultDir = join(dir.path, 'vault');
  const vault = options.keychain ? await Vault.init(vaultDir) : await Vault.init(vaultDir, { passphrase: Buffer.from('admin actions passphrase'), kdfN: 2 ** 14 });
  return {
    vault,
    dir: dir.path,
    async ok(action, params = {}) {
      const outcome = await dispatch(vault, action, params, 'cli');
      if (!outcome.ok) throw new Error(`${action} failed: ${outcome.error.Code}: ${outcome.error.Message}`);
      // Every answer must be what its response schema says (strict: no field more or less).
      assertResponseSchema(action, outcome.body);
      return outcome.body;
    },
    async refused(action, params = {}, policy) {
      const outcome = await dispatch(vault, action, params, policy ? 'api:DKMStesttesttesttesttest' : 'cli', policy ? { policy } : {});
      if (outcome.ok) throw new Error(`${action} unexpectedly succeeded: ${JSON.stringify(outcome.body)}`);
      expect(outcome.error.RequestId).toMatch(/^[0-9a-f-]{36}$/);
      return outcome.error;
    },
    audited: (action) => listAuditEntries(vault.store.db, { action }),
    count: () => listAuditEntries(vault.store.db).length,
    async apiRefusal(accessKeyId) {
      const request = rpcSignedRequest('POST', { AccessKeyId: accessKeyId, Timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), SignatureNonce: randomUUID(), Signature: 'AAAA' });
      try {
        await new AccessKeyAuthenticator(vault).authenticate(request);
      } catch (error) {
        return toKmsError(error).code;
      }
      throw new Error('a request with a wrong signature was authenticated');
    },
    async close() {
      await vault.close();
      dir.remove();
    },
  };
}

/** The policy of an access key that may do everything an access key may. */
export const EVERYTHING: Policy = FULL_ACCESS;

/**
 * For the remote-connection Actions' tests: a keychain vault per test (their secrets live in the
 * OS keychain), the connections `names` removed again after each test so no secret is left in the
 * keychain. Use the returned vault inside tests only.
 */
export function useRemoteConnectionVault(...names: string[]): AdminVault {
  let v: AdminVault | undefined;
  beforeEach(async () => {
    requireSecretService();
    v = await adminVault({ keychain: true });
  });
  afterEach(async () => {
    for (const Name of names) await v?.ok('RemoveRemoteConnection', { Name }).catch(() => undefined);
    await v?.close();
  });
  const current = (): AdminVault => {
    if (!v) throw new Error('the vault is made in beforeEach');
    return v;
  };
  return {
    get vault() {
      return current().vault;
    },
    get dir() {
      return current().dir;
    },
    ok: (...args) => current().ok(...args),
    refused: (...args) => current().refused(...args),
    audited: (action) => current().audited(action),
    count: () => current().count(),
    apiRefusal: (id) => current().apiRefusal(id),
    close: () => current().close(),
  };
}
