// Authenticating requests to "deskkms serve": the access key (known, enabled), the timestamp, the
// signature (RPC V1 HMAC-SHA1, or V3 ACS3-HMAC-SHA256 / ACS3-HMAC-SM3; the MAC is computed in the
// key worker, which alone opens the sealed secret) and the nonce (one store for both schemes). It only reads: the call is audited by dispatch, and a request refused here by the
// server's refusal log. The caller it answers carries the access key's policy, for dispatch.
import { KmsError } from '../../contract/errors.ts';
import { escapeText } from '../../contract/escape-text.ts';
import { parsePolicy, type Policy } from '../../contract/policy.ts';
import { getAccessKey } from '../../vault/records.ts';
import type { Vault } from '../../vault/vault.ts';
import { rpcStringToSign, signaturesMatch } from './rpc-signature.ts';
import { acs3StringToSign } from './acs3-signature.ts';
import type { SignedRequest } from './http-server.ts';

export interface ApiCaller {
  readonly accessKeyId: string;
  readonly caller: string;
  readonly policy: Policy;
}

const SKEW_MS = 15 * 60 * 1000;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/**
 * Verifies an RPC-signed request: known and enabled access key, timestamp within 15 minutes,
 * signature, and a nonce not seen in the last 30 minutes (kept in memory: a server restart or a
 * second server on the same vault does not share it; the timestamp window bounds the exposure).
 */
export class AccessKeyAuthenticator {
  private readonly vault: Vault;
  private readonly nonces = new Map<string, number>();
  private lastPrune = 0;

  constructor(vault: Vault) {
    this.vault = vault;
  }

  /**
   * The authenticating parameters' (V3: headers') presence was checked by rpcSignedRequest or
   * acs3SignedRequest; their values are checked here. V3's x-acs-date is checked as V1's
   * Timestamp, with the same codes (Alibaba's gateway answers both with InvalidTimeStamp.*).
   */
  async authenticate(request: SignedRequest): Promise<ApiCaller> {
    const { accessKeyId, timestamp, nonce, signature } = request;
    const timeName = request.scheme === 'ACS3' ? 'x-acs-date' : 'timestamp';
    await this.vault.ensureUnlocked(); // access key rows are authenticated: reading one needs the integrity key
    const row = getAccessKey(this.vault.store.db, accessKeyId);
    if (!row) throw new KmsError('InvalidAccessKeyId.NotFound', `Specified access key is not found: ${escapeText(accessKeyId, 64)}`); // any text a client sent
    if (row.state !== 'Enabled') throw new KmsError('InvalidAccessKeyId.Inactive', `Specified access key ${accessKeyId} is disabled`);

    const time = TIMESTAMP.test(timestamp) ? Date.parse(timestamp) : Number.NaN;
    if (Number.isNaN(time)) throw new KmsError('InvalidTimeStamp.Format', `Specified ${timeName} "${escapeText(timestamp, 64)}" is not in ISO 8601 UTC form (yyyy-MM-ddTHH:mm:ssZ)`);
    const now = this.vault.now().getTime();
    if (Math.abs(now - time) > SKEW_MS) {
      throw new KmsError('InvalidTimeStamp.Expired', `Specified ${timeName} ${timestamp} is more than 15 minutes from the server time ${new Date(now).toISOString()}`);
    }

    // The string to sign, and how the MAC is written in the request: V3 hex over its canonical
    // request, V1 base64 over its sorted parameters.
    const v3 = request.scheme === 'ACS3';
    const stringToSign = v3 ? acs3StringToSign(request.algorithm, request.canonicalRequest) : rpcStringToSign(request.method, request.params);
    const algorithm = v3 ? request.algorithm : 'HMAC-SHA1';
    const { mac } = await this.vault.worker.request({ op: 'accessKeyMac', accessKeyId, sealed: row.sealed_secret, algorithm, data: Buffer.from(stringToSign, 'utf8') });
    if (!signaturesMatch(signature, Buffer.from(mac).toString(v3 ? 'hex' : 'base64'))) {
      // As Alibaba's gateway does: the string to sign (public request data) helps fix a client. For
      // V3 the canonical request too (method, query, signed headers, body hash), escaped, since header
      // values are anyone's text; V1's string to sign is percent-encoded ASCII.
      throw new KmsError(
        'SignatureDoesNotMatch',
        v3
          ? `Specified signature does not match our calculation. server string to sign is: ${escapeText(stringToSign, 256)}; canonical request: ${escapeText(request.canonicalRequest, 2048)}`
          : `Specified signature does not match our calculation. server string to sign is: ${stringToSign.slice(0, 1024)}`,
      );
    }
    // Recorded only after the signature checks out, so a forger cannot burn others' nonces.
    this.prune(now);
    const nonceKey = `${accessKeyId}\0${nonce}`;
    if (this.nonces.has(nonceKey)) throw new KmsError('SignatureNonceUsed', `Specified signature nonce was used already: ${escapeText(nonce, 128)}`);
    this.nonces.set(nonceKey, now + 2 * SKEW_MS);
    return { accessKeyId, caller: `api:${accessKeyId}`, policy: parsePolicy(row.policy) };
  }

  private prune(now: number): void {
    if (now - this.lastPrune < 60_000) return;
    this.lastPrune = now;
    for (const [key, expiry] of this.nonces) if (expiry < now) this.nonces.delete(key);
  }
}
