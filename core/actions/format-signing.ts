// Signing in a release format (core/formats): the one route from a host to a signature file.
// The key version and its public key are read through dispatch (DescribeKeyVersion or
// ListKeyVersions, GetPublicKey), the format hashes the message, and the one signature is an
// AsymmetricSign dispatched like any other call, audited with the caller and the format
// ("cli:ssh", "app:openpgp"). No private key is reached any other way.
// The same route runs through a running DeskKMS agent (core/hosts/agent/agent-client.ts): the
// Actions go to its endpoint (core/hosts/agent/endpoint.ts), which dispatches them in the agent's
// process on the key versions the user added to it, audited as "ssh-agent[PROGRAM PID]:<caller>:<format>".
// Such a signer refuses, before anything is read or signed, a key version the agent does not
// serve (Agent.KeyNotAdded), so that the host can open the vault itself instead.
import { decodeBase64, encodeBase64 } from '../contract/base64.ts';
import { KmsError } from '../contract/errors.ts';
import { escapeText } from '../contract/escape-text.ts';
import type { ActionName, ActionParams } from '../contract/actions.ts';
import { keyStateRefusal } from '../contract/key-state-refusal.ts';
import { keyReference } from '../contract/policy.ts';
import { RESPONSE_SCHEMAS, type ActionResponse, type KeyVersionInfo } from '../contract/responses.ts';
import { isKeySpec } from '../contract/specs.ts';
import { importPublicKey } from '../crypto/public-key.ts';
import type { FormatOptions, PendingSignature, SignatureFormatName, SigningKeyInfo } from '../formats/format.ts';
import { signatureFormat } from '../formats/registry.ts';
import { getKey, listKeys, listVersions } from '../vault/records.ts';
import type { Vault } from '../vault/vault.ts';
import type { DispatchOptions } from './dispatch.ts';

/** A key version a DeskKMS agent serves, with its public facts (the endpoint's ServedKeyVersion). */
export interface ServedKeyVersion {
  readonly KeyId: string;
  readonly KeyVersionId: string;
  readonly KeySpec: string;
  /** base64 of the SPKI DER. */
  readonly PublicKey: string;
  readonly CreationDate: string;
  readonly Aliases: readonly string[];
}

/**
 * A running DeskKMS agent's signing endpoint, as a signer uses it (core/hosts/agent/agent-client.ts
 * speaks it over the agent's socket). `call` throws the agent's refusal as a KmsError naming the
 * Action and its RequestId, as `call` below does for dispatch, and Agent.Unsupported for an Action
 * the endpoint does not run (its ENDPOINT_ACTIONS: the reads of a key's public facts, AsymmetricSign).
 */
export interface SigningEndpoint {
  /** One Action, audited by the agent as "ssh-agent[PROGRAM PID]:<command>[:<format>]"; the answer's body. */
  call(action: ActionName, params: Record<string, unknown>, command: string, format?: string): Promise<Record<string, unknown>>;
  /** The key versions the agent serves (read once per signer). */
  identities(): Promise<readonly ServedKeyVersion[]>;
}

/** Who signs through this vault, opened by the host, and how internal errors are reported (its log). */
export interface VaultSigner {
  readonly vault: Vault;
  /** The host's caller name ("cli", "app"); the audit entry reads "<caller>:<format>". */
  readonly caller: string;
  readonly dispatchOptions?: DispatchOptions;
  readonly agent?: undefined;
}

/** Who signs through a running DeskKMS agent that serves the vault. */
export interface AgentSigner {
  readonly agent: SigningEndpoint;
  /** The command's name ("cli", "ssh-keygen"), /^[a-z][a-z0-9-]{0,23}$/; the agent audits "ssh-agent[...]:<caller>:<format>". */
  readonly caller: string;
  readonly vault?: undefined;
}

/** Who signs: the vault itself (dispatch in this process) or a DeskKMS agent serving it. */
export type Signer = VaultSigner | AgentSigner;

/** Refuses a key the agent does not serve: the host opens the vault instead (nothing was read or signed yet). */
export function keyNotAdded(what: string): KmsError {
  return new KmsError('Agent.KeyNotAdded', `the DeskKMS agent does not serve ${what} (deskkms agent add); the vault is opened instead`);
}

