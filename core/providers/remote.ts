// A remote KMS (Alibaba Cloud KMS, or another vault's "deskkms serve") reached through Alibaba's
// generic OpenAPI client, @alicloud/openapi-client (core/providers/openapi-sdk.ts), which signs each
// request with the connection's SignatureAlgorithm:
//   - ACS3-HMAC-SHA256 (the default) or ACS3-HMAC-SM3: signature method V3, an Authorization header
//     over a canonical request, what Alibaba asks of new clients ("Request syntax and signature
//     method V3", https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature);
//   - HMAC-SHA1: the RPC signature V1 (the client's 'v2' RPC path), for a server that takes only V1
//     (a DeskKMS older than V3 support, and every connection made before the choice existed).
// Every call is RPC style, sent as Alibaba's generated KMS SDK (@alicloud/kms20160120 2.x and later,
// built on the same client) sends it: POST with the parameters in the query string, where KMS's API
// metadata places them, so an Alibaba Cloud KMS reads them as from its own SDK (the parameters travel
// inside TLS on https connections). One attempt (retries off: a retried AsymmetricSign or CreateKey
// is a second operation on the remote), bounded timeouts.
// Private keys of remote keys never exist locally.
//
// An operation receives the VALIDATED request of its Action with the KeyId in the remote's own
// namespace (the registry strips remote/<connection>/), serialises it for the client, and parses the
// answer through the Action's response schema (core/contract/responses.ts): the answer is outside
// input. What the remote answers is normalised first, and only this:
//   - fields the schema does not know are dropped (a newer KMS may answer more than we use);
//   - DeskKMS extensions an Alibaba Cloud KMS does not answer get their meaning for it
//     (KeyMetadata.Exportable: false; its keys are never exportable).
// Anything else that does not match (a missing or mistyped field, text that is not JSON) is
// Remote.BadResponse naming the connection and the Action, never passed on. KeyIds in the answer
// are put back into this vault's namespace once (remote/<connection>/<KeyId>), and the remote's
// RequestId is kept as RemoteRequestId. Its error messages and RequestId are escaped like any text
// from outside.
import { getHashes } from 'node:crypto';
import { OpenApiClient, OpenApiConfig, OpenApiParams, OpenApiRequest, type OpenApiRuntime } from './openapi-sdk.ts';
import type { ActionName, ActionRequest } from '../contract/actions.ts';
import type { SignatureAlgorithm } from '../contract/api-signatures.ts';
import { KmsError, isErrorCode } from '../contract/errors.ts';
import { escapeText } from '../contract/escape-text.ts';
import { RESPONSE_SCHEMAS, type ActionResponse } from '../contract/responses.ts';
import { remoteKeyId, type KmsProvider, type Operation, type ProviderResult, type OptionalCapability, type ProviderAction } from './provider.ts';

export interface RemoteConnection {
  readonly name: string;
  /** host[:port] */
  readonly endpoint: string;
  readonly regionId: string;
  readonly protocol: 'http' | 'https';
  readonly accessKeyId: string;
  /** How its requests are signed (core/contract/api-signatures.ts). */
  readonly signatureAlgorithm: SignatureAlgorithm;
}

/** The optional capabilities of a remote KMS: what Alibaba Cloud KMS and DeskKMS both answer for one key. */
export const REMOTE_CAPABILITIES: ReadonlySet<OptionalCapability> = new Set<OptionalCapability>(['lifecycle', 'tags', 'aliases']);

const NETWORK_ERROR = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|socket hang up|timeout/i;

/** What @alicloud/openapi-client throws: its ResponseError for an HTTP error answer (`data` the answer's JSON and its statusCode), or the transport's error. */
interface ClientError {
  code?: unknown;
  message?: unknown;
  statusCode?: unknown;
  data?: { Code?: unknown; Message?: unknown; RequestId?: unknown; statusCode?: unknown };
}

/** The client's signatureAlgorithm for each scheme: V1 is its 'v2' RPC path (doRPCRequest), V3 its default path (doRequest). */
const CLIENT_ALGORITHM: Readonly<Record<SignatureAlgorithm, string>> = {
  'ACS3-HMAC-SHA256': 'ACS3-HMAC-SHA256',
  'ACS3-HMAC-SM3': 'ACS3-HMAC-SM3',
  'HMAC-SHA1': 'v2',
};

/**
 * The client hashes and MACs through node:crypto, whose SM3 exists only where its OpenSSL has it:
 * not in Electron (BoringSSL). Read when a call is made, so an ACS3-HMAC-SM3 connection used there
 * is refused clearly instead of failing inside the client.
 */
function runtimeHasSm3(): boolean {
  return getHashes().includes('sm3');
}

const API_VERSION = '2016-01-20';
/** One attempt: a retried AsymmetricSign or CreateKey would be a second operation on the remote. */
const RUNTIME = { readTimeout: 15_000, connectTimeout: 5_000, autoretry: false, maxAttempts: 1 } as OpenApiRuntime;

