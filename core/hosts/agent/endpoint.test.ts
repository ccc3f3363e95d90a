import { createPublicKey } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../actions/dispatch.ts';
import { KmsError } from '../../contract/errors.ts';
import { b64, useActionVault, type MadeKey } from '../../../test/support/action-vault.ts';
import type { AgentPeer, EndpointAnswer, EndpointContext, EndpointHello, EndpointIdentity, SignedData } from './agent-types.ts';
import { handleEndpoint, MAX_ENDPOINT_REQUEST } from './endpoint.ts';

const fx = useActionVault('endpoint');
const peer: AgentPeer = { uid: 1000, pid: 4242, program: 'node' };

let added: MadeKey; // an agent identity, no confirmation
let second: string; // a second version of `added`'s key, not added
let confirmed: MadeKey; // an agent identity with Confirm
let outside: MadeKey; // a key the agent does not serve

interface Asked {
  readonly keyVersionId: string;
  readonly what: SignedData;
}

function context(confirmUse: (keyVersionId: string, what: SignedData) => Promise<void> = () => Promise.resolve()): { ctx: EndpointContext; asked: Asked[]; logged: string[] } {
  const asked: Asked[] = [];
  const logged: string[] = [];
  const ctx: EndpointContext = {
    vault: fx.vault,
    peer,
    confirmUse: (keyVersionId, what) => {
      asked.push({ keyVersionId, what });
      return confirmUse(keyVersionId, what);
    },
    log: (line) => logged.push(line),
  };
  return { ctx, asked, logged };
}

const ask = (request: unknown, ctx: EndpointContext): Promise<EndpointAnswer> => handleEndpoint(typeof request === 'string' ? request : JSON.stringify(request), ctx);

function refusedWith(answer: EndpointAnswer, code: string): { Code: string; Message: string; RequestId?: string } {
  if (answer.ok) throw new Error(`expected ${code}, got ${JSON.stringify(answer.body)}`);
  expect(answer.error.Code, answer.error.Message).toBe(code);
  return answer.error;
}

function body(answer: EndpointAnswer): Record<string, any> {
  if (!answer.ok) throw new Error(`refused: ${answer.error.Code}: ${answer.error.Message}`);
  return answer.body as Record<string, any>;
}

const digest = b64(Buffer.alloc(32, 7));
const signParams = (key: { keyId: string; versionId: string }) => ({ KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: 'ECDSA_SHA_256', Digest: digest });

async function auditEntries(params: Record<string, unknown>): Promise<{ code: string; requestId: string }[]> {
  const outcome = await dispatch(fx.vault, 'ListAuditEntries', params, 'test');
  if (!outcome.ok) throw new Error(outcome.error.Message);
  return outcome.body.Entries as { code: string; requestId: string }[];
}

async function signedAuditCount(keyId: string): Promise<number> {
  return (await auditEntries({ KeyId: keyId, Action: 'AsymmetricSign', Limit: 1000 })).filter((e) => e.code === 'OK').length;
}

async function newestAuditEntry(): Promise<string | undefined> {
  return (await auditEntries({ NewestFirst: true, Limit: 1 }))[0]?.requestId;
}

beforeAll(async () => {
  added = await fx.makeKey('EC_P256', 'SIGN/VERIFY');
  await fx.call('CreateAlias', { KeyId: added.keyId, AliasName: 'alias/endpoint-added' });
  second = (await fx.call('CreateKeyVersion', { KeyId: added.keyId })).KeyVersion.KeyVersionId as string;
  confirmed = await fx.makeKey('EC_P256', 'SIGN/VERIFY');
  outside = await fx.makeKey('EC_P256', 'SIGN/VERIFY');
  await fx.call('AddAgentIdentity', { KeyId: added.keyId, KeyVersionId: added.versionId });
  await fx.call('AddAgentIdentity', { KeyId: confirmed.keyId, KeyVersionId: confirmed.versionId, Confirm: true });
});

