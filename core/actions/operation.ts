// What an operation is: the handler of one Action, its call context and its result. Every
// operation file in core/actions implements one Handler; core/actions/table.ts lists them and
// core/actions/dispatch.ts runs them (validation, policy, audit, one transaction).
import type { ActionName, ActionRequest } from '../contract/actions.ts';
import type { ActionResponse } from '../contract/responses.ts';
import type { Db } from '../vault/store.ts';
import type { Vault } from '../vault/vault.ts';

export interface CallContext {
  readonly caller: string;
  readonly requestId: string;
  /** Set by handlers as soon as known, so failures are audited against the key too. */
  keyId?: string;
  keyVersionId?: string;
  /**
   * Set when the caller's policy limits keys: throws Forbidden.NoPermission for a key outside it,
   * naming the key as the caller gave it (`given`), never what an alias or ARN resolved to.
   */
  readonly authorize?: (keyId: string, given?: string) => void;
  /**
   * Set when the caller's policy limits keys: for a KeyId or alias (as given) that names no key,
   * throws the same Forbidden.NoPermission as authorize unless the policy names it, so a limited
   * caller cannot tell a missing key from one it may not use. Its own keys may be KeyNotFound.
   */
  readonly authorizeMissing?: (given: string) => void;
  /** Set when the caller's policy limits keys: which keys list calls may show. */
  readonly visible?: (keyId: string) => boolean;
}

/** What a handler may ask dispatch to do besides answering. */
export interface HandlerEffects {
  /** Mutation to commit with the audit entry; may throw to refuse (then nothing is changed). */
  readonly write?: (db: Db) => void;
  /**
   * Runs once the mutation and its audit entry are committed, before the answer: e.g. dropping the
   * key worker's live copy of material the write deleted, after any call that read it before the
   * commit has reached the worker. It only tightens: a failure here cannot undo the commit.
   */
  readonly afterCommit?: () => Promise<void>;
  /**
   * Runs when the mutation (or its audit entry) could not be committed: undoes what the handler
   * prepared outside the database (a key worker's pending data key, a keychain entry written for
   * the change). Best effort; its failure is not reported over the write's.
   */
  readonly afterRollback?: () => Promise<void>;
  /**
   * Runs inside the write's transaction when the write or its audit entry throws (the job is rolled
   * back): undoes, synchronously and before the next job of the batch runs, what `write` changed in
   * this process's memory (a data-key rotation's integrity key).
   */
  readonly undoWrite?: () => void;
}

/**
 * A handler's result: its response is exactly what Action A's response schema describes
 * (core/contract/responses.ts), so a handler whose answer drifts from its schema fails tsc
 * (test/unit/response-types.test-d.ts proves it). Without A: the result of some Action.
 * (A type alias, not an interface: tsc compares an interface's instances by a variance shortcut
 * that let HandlerResult<ActionName> pass as HandlerResult<'DescribeKey'>.)
 */
export type HandlerResult<A extends ActionName = ActionName> = HandlerEffects & { readonly response: ActionResponse<A> };

export type Handler<A extends ActionName> = (vault: Vault, request: ActionRequest<A>, ctx: CallContext) => Promise<HandlerResult<A>>;
export type HandlerTable = { readonly [A in ActionName]: Handler<A> };

