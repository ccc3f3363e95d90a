// The local signing endpoint's server side (the DESKKMS_EXTENSION message of agent-server.ts):
// DeskKMS's own commands (deskkms sign, deskkms-ssh-keygen, deskkms-gpg, sigstore-kms-deskkms) ask
// the running agent instead of opening the vault themselves. Three requests:
//   Hello       which vault the agent serves (its id and real path) and whether it is locked
//   Identities  the key versions the user added to the agent, with their public facts
//   Call        one of ENDPOINT_ACTIONS through dispatch, on the agent's keys only: a Policy
//               {Actions: ENDPOINT_ACTIONS, Keys: the identities' KeyIds} refuses anything else
//               exactly as a missing key is refused; AsymmetricSign additionally needs the
//               (KeyId, KeyVersionId) to be an identity itself and the use confirmed when the
//               identity asks for it (ctx.confirmUse). Audited as agentCaller(peer, COMMAND:FORMAT).
// The request is JSON parsed strictly (size cap, unknown fields refused); every refusal is an
// answer {ok:false, error:{Code, Message, RequestId?}}, never a throw.
import { realpathSync } from 'node:fs';
import { z } from 'zod';
import { dispatch, refuseCall } from '../../actions/dispatch.ts';
import { KmsError, toKmsError } from '../../contract/errors.ts';
import { escapeText } from '../../contract/escape-text.ts';
import { UUID } from '../../contract/ids.ts';
import type { Policy } from '../../contract/policy.ts';
import { SIGNATURE_FORMATS } from '../../contract/signature-formats.ts';
import { getAgentIdentity, listAgentIdentities } from '../../vault/agent-identities.ts';
import { aliasesOf, getKey, getVersion } from '../../vault/records.ts';
import { agentCaller, ENDPOINT_ACTIONS, type EndpointAnswer, type EndpointContext, type EndpointHello, type EndpointIdentity } from './agent-types.ts';

/** The largest request JSON taken (ENDPOINT_ACTIONS' parameters are a few hundred bytes). */
export const MAX_ENDPOINT_REQUEST = 64 << 10;

/** A command's name as the audit shows it ("cli", "ssh-keygen", "gpg", "cosign"). */
export const ENDPOINT_COMMAND = /^[a-z][a-z0-9-]{0,23}$/;

const requestSchema = z.discriminatedUnion('Op', [
  z.strictObject({ Op: z.literal('Hello') }),
  z.strictObject({ Op: z.literal('Identities') }),
  z.strictObject({
    Op: z.literal('Call'),
    // Any Action name reaches dispatch, whose policy refuses (and audits) those not in ENDPOINT_ACTIONS.
    Action: z.string().min(1).max(64),
    Params: z.record(z.string(), z.unknown()),
    Command: z.string().regex(ENDPOINT_COMMAND, 'must be a command name (a-z, 0-9, -; at most 24)'),
    Format: z.enum(SIGNATURE_FORMATS).optional(),
  }),
]);
type Request = z.output<typeof requestSchema>;
type CallRequest = Extract<Request, { Op: 'Call' }>;

function refusal(error: unknown, requestId?: string): EndpointAnswer {
  const kms = toKmsError(error);
  return { ok: false, error: { Code: kms.code, Message: kms.message, ...(requestId !== undefined ? { RequestId: requestId } : {}) } };
}

/** Parses the request JSON strictly; throws KmsError InvalidParameter naming what is wrong. */
export function parseEndpointRequest(json: string): Request {
  if (json.length > MAX_ENDPOINT_REQUEST) throw new KmsError('InvalidParameter', `the endpoint request is ${json.length} characters, more than ${MAX_ENDPOINT_REQUEST}`);
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new KmsError('InvalidParameter', 'the endpoint request is not JSON');
  }
  const parsed = requestSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.map(String).join('.') : 'request';
    throw new KmsError('InvalidParameter', `the endpoint request: ${escapeText(where, 64)}: ${escapeText(issue?.message ?? 'is malformed', 256)}`);
  }
  return parsed.data;
}

function hello(ctx: EndpointContext): EndpointHello {
  const dir = ctx.vault.store.dir;
  let path: string;
  try {
    path = realpathSync(dir);
  } catch {
    path = dir;
  }
  return { VaultId: ctx.vault.vaultId, VaultPath: path, Locked: !ctx.vault.isUnlocked };
}

