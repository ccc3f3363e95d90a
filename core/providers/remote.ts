// A remote KMS reached through the official Alibaba Cloud SDK (@alicloud/kms20160120, which signs
// requests with the RPC HMAC-SHA1 scheme). Private keys of remote keys never exist locally.
import { KmsClient, SdkConfig } from './alibaba-sdk.ts';
import type { ActionName } from '../contract/actions.ts';
import { KmsError, isErrorCode } from '../contract/errors.ts';
import type { KmsProvider } from './provider.ts';

export interface RemoteConnection {
  readonly name: string;
  /** host[:port] */
  readonly endpoint: string;
  readonly regionId: string;
  readonly protocol: 'http' | 'https';
  readonly accessKeyId: string;
}

/** Actions that name one key and can be forwarded as they are. */
export const REMOTE_ACTIONS: ReadonlySet<ActionName> = new Set<ActionName>([
  'DescribeKey',
  'UpdateKeyDescription',
  'CreateKeyVersion',
  'DescribeKeyVersion',
  'ListKeyVersions',
  'GetPublicKey',
  'AsymmetricSign',
  'AsymmetricVerify',
  'AsymmetricEncrypt',
  'AsymmetricDecrypt',
  'ListAliasesByKeyId',
  'EnableKey',
  'DisableKey',
  'ScheduleKeyDeletion',
  'CancelKeyDeletion',
  'TagResource',
  'UntagResource',
  'ListResourceTags',
]);

const NETWORK_ERROR = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|socket hang up|timeout/i;

interface SdkError {
  code?: string;
  message?: string;
  data?: { Code?: unknown; Message?: unknown; RequestId?: unknown };
}

type DoRequest = (
  action: string,
  protocol: string,
  method: string,
  version: string,
  authType: string,
  query: Record<string, unknown>,
  body: null,
  runtime: Record<string, unknown>,
) => Promise<Record<string, unknown>>;

export class RemoteKmsProvider implements KmsProvider {
  readonly name: string;
  readonly actions = REMOTE_ACTIONS;
  private readonly connection: RemoteConnection;
  private readonly client: KmsClient;

  constructor(connection: RemoteConnection, accessKeySecret: string) {
    this.name = connection.name;
    this.connection = connection;
    this.client = new KmsClient(
      new SdkConfig({
        accessKeyId: connection.accessKeyId,
        accessKeySecret,
        endpoint: connection.endpoint,
        protocol: connection.protocol,
        regionId: connection.regionId,
      }),
    );
  }

  /** Forwards through the SDK's own request path (signing, retries off, timeouts bounded). */
  async invoke(action: ActionName, params: Readonly<Record<string, unknown>>): Promise<Record<string, unknown>> {
    const doRequest = (this.client as unknown as { doRequest: DoRequest }).doRequest.bind(this.client);
    const query = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
    try {
      return await doRequest(action, 'HTTPS', 'POST', '2016-01-20', 'AK', query, null, {
        readTimeout: 15_000,
        connectTimeout: 5_000,
        autoretry: false,
        maxAttempts: 1,
      });
    } catch (error) {
      throw this.translate(error);
    }
  }

  private translate(error: unknown): KmsError {
    const e = (error ?? {}) as SdkError;
    const where = `remote KMS "${this.name}" (${this.connection.protocol}://${this.connection.endpoint})`;
    const code = e.data?.Code;
    if (typeof code === 'string') {
      const message = `${where}: ${typeof e.data?.Message === 'string' ? e.data.Message : code}`;
      return isErrorCode(code) ? new KmsError(code, message) : new KmsError('InternalFailure', `${message} (remote code ${code})`);
    }
    const text = `${e.code ?? ''} ${e.message ?? String(error)}`;
    if (NETWORK_ERROR.test(text)) return new KmsError('Remote.Unavailable', `${where} is unreachable: ${text.trim().slice(0, 200)}`);
    return new KmsError('Remote.Unavailable', `${where} failed: ${text.trim().slice(0, 200)}`);
  }
}
