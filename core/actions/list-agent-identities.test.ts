// ListAgentIdentities: the key versions the agent serves, oldest first (the order ssh-add -L
// lists them in), with their aliases and the OpenSSH line ssh-keygen reads. The rows are
// authenticated: a confirm flag turned off with SQL makes the list refuse (Vault.Corrupt), never
// an agent that signs without asking.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { dispatch } from './dispatch.ts';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('list-agent-identities');

interface Listed {
  KeyId: string;
  KeyVersionId: string;
  KeySpec: string;
  Aliases: string[];
  Confirm: boolean;
  AddedDate: string;
  SshPublicKey?: string;
  SshFingerprint?: string;
}

async function listed(): Promise<Listed[]> {
  return (await v.call('ListAgentIdentities')).Identities as Listed[];
}

describe('ListAgentIdentities', () => {
  it('is empty in a new vault, and is audited', async () => {
    const answer = await v.call('ListAgentIdentities');
    expect(answer.Identities).toEqual([]);
    expect(v.auditOf(answer.RequestId)).toMatchObject({ action: 'ListAgentIdentities', code: 'OK', caller: 'test' });
  });

  it('lists oldest first (then in the order added), with aliases; each SSH line parses with ssh-keygen -l', async () => {
    const rsa = await v.makeKey('RSA_3072', 'SIGN/VERIFY');
    const ec = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const sm2 = await v.makeKey('EC_SM2', 'SIGN/VERIFY');
    await v.call('CreateAlias', { KeyId: ec.keyId, AliasName: 'alias/git' });
    await v.call('CreateAlias', { KeyId: ec.keyId, AliasName: 'alias/login' });
    const was = v.now;
    try {
      // Added later in time first: the list follows AddedDate, not the order of the calls.
      v.now = new Date(was.getTime() + 60_000);
      await v.call('AddAgentIdentity', { KeyId: sm2.keyId, KeyVersionId: sm2.versionId });
      v.now = was;
      await v.call('AddAgentIdentity', { KeyId: ec.keyId, KeyVersionId: ec.versionId, Confirm: true });
      await v.call('AddAgentIdentity', { KeyId: rsa.keyId, KeyVersionId: rsa.versionId }); // same second: after ec
    } finally {
      v.now = was;
    }
    const identities = await listed();
    expect(identities.map((i) => i.KeyId)).toEqual([ec.keyId, rsa.keyId, sm2.keyId]);
    expect(identities[0]).toMatchObject({ KeySpec: 'EC_P256', Aliases: ['alias/git', 'alias/login'], Confirm: true, AddedDate: '2026-11-22T12:00:00Z' });
    expect(identities[1]).toMatchObject({ KeySpec: 'RSA_3072', Aliases: [], Confirm: false });
    expect(identities[2]).toMatchObject({ KeySpec: 'EC_SM2', AddedDate: '2026-11-22T12:01:00Z' });
    expect(identities[2]).not.toHaveProperty('SshPublicKey');
    for (const [identity, bits, type] of [[identities[0]!, 256, 'ECDSA'], [identities[1]!, 3072, 'RSA']] as const) {
      const file = v.file('identity.pub');
      writeFileSync(file, `${identity.SshPublicKey}\n`);
      const r = spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', file], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(`${bits} ${identity.SshFingerprint} deskkms:${identity.KeyId}:${identity.KeyVersionId} (${type})`);
    }
  });

  it('lists two versions of one key as two identities', async () => {
    const key = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const second = (await v.call('CreateKeyVersion', { KeyId: key.keyId })).KeyVersion.KeyVersionId as string;
    await v.call('AddAgentIdentity', { KeyId: key.keyId, KeyVersionId: key.versionId });
    await v.call('AddAgentIdentity', { KeyId: key.keyId, KeyVersionId: second });
    const mine = (await listed()).filter((i) => i.KeyId === key.keyId);
    expect(mine.map((i) => i.KeyVersionId)).toEqual([key.versionId, second]);
    expect(mine[0]!.SshFingerprint).not.toBe(mine[1]!.SshFingerprint);
  });

  it('is local only', async () => {
    const outcome = await dispatch(v.vault, 'ListAgentIdentities', {}, 'api:DKMSTEST', { policy: { Actions: ['*'], Keys: ['*'] } });
    expect(outcome.ok ? 'answered' : outcome.error.Code).toBe('Forbidden.NoPermission');
  });

  it('refuses with Vault.Corrupt when a row was edited outside the vault (confirm turned off with SQL)', async () => {
    const key = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    await v.call('AddAgentIdentity', { KeyId: key.keyId, KeyVersionId: key.versionId, Confirm: true });
    const db = new Database(join(v.dir, 'vault.db'));
    try {
      expect(db.prepare('UPDATE agent_identities SET confirm = 0 WHERE key_version_id = ?').run(key.versionId).changes).toBe(1);
    } finally {
      db.close();
    }
    const refusal = await v.refused('ListAgentIdentities', {}, 'Vault.Corrupt');
    expect(refusal.Message).toMatch(/agent_identities/);
    // Putting the value back makes the row whole again: the MAC covers the values, not the write.
    const again = new Database(join(v.dir, 'vault.db'));
    try {
      again.prepare('UPDATE agent_identities SET confirm = 1 WHERE key_version_id = ?').run(key.versionId);
    } finally {
      again.close();
    }
    expect((await listed()).find((i) => i.KeyVersionId === key.versionId)).toMatchObject({ Confirm: true });
  });
});
