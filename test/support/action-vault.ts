// The fixture of the operation tests beside core/actions/<operation>.ts: one passphrase vault per
// test file (no keychain needed), made in beforeAll, and typed ways to call Actions through
// dispatch and to read what the audit log recorded for a call.
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { dispatch } from '../../core/actions/dispatch.ts';
import { listAuditEntries, type AuditEntry } from '../../core/audit/audit-log.ts';
import { isActionName } from '../../core/contract/actions.ts';
import { RESPONSE_SCHEMAS } from '../../core/contract/responses.ts';
import type { KeySpec, KeyUsage } from '../../core/contract/specs.ts';
import { Vault } from '../../core/vault/vault.ts';
import { tempDir } from '../integration/vault-helpers.ts';

export const b64 = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString('base64');

export interface MadeKey {
  readonly keyId: string;
  readonly versionId: string;
  readonly pem: string;
}

export interface Refusal {
  readonly Code: string;
  readonly Message: string;
  readonly RequestId: string;
  readonly httpStatus: number;
  /** The audit entry dispatch wrote for the refused call. */
  readonly audit: AuditEntry;
}

export interface ActionVault {
  /** The vault (valid from beforeAll on). */
  readonly vault: Vault;
  /** The vault's directory (for a second handle on the same file). */
  readonly dir: string;
  /** The fixture's clock; tests may move it (deletion windows, token expiry). */
  now: Date;
  /** A fresh path in the fixture's temp directory, for files handed to peers (openssl). */
  file(name: string): string;
  /** Closes the vault and opens the same file again (a restart of the process). */
  reopen(): Promise<void>;
  /**
   * Calls an Action and returns its body; fails the test with the error if it was refused, or if
   * the body (without RequestId) does not parse with the Action's strict response schema: each
   * operation's own test checks its schema (core/contract/responses.ts).
   */
  call(action: string, params?: Record<string, unknown>): Promise<Record<string, any>>;
  /** Calls an Action that must be refused with `code`; returns the error and its audit entry (checked). */
  refused(action: string, params: Record<string, unknown>, code: string): Promise<Refusal>;
  /** The audit entry of the call answered with `requestId`. */
  auditOf(requestId: string): AuditEntry;
  /** A new key (CreateKey), its first version and that version's public key. */
  makeKey(spec: KeySpec, usage?: KeyUsage, extra?: Record<string, unknown>): Promise<MadeKey>;
}

/** Fails the test unless `body` (without its RequestId) parses with the Action's strict response schema. */
export function assertResponseSchema(action: string, body: Readonly<Record<string, unknown>>): void {
  if (!isActionName(action)) throw new Error(`${action} is not an Action`);
  const rest: Record<string, unknown> = { ...body };
  delete rest.RequestId;
  const parsed = RESPONSE_SCHEMAS[action].safeParse(rest);
  if (!parsed.success) throw new Error(`${action} answered outside its response schema: ${JSON.stringify(parsed.error.issues)}\n${JSON.stringify(rest)}`);
}

/** Registers beforeAll/afterAll making one passphrase vault for the calling test file. */
export function useActionVault(name: string): ActionVault {
  let dir: ReturnType<typeof tempDir> | undefined;
  let vault: Vault | undefined;
  let files = 0;
  const fixture: ActionVault = {
    get vault(): Vault {
      if (!vault) throw new Error('the action vault is made in beforeAll');
      return vault;
    },
    get dir(): string {
      return join(dir!.path, 'vault');
    },
    now: new Date('2026-11-22T12:00:00Z'),
    file(name) {
      return join(dir!.path, `${String(++files).padStart(4, '0')}-${name}`);
    },
    async reopen() {
      await vault?.close();
      vault = Vault.open(fixture.dir, { passphrase: Buffer.from(`${name} passphrase`), now: () => fixture.now });
    },
    async call(action, params = {}) {
      const outcome = await dispatch(fixture.vault, action, params, 'test');
      if (!outcome.ok) throw new Error(`${action} failed: ${outcome.error.Code}: ${outcome.error.Message}`);
      expect(outcome.body.RequestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(fixture.auditOf(outcome.body.RequestId)).toMatchObject({ action, code: 'OK' });
      assertResponseSchema(action, outcome.body);
      return outcome.body;
    },
    async refused(action, params, code) {
      const outcome = await dispatch(fixture.vault, action, params, 'test');
      if (outcome.ok) throw new Error(`${action} unexpectedly succeeded: ${JSON.stringify(outcome.body)}`);
      expect(outcome.error.Code, outcome.error.Message).toBe(code);
      const audit = fixture.auditOf(outcome.error.RequestId);
      expect(audit).toMatchObject({ action, code, caller: 'test' });
      return { ...outcome.error, httpStatus: outcome.httpStatus, audit };
    },
    auditOf(requestId) {
      const entry = listAuditEntries(fixture.vault.store.db, { newestFirst: true, limit: 20 }).find((e) => e.requestId === requestId);
      if (!entry) throw new Error(`no audit entry for request ${requestId}`);
      return entry;
    },
    async makeKey(spec, usage, extra = {}) {
      const created = await fixture.call('CreateKey', { KeySpec: spec, ...(usage ? { KeyUsage: usage } : {}), ...extra });
      const keyId = created.KeyMetadata.KeyId as string;
      const versions = await fixture.call('ListKeyVersions', { KeyId: keyId });
      const versionId = versions.KeyVersions.KeyVersion[0]?.KeyVersionId as string;
      const pem = versionId ? ((await fixture.call('GetPublicKey', { KeyId: keyId, KeyVersionId: versionId })).PublicKey as string) : '';
      return { keyId, versionId, pem };
    },
  };
  beforeAll(async () => {
    dir = tempDir(`deskkms-${name}-`);
    vault = await Vault.init(join(dir.path, 'vault'), { passphrase: Buffer.from(`${name} passphrase`), kdfN: 2 ** 14, now: () => fixture.now });
  });
  afterAll(async () => {
    await vault?.close();
    dir?.remove();
  });
  return fixture;
}
