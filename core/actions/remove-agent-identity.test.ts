// RemoveAgentIdentity: one version of a key, or every version of it, leaves the agent; naming
// something the agent does not serve is refused (Agent.KeyNotAdded), so a typo is not taken for a
// removal. Each call is audited with the key it named.
import { describe, expect, it } from 'vitest';
import { dispatch } from './dispatch.ts';
import { useActionVault, type MadeKey } from '../../test/support/action-vault.ts';

const v = useActionVault('remove-agent-identity');

async function servedVersions(keyId: string): Promise<string[]> {
  const { Identities } = await v.call('ListAgentIdentities');
  return (Identities as { KeyId: string; KeyVersionId: string }[]).filter((i) => i.KeyId === keyId).map((i) => i.KeyVersionId);
}

/** A key with two versions, both in the agent. */
async function keyWithTwoVersions(): Promise<MadeKey & { second: string }> {
  const key = await v.makeKey('EC_P256', 'SIGN/VERIFY');
  const second = (await v.call('CreateKeyVersion', { KeyId: key.keyId })).KeyVersion.KeyVersionId as string;
  await v.call('AddAgentIdentity', { KeyId: key.keyId, KeyVersionId: key.versionId });
  await v.call('AddAgentIdentity', { KeyId: key.keyId, KeyVersionId: second });
  return { ...key, second };
}

describe('RemoveAgentIdentity', () => {
  it('removes one version (by alias), leaving the other, and audits it with the version', async () => {
    const key = await keyWithTwoVersions();
    await v.call('CreateAlias', { KeyId: key.keyId, AliasName: 'alias/agent-one' });
    const removed = await v.call('RemoveAgentIdentity', { KeyId: 'alias/agent-one', KeyVersionId: key.versionId });
    expect(removed).toEqual({ Removed: 1, RequestId: removed.RequestId });
    expect(v.auditOf(removed.RequestId)).toMatchObject({ action: 'RemoveAgentIdentity', code: 'OK', keyId: key.keyId, keyVersionId: key.versionId });
    expect(await servedVersions(key.keyId)).toEqual([key.second]);
  });

  it('removes every version of the key when no version is named', async () => {
    const key = await keyWithTwoVersions();
    const other = await v.makeKey('RSA_2048', 'SIGN/VERIFY');
    await v.call('AddAgentIdentity', { KeyId: other.keyId, KeyVersionId: other.versionId });
    const removed = await v.call('RemoveAgentIdentity', { KeyId: key.keyId });
    expect(removed.Removed).toBe(2);
    const audit = v.auditOf(removed.RequestId);
    expect(audit).toMatchObject({ action: 'RemoveAgentIdentity', code: 'OK', keyId: key.keyId });
    expect(audit.keyVersionId ?? null).toBeNull();
    expect(await servedVersions(key.keyId)).toEqual([]);
    expect(await servedVersions(other.keyId)).toEqual([other.versionId]); // another key is untouched
  });

  it('refuses with Agent.KeyNotAdded when there is nothing to remove: a key never added, a version removed already', async () => {
    const key = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const never = await v.refused('RemoveAgentIdentity', { KeyId: key.keyId }, 'Agent.KeyNotAdded');
    expect(never.Message).toMatch(/is not in the agent \(deskkms agent list shows what is\)/);
    expect(never.audit.keyId).toBe(key.keyId);
    await v.call('AddAgentIdentity', { KeyId: key.keyId, KeyVersionId: key.versionId });
    await v.call('RemoveAgentIdentity', { KeyId: key.keyId, KeyVersionId: key.versionId });
    const twice = await v.refused('RemoveAgentIdentity', { KeyId: key.keyId, KeyVersionId: key.versionId }, 'Agent.KeyNotAdded');
    expect(twice.Message).toContain(`version ${key.versionId}`);
    expect(twice.audit).toMatchObject({ keyId: key.keyId, keyVersionId: key.versionId });
  });

  it('refuses a version the key does not have and a key that does not exist (nothing removed)', async () => {
    const key = await keyWithTwoVersions();
    await v.refused('RemoveAgentIdentity', { KeyId: key.keyId, KeyVersionId: '00000000-0000-4000-8000-000000000001' }, 'Forbidden.KeyNotFound');
    await v.refused('RemoveAgentIdentity', { KeyId: '00000000-0000-4000-8000-000000000000' }, 'Forbidden.KeyNotFound');
    expect(await servedVersions(key.keyId)).toEqual([key.versionId, key.second]);
  });

  it('is local only', async () => {
    const key = await keyWithTwoVersions();
    const outcome = await dispatch(v.vault, 'RemoveAgentIdentity', { KeyId: key.keyId }, 'api:DKMSTEST', { policy: { Actions: ['*'], Keys: ['*'] } });
    expect(outcome.ok ? 'answered' : outcome.error.Code).toBe('Forbidden.NoPermission');
    expect(await servedVersions(key.keyId)).toHaveLength(2);
  });
});
