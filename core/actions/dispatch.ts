// The one entry point every transport calls: Action name -> validation -> handler -> audit ->
// response. Validation and audit happen here, once. A handler returns its response and,
// for mutations, a write that runs in the same transaction as the audit entry, so a change and
// its audit record are committed together or not at all. If the audit entry cannot be written,
// the call fails. The administration Actions (LOCAL_ONLY_ACTIONS) are refused to every caller with
// a policy. What hosts must audit that is no Action (a refused envelope, the app's lock events,
// the API server's refusal summaries) goes through refuseCall, recordEvent and vaultRefusalLog
// below: no host appends audit entries itself.
import { randomUUID } from 'node:crypto';
import { auditWriteFailed, recordAuditEntries, type AuditEntryInput } from '../audit/audit-log.ts';
import { RefusalLog, type RefusalLogOptions } from '../audit/refusal-log.ts';
import { isActionName, isLocalOnlyAction, parseRequest, type ActionName, type ActionParams } from '../contract/actions.ts';
import { KmsError, toKmsError, type ErrorCode } from '../contract/errors.ts';
import { allowsAction, allowsKey, namesKey, restrictsKeys, type Policy } from '../contract/policy.ts';
import { escapeField, escapeText } from '../contract/escape-text.ts';
import type { ActionResponse } from '../contract/responses.ts';
import { aliasesOf } from '../vault/records.ts';
import type { Vault } from '../vault/vault.ts';
import type { WriteGroup } from '../vault/store.ts';
import type { CallContext } from './operation.ts';
import { route } from './provider-route.ts';
import { startLoadingHandler } from './table.ts';

export interface DispatchOptions {
  /** The caller's policy (API access keys); local callers (CLI, app) have none. */
  readonly policy?: Policy;
  /**
   * Told the detail of a failure that is a bug (anything but a KmsError), which the caller only
   * sees as InternalFailure: the host writes it to its own log (stderr, the app's log) under the
   * call's RequestId, which the caller's answer and the audit entry carry too.
   */
  readonly onInternalError?: (action: string, requestId: string, error: unknown) => void;
}

export interface ApiFailure {
  readonly Code: ErrorCode;
  readonly Message: string;
  readonly RequestId: string;
}

/**
 * A call's outcome. `Body` is the answer without its RequestId: ActionResponse<A> when the caller
 * named the Action (typed dispatch), a plain record for transports that pass on what they received.
 */
export type ApiOutcome<Body extends object = Record<string, unknown>> =
  | { readonly ok: true; readonly body: Body & { RequestId: string } }
  | { readonly ok: false; readonly error: ApiFailure; readonly httpStatus: number };

/** Audit entries of calls that write nothing else: appended together, one append per turn (store.ts). */
const AUDIT_ENTRIES: WriteGroup<AuditEntryInput> = { run: recordAuditEntries };

// The Action and the key fields may be anything a caller sent: escaped and cut to the audit
// log's limits (core/contract/escape-text.ts), so hostile text is recorded, not refused.
function auditEntry(action: unknown, ctx: CallContext, code: string) {
  return {
    action: escapeField(action, 64),
    code,
    caller: ctx.caller,
    requestId: ctx.requestId,
    ...(ctx.keyId ? { keyId: escapeText(ctx.keyId, 128) } : {}),
    ...(ctx.keyVersionId ? { keyVersionId: escapeText(ctx.keyVersionId, 128) } : {}),
  };
}

function policyContext(vault: Vault, policy: Policy | undefined, caller: string): Pick<CallContext, 'authorize' | 'authorizeMissing' | 'visible'> {
  if (!policy || !restrictsKeys(policy)) return {};
  const visible = (keyId: string): boolean => allowsKey(policy, keyId, aliasesOf(vault.store.db, keyId));
  // One answer for a key that exists outside the policy and for one that does not exist at all.
  const denied = (given: string): KmsError =>
    new KmsError('Forbidden.NoPermission', `${caller} may not use key ${escapeText(given, 128)} (not in its policy)`);
  return {
    visible,
    authorize: (keyId, given = keyId) => {
      if (!visible(keyId)) throw denied(given);
    },
    authorizeMissing: (given) => {
      if (!namesKey(policy, given)) throw denied(given);
    },
  };
}

