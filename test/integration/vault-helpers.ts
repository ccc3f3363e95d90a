// Shared by the vault integration tests: temp vaults and a typed way to call Actions.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { dispatch, type ApiOutcome } from '../../core/api/dispatch.ts';
import type { Vault } from '../../core/vault/vault.ts';

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function requireSecretService(): void {
  if (!process.env.DBUS_SESSION_BUS_ADDRESS) {
    throw new Error('no D-Bus session: run the suite through `npm test` (test/setup/with-secret-service.sh provides a real Secret Service)');
  }
}

/** Calls an Action and returns its body, failing the test with the error if it failed. */
export async function call(vault: Vault, action: string, params: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const outcome = await dispatch(vault, action, params, 'test');
  if (!outcome.ok) throw new Error(`${action} failed: ${outcome.error.Code}: ${outcome.error.Message}`);
  expect(outcome.body.RequestId).toMatch(/^[0-9a-f-]{36}$/);
  return outcome.body;
}

/** Calls an Action expected to fail and returns the error. */
export async function fails(vault: Vault, action: string, params: Record<string, unknown> = {}): Promise<Extract<ApiOutcome, { ok: false }>> {
  const outcome = await dispatch(vault, action, params, 'test');
  if (outcome.ok) throw new Error(`${action} unexpectedly succeeded: ${JSON.stringify(outcome.body)}`);
  expect(outcome.error.RequestId).toMatch(/^[0-9a-f-]{36}$/);
  return outcome;
}
