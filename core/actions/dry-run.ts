// DryRun (Alibaba's AsymmetricSign, AsymmetricVerify, AsymmetricEncrypt, AsymmetricDecrypt and
// GetPublicKey, API 2016-01-20, e.g.
// https://www.alibabacloud.com/help/en/kms/key-management-service/developer-reference/api-kms-2016-01-20-asymmetricsign):
// the call makes every check it would make (parameters, caller's permission, key, state, usage,
// algorithm, private material, digest) and answers DryRunOperationError instead of acting. A failed
// check answers what the real call would (InvalidParameter, Forbidden.*, Rejected.*), which names
// the reason, rather than Alibaba's generic ValidationError / AccessDeniedError.
import type { ActionName } from '../contract/actions.ts';
import { KmsError } from '../contract/errors.ts';

/** The answer to a DryRun call that passed every check. */
export function dryRunPassed(action: ActionName): never {
  throw new KmsError('DryRunOperationError', `${action}: the request would have succeeded; nothing was done because DryRun is true`);
}