/** An Action through dispatch as the signer's caller (or "<caller>:<via>"); a refusal throws its KmsError with the RequestId. */
export async function call<A extends ActionName>(signer: Signer, action: A, params: ActionParams<A>, via?: string): Promise<ActionResponse<A>> {
  if (signer.agent) return agentCall(signer, action, params, via);
  // The handler table is loaded for a signer on the vault only: through an agent, the agent's process runs it
  // (a git program signing through the agent starts a quarter faster without it).
  const { dispatch } = await import('./dispatch.ts');
  const outcome = await dispatch(signer.vault, action, params, via ? `${signer.caller}:${via}` : signer.caller, signer.dispatchOptions);
  if (!outcome.ok) throw new KmsError(outcome.error.Code, `${action}: ${outcome.error.Message} (RequestId ${outcome.error.RequestId})`);
  return outcome.body;
}

/** An Action through the agent's endpoint, its answer held to the Action's response schema. */
async function agentCall<A extends ActionName>(signer: AgentSigner, action: A, params: ActionParams<A>, via?: string): Promise<ActionResponse<A>> {
  const body: Record<string, unknown> = { ...(await signer.agent.call(action, params, signer.caller, via)) };
  delete body.RequestId;
  const parsed = RESPONSE_SCHEMAS[action].safeParse(body);
  if (!parsed.success) throw new KmsError('Agent.Unavailable', `the DeskKMS agent answered ${action} outside its response schema`);
  return parsed.data as ActionResponse<A>;
}

/** Whether an identity is the key `keyRef` names (its KeyId, alias/NAME or an ARN of either). */
function identityOf(identity: ServedKeyVersion, keyRef: string): boolean {
  const { kind, name } = keyReference(keyRef);
  return kind === 'alias' ? identity.Aliases.includes(name) : identity.KeyId === name;
}

/**
 * Through an agent: refuses (Agent.KeyNotAdded) a key the agent serves no version of, or a version
 * (when named) it does not serve. Through the vault: nothing to check.
 */
export async function assertServed(signer: Signer, keyRef: string, keyVersionId?: string): Promise<void> {
  if (!signer.agent) return;
  const identities = (await signer.agent.identities()).filter((identity) => identityOf(identity, keyRef));
  if (identities.length === 0) throw keyNotAdded(`key ${escapeText(keyRef, 128)}`);
  if (keyVersionId !== undefined && !identities.some((identity) => identity.KeyVersionId === keyVersionId)) {
    throw keyNotAdded(`version ${escapeText(keyVersionId, 128)} of key ${escapeText(keyRef, 128)}`);
  }
}

/**
 * The key's newest version (latest CreationDate; of versions made in the same second, the one
 * listed last), read page by page through ListKeyVersions.
 */
export async function newestKeyVersion(signer: Signer, keyRef: string): Promise<KeyVersionInfo> {
  await assertServed(signer, keyRef);
  let newest: KeyVersionInfo | undefined;
  for (let page = 1; ; page++) {
    const listed = await call(signer, 'ListKeyVersions', { KeyId: keyRef, PageSize: 100, PageNumber: page });
    for (const v of listed.KeyVersions.KeyVersion) if (!newest || v.CreationDate >= newest.CreationDate) newest = v;
    if (listed.KeyVersions.KeyVersion.length === 0 || page * 100 >= listed.TotalCount) break;
  }
  if (!newest) throw new KmsError('Forbidden.KeyNotFound', `key ${keyRef} has no key version`);
  return newest;
}

export interface ChosenKey extends SigningKeyInfo {
  /** True when no version was named and the newest one was taken (hosts say which). */
  readonly newest: boolean;
}

/**
 * The key version that will sign: the one named, or the key's newest version (the CLI's
 * convenience; the KMS API itself stays explicit). Refuses a key that is not Enabled unless the
 * caller only publishes its public key (`forSigning: false`). Through an agent, a version it does
 * not serve is refused (Agent.KeyNotAdded) before anything else is asked.
 */
export async function chooseSigningKey(signer: Signer, keyRef: string, keyVersionId?: string, { forSigning = true }: { readonly forSigning?: boolean } = {}): Promise<ChosenKey> {
  await assertServed(signer, keyRef, keyVersionId);
  const version =
    keyVersionId !== undefined ? (await call(signer, 'DescribeKeyVersion', { KeyId: keyRef, KeyVersionId: keyVersionId })).KeyVersion : await newestKeyVersion(signer, keyRef);
  const keyId = version.KeyId;
  // The newest version may be one the agent does not serve (added before a rotation): the vault signs with it.
  await assertServed(signer, keyId, version.KeyVersionId);
  const described = await call(signer, 'DescribeKey', { KeyId: keyId });
  const state = described.KeyMetadata.KeyState;
  if (forSigning && state !== 'Enabled') throw keyStateRefusal(keyId, state, described.KeyMetadata.DeleteDate || undefined);
  const pem = await call(signer, 'GetPublicKey', { KeyId: keyId, KeyVersionId: version.KeyVersionId });
  const publicKey = importPublicKey(pem.PublicKey, 'PublicKey');
  return {
    keyId,
    keyVersionId: version.KeyVersionId,
    spec: publicKey.spec,
    spki: publicKey.spki,
    created: new Date(version.CreationDate),
    newest: keyVersionId === undefined,
  };
}

