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
import { dispatch, recordEvent } from '../../actions/dispatch.ts';
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

function refusalAnswer(error: unknown, requestId?: string): EndpointAnswer {
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

/**
 * The identity an AsymmetricSign asks for: the KeyId must be a key UUID and (KeyId, KeyVersionId) a
 * version the user added (Agent.KeyNotAdded otherwise), and the request must name its format.
 */
function signingIdentity(request: CallRequest, vault: EndpointContext['vault']): { readonly keyVersionId: string; readonly format: string } {
  if (request.Format === undefined) throw new KmsError('InvalidParameter', 'the endpoint request: Format: an AsymmetricSign names the signature format it makes');
  const { KeyId, KeyVersionId } = request.Params;
  const identity = typeof KeyId === 'string' && UUID.test(KeyId) && typeof KeyVersionId === 'string' ? getAgentIdentity(vault.store.db, KeyVersionId) : undefined;
  if (!identity || identity.key_id !== KeyId) {
    throw new KmsError(
      'Agent.KeyNotAdded',
      `the agent signs only with the key versions added to it (deskkms agent add): KeyId ${escapeText(String(KeyId), 128)} version ${escapeText(String(KeyVersionId), 128)} is not one of them (the KeyId must be a key UUID)`,
    );
  }
  return { keyVersionId: identity.key_version_id, format: request.Format };
}

async function endpointCall(request: CallRequest, ctx: EndpointContext): Promise<EndpointAnswer> {
  const via = request.Format !== undefined ? `${request.Command}:${request.Format}` : request.Command;
  const caller = agentCaller(ctx.peer, via);
  const { vault } = ctx;
  await vault.ensureUnlocked();
  const keys = [...new Set(listAgentIdentities(vault.store.db).map((row) => row.key_id))];
  const policy: Policy = { Actions: [...ENDPOINT_ACTIONS], Keys: keys };
  if (request.Action === 'AsymmetricSign') {
    let allowed: { readonly keyVersionId: string; readonly format: string };
    try {
      allowed = signingIdentity(request, vault);
    } catch (error) {
      // Audited as dispatch audits a refusal, with the key the caller named (escaped); nothing dispatched.
      const code = toKmsError(error).code;
      const { KeyId, KeyVersionId } = request.Params;
      const key = typeof KeyId === 'string' ? { keyId: KeyId, ...(typeof KeyVersionId === 'string' ? { keyVersionId: KeyVersionId } : {}) } : undefined;
      const requestId = await recordEvent(vault, 'AsymmetricSign', code, caller, key);
      ctx.log?.(`endpoint: ${caller} AsymmetricSign refused: ${code} (RequestId ${requestId})`);
      return refusalAnswer(error, requestId);
    }
    // A denial or a timeout is audited by the server's confirmation (as the AsymmetricSign it would have been) and passed on.
    try {
      await ctx.confirmUse(allowed.keyVersionId, { kind: 'deskkms', command: request.Command, format: allowed.format });
    } catch (error) {
      return refusalAnswer(error);
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
    return refusalAnswer(error);
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
    return refusalAnswer(error);
  }
}