/** The agent's identities with their public facts (rows whose key version is gone are left out). */
export async function endpointIdentities(ctx: Pick<EndpointContext, 'vault'>): Promise<EndpointIdentity[]> {
  await ctx.vault.ensureUnlocked();
  const db = ctx.vault.store.db;
  const identities: EndpointIdentity[] = [];
  for (const row of listAgentIdentities(db)) {
    const key = getKey(db, row.key_id);
    const version = key ? getVersion(db, row.key_id, row.key_version_id) : undefined;
    if (!key || !version) continue;
    identities.push({
      KeyId: row.key_id,
      KeyVersionId: row.key_version_id,
      KeySpec: key.key_spec,
      PublicKey: Buffer.from(version.public_key).toString('base64'),
      CreationDate: version.creation_date,
      Aliases: aliasesOf(db, row.key_id),
      Confirm: row.confirm === 1,
    });
  }
  return identities;
}

async function endpointCall(request: CallRequest, ctx: EndpointContext): Promise<EndpointAnswer> {
  const via = request.Format !== undefined ? `${request.Command}:${request.Format}` : request.Command;
  const caller = agentCaller(ctx.peer, via);
  const { vault } = ctx;
  await vault.ensureUnlocked();
  const keys = [...new Set(listAgentIdentities(vault.store.db).map((row) => row.key_id))];
  const policy: Policy = { Actions: [...ENDPOINT_ACTIONS], Keys: keys };
  if (request.Action === 'AsymmetricSign') {
    // Only a version the user added signs, and only once confirmed (when its identity asks for it).
    const keyId = request.Params.KeyId;
    const versionId = request.Params.KeyVersionId;
    try {
      if (request.Format === undefined) throw new KmsError('InvalidParameter', 'the endpoint request: Format: an AsymmetricSign names the signature format it makes');
      const identity = typeof keyId === 'string' && UUID.test(keyId) && typeof versionId === 'string' ? getAgentIdentity(vault.store.db, versionId) : undefined;
      if (!identity || identity.key_id !== keyId) {
        throw new KmsError(
          'Agent.KeyNotAdded',
          `the agent signs only with the key versions added to it (deskkms agent add): KeyId ${escapeText(String(keyId), 128)} version ${escapeText(String(versionId), 128)} is not one of them (the KeyId must be a key UUID)`,
        );
      }
      await ctx.confirmUse(identity.key_version_id, { kind: 'deskkms', command: request.Command, format: request.Format });
    } catch (error) {
      const kms = toKmsError(error);
      // Audited as dispatch audits a refusal: the refused signature is in the log with its caller.
      const refused = await refuseCall(vault, { sent: request.Action }, kms, caller);
      ctx.log?.(`endpoint: ${caller} AsymmetricSign refused: ${refused.Code} (RequestId ${refused.RequestId})`);
      return { ok: false, error: refused };
    }
  }
  const outcome = await dispatch(vault, request.Action, request.Params, caller, {
    policy,
    onInternalError: (action, requestId) => ctx.log?.(`endpoint: ${caller} ${action} failed internally (RequestId ${requestId})`),
  });
  return outcome.ok ? { ok: true, body: outcome.body } : { ok: false, error: outcome.error };
}

/** Answers one extension request (the JSON after the extension's name). Never throws. */
export async function handleEndpoint(json: string, ctx: EndpointContext): Promise<EndpointAnswer> {
  let request: Request;
  try {
    request = parseEndpointRequest(json);
  } catch (error) {
    ctx.log?.(`endpoint: ${agentCaller(ctx.peer)} sent a malformed request: ${error instanceof Error ? escapeText(error.message, 256) : 'malformed'}`);
    return refusal(error);
  }
  try {
    switch (request.Op) {
      case 'Hello':
        return { ok: true, body: hello(ctx) };
      case 'Identities':
        return { ok: true, body: { Identities: await endpointIdentities(ctx) } };
      case 'Call':
        return await endpointCall(request, ctx);
    }
  } catch (error) {
    if (!(error instanceof KmsError)) ctx.log?.(`endpoint: ${agentCaller(ctx.peer)} ${request.Op} failed internally: ${escapeText(error instanceof Error ? error.message : String(error), 256)}`);
    return refusal(error);
  }
}