/** A signature begun in a format for a chosen key: feed the message, then completeSignature. */
export function beginSignature(key: SigningKeyInfo, format: SignatureFormatName, options: FormatOptions = {}): PendingSignature {
  return signatureFormat(format).begin(key, options);
}

/** The one AsymmetricSign of a format's signature, audited as "<caller>:<format>"; returns the file's bytes. */
export async function completeSignature(signer: Signer, key: SigningKeyInfo, format: SignatureFormatName, pending: PendingSignature): Promise<Uint8Array> {
  const { algorithm, digest } = pending.toSign();
  const signed = await call(signer, 'AsymmetricSign', { KeyId: key.keyId, KeyVersionId: key.keyVersionId, Algorithm: algorithm, Digest: encodeBase64(digest) }, format);
  return pending.finish(decodeBase64(signed.Value, 'Value'));
}

/** Signs a whole message (any size, streamed) in a format: the file's bytes and the key that signed. */
export async function signMessage(
  signer: Signer,
  request: { readonly key: string; readonly version?: string; readonly format: SignatureFormatName; readonly options?: FormatOptions },
  message: AsyncIterable<Uint8Array>,
  onProgress?: (bytes: number) => void,
): Promise<{ readonly output: Uint8Array; readonly key: ChosenKey }> {
  const key = await chooseSigningKey(signer, request.key, request.version);
  const pending = beginSignature(key, request.format, request.options);
  let bytes = 0;
  for await (const chunk of message) {
    pending.update(chunk);
    bytes += chunk.length;
    onProgress?.(bytes);
  }
  return { output: await completeSignature(signer, key, request.format, pending), key };
}

/**
 * The key versions whose public facts match (the git programs find the vault key by the public key
 * or OpenPGP fingerprint git names): this vault's own, or, through an agent, those it serves. A
 * search of public rows only, not audited itself: the signature that follows is. Keys that are
 * not Enabled are skipped in the vault; the agent's identities are taken as listed (a key the user
 * disabled is refused when it signs). Through an agent, finding none is Agent.KeyNotAdded (`what`
 * names what was looked for), as chooseSigningKey refuses a key the agent does not serve.
 */
export async function findSigningKeys(from: Vault | Signer, matches: (key: SigningKeyInfo) => boolean, what = 'a key with those public facts'): Promise<SigningKeyInfo[]> {
  if ('caller' in from) {
    if (!from.agent) return findSigningKeys(from.vault, matches);
    const served = (await from.agent.identities()).map(identityKey).filter(matches);
    // None among the agent's keys: Agent.KeyNotAdded, so the host searches the vault instead (nothing was read yet).
    if (served.length === 0) throw keyNotAdded(what);
    return served;
  }
  const vault = from;
  await vault.ensureUnlocked();
  const found: SigningKeyInfo[] = [];
  const db = vault.store.db;
  for (let offset = 0; ; offset += 200) {
    const keys = listKeys(db, offset, 200);
    if (keys.length === 0) break;
    for (const key of keys) {
      const current = getKey(db, key.key_id);
      if (!current || current.key_state !== 'Enabled' || current.key_usage !== 'SIGN/VERIFY') continue;
      for (const version of listVersions(db, key.key_id)) {
        if (version.material !== undefined && version.material !== 'Sealed') continue; // public-only or deleted: cannot sign
        const info: SigningKeyInfo = {
          keyId: key.key_id,
          keyVersionId: version.key_version_id,
          spec: key.key_spec,
          spki: version.public_key,
          created: new Date(version.creation_date),
        };
        if (matches(info)) found.push(info);
      }
    }
  }
  return found;
}

function identityKey(identity: ServedKeyVersion): SigningKeyInfo {
  if (!isKeySpec(identity.KeySpec)) throw new KmsError('Agent.Unavailable', `the DeskKMS agent serves a key of an unknown spec ${escapeText(identity.KeySpec, 32)}`);
  return {
    keyId: identity.KeyId,
    keyVersionId: identity.KeyVersionId,
    spec: identity.KeySpec,
    spki: decodeBase64(identity.PublicKey, 'PublicKey'),
    created: new Date(identity.CreationDate),
  };
}
