// AddAgentIdentity: which signing key versions the agent serves, with confirm on use. RSA and
// EC_P256 get the line ssh-add -L shows (checked by ssh-keygen itself); SM2 and secp256k1 are
// served only to DeskKMS's own commands, so they have none. Re-adding changes Confirm and keeps
// the first date; keys that cannot sign, unknown keys and callers with a policy are refused.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dispatch } from './dispatch.ts';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('add-agent-identity');

/** ssh-keygen -l -f on the line: its fingerprint, bits and type as OpenSSH reads them. */
function sshKeygenFingerprint(line: string): string {
  const file = v.file('identity.pub');
  writeFileSync(file, `${line}\n`);
  const r = spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', file], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

describe('AddAgentIdentity', () => {
  it('adds an EC_P256 version: its ecdsa-sha2-nistp256 line parses with ssh-keygen and names the version', async () => {
    const key = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    await v.call('CreateAlias', { KeyId: key.keyId, AliasName: 'alias/agent-ec' });
    const added = await v.call('AddAgentIdentity', { KeyId: 'alias/agent-ec', KeyVersionId: key.versionId });
    const identity = added.Identity;
    expect(identity).toMatchObject({
      KeyId: key.keyId,
      KeyVersionId: key.versionId,
      KeySpec: 'EC_P256',
      KeyState: 'Enabled',
      Aliases: ['alias/agent-ec'],
      Confirm: false,
      AddedDate: '2026-11-22T12:00:00Z',
    });
    expect(identity.SshPublicKey).toMatch(new RegExp(`^ecdsa-sha2-nistp256 [A-Za-z0-9+/]+=* deskkms:${key.keyId}:${key.versionId}$`));
    expect(sshKeygenFingerprint(identity.SshPublicKey)).toBe(`256 ${identity.SshFingerprint} deskkms:${key.keyId}:${key.versionId} (ECDSA)`);
    expect(v.auditOf(added.RequestId)).toMatchObject({ action: 'AddAgentIdentity', code: 'OK', caller: 'test', keyId: key.keyId, keyVersionId: key.versionId });
  });

  it('adds an RSA version as ssh-rsa, with confirm on use', async () => {
    const key = await v.makeKey('RSA_2048', 'SIGN/VERIFY');
    const { Identity } = await v.call('AddAgentIdentity', { KeyId: key.keyId, KeyVersionId: key.versionId, Confirm: true });
    expect(Identity).toMatchObject({ KeySpec: 'RSA_2048', Confirm: true, Aliases: [] });
    expect(Identity.SshPublicKey).toMatch(/^ssh-rsa AAAAB3NzaC1yc2E[A-Za-z0-9+/]+=* deskkms:/);
    expect(sshKeygenFingerprint(Identity.SshPublicKey)).toMatch(new RegExp(`^2048 ${Identity.SshFingerprint.replace(/[+/]/g, '\\$&')} deskkms:\\S+ \\(RSA\\)$`));
  });

  it('adds SM2 and secp256k1 versions without an SSH line (OpenSSH has no key type for them)', async () => {
    for (const spec of ['EC_SM2', 'EC_P256K'] as const) {
      const key = await v.makeKey(spec, 'SIGN/VERIFY');
      const { Identity } = await v.call('AddAgentIdentity', { KeyId: key.keyId, KeyVersionId: key.versionId });
      expect(Identity).toMatchObject({ KeyId: key.keyId, KeyVersionId: key.versionId, KeySpec: spec, Confirm: false });
      expect(Identity).not.toHaveProperty('SshPublicKey');
      expect(Identity).not.toHaveProperty('SshFingerprint');
    }
  });

  it('re-adding a version changes its Confirm and keeps its first AddedDate (its place in ssh-add -L)', async () => {
    const key = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const first = await v.call('AddAgentIdentity', { KeyId: key.keyId, KeyVersionId: key.versionId });
    expect(first.Identity.Confirm).toBe(false);
    const added = first.Identity.AddedDate as string;
    const was = v.now;
    v.now = new Date(was.getTime() + 3_600_000);
    try {
      const again = await v.call('AddAgentIdentity', { KeyId: key.keyId, KeyVersionId: key.versionId, Confirm: 'true' });
      expect(again.Identity).toMatchObject({ Confirm: true });
      const listed = (await v.call('ListAgentIdentities')).Identities.filter((i: { KeyVersionId: string }) => i.KeyVersionId === key.versionId);
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({ Confirm: true, AddedDate: added });
      await v.call('AddAgentIdentity', { KeyId: key.keyId, KeyVersionId: key.versionId, Confirm: false });
      const off = (await v.call('ListAgentIdentities')).Identities.find((i: { KeyVersionId: string }) => i.KeyVersionId === key.versionId);
      expect(off).toMatchObject({ Confirm: false, AddedDate: added });
    } finally {
      v.now = was;
    }
  });

  it('refuses an ENCRYPT/DECRYPT key, naming its usage, and records the refusal', async () => {
    const key = await v.makeKey('RSA_2048', 'ENCRYPT/DECRYPT');
    const refusal = await v.refused('AddAgentIdentity', { KeyId: key.keyId, KeyVersionId: key.versionId }, 'InvalidParameter');
    expect(refusal.Message).toMatch(/ENCRYPT\/DECRYPT key; the agent serves signing keys only/);
    expect(refusal.audit).toMatchObject({ keyId: key.keyId, keyVersionId: key.versionId });
    expect((await v.call('ListAgentIdentities')).Identities.map((i: { KeyId: string }) => i.KeyId)).not.toContain(key.keyId);
  });

  it('refuses a version whose public key another identity has (the same private key imported into a second key), naming that version (review F5)', async () => {
    const a = await v.makeKey('EC_P256', 'SIGN/VERIFY', { Exportable: true });
    await v.call('AddAgentIdentity', { KeyId: a.keyId, KeyVersionId: a.versionId, Confirm: true });
    const pass = Buffer.from('a long export passphrase 1234567890').toString('base64');
    const exported = await v.call('ExportKeyVersion', { KeyId: a.keyId, KeyVersionId: a.versionId, Passphrase: pass });
    const b = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const imported = await v.call('ImportKeyVersion', { KeyId: b.keyId, EncryptedPrivateKey: exported.EncryptedPrivateKey, Passphrase: pass });
    const twin = imported.KeyVersion.KeyVersionId as string;
    const refusal = await v.refused('AddAgentIdentity', { KeyId: b.keyId, KeyVersionId: twin }, 'InvalidParameter');
    expect(refusal.Message).toContain(`key version ${twin} has the same public key as agent identity ${a.keyId} version ${a.versionId}`);
    expect(refusal.audit).toMatchObject({ keyId: b.keyId, keyVersionId: twin });
    // the first identity re-added (its Confirm changed) is no twin of itself; b's own first version is another key
    await v.call('AddAgentIdentity', { KeyId: a.keyId, KeyVersionId: a.versionId, Confirm: false });
    await v.call('AddAgentIdentity', { KeyId: b.keyId, KeyVersionId: b.versionId });
    // once a is removed, its twin may be added
    await v.call('RemoveAgentIdentity', { KeyId: a.keyId });
    await v.call('AddAgentIdentity', { KeyId: b.keyId, KeyVersionId: twin });
  });

  it('refuses a public-key-only version: the agent could never sign with it', async () => {
    const source = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const made = await v.call('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY', Origin: 'EXTERNAL_PUBLIC_KEY' });
    const keyId = made.KeyMetadata.KeyId as string;
    const imported = await v.call('ImportPublicKeyVersion', { KeyId: keyId, PublicKey: source.pem });
    const refusal = await v.refused('AddAgentIdentity', { KeyId: keyId, KeyVersionId: imported.KeyVersion.KeyVersionId }, 'Rejected.PublicKeyOnly');
    expect(refusal.audit.keyId).toBe(keyId);
  });

  it('refuses an unknown key and an unknown version of a known key', async () => {
    await v.refused('AddAgentIdentity', { KeyId: '00000000-0000-4000-8000-000000000000', KeyVersionId: '00000000-0000-4000-8000-000000000001' }, 'Forbidden.KeyNotFound');
    await v.refused('AddAgentIdentity', { KeyId: 'alias/no-such-alias', KeyVersionId: '00000000-0000-4000-8000-000000000001' }, 'Forbidden.AliasNotFound');
    const key = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const refusal = await v.refused('AddAgentIdentity', { KeyId: key.keyId, KeyVersionId: '00000000-0000-4000-8000-000000000001' }, 'Forbidden.KeyNotFound');
    expect(refusal.Message).toMatch(/key version 00000000-0000-4000-8000-000000000001 does not exist/);
  });

  it('is local only: a caller with a policy (an access key) is refused even with full access, and it is audited', async () => {
    const key = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const outcome = await dispatch(v.vault, 'AddAgentIdentity', { KeyId: key.keyId, KeyVersionId: key.versionId }, 'api:DKMSTEST', { policy: { Actions: ['*'], Keys: ['*'] } });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.Code).toBe('Forbidden.NoPermission');
    expect(outcome.error.Message).toMatch(/local-only DeskKMS Action/);
    expect(v.auditOf(outcome.error.RequestId)).toMatchObject({ action: 'AddAgentIdentity', code: 'Forbidden.NoPermission', caller: 'api:DKMSTEST' });
    expect((await v.call('ListAgentIdentities')).Identities.map((i: { KeyId: string }) => i.KeyId)).not.toContain(key.keyId);
  });
});