/** Parameters the remote would default the same way are not sent: DeskKMS extensions at their default (an Alibaba Cloud KMS sees only its own vocabulary), and DryRun false. */
const NO_DRY_RUN = { DryRun: false } as const;
const UNSENT_DEFAULTS: Partial<Record<ActionName, Readonly<Record<string, unknown>>>> = {
  CreateKey: { Exportable: false },
  GetPublicKey: NO_DRY_RUN,
  AsymmetricSign: NO_DRY_RUN,
  AsymmetricVerify: NO_DRY_RUN,
  AsymmetricEncrypt: NO_DRY_RUN,
  AsymmetricDecrypt: NO_DRY_RUN,
};

/** The validated request as the client's query parameters: strings as they are, numbers and booleans as text, lists as JSON (Alibaba's form). */
export function serialiseRequest(action: ActionName, request: Readonly<Record<string, unknown>>): Record<string, string> {
  const defaults = UNSENT_DEFAULTS[action] ?? {};
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(request)) {
    if (value === undefined || (Object.hasOwn(defaults, name) && defaults[name] === value)) continue;
    query[name] = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
  }
  return query;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** DeskKMS extensions of KeyMetadata an Alibaba Cloud KMS does not answer, with their meaning for its keys. */
function addExtensionDefaults(body: Record<string, unknown>): void {
  const metadata = body.KeyMetadata;
  if (isRecord(metadata) && !Object.hasOwn(metadata, 'Exportable')) metadata.Exportable = false;
}

function dropAt(value: unknown, path: readonly PropertyKey[], keys: readonly string[]): void {
  let node = value;
  for (const step of path) node = isRecord(node) || Array.isArray(node) ? (node as Record<PropertyKey, unknown>)[step] : undefined;
  if (isRecord(node)) for (const key of keys) delete node[key];
}

function prefixKeyIds(value: unknown, connection: string): unknown {
  if (Array.isArray(value)) return value.map((v) => prefixKeyIds(v, connection));
  if (!isRecord(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, k === 'KeyId' && typeof v === 'string' ? remoteKeyId(connection, v) : prefixKeyIds(v, connection)]),
  );
}

export class RemoteKmsProvider implements KmsProvider {
  readonly name: string;
  readonly label: string;
  readonly capabilities = REMOTE_CAPABILITIES;
  private readonly connection: RemoteConnection;
  private readonly client: OpenApiClient;

  constructor(connection: RemoteConnection, accessKeySecret: string) {
    this.name = `remote/${connection.name}`;
    this.label = `remote KMS "${connection.name}" (${connection.protocol}://${connection.endpoint})`;
    this.connection = connection;
    this.client = new OpenApiClient(
      new OpenApiConfig({
        accessKeyId: connection.accessKeyId,
        accessKeySecret,
        endpoint: connection.endpoint,
        protocol: connection.protocol,
        regionId: connection.regionId,
        signatureAlgorithm: CLIENT_ALGORITHM[connection.signatureAlgorithm],
        readTimeout: RUNTIME.readTimeout,
        connectTimeout: RUNTIME.connectTimeout,
      }),
    );
  }

  // keys
  readonly describeKey: Operation<'DescribeKey'> = (request) => this.forward('DescribeKey', request);
  readonly listKeys: Operation<'ListKeys'> = (request) => this.forward('ListKeys', request);
  readonly createKey: Operation<'CreateKey'> = (request) => this.forward('CreateKey', request);
  readonly createKeyVersion: Operation<'CreateKeyVersion'> = (request) => this.forward('CreateKeyVersion', request);
  readonly describeKeyVersion: Operation<'DescribeKeyVersion'> = (request) => this.forward('DescribeKeyVersion', request);
  readonly listKeyVersions: Operation<'ListKeyVersions'> = (request) => this.forward('ListKeyVersions', request);
  readonly getPublicKey: Operation<'GetPublicKey'> = (request) => this.forward('GetPublicKey', request);
  readonly asymmetricSign: Operation<'AsymmetricSign'> = (request) => this.forward('AsymmetricSign', request);
  readonly asymmetricVerify: Operation<'AsymmetricVerify'> = (request) => this.forward('AsymmetricVerify', request);
  readonly asymmetricEncrypt: Operation<'AsymmetricEncrypt'> = (request) => this.forward('AsymmetricEncrypt', request);
  readonly asymmetricDecrypt: Operation<'AsymmetricDecrypt'> = (request) => this.forward('AsymmetricDecrypt', request);
  // lifecycle
  readonly enableKey: Operation<'EnableKey'> = (request) => this.forward('EnableKey', request);
  readonly disableKey: Operation<'DisableKey'> = (request) => this.forward('DisableKey', request);
  readonly scheduleKeyDeletion: Operation<'ScheduleKeyDeletion'> = (request) => this.forward('ScheduleKeyDeletion', request);
  readonly cancelKeyDeletion: Operation<'CancelKeyDeletion'> = (request) => this.forward('CancelKeyDeletion', request);
  readonly updateKeyDescription: Operation<'UpdateKeyDescription'> = (request) => this.forward('UpdateKeyDescription', request);
  // tags
  readonly tagResource: Operation<'TagResource'> = (request) => this.forward('TagResource', request);
  readonly untagResource: Operation<'UntagResource'> = (request) => this.forward('UntagResource', request);
  readonly listResourceTags: Operation<'ListResourceTags'> = (request) => this.forward('ListResourceTags', request);
  // aliases
  readonly listAliasesByKeyId: Operation<'ListAliasesByKeyId'> = (request) => this.forward('ListAliasesByKeyId', request);

