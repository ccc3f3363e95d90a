// The vault end to end through the handler table, with the real Secret Service holding the data
// key and the real key worker: what holds across Actions. Each Action's own cases are beside it,
// in core/actions/<operation>.test.ts.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEntries, verifyAuditChain } from '../../core/audit/audit-log.ts';
import { Vault } from '../../core/vault/vault.ts';
import { call, fails, requireSecretService, tempDir } from './vault-helpers.ts';

let dir: ReturnType<typeof tempDir>;
let vault: Vault;

async function makeKey(): Promise<{ keyId: string; versionId: string }> {
  const keyId = (await call(vault, 'CreateKey', { KeySpec: 'EC_P256' })).KeyMetadata.KeyId as string;
  const versionId = (await call(vault, 'ListKeyVersions', { KeyId: keyId })).KeyVersions.KeyVersion[0].KeyVersionId as string;
  await call(vault, 'GetPublicKey', { KeyId: keyId, KeyVersionId: versionId });
  return { keyId, versionId };
}

beforeAll(async () => {
  requireSecretService();
  dir = tempDir('deskkms-vault-');
  vault = await Vault.init(join(dir.path, 'vault'));
});

afterAll(async () => {
  await vault?.close();
  dir?.remove();
});

describe('audit', () => {
  it('records every call, successful or not, with its code and caller, in a verifiable chain', async () => {
    const before = listAuditEntries(vault.store.db).length;
    const key = await makeKey();
    await fails(vault, 'DescribeKey', { KeyId: 'alias/nobody' });
    await fails(vault, 'NoSuchAction', {});
    const entries = listAuditEntries(vault.store.db).slice(before);
    expect(entries.map((e) => [e.action, e.code])).toEqual([
      ['CreateKey', 'OK'],
      ['ListKeyVersions', 'OK'],
      ['GetPublicKey', 'OK'],
      ['DescribeKey', 'Forbidden.AliasNotFound'],
      ['NoSuchAction', 'InvalidAction.NotFound'],
    ]);
    expect(entries[0]).toMatchObject({ keyId: key.keyId, keyVersionId: key.versionId, caller: 'test' });
    expect(entries[2]).toMatchObject({ keyId: key.keyId, keyVersionId: key.versionId });
    expect(verifyAuditChain(vault.store.db)).toMatchObject({ ok: true });
  });
});