describe('the local signing endpoint', () => {
  it('Hello names the vault by its id and real path, unlocked', async () => {
    const { ctx } = context();
    const hello = body(await ask({ Op: 'Hello' }, ctx)) as EndpointHello;
    expect(hello).toEqual({ VaultId: fx.vault.vaultId, VaultPath: realpathSync(fx.dir), Locked: false });
  });

  it('Identities lists the added versions with their public facts, and only them', async () => {
    const { ctx } = context();
    const { Identities } = body(await ask({ Op: 'Identities' }, ctx)) as { Identities: EndpointIdentity[] };
    expect(Identities.map((i) => i.KeyVersionId)).toEqual([added.versionId, confirmed.versionId]);
    const first = Identities[0]!;
    expect(first).toMatchObject({ KeyId: added.keyId, KeySpec: 'EC_P256', Aliases: ['alias/endpoint-added'], Confirm: false });
    expect(Identities[1]!.Confirm).toBe(true);
    const spki = createPublicKey({ key: Buffer.from(first.PublicKey, 'base64'), format: 'der', type: 'spki' });
    expect(spki.export({ format: 'pem', type: 'spki' })).toBe(added.pem);
    expect(Number.isNaN(Date.parse(first.CreationDate))).toBe(false);
  });

  it('signs with an added version, audited as the agent caller with command and format, after confirmUse', async () => {
    const { ctx, asked } = context();
    const before = await signedAuditCount(added.keyId);
    const signed = body(await ask({ Op: 'Call', Action: 'AsymmetricSign', Params: signParams(added), Command: 'cli', Format: 'ssh' }, ctx));
    expect(asked).toEqual([{ keyVersionId: added.versionId, what: { kind: 'deskkms', command: 'cli', format: 'ssh' } }]);
    expect(fx.auditOf(signed.RequestId as string)).toMatchObject({ action: 'AsymmetricSign', code: 'OK', caller: 'ssh-agent[node 4242]:cli:ssh', keyId: added.keyId });
    expect(await signedAuditCount(added.keyId)).toBe(before + 1);
    const ok = (await fx.call('AsymmetricVerify', { ...signParams(added), Value: signed.Value })).Value;
    expect(ok).toBe(true);
  });

  it('reads the public facts of the agent keys by alias, and not of other keys', async () => {
    const { ctx } = context();
    const described = body(await ask({ Op: 'Call', Action: 'DescribeKey', Params: { KeyId: 'alias/endpoint-added' }, Command: 'cli' }, ctx));
    expect(described.KeyMetadata.KeyId).toBe(added.keyId);
    const listed = body(await ask({ Op: 'Call', Action: 'ListKeyVersions', Params: { KeyId: added.keyId }, Command: 'cosign' }, ctx));
    expect(listed.TotalCount).toBe(2);
    const other = refusedWith(await ask({ Op: 'Call', Action: 'GetPublicKey', Params: { KeyId: outside.keyId, KeyVersionId: outside.versionId }, Command: 'cli' }, ctx), 'Forbidden.NoPermission');
    expect(fx.auditOf(other.RequestId!)).toMatchObject({ action: 'GetPublicKey', code: 'Forbidden.NoPermission', caller: 'ssh-agent[node 4242]:cli' });
    // A key that does not exist is refused with the same answer as one outside the agent.
    const missing = refusedWith(await ask({ Op: 'Call', Action: 'DescribeKey', Params: { KeyId: '00000000-0000-4000-8000-000000000000' }, Command: 'cli' }, ctx), 'Forbidden.NoPermission');
    expect(missing.Message.replace(/[0-9a-f-]{36}/g, 'ID')).toBe(other.Message.replace(/[0-9a-f-]{36}/g, 'ID'));
  });

  it('refuses Actions outside ENDPOINT_ACTIONS through the policy, audited', async () => {
    const { ctx } = context();
    for (const Action of ['CreateKey', 'ScheduleKeyDeletion', 'AddAgentIdentity', 'ListAuditEntries', 'AsymmetricVerify']) {
      const refused = refusedWith(await ask({ Op: 'Call', Action, Params: { KeyId: added.keyId }, Command: 'cli' }, ctx), 'Forbidden.NoPermission');
      expect(fx.auditOf(refused.RequestId!)).toMatchObject({ action: Action, code: 'Forbidden.NoPermission', caller: 'ssh-agent[node 4242]:cli' });
    }
  });

  it('refuses to sign with a version that is not an identity without dispatching or asking', async () => {
    const { ctx, asked } = context();
    const cases = [
      { KeyId: added.keyId, KeyVersionId: second }, // the key is in the agent, this version is not
      { KeyId: outside.keyId, KeyVersionId: outside.versionId },
      { KeyId: 'alias/endpoint-added', KeyVersionId: added.versionId }, // an alias: the KeyId must be the UUID
      { KeyId: confirmed.keyId, KeyVersionId: added.versionId }, // an identity's version under another key
    ];
    const counts = () => Promise.all([signedAuditCount(added.keyId), signedAuditCount(outside.keyId), signedAuditCount(confirmed.keyId)]);
    const before = await counts();
    for (const key of cases) {
      const refused = refusedWith(await ask({ Op: 'Call', Action: 'AsymmetricSign', Params: { ...key, Algorithm: 'ECDSA_SHA_256', Digest: digest }, Command: 'gpg', Format: 'openpgp' }, ctx), 'Agent.KeyNotAdded');
      expect(fx.auditOf(refused.RequestId!)).toMatchObject({ action: 'AsymmetricSign', code: 'Agent.KeyNotAdded', caller: 'ssh-agent[node 4242]:gpg:openpgp', keyId: key.KeyId, keyVersionId: key.KeyVersionId });
    }
    expect(asked).toEqual([]);
    expect(await counts()).toEqual(before);
  });

  it('asks confirmUse for a confirm identity and passes its refusal on, unsigned', async () => {
    for (const code of ['Agent.Denied', 'Agent.ConfirmTimeout', 'Agent.NoConfirmation'] as const) {
      const { ctx, asked } = context(() => Promise.reject(new KmsError(code, `the user said no (${code})`)));
      const before = await signedAuditCount(confirmed.keyId);
      const refused = refusedWith(await ask({ Op: 'Call', Action: 'AsymmetricSign', Params: signParams(confirmed), Command: 'ssh-keygen', Format: 'ssh' }, ctx), code);
      expect(refused.Message).toContain('the user said no');
      expect(asked).toEqual([{ keyVersionId: confirmed.versionId, what: { kind: 'deskkms', command: 'ssh-keygen', format: 'ssh' } }]);
      // The server's confirmation audits a denial or a timeout (agent-server.ts); the endpoint only passes the refusal on.
      expect(refused.RequestId).toBeUndefined();
      expect(await signedAuditCount(confirmed.keyId)).toBe(before);
    }
    const { ctx } = context();
    body(await ask({ Op: 'Call', Action: 'AsymmetricSign', Params: signParams(confirmed), Command: 'ssh-keygen', Format: 'ssh' }, ctx));
  });

  it('refuses malformed requests without dispatching', async () => {
    const { ctx, asked, logged } = context();
    const entries = await newestAuditEntry();
    const malformed: unknown[] = [
      'not json',
      '',
      'null',
      [],
      { Op: 'Sign' },
      { Op: 'Hello', Extra: 1 },
      { Op: 'Call', Action: 'AsymmetricSign', Params: signParams(added), Command: 'cli', Format: 'ssh', Extra: true },
      { Op: 'Call', Action: 'AsymmetricSign', Params: signParams(added), Command: 'Cli', Format: 'ssh' },
      { Op: 'Call', Action: 'AsymmetricSign', Params: signParams(added), Command: 'a-very-long-command-name-x', Format: 'ssh' },
      { Op: 'Call', Action: 'AsymmetricSign', Params: signParams(added), Command: 'cli', Format: 'pgp' },
      { Op: 'Call', Action: 'AsymmetricSign', Params: 'KeyId', Command: 'cli', Format: 'ssh' },
      { Op: 'Call', Action: 7, Params: {}, Command: 'cli' },
      `{"Op":"Hello","Pad":"${'x'.repeat(MAX_ENDPOINT_REQUEST)}"}`,
    ];
    for (const request of malformed) {
      const refused = refusedWith(await ask(request, ctx), 'InvalidParameter');
      expect(refused.RequestId).toBeUndefined();
    }
    expect(asked).toEqual([]);
    expect(logged).toHaveLength(malformed.length);
    expect(await newestAuditEntry()).toBe(entries);
    // An AsymmetricSign must say which format it makes (the confirm dialog shows it): refused, audited, unasked.
    const noFormat = refusedWith(await ask({ Op: 'Call', Action: 'AsymmetricSign', Params: signParams(added), Command: 'cli' }, ctx), 'InvalidParameter');
    expect(fx.auditOf(noFormat.RequestId!)).toMatchObject({ action: 'AsymmetricSign', code: 'InvalidParameter' });
    expect(asked).toEqual([]);
    // Parameters are checked by dispatch, strictly.
    refusedWith(await ask({ Op: 'Call', Action: 'AsymmetricSign', Params: { ...signParams(added), Extra: 1 }, Command: 'cli', Format: 'raw' }, ctx), 'InvalidParameter');
  });
});