/** An Action named in code, with its parameters: the answer is typed by the Action's response schema. */
export function dispatch<A extends ActionName>(vault: Vault, action: A, params: ActionParams<A>, caller: string, options?: DispatchOptions): Promise<ApiOutcome<ActionResponse<A>>>;
/** Whatever a transport received: the Action and its parameters are validated here. */
export function dispatch(vault: Vault, action: unknown, params: unknown, caller: string, options?: DispatchOptions): Promise<ApiOutcome>;
export async function dispatch(vault: Vault, action: unknown, params: unknown, caller: string, options: DispatchOptions = {}): Promise<ApiOutcome> {
  const ctx: CallContext = { caller, requestId: randomUUID(), ...policyContext(vault, options.policy, caller) };
  // Counted while in flight: a data-key rotation waits for the calls before it and holds those after.
  const entering = vault.enterCall();
  if (entering) await entering;
  try {
    return await dispatchCall(vault, action, params, ctx, options);
  } finally {
    vault.leaveCall(ctx.requestId);
  }
}

async function dispatchCall(vault: Vault, action: unknown, params: unknown, ctx: CallContext, options: DispatchOptions): Promise<ApiOutcome> {
  const { caller } = ctx;
  const name = typeof action === 'string' ? action : '';
  try {
    if (!isActionName(action)) {
      // An Action the vault does not have is what Alibaba's gateway answers with
      // InvalidAction.NotFound (404, "Specified api is not found, please check your url and
      // method"); a missing or non-string one stays a bad parameter.
      if (name) throw new KmsError('InvalidAction.NotFound', `Specified api is not found, please check your url and method: "${escapeText(name, 64)}" is not an Action of this vault`);
      throw new KmsError('InvalidParameter', `Action: ${action === undefined || action === '' ? 'is required' : 'must be a string'}`);
    }
    if (options.policy && isLocalOnlyAction(action)) {
      throw new KmsError('Forbidden.NoPermission', `${caller} may not call ${action}: it is a local-only DeskKMS Action (the vault's own CLI and app)`);
    }
    if (options.policy && !allowsAction(options.policy, action)) {
      throw new KmsError('Forbidden.NoPermission', `${caller} may not call ${action} (not in its policy)`);
    }
    const request = parseRequest(action, params);
    startLoadingHandler(action); // at its first call, while the vault unlocks
    // Every Action reads authenticated rows (keys, aliases, policies, connections), and those need
    // the integrity key of an unlocked vault: a locked one answers Vault.Locked, never unverified data.
    await vault.ensureUnlocked();
    // The key's provider (core/actions/provider-route.ts): this vault's operation, or a remote KMS.
    const result = await route(vault, action, request, ctx);
    if (result.write !== undefined || !UNRECORDED_READS.has(action)) {
      try {
        // Only the audit entry to write: with the other such calls of this turn, in one append.
        if (result.write === undefined) await vault.store.writeGrouped(AUDIT_ENTRIES, auditEntry(action, ctx, 'OK'));
        else await vault.store.write((db) => {
          try {
            result.write?.(db);
            recordAuditEntries(db, [auditEntry(action, ctx, 'OK')]);
          } catch (error) {
            result.undoWrite?.();
            throw error;
          }
        });
      } catch (error) {
        // Nothing was committed: the handler undoes what it prepared outside the database.
        await result.afterRollback?.().catch(() => undefined);
        throw error;
      }
    }
    // A worker that is locked, restarting or gone holds no live keys: nothing left to drop.
    if (result.afterCommit) await result.afterCommit().catch(() => undefined);
    return { ok: true, body: { ...result.response, RequestId: ctx.requestId } };
  } catch (thrown) {
    if (!(thrown instanceof KmsError)) options.onInternalError?.(escapeField(action, 64), ctx.requestId, thrown);
    const error = toKmsError(thrown, options.onInternalError ? `in the host's log under RequestId ${ctx.requestId}` : undefined);
    try {
      await vault.store.writeGrouped(AUDIT_ENTRIES, auditEntry(action, ctx, error.code));
    } catch (auditError) {
      return failure(auditWriteFailed(auditError), ctx);
    }
    return failure(error, ctx);
  }
}