  /** One call through the client's own request path (signing with the connection's scheme), its answer checked. */
  private async forward<A extends ProviderAction>(action: A, request: ActionRequest<A>): Promise<ProviderResult<A>> {
    if (this.connection.signatureAlgorithm === 'ACS3-HMAC-SM3' && !runtimeHasSm3()) {
      throw new KmsError(
        'UnsupportedOperation',
        `${action} is not supported by ${this.label} here: the connection signs with ACS3-HMAC-SM3, and this runtime's crypto library (Electron's BoringSSL) has no SM3; use the deskkms CLI, or remove the connection and add it with ACS3-HMAC-SHA256`,
      );
    }
    const params = new OpenApiParams({
      action,
      version: API_VERSION,
      protocol: this.connection.protocol.toUpperCase(),
      pathname: '/',
      method: 'POST',
      authType: 'AK',
      style: 'RPC',
      reqBodyType: 'formData',
      bodyType: 'json',
    });
    let answered: unknown;
    try {
      answered = (await this.client.callApi(params, new OpenApiRequest({ query: serialiseRequest(action, request) }), RUNTIME)).body;
    } catch (error) {
      throw this.translate(action, error);
    }
    // bodyType json: the client has checked it is a JSON object; checked again, it is outside input.
    if (!isRecord(answered)) throw this.badResponse(action, 'not a JSON object');
    const { RequestId: remoteRequestId, ...answer } = answered;
    const response = prefixKeyIds(this.parseAnswer(action, answer), this.connection.name) as ActionResponse<A>;
    return { response: { ...response, ...(typeof remoteRequestId === 'string' ? { RemoteRequestId: escapeText(remoteRequestId, 128) } : {}) } };
  }

  /** The answer through the Action's response schema, after the normalisation described above. */
  private parseAnswer<A extends ProviderAction>(action: A, answer: Record<string, unknown>): ActionResponse<A> {
    const schema = RESPONSE_SCHEMAS[action];
    addExtensionDefaults(answer);
    let result = schema.safeParse(answer);
    if (!result.success && result.error.issues.every((issue) => issue.code === 'unrecognized_keys')) {
      for (const issue of result.error.issues) if (issue.code === 'unrecognized_keys') dropAt(answer, issue.path, issue.keys);
      result = schema.safeParse(answer);
    }
    if (result.success) return result.data as ActionResponse<A>;
    const issue = result.error.issues.find((i) => i.code !== 'unrecognized_keys') ?? result.error.issues[0]!;
    const field = escapeText(issue.path.map(String).join('.'), 128) || 'the body';
    throw this.badResponse(action, `${field}: ${escapeText(issue.message, 200)}`);
  }

  private badResponse(action: ActionName, problem: string): KmsError {
    return new KmsError('Remote.BadResponse', `${this.label} answered ${action} with something that is not its response (${problem}); nothing was passed on`);
  }

  private translate(action: ActionName, error: unknown): KmsError {
    const e = (error ?? {}) as ClientError;
    const where = this.label;
    const code = e.data?.Code;
    if (typeof code === 'string') {
      // The remote's text is outside input: escaped (core/contract/escape-text.ts) before it is shown.
      const message = `${where}: ${escapeText(typeof e.data?.Message === 'string' ? e.data.Message : code, 512)}`;
      // A Code this vault does not have is the remote's condition, not a bug here (InternalFailure).
      return isErrorCode(code) ? new KmsError(code, message) : new KmsError('Remote.Error', `${message} (remote code ${escapeText(code, 64)})`);
    }
    // An HTTP error answer that is a JSON object without a Code (the client puts the status in data).
    if (typeof e.data?.statusCode === 'number') return this.badResponse(action, `HTTP ${e.data.statusCode} without an error Code`);
    // The client reads every answer as a JSON object: text that is not JSON, or JSON that is not an object.
    if (error instanceof SyntaxError) return this.badResponse(action, 'not JSON');
    if (e.message === 'The value is not a object') return this.badResponse(action, 'not a JSON object');
    const text = escapeText(`${typeof e.code === 'string' ? e.code : ''} ${typeof e.message === 'string' ? e.message : String(error)}`.trim(), 200);
    if (NETWORK_ERROR.test(text)) return new KmsError('Remote.Unavailable', `${where} is unreachable: ${text}`);
    return new KmsError('Remote.Unavailable', `${where} failed: ${text}`);
  }
}
