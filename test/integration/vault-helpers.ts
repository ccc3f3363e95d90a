// Shared by the vault integration tests: temp vaults and a typed way to call Actions.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { dispatch, type ApiOutcome } from '../../core/actions/dispatch.ts';
import type { Vault } from '../../core/vault/vault.ts';
import type { CliIO } from '../../core/hosts/cli/command.ts';
import type { ServeOptions } from '../../core/hosts/cli/commands/serve.ts';

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

/**
 * Runs `deskkms serve` in this process on a free loopback port; stop() shuts it down gracefully.
 * `env` adds to the environment it sees (e.g. DESKKMS_PASSPHRASE_FILE); `options` are serve()'s.
 */
export async function serveInProcess(
  vaultDir: string,
  { env = {}, options = {} }: { env?: Record<string, string>; options?: ServeOptions } = {},
): Promise<{ endpoint: URL; stop(): Promise<number> }> {
  const { serve } = await import('../../core/hosts/cli/commands/serve.ts');
  let out = '';
  let announce: () => void = () => undefined;
  const listening = new Promise<void>((resolve) => (announce = resolve));
  let signal: (name: string) => void = () => undefined;
  const io = {
    stdout: { write: (s: string) => ((out += s), announce(), true) },
    stderr: { write: () => true },
    stdin: process.stdin,
    cwd: process.cwd(),
    env: { ...process.env, DESKKMS_VAULT: vaultDir, ...env },
  } as unknown as CliIO;
  const served = serve({}, io, new Promise((resolve) => (signal = resolve)), options);
  await Promise.race([listening, served.then(() => Promise.reject(new Error('serve stopped before listening')))]);
  const endpoint = new URL((JSON.parse(out) as { Endpoint: string }).Endpoint);
  return {
    endpoint,
    stop: () => {
      signal('test');
      return served;
    },
  };
}