/**
 * Reads of the audit log itself record nothing in it when they succeed (refused ones are audited
 * like any call): a read that appended would change what it reads (the head and count a verdict
 * reports, the page the app shows), and a broken log, which refuses every append, must stay
 * readable and verifiable.
 */
const UNRECORDED_READS: ReadonlySet<ActionName> = new Set<ActionName>(['ListAuditEntries', 'VerifyAuditChain']);

/**
 * What a refused call named as its Action: the value a caller sent (escaped as dispatch escapes
 * it), or a placeholder in parentheses where it sent no call at all (a batch line that is not JSON);
 * escaped text never starts with "(", so a caller cannot forge a placeholder.
 */
export type RefusedAction = { readonly sent: unknown } | { readonly placeholder: `(${string})` };

/**
 * A call refused before it could reach dispatch (its envelope is malformed: a batch line that is
 * not a JSON object, the app's Kms.Call without a proper Action or Params), audited with its Code
 * as dispatch audits refusals. The answer carries the RequestId of the entry.
 */
export async function refuseCall(vault: Vault, action: RefusedAction, error: KmsError, caller: string): Promise<ApiFailure> {
  const ctx: CallContext = { caller, requestId: randomUUID() };
  const entry = 'placeholder' in action ? { ...auditEntry(undefined, ctx, error.code), action: action.placeholder } : auditEntry(action.sent, ctx, error.code);
  try {
    await vault.store.writeGrouped(AUDIT_ENTRIES, entry);
  } catch (auditError) {
    const failed = auditWriteFailed(auditError);
    return { Code: failed.code, Message: failed.message, RequestId: ctx.requestId };
  }
  return { Code: error.code, Message: error.message, RequestId: ctx.requestId };
}

/**
 * A vault event that is not an Action (the app's UnlockVault, LockVault and ListKeyDetails), or an
 * Action refused before it could be dispatched (the agent's AsymmetricSign the user denied or left
 * unanswered, with its key), audited with its outcome's Code in a transaction of its own. Throws when the entry cannot be
 * written. Returns the entry's RequestId.
 */
export async function recordEvent(
  vault: Vault,
  action: string,
  code: ErrorCode | 'OK',
  caller: string,
  key?: { readonly keyId: string; readonly keyVersionId?: string },
): Promise<string> {
  const ctx: CallContext = { caller, requestId: randomUUID(), ...(key ? { keyId: key.keyId, ...(key.keyVersionId ? { keyVersionId: key.keyVersionId } : {}) } : {}) };
  await vault.store.write((db) => recordAuditEntries(db, [auditEntry(action, ctx, code)]));
  return ctx.requestId;
}

export type { RefusalLogOptions } from '../audit/refusal-log.ts';

/**
 * The API server's log of requests refused before they became calls (see core/audit/refusal-log.ts),
 * appending to this vault's audit log.
 */
export function vaultRefusalLog(vault: Vault, options: Omit<RefusalLogOptions, 'append'>): RefusalLog {
  return new RefusalLog({ ...options, append: (entries) => vault.store.write((db) => recordAuditEntries(db, entries)) });
}

function failure(error: KmsError, ctx: CallContext): ApiOutcome {
  return { ok: false, error: { Code: error.code, Message: error.message, RequestId: ctx.requestId }, httpStatus: error.httpStatus };
}
