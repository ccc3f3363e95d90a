// The local-only Actions (LOCAL_ONLY_ACTIONS): dispatch refuses every one of them to a caller with
// a policy, whatever the policy says, and audits the refusal; a policy naming one is refused by
// the parser, and "*" never grants one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_NAMES, LOCAL_ONLY_ACTIONS } from '../contract/actions.ts';
import { allowsAction, parsePolicy } from '../contract/policy.ts';
import { adminVault, EVERYTHING, type AdminVault } from '../../test/support/admin-vault.ts';

let v: AdminVault;
beforeAll(async () => (v = await adminVault()));
afterAll(() => v?.close());

describe('local-only Actions', () => {
  it('are the nineteen administration, custody and agent Actions, all in the contract', () => {
    expect([...LOCAL_ONLY_ACTIONS].sort()).toEqual(
      [
        'AcknowledgeAuditBreak',
        'AddAgentIdentity',
        'ListAgentIdentities',
        'RemoveAgentIdentity',
        'AddRemoteConnection',
        'ChangePassphrase',
        'ChangeProtection',
        'CreateAccessKey',
        'CreateBackup',
        'DeleteAccessKey',
        'DisableAccessKey',
        'EnableAccessKey',
        'ListAccessKeys',
        'ListAuditEntries',
        'ListRemoteConnections',
        'ListRemoteKeys',
        'RemoveRemoteConnection',
        'RotateDataKey',
        'VerifyAuditChain',
      ].sort(),
    );
    for (const action of LOCAL_ONLY_ACTIONS) expect(ACTION_NAMES).toContain(action);
  });

  it('dispatch refuses each to a caller with a policy, before validating its parameters, and audits it', async () => {
    for (const action of LOCAL_ONLY_ACTIONS) {
      for (const policy of [EVERYTHING, { Actions: ['*' as const], Keys: ['alias/release'] }]) {
        const error = await v.refused(action, {}, policy);
        expect(error.Code, action).toBe('Forbidden.NoPermission');
        expect(error.Message).toBe(`api:DKMStesttesttesttesttest may not call ${action}: it is a local-only DeskKMS Action (the vault's own CLI and app)`);
        expect(v.audited(action).at(-1), action).toMatchObject({ code: 'Forbidden.NoPermission', caller: 'api:DKMStesttesttesttesttest', requestId: error.RequestId });
      }
    }
    // A policy that (somehow) names one does not grant it either.
    const named = { Actions: ['ListAccessKeys'], Keys: ['*'] } as unknown as typeof EVERYTHING;
    expect((await v.refused('ListAccessKeys', {}, named)).Code).toBe('Forbidden.NoPermission');
    // The same calls without a policy (the vault's own CLI or app) are not refused for it.
    expect((await v.ok('ListAccessKeys')).AccessKeys).toEqual([]);
  });

  it('a policy naming one is refused by the parser; "*" grants every other Action and none of these', () => {
    for (const action of LOCAL_ONLY_ACTIONS) {
      expect(() => parsePolicy({ Actions: [action], Keys: ['*'] }), action).toThrow(
        expect.objectContaining({ code: 'InvalidParameter', message: `Policy: ${action} is a local-only DeskKMS Action: no access key may call it` }) as Error,
      );
      expect(allowsAction(EVERYTHING, action), action).toBe(false);
    }
    for (const action of ACTION_NAMES.filter((a) => !LOCAL_ONLY_ACTIONS.has(a))) expect(allowsAction(EVERYTHING, action), action).toBe(true);
    expect(parsePolicy('{"Actions":["*"],"Keys":["*"]}')).toEqual(EVERYTHING);
  });
});
