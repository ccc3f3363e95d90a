// Keys.Detail: everything the app's key detail pane shows (the key's metadata, aliases, tags, and
// each version with its public key bundle and certificates) in one call, audited as ONE read
// entry, DescribeKeyDetail, against the key. Browsing a key used to make four or five audited
// Actions per click (DescribeKey, ListKeyVersions, GetPublicKeyBundle and GetCertificates per
// version), which buried the log's changes and signatures under reads; the read is still on the
// record, once.
//
// The parts are the Actions' own handlers, run as dispatch runs them (validated requests, the vault
// unlocked, the call counted in flight, the key's provider through route, the caller's context):
// only their audit entries are replaced by the one entry here. The app's caller has no policy
// (API access keys never reach the app session), so nothing is limited by one. A refusal of the
// key (no such key, the vault locked) is recorded with its Code and answered with the entry's
// RequestId; a part of one version that fails (its public key, its certificates) is answered as
// that part's error and the entry records the first such Code, so a failure is never an OK entry.
import { randomUUID } from 'node:crypto';
import { recordEvent, type ApiFailure, type DispatchOptions } from '../actions/dispatch.ts';
import type { CallContext } from '../actions/operation.ts';
import { route } from '../actions/provider-route.ts';
import { parseRequest, type ActionName, type ActionParams } from '../contract/actions.ts';
import type { KeyDetailView, KeyVersionDetailView } from '../contract/app-api.ts';
import { KmsError, toKmsError, type WireError } from '../contract/errors.ts';
import type { ActionResponse } from '../contract/responses.ts';
import type { Vault } from '../vault/vault.ts';
import { isKeySpec, isSymmetricSpec } from '../contract/specs.ts';

/** The audit entry's Action (an app event, core/contract/audit-kinds.ts: a read). */
export const KEY_DETAIL_EVENT = 'DescribeKeyDetail';
const PAGE_SIZE = 100;

export type KeyDetailOutcome =
  | { readonly ok: true; readonly body: KeyDetailView & { readonly RequestId: string } }
  | { readonly ok: false; readonly error: ApiFailure };

export async function keyDetail(vault: Vault, keyId: string, caller: string, options: DispatchOptions = {}): Promise<KeyDetailOutcome> {
  const ctx: CallContext = { caller, requestId: randomUUID() };
  // Counted while in flight, as a dispatched call is (a data-key rotation waits for it).
  await vault.enterCall();
  let detail: KeyDetailView;
  try {
    detail = await readDetail(vault, keyId, ctx);
  } catch (thrown) {
    if (!(thrown instanceof KmsError)) options.onInternalError?.(KEY_DETAIL_EVENT, ctx.requestId, thrown);
    const error = toKmsError(thrown, options.onInternalError ? `in the host's log under the ${KEY_DETAIL_EVENT} entry` : undefined);
    // recordEvent escapes the KeyId as given (dispatch's audit entry does the same).
    return refused(vault, error, caller, ctx.keyId ?? keyId);
  } finally {
    vault.leaveCall(ctx.requestId);
  }
  const failed = detail.Versions.flatMap((v) => [v.PublicKeyError, v.CertificatesError].filter((e): e is WireError => e !== undefined).map((e) => ({ e, v })))[0];
  const key = { keyId: detail.KeyMetadata.KeyId, ...(failed ? { keyVersionId: failed.v.KeyVersionId } : {}) };
  const requestId = await recordEvent(vault, KEY_DETAIL_EVENT, failed ? failed.e.Code : 'OK', caller, key);
  return { ok: true, body: { ...detail, RequestId: requestId } };
}

/** The refusal, audited (recordEvent throws when the entry cannot be written: the call fails). */
async function refused(vault: Vault, error: KmsError, caller: string, keyId: string): Promise<KeyDetailOutcome> {
  const requestId = await recordEvent(vault, KEY_DETAIL_EVENT, error.code, caller, { keyId });
  return { ok: false, error: { Code: error.code, Message: error.message, RequestId: requestId } };
}

/** One Action's handler as dispatch runs it, without its own audit entry; a read must not write. */
async function run<A extends ActionName>(vault: Vault, action: A, params: ActionParams<A>, ctx: CallContext): Promise<ActionResponse<A>> {
  const result = await route(vault, action, parseRequest(action, params), { ...ctx });
  if (result.write !== undefined) throw new KmsError('InternalFailure', `${KEY_DETAIL_EVENT}: ${action} asked to write`);
  return result.response;
}

async function readDetail(vault: Vault, given: string, ctx: CallContext): Promise<KeyDetailView> {
  // Every Action reads authenticated rows: a locked vault answers Vault.Locked, never unverified data.
  await vault.ensureUnlocked();
  const { KeyMetadata } = await run(vault, 'DescribeKey', { KeyId: given }, ctx);
  const keyId = KeyMetadata.KeyId;
  ctx.keyId = keyId;
  const versions = [];
  for (let page = 1; ; page++) {
    const r = await run(vault, 'ListKeyVersions', { KeyId: keyId, PageNumber: page, PageSize: PAGE_SIZE }, ctx);
    versions.push(...r.KeyVersions.KeyVersion);
    if (r.KeyVersions.KeyVersion.length < PAGE_SIZE || versions.length >= r.TotalCount) break;
  }
  const aliases: string[] = [];
  for (let page = 1; ; page++) {
    const r = await run(vault, 'ListAliasesByKeyId', { KeyId: keyId, PageNumber: page, PageSize: PAGE_SIZE }, ctx);
    aliases.push(...r.Aliases.Alias.map((a) => a.AliasName));
    if (r.Aliases.Alias.length < PAGE_SIZE || aliases.length >= r.TotalCount) break;
  }
  const tags = (await run(vault, 'ListResourceTags', { KeyId: keyId }, ctx)).Tags.Tag.map((t) => ({ TagKey: t.TagKey, TagValue: t.TagValue }));
  const detailed: KeyVersionDetailView[] = [];
  // A symmetric key's versions have no public key or certificates: nothing more to read.
  const symmetric = isKeySpec(KeyMetadata.KeySpec) && isSymmetricSpec(KeyMetadata.KeySpec);
  for (const version of versions) {
    if (symmetric) {
      detailed.push({ KeyVersionId: version.KeyVersionId, CreationDate: version.CreationDate });
      continue;
    }
    const ref = { KeyId: keyId, KeyVersionId: version.KeyVersionId };
    const [bundle, certificates] = await Promise.all([
      part(() => run(vault, 'GetPublicKeyBundle', ref, ctx)),
      part(() => run(vault, 'GetCertificates', ref, ctx)),
    ]);
    detailed.push({
      KeyVersionId: version.KeyVersionId,
      CreationDate: version.CreationDate,
      ...('value' in bundle ? { PublicKeyBundle: bundle.value } : { PublicKeyError: bundle.error }),
      ...('value' in certificates ? { Certificates: certificates.value.Certificates } : { CertificatesError: certificates.error }),
    });
  }
  return { KeyMetadata, Aliases: aliases, Tags: tags, Versions: detailed };
}

/** One version's part: its answer, or its refusal (a bug in it stays a bug: thrown). */
async function part<T>(read: () => Promise<T>): Promise<{ value: T } | { error: WireError }> {
  try {
    return { value: await read() };
  } catch (error) {
    if (!(error instanceof KmsError)) throw error;
    return { error: error.toWire() };
  }
}
